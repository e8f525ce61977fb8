"""The Linkflow Open API client: token handling and error mapping shared by every call.

Each brand connects its own Linkflow workspace (App Key / App Secret). Calls carry
`X-OpenApi-Token`; a 401 renews the token and retries once. The endpoint methods of the
spec are added on top of `_call` (issue 8).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx

from portal.integrations.linkflow.auth import AccessToken, TokenCache, parse_expiration, tokens
from portal.integrations.linkflow.errors import (
    LinkflowError,
    LinkflowLimitExceeded,
    LinkflowRejected,
    LinkflowTransportError,
)

Recorder = Callable[..., None]

# Documented limits, checked before sending (spec: 批量获取联系人ID / 详情, 查询群组联系人).
MAX_BULK_WINDOW = 10_000  # page * size
MAX_BULK_IDS = 100
MAX_GROUP_PAGE = 500


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

    # --- contacts (spec: 联系人) ----------------------------------------------------------

    def contacts(
        self,
        *,
        page: int = 0,
        size: int = 200,
        group_id: int | None = None,
        search: str | None = None,
    ) -> list[dict]:
        """`GET /open/contacts`: a page (from 0) of contacts, optionally of one group."""
        return self._call(
            "GET",
            "/open/contacts",
            params={"page": page, "size": size, "groupId": group_id, "search": search},
        )

    def contacts_cursor(self, *, last_max_id: int = 0, size: int = 200) -> list[dict]:
        """`GET /open/contacts/cursor`: contacts after `last_max_id` (0 the first time)."""
        return self._call(
            "GET", "/open/contacts/cursor", params={"lastMaxId": last_max_id, "size": size}
        )

    def contacts_bulk_ids(
        self,
        *,
        page: int,
        size: int,
        min_update_time: str | None = None,
        max_update_time: str | None = None,
        anonymous: int | None = None,
    ) -> list[int]:
        """`GET /open/contacts_bulk/ids`; the spec limits page × size to 10000 (B00030)."""
        if page * size > MAX_BULK_WINDOW:
            raise LinkflowLimitExceeded(
                f"page*size must be at most {MAX_BULK_WINDOW}", endpoint="/open/contacts_bulk/ids"
            )
        return self._call(
            "GET",
            "/open/contacts_bulk/ids",
            params={
                "page": page,
                "size": size,
                "minUpdateTime": min_update_time,
                "maxUpdateTime": max_update_time,
                "anonymous": anonymous,
            },
        )

    def contacts_bulk(self, *, ids: Sequence[int], need_open_id: bool = False) -> list[dict]:
        """`GET /open/contacts_bulk`: details of at most 100 contacts (Linkflow would silently
        keep the first 100; we refuse instead of losing the rest)."""
        if not ids or len(ids) > MAX_BULK_IDS:
            raise LinkflowLimitExceeded(
                f"between 1 and {MAX_BULK_IDS} ids per call", endpoint="/open/contacts_bulk"
            )
        return self._call(
            "GET",
            "/open/contacts_bulk",
            params={
                "ids": ",".join(str(int(i)) for i in ids),
                "needOpenId": "1" if need_open_id else None,
            },
        )

    # --- groups (spec: 群组) ---------------------------------------------------------------

    def groups(
        self,
        *,
        id: int | None = None,  # noqa: A002 - the spec's name
        name: str | None = None,
        group_type: str | None = None,
        last_updated: str | None = None,
        ext1: str | None = None,
        ext2: str | None = None,
    ) -> list[dict]:
        return self._call(
            "GET",
            "/open/groups",
            params={
                "id": id,
                "name": name,
                "groupType": group_type,
                "lastUpdated": last_updated,
                "ext1": ext1,
                "ext2": ext2,
            },
        )

    def group_create(
        self,
        *,
        name: str,
        group_type: str = "static",
        ext1: str | None = None,
        ext2: str | None = None,
    ) -> dict:
        body = {"name": name, "groupType": group_type, "ext1": ext1, "ext2": ext2}
        return self._call(
            "POST", "/open/groups", json={k: v for k, v in body.items() if v is not None}
        )

    def group_rename(self, *, group_id: int, name: str) -> None:
        self._call(
            "POST",
            f"/open/groups/{int(group_id)}",
            json={"name": name},
            endpoint="/open/groups/{id}",
        )

    def group_delete(self, *, group_id: int) -> None:
        self._call("DELETE", f"/open/groups/{int(group_id)}", endpoint="/open/groups/{id}")

    def contact_groups(self, *, contact_id: int, group_type: str | None = None) -> list[dict]:
        return self._call(
            "GET",
            f"/open/contacts/{int(contact_id)}/groups",
            params={"groupType": group_type},
            endpoint="/open/contacts/{contactId}/groups",
        )

    def group_members(self, *, group_id: int, member_id: int = 0, size: int = 500) -> list[dict]:
        """`GET /open/groups/{groupId}/contacts`: members after `member_id`, at most 500."""
        if not 1 <= size <= MAX_GROUP_PAGE:
            raise LinkflowLimitExceeded(
                f"size must be 1-{MAX_GROUP_PAGE}", endpoint="/open/groups/{groupId}/contacts"
            )
        return self._call(
            "GET",
            f"/open/groups/{int(group_id)}/contacts",
            params={"memberId": member_id, "size": size},
            endpoint="/open/groups/{groupId}/contacts",
        )

    def group_members_add(self, *, group_id: int, contact_ids: Sequence[int]) -> None:
        self._call(
            "POST",
            f"/open/groups/{int(group_id)}/contacts",
            json=[int(i) for i in contact_ids],
            endpoint="/open/groups/{groupId}/contacts",
        )

    def group_members_remove(self, *, group_id: int, contact_ids: Sequence[int]) -> None:
        self._call(
            "DELETE",
            f"/open/groups/{int(group_id)}/contacts",
            json=[int(i) for i in contact_ids],
            endpoint="/open/groups/{groupId}/contacts",
        )
