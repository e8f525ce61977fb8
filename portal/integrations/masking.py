"""Masking of secrets and tokens in anything that is stored or logged.

Call bodies and headers are kept in the integration call log so an administrator can see
what crossed the wire; credentials in them never are.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MASK = "***"

# Matched against lower-cased keys with "-" turned into "_".
_SENSITIVE_KEY = re.compile(
    r"(^|_)(token|access_token|refresh_token|id_token|secret|secret_key|client_secret|"
    r"app_secret|password|passwd|authorization|api_key|access_key|openapi_secret|"
    r"openapi_key|isv_key|sign|signature|code_verifier|cookie|set_cookie)$"
)


def is_sensitive(key: str) -> bool:
    return bool(_SENSITIVE_KEY.search(key.lower().replace("-", "_")))


def mask(value: Any) -> Any:
    """A copy of `value` (JSON-like) with the values of sensitive keys replaced."""
    if isinstance(value, Mapping):
        return {k: MASK if is_sensitive(str(k)) else mask(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask(v) for v in value]
    return value


def mask_text(text: str, secrets: list[str]) -> str:
    """`text` with every occurrence of the given secret values replaced."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, MASK)
    return text
