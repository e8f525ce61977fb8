"""The Linkflow Open API client: token handling and error mapping shared by every call.

Each brand connects its own Linkflow workspace (App Key / App Secret). Calls carry
`X-OpenApi-Token`; a 401 renews the token and retries once. The endpoint methods of the
spec are added on top of `_call` (issue 8).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from portal.integrations.linkflow.auth import AccessToken, TokenCache, parse_expiration, tokens
from portal.integrations.linkflow.errors import (
    LinkflowError,
    LinkflowRejected,
    LinkflowTransportError,
)

Recorder = Callable[..., None]


class LinkflowClient:
    def __init__(
        self,
        *,
        http: httpx.Client,
        app_key: str,
        app_secret: str,
        cache: TokenCache = tokens,
        recorder: Recorder | None = None,
        brand_id: int | None = None,
    ) -> None:
        self._http = http
        self._app_key = app_key
        self._app_secret = app_secret
        self._cache = cache
        self._recorder = recorder
        self.brand_id = brand_id

    def __repr__(self) -> str:  # never print the secret
        return f"LinkflowClient(app_key={self._app_key!r}, app_secret='***')"

    # --- token -------------------------------------------------------------------------

    def token(self) -> AccessToken:
        """`GET /token`: a new access token (use `_call`, which caches it)."""
        data = self._send(
            "GET",
            "/token",
            headers={
                "X-OpenApi-Key": self._app_key,
                "X-OpenApi-Secret": self._app_secret,
            },
        )
        if not isinstance(data, Mapping) or not data.get("token") or not data.get("expiration"):
            raise LinkflowError("/token answered without token and expiration", endpoint="/token")
        return AccessToken(str(data["token"]), parse_expiration(str(data["expiration"])))

    # --- transport ---------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        endpoint: str | None = None,
    ) -> Any:
        """One authenticated call; a 401 renews the token and tries once more."""
        for attempt in (1, 2):
            token = self._cache.get(self._app_key, self.token)
            try:
                return self._send(
                    method,
                    path,
                    params=params,
                    json=json,
                    headers={"X-OpenApi-Token": token},
                    endpoint=endpoint,
                    attempt=attempt,
                )
            except LinkflowRejected as exc:
                if exc.http_status != 401 or attempt == 2:
                    raise
                self._cache.invalidate(self._app_key, token)
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        endpoint: str | None = None,
        attempt: int = 1,
    ) -> Any:
        endpoint = endpoint or path
        started = time.monotonic()
        response = None
        outcome: LinkflowError | None = None
        body: Any = None
        try:
            response = self._http.request(
                method,
                path.lstrip("/"),
                params={k: v for k, v in (params or {}).items() if v is not None},
                json=json,
                headers={"Accept": "application/json", **(headers or {})},
            )
            body, outcome = self._interpret(endpoint, response)
        except httpx.TimeoutException as exc:
            outcome = LinkflowTransportError(
                f"timeout calling {endpoint}: {exc}", endpoint=endpoint
            )
        except httpx.TransportError as exc:
            outcome = LinkflowTransportError(f"cannot reach Linkflow: {exc}", endpoint=endpoint)
        if self._recorder is not None:
            self._recorder(
                method=method,
                endpoint=endpoint,
                brand_id=self.brand_id,
                http_status=response.status_code if response is not None else None,
                remote_code=getattr(outcome, "code", None),
                ok=outcome is None,
                duration_ms=int((time.monotonic() - started) * 1000),
                attempt=attempt,
                error=str(outcome) if outcome else "",
                request_body=json if json is not None else dict(params or {}),
                response_body=body,
            )
        if outcome is not None:
            raise outcome
        return body

    @staticmethod
    def _interpret(endpoint: str, response: httpx.Response) -> tuple[Any, LinkflowError | None]:
        try:
            body = response.json() if response.content else None
        except ValueError:
            body = None
        status = response.status_code
        if status < 400:
            return body, None
        code = str(body.get("code", "")) if isinstance(body, dict) else ""
        message = str(body.get("message", "")) if isinstance(body, dict) else ""
        if code.startswith("B") or 400 <= status < 500:
            return body, LinkflowRejected(
                code=code or str(status),
                message=message or response.text[:200],
                endpoint=endpoint,
                http_status=status,
            )
        return body, LinkflowTransportError(
            f"Linkflow answered HTTP {status} for {endpoint}", endpoint=endpoint
        )
