"""The ISV callback token (spec: ISV提供接口通用申明 / Token校验).

    token = md5( k1=v1&k2=v2&...&key=<ISV key> )

over every parameter except `token` (query string and JSON body alike), names sorted,
values URL-decoded UTF-8 (the spec's example hashes "p1=1&p2=2&p3=3&key=isvkey" without
encoding), empty values dropped. A sibling JD product (Marketplace notify) keeps empty
values; `keep_empty=True` reproduces it.

How JSON values become strings (the spec only shows strings; these are what a Java
caller's `String.valueOf` / JSON serialiser produces, and what the sandbox signs with):
- string → itself; integer → decimal (`1577807999`); float → shortest repr (`1.5`);
- boolean → `true` / `false`; null → empty (dropped unless `keep_empty`);
- object / array → compact JSON, non-ASCII kept (`{"a":1,"b":[1,2]}`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

TOKEN_PARAM = "token"  # noqa: S105 - the parameter's name, not a secret  # nosec B105


def render_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return json.dumps(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=False)


def string_to_hash(params: Mapping[str, Any], key: str, *, keep_empty: bool = False) -> str:
    pairs = []
    for name in sorted(params):
        if name == TOKEN_PARAM:
            continue
        value = render_value(params[name])
        if value == "" and not keep_empty:
            continue
        pairs.append(f"{name}={value}")
    pairs.append(f"key={key}")
    return "&".join(pairs)


def compute_token(params: Mapping[str, Any], key: str, *, keep_empty: bool = False) -> str:
    text = string_to_hash(params, key, keep_empty=keep_empty)
    # MD5 is what the spec prescribes for this token (ISV提供接口通用申明 / Token校验: "对整个
    # 字符串进行 md5 加密"); it is not our choice of hash, hence the bandit / ruff marks.
    return hashlib.md5(text.encode("utf-8")).hexdigest()  # noqa: S324  # nosec B324


def token_matches(
    params: Mapping[str, Any], token: str | None, key: str, *, keep_empty: bool = False
) -> bool:
    """Case-insensitive, constant-time comparison of a received token."""
    if not token or not isinstance(token, str) or not key:
        return False
    expected = compute_token(params, key, keep_empty=keep_empty)
    return hmac.compare_digest(expected.encode(), token.strip().lower().encode("utf-8", "replace"))
