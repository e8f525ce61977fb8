"""Calling the portal's ISV endpoints as JD Cloud would, in tests."""

from __future__ import annotations

import json

from django.conf import settings

from portal.integrations.jdcloud.isv_token import compute_token


def signed(params: dict, key: str | None = None) -> dict:
    """`params` plus a valid token."""
    params = {k: v for k, v in params.items() if k != "token"}
    return {**params, "token": compute_token(params, key or settings.JDCLOUD_ISV_KEY)}


def post_json(client, path: str, body: dict | str | bytes, **extra):
    data = body if isinstance(body, str | bytes) else json.dumps(body, ensure_ascii=False)
    return client.post(path, data=data, content_type="application/json", **extra)
