"""The reference data in `../shared/vectors/` (beside the repository, as in CI)."""

import json
from pathlib import Path

VECTORS_DIR = Path(__file__).resolve().parents[2] / "shared" / "vectors"


def load_vectors(name: str) -> dict:
    return json.loads((VECTORS_DIR / name).read_text(encoding="utf-8"))
