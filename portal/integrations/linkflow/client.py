"""The Linkflow CDP Open API client: one method per endpoint of the spec
(`shared/specs/000_4116c674cbf50519.txt`), keyword-only arguments in snake_case, the decoded
JSON body (or a documented simple value) as the result.

Each brand connects its own Linkflow workspace (App Key / App Secret). Calls carry
`X-OpenApi-Token`; a 401 renews the token and tries once more. Reads (GET, and the two POST
lookups) are retried on transport errors with exponential backoff and jitter; writes never
are, since Linkflow may have acted on a request whose answer was lost. Documented limits and
enumerations are checked before sending (`LinkflowInvalidRequest`, `LinkflowLimitExceeded`).
Every attempt is handed to the recorder (the integration call log), which masks tokens and
secrets; an uploaded file is recorded as its name and size, never its content.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

import httpx
import stamina

from portal.integrations.linkflow.auth import (
    CHINA,
    AccessToken,
    TokenCache,
    parse_expiration,
    tokens,
)
from portal.integrations.linkflow.errors import (
    DOCUMENTED_CODES,
    LinkflowError,
    LinkflowInvalidRequest,
    LinkflowLimitExceeded,
    LinkflowRejected,
    LinkflowTagExportFailed,
    LinkflowTagExportTimeout,
    LinkflowTransportError,
    LinkflowUnexpectedResponse,
    normalize_code,
)
from portal.integrations.linkflow.iterators import chunked, walk_cursor, walk_pages
from portal.integrations.linkflow.messages import (
    MESSAGE_ACTIONS,
    MESSAGE_CHANNEL_TYPES,
    ORDER_ACTIONS,
    ORDER_CHANNEL_TYPES,
    check_channel_type,
    check_identities,
    check_messages,
    check_orders,
    contact_message,
    event_message,
    order_message,
)
from portal.integrations.linkflow.uploads import (
    MAX_UPLOAD_BYTES,
    UnusableFile,
    UploadSource,
    open_upload,
)

__all__ = [
    "LinkflowClient",
    "RetryPolicy",
    "contact_message",
    "event_message",
    "order_message",
]

Recorder = Callable[..., None]
Moment = str | date | datetime

# Documented limits, checked before sending.
MAX_BULK_WINDOW = 10_000  # 批量获取联系人ID: page*size<=10000 (B00030)
MAX_BULK_IDS = 100  # 批量获取联系人详情: at most 100 ids
MAX_GROUP_PAGE = 500  # 查询群组联系人: size 最大值 500 (B00031)
MAX_TAGS_PAGE = 200  # 获取用户标签元数据列表: size 限制200条
MAX_ORDER_PAGE = 100  # 获取订单列表: page from 1, 不超过100页 (B00093)
# 批量修改标签值 answers B00031 "列表超过最大数量" without saying the maximum; 100 is our
# own cap, in line with the other list limits of the spec, not a documented number.
MAX_TAG_VALUE_ACTIONS = 100

# 创建用户标签元数据: tagKey starts with tag_ and holds lowercase letters, digits, underscores.
TAG_KEY = re.compile(r"tag_[a-z0-9_]+")
TAG_DATA_TYPES = ("text", "number", "array", "datetime", "boolean")
TAG_UPLOAD_OPERATES = ("overwrite", "append")
TAG_VALUE_ACTIONS = ("set", "delete")
# 获取用户标签值文件下载地址: the task ends in FINISH or ERROR (CALC_ERROR is the other failed
# state the spec names, under 发起计算用户标签值任务).
EXPORT_FINISHED = "FINISH"
EXPORT_FAILED = ("ERROR", "CALC_ERROR")
UTM_FIELDS = ("source", "campaign", "medium", "content", "term")
# The identity type whose tags / exports need the numeric id of a connection (channelId).
CHANNEL_IDENTITY_TYPE = "externalId"


@dataclass(frozen=True)
class RetryPolicy:
    """Retries of reads on transport errors (the JD Cloud client's policy)."""

    attempts: int = 3
    wait_initial: float = 0.2
    wait_max: float = 2.0
    wait_jitter: float = 0.5
    timeout: float = 30.0


def _segment(value: Any) -> str:
    """A path segment: ids and aliases are escaped, never trusted to be URL-safe."""
    return quote(str(value), safe="")


def _moment(value: Moment) -> str:
    """Linkflow's text times: "yyyy-MM-dd HH:mm:ss" in China time, or a date."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(CHINA)
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _invalid(endpoint: str, field: str, message: str) -> LinkflowInvalidRequest:
    return LinkflowInvalidRequest(message, endpoint=endpoint, field=field)


def _limit(endpoint: str, field: str, message: str) -> LinkflowLimitExceeded:
    return LinkflowLimitExceeded(message, endpoint=endpoint, field=field)


def _tag_key(tag_key: str, endpoint: str) -> str:
    if not isinstance(tag_key, str) or not TAG_KEY.fullmatch(tag_key):
        raise _invalid(
            endpoint,
            "tagKey",
            f"{tag_key!r} must start with tag_ and hold only lowercase letters, digits and _",
        )
    return tag_key


def _channel_id(identity_type: str, channel_id: int | str | None, endpoint: str) -> str | None:
    if not identity_type:
        raise _invalid(endpoint, "identityType", "is required")
    if identity_type == CHANNEL_IDENTITY_TYPE and channel_id in (None, ""):
        raise _invalid(endpoint, "channelId", "is required when identityType is externalId")
    return None if channel_id in (None, "") else str(channel_id)


def _utm(utm: Mapping[str, Any] | None, endpoint: str) -> dict[str, str]:
    unknown = sorted(set(utm or {}) - set(UTM_FIELDS))
    if unknown:
        raise _invalid(endpoint, f"utm.{unknown[0]}", f"utm takes only {list(UTM_FIELDS)}")
    return {k: str(v) for k, v in (utm or {}).items() if v not in (None, "")}


def _mapping(endpoint: str, data: Any) -> dict:
    if not isinstance(data, dict):
        raise LinkflowUnexpectedResponse(f"{endpoint} did not answer an object", endpoint=endpoint)
    return data


def _short_url(endpoint: str, data: Any) -> str:
    short = _mapping(endpoint, data).get("shorturl")
    if not short:
        raise LinkflowUnexpectedResponse(f"{endpoint} answered no shorturl", endpoint=endpoint)
    return str(short)


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
        retry: RetryPolicy | None = None,
    ) -> None:
        self._http = http
        self._app_key = app_key
        # Tokens are cached per credentials, not per App Key alone: a brand that typed
        # another brand's App Key with a wrong secret must not ride on its cached token.
        self._cache_key = f"{app_key}:{hashlib.sha256(app_secret.encode()).hexdigest()}"
        self._app_secret = app_secret
        self._cache = cache
        self._recorder = recorder
        self._retry = retry or RetryPolicy()
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
            raise LinkflowUnexpectedResponse(
                "/token answered without token and expiration", endpoint="/token"
            )
        return AccessToken(str(data["token"]), parse_expiration(str(data["expiration"])))

    # --- transport ---------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        files: Mapping[str, Any] | None = None,
        endpoint: str | None = None,
        read: bool | None = None,
        logged: Any = None,
    ) -> Any:
        """One authenticated call: retried on transport errors when it only reads (GET by
        default), never when it writes. `logged` replaces the body in the call log."""
        attempts = itertools.count(1)

        def once() -> Any:
            return self._authenticated(
                method,
                path,
                params=params,
                json=json,
                files=files,
                endpoint=endpoint,
                attempts=attempts,
                logged=logged,
            )

        if not (method == "GET" if read is None else read):
            return once()
        retrying = stamina.retry_context(
            on=LinkflowTransportError,
            attempts=self._retry.attempts,
            timeout=self._retry.timeout,
            wait_initial=self._retry.wait_initial,
            wait_max=self._retry.wait_max,
            wait_jitter=self._retry.wait_jitter,
        )
        for attempt in retrying:
            with attempt:
                return once()
        raise AssertionError("unreachable")  # pragma: no cover

    def _authenticated(self, method: str, path: str, *, attempts: Iterator[int], **request) -> Any:
        """A 401 renews the token and tries once more (spec: the token may lapse early)."""
        for renewal in (1, 2):
            token = self._cache.get(self._cache_key, self.token)
            try:
                return self._send(
                    method,
                    path,
                    headers={"X-OpenApi-Token": token},
                    attempt=next(attempts),
                    **request,
                )
            except LinkflowRejected as exc:
                if exc.http_status != 401 or renewal == 2:
                    raise
                self._cache.invalidate(self._cache_key, token)
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        files: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        endpoint: str | None = None,
        attempt: int = 1,
        logged: Any = None,
    ) -> Any:
        endpoint = endpoint or path
        started = time.monotonic()
        response = None
        outcome: LinkflowError | None = None
        body: Any = None
        query = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            response = self._http.request(
                method,
                path.lstrip("/"),
                params=query,
                json=json,
                files=files,
                headers={"Accept": "application/json", **(headers or {})},
            )
            body, outcome = self._interpret(endpoint, response)
            # httpx 0.28 keeps a response and its stream in a reference cycle: free it now,
            # or a walk of 100k contacts holds every page until the garbage collector runs.
            response.stream = httpx.ByteStream(b"")
        except httpx.TimeoutException as exc:
            outcome = LinkflowTransportError(
                f"timeout calling {endpoint}: {exc}", endpoint=endpoint
            )
        except httpx.TransportError as exc:
            outcome = LinkflowTransportError(f"cannot reach Linkflow: {exc}", endpoint=endpoint)
        if self._recorder is not None:
            if logged is None:
                logged = json if json is not None else query
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
                request_body=logged,
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
        code = normalize_code(str(body.get("code", ""))) if isinstance(body, dict) else ""
        message = str(body.get("message", "")) if isinstance(body, dict) else ""
        # A B-code is a refusal whatever the status (Linkflow sends them with 400, 404, 412,
        # 420 and 500); without one, 5xx and 429 are outages and other 4xx refusals.
        if code.startswith("B") or (400 <= status < 500 and status != 429):
            return body, LinkflowRejected(
                code=code or str(status),
                message=message or DOCUMENTED_CODES.get(code) or response.text[:200],
                endpoint=endpoint,
                http_status=status,
            )
        return body, LinkflowTransportError(
            f"Linkflow answered HTTP {status} for {endpoint}", endpoint=endpoint
        )

    # --- contacts and events (spec: 联系人和事件) -----------------------------------------

    def messages(
        self,
        *,
        channel_key: str,
        identities: Sequence[Mapping[str, Any]],
        messages: Sequence[Mapping[str, Any]],
        channel_type: str = "UDC",
        request_id: str | None = None,
    ) -> Any:
        """`POST /open/messages`: create or update a contact and track its events.

        `identities` are `{"id", "type"}` (e.g. `{"id": "138…", "type": "mobilePhone"}`);
        `messages` are built with `contact_message()` / `event_message()`. `channel_type` is
        UDC, TTMP or WECHAT_WXA. Pass a stable `request_id` from a retried task so Linkflow
        can recognise the repeat. Answers 200 with no documented body."""
        endpoint = "/open/messages"
        if not channel_key:
            raise _invalid(endpoint, "channelKey", "is required")
        body = {
            "request_id": request_id,
            "channelKey": channel_key,
            "channelType": check_channel_type(
                channel_type, MESSAGE_CHANNEL_TYPES, endpoint=endpoint
            ),
            "identities": check_identities(identities, endpoint=endpoint),
            "messages": check_messages(messages, actions=MESSAGE_ACTIONS, endpoint=endpoint),
        }
        return self._call("POST", endpoint, json={k: v for k, v in body.items() if v is not None})

    def order_messages(
        self,
        *,
        channel_key: str,
        identities: Sequence[Mapping[str, Any]],
        messages: Sequence[Mapping[str, Any]],
        channel_type: str = "UDC",
        request_id: str | None = None,
    ) -> Any:
        """`POST /open/messages/orders` (spec: 创建/更新订单订单): create or update orders.

        `messages` are built with `order_message(order)`; each order needs `orderId` and
        `orderDate`, each of its `lines` a `lineId`. `channel_type` is UDC, YOUZAN or
        YOUZANSELF. Answers 200 with no documented body."""
        endpoint = "/open/messages/orders"
        if not channel_key:
            raise _invalid(endpoint, "channelKey", "is required")
        checked = check_messages(messages, actions=ORDER_ACTIONS, endpoint=endpoint)
        check_orders(checked, endpoint=endpoint)
        body = {
            "request_id": request_id,
            "channelKey": channel_key,
            "channelType": check_channel_type(channel_type, ORDER_CHANNEL_TYPES, endpoint=endpoint),
            "identities": check_identities(identities, endpoint=endpoint),
            "messages": checked,
        }
        return self._call("POST", endpoint, json={k: v for k, v in body.items() if v is not None})

    def identity_contact(self, *, id_type: str, id_value: str) -> int | None:
        """`GET /open/identity/contact` (spec: 查询联系人): the contact id holding the identity
        (e.g. id_type="idCard"), or None when there is none."""
        endpoint = "/open/identity/contact"
        if not id_type:
            raise _invalid(endpoint, "idType", "is required")
        if id_value in (None, ""):
            raise _invalid(endpoint, "id", "is required")
        data = self._call("GET", endpoint, params={"idType": id_type, "id": str(id_value)})
        if data is None:
            return None
        if isinstance(data, bool) or not isinstance(data, int | str) or not str(data).isdigit():
            raise LinkflowUnexpectedResponse(
                f"{endpoint} answered {data!r}, not a contact id", endpoint=endpoint
            )
        return int(data)

    def channel_identities(self, *, contact_id: int) -> list[dict]:
        """`GET /open/contacts/{id}/channel_identities` (spec: 根据联系人查询渠道账号)."""
        return self._call(
            "GET",
            f"/open/contacts/{int(contact_id)}/channel_identities",
            endpoint="/open/contacts/{id}/channel_identities",
        )

    def workwechat_qrcodes(self, *, channel_id: str) -> list[dict]:
        """`GET /open/workwechat/{channelId}/qrcodes` (spec: 查询企业微信联系我二维码):
        `channel_id` is the WeCom corp id (e.g. "ww0b8772cfc1ed757c"); the spec documents no
        other parameter. B00022 when the channel does not exist."""
        if not channel_id:
            raise _invalid("/open/workwechat/{channelId}/qrcodes", "channelId", "is required")
        return self._call(
            "GET",
            f"/open/workwechat/{_segment(channel_id)}/qrcodes",
            endpoint="/open/workwechat/{channelId}/qrcodes",
        )

    # --- orders (spec: 订单) ---------------------------------------------------------------

    def orders_after(self, *, last_max_id: int = 0) -> list[dict]:
        """`GET /open/orders?lastMaxId=` (cursor mode): the orders after `last_max_id`, the
        `id` of the last order of the previous batch (0 the first time)."""
        return self._call("GET", "/open/orders", params={"lastMaxId": int(last_max_id)})

    def orders_page(self, *, page: int, start_time: Moment, end_time: Moment) -> list[dict]:
        """`GET /open/orders?page=&startTime=&endTime=` (page mode): orders updated in
        [start_time, end_time) ("yyyy-MM-dd HH:mm:ss", China time; datetimes are converted).
        Pages count from 1 to 100 (B00093)."""
        if not 1 <= page <= MAX_ORDER_PAGE:
            raise _limit("/open/orders", "page", f"page must be 1-{MAX_ORDER_PAGE}")
        return self._call(
            "GET",
            "/open/orders",
            params={"page": page, "startTime": _moment(start_time), "endTime": _moment(end_time)},
        )

    def iter_orders(
        self,
        *,
        last_max_id: int = 0,
        start_time: Moment | None = None,
        end_time: Moment | None = None,
    ) -> Iterator[dict]:
        """Every order, lazily. Without times: cursor mode from `last_max_id`, until an
        empty batch. With `start_time` and `end_time`: page mode, pages 1-100, until an
        empty page; the spec reaches no further than page 100, so a longer period must be
        split (a warning is logged when page 100 is reached)."""
        if (start_time is None) != (end_time is None):
            field = "endTime" if end_time is None else "startTime"
            raise _invalid("/open/orders", field, "page mode needs both startTime and endTime")
        if start_time is not None:
            return walk_pages(
                lambda page: self.orders_page(page=page, start_time=start_time, end_time=end_time),
                first=1,
                last=MAX_ORDER_PAGE,
                size=None,
                endpoint="/open/orders",
            )
        return walk_cursor(
            lambda cursor: self.orders_after(last_max_id=cursor),
            start=int(last_max_id),
            next_cursor=lambda page: int(page[-1]["id"]),  # spec: 最后一条ID字段值
            size=None,
            endpoint="/open/orders",
        )

    # --- tags (spec: 标签) -----------------------------------------------------------------

    def tag_create(
        self,
        *,
        tag_key: str,
        tag_name: str,
        data_type: str,
        identity_type: str,
        channel_id: int | str | None = None,
    ) -> dict:
        """`POST /v1/tags` (spec: 创建用户标签元数据): an UPLOAD tag (the only type the API
        creates). `data_type` is text, number, array, datetime or boolean; `channel_id` (the
        connection's numeric id) is required when `identity_type` is "externalId". Answers
        the new tag's metadata (`tagId`, `tagKey`, `status`, …)."""
        endpoint = "/v1/tags"
        if not tag_name:
            raise _invalid(endpoint, "tagName", "is required")
        if data_type not in TAG_DATA_TYPES:
            raise _invalid(endpoint, "dataType", f"{data_type!r} is not one of {TAG_DATA_TYPES}")
        body = {
            "tagName": tag_name,
            "tagKey": _tag_key(tag_key, endpoint),
            "dataType": data_type,
            "tagType": "UPLOAD",
            "identityType": identity_type,
            "channelId": _channel_id(identity_type, channel_id, endpoint),
        }
        return self._call("POST", endpoint, json={k: v for k, v in body.items() if v is not None})

    def tag_delete(self, *, tag_key: str) -> None:
        """`DELETE /v1/tags/tagkeys/{tagKey}` (spec: 删除用户标签元数据); B01162 (spelled
        B_01162 there) when the tag does not exist."""
        endpoint = "/v1/tags/tagkeys/{tagKey}"
        self._call("DELETE", f"/v1/tags/tagkeys/{_tag_key(tag_key, endpoint)}", endpoint=endpoint)

    def tags(self, *, page: int = 0, size: int = 200) -> list[dict]:
        """`GET /v1/tags` (spec: 获取用户标签元数据列表): a page (from 0) of at most 200."""
        if not 1 <= size <= MAX_TAGS_PAGE:
            raise _limit("/v1/tags", "size", f"size must be 1-{MAX_TAGS_PAGE}")
        if page < 0:
            raise _invalid("/v1/tags", "page", "pages count from 0")
        return self._call("GET", "/v1/tags", params={"page": page, "size": size})

    def iter_tags(self, *, size: int = 200) -> Iterator[dict]:
        """Every tag's metadata, lazily, page after page until a short one."""
        if not 1 <= size <= MAX_TAGS_PAGE:
            raise _limit("/v1/tags", "size", f"size must be 1-{MAX_TAGS_PAGE}")
        return walk_pages(
            lambda page: self.tags(page=page, size=size),
            first=0,
            last=None,
            size=size,
            endpoint="/v1/tags",
        )

    def tag_folders(self) -> list[dict]:
        """`GET /open/folders` (spec: 获取标签目录列表): `parentId` 0 or absent is a root."""
        return self._call("GET", "/open/folders")

    def tag_upload(
        self,
        *,
        tag_key: str,
        operate: str,
        file: UploadSource,
        filename: str | None = None,
    ) -> dict:
        """`POST /v1/tags/tagkeys/{tagKey}/upload/file/operates/{operate}` (spec: 上传用户标签
        值文件), multipart field `file`.

        `operate` is "overwrite" (replace the tag's files) or "append". `file` is bytes, a
        path, or a seekable binary file object (sent whole, from its start; the caller
        closes it). Files over 100M are refused before sending (B01163). `filename` defaults
        to the path's or the file object's name, else the tag key. Answers `{tagKey,
        fileName, ossUrl}`."""
        endpoint = "/v1/tags/tagkeys/{tagKey}/upload/file/operates/{operate}"
        _tag_key(tag_key, endpoint)
        if operate not in TAG_UPLOAD_OPERATES:
            raise _invalid(endpoint, "operate", f"{operate!r} is not one of {TAG_UPLOAD_OPERATES}")
        try:
            with open_upload(file, filename=filename, default_name=tag_key) as upload:
                if upload.size > MAX_UPLOAD_BYTES:
                    raise _limit(
                        endpoint, "file", f"{upload.size} bytes is over the 100M the spec allows"
                    )
                return self._call(
                    "POST",
                    f"/v1/tags/tagkeys/{tag_key}/upload/file/operates/{operate}",
                    files={"file": upload.as_httpx_file()},
                    endpoint=endpoint,
                    logged={"file": {"name": upload.name, "size": upload.size}},
                )
        except UnusableFile as exc:
            raise _invalid(endpoint, "file", str(exc)) from exc

    def tag_calculate(self, *, tag_key: str) -> None:
        """`POST /v1/tags/tagkeys/{tagKey}/calculate` (spec: 发起计算用户标签值任务); B01152
        while a calculation runs (only FINISH, ERROR, CALC_ERROR may be recalculated)."""
        endpoint = "/v1/tags/tagkeys/{tagKey}/calculate"
        self._call(
            "POST",
            f"/v1/tags/tagkeys/{_tag_key(tag_key, endpoint)}/calculate",
            endpoint=endpoint,
        )

    def tag_export(
        self, *, tag_key: str, identity_type: str, channel_id: int | str | None = None
    ) -> dict:
        """`POST /v1/tags/tagkeys/{tagKey}/export` (spec: 生成用户标签值文件): starts an export
        of the tag's values keyed by `identity_type` (`channel_id` required for
        "externalId"). Answers `{tagKey, taskId, status: "INITIAL"}`; follow it with
        `tag_export_status` / `tag_export_wait`."""
        endpoint = "/v1/tags/tagkeys/{tagKey}/export"
        body = {
            "identityType": identity_type,
            "channelId": _channel_id(identity_type, channel_id, endpoint),
        }
        return self._call(
            "POST",
            f"/v1/tags/tagkeys/{_tag_key(tag_key, endpoint)}/export",
            json={k: v for k, v in body.items() if v is not None},
            endpoint=endpoint,
        )

    def tag_export_status(self, *, task_id: int) -> dict:
        """`GET /v1/tags/tagkeys/export/{taskId}` (spec: 获取用户标签值文件下载地址):
        `{taskId, status, errorMsg, fileUrl}`; `fileUrl` is set once `status` is FINISH."""
        endpoint = "/v1/tags/tagkeys/export/{taskId}"
        return _mapping(
            endpoint,
            self._call("GET", f"/v1/tags/tagkeys/export/{int(task_id)}", endpoint=endpoint),
        )

    def tag_export_wait(
        self,
        *,
        task_id: int,
        interval: float = 2.0,
        timeout: float = 600,
        sleep: Callable[[float], None] = time.sleep,
    ) -> dict:
        """Poll `tag_export_status` every `interval` seconds until FINISH (answers the last
        status, with `fileUrl`). ERROR (or CALC_ERROR) raises `LinkflowTagExportFailed`;
        still running after `timeout` seconds raises `LinkflowTagExportTimeout`.

        This blocks: in a Celery task prefer one `tag_export_status` per run, re-scheduled.
        Time waited is the larger of the time slept and the time elapsed, so an injected
        `sleep` that does not sleep still ends the loop."""
        endpoint = "/v1/tags/tagkeys/export/{taskId}"
        started = time.monotonic()
        slept = 0.0
        while True:
            status = self.tag_export_status(task_id=task_id)
            state = str(status.get("status") or "")
            if state == EXPORT_FINISHED:
                return status
            if state in EXPORT_FAILED:
                raise LinkflowTagExportFailed(
                    task_id=task_id,
                    status=state,
                    error_msg=str(status.get("errorMsg") or ""),
                    endpoint=endpoint,
                )
            waited = max(slept, time.monotonic() - started)
            if waited + interval > timeout:
                raise LinkflowTagExportTimeout(
                    task_id=task_id, status=state, waited=waited, endpoint=endpoint
                )
            sleep(interval)
            slept += interval

    def tag_values(
        self,
        *,
        id_type: str,
        id_value: str,
        actions: Sequence[Mapping[str, Any]],
    ) -> None:
        """`POST /v1/tags/value` (spec: 批量修改标签值): set or delete tag values of the
        contact holding the identity `{id: id_value, type: id_type}`.

        `actions` are `{"tagId": 383, "action": "set", "value": "红色,蓝色"}` or `{"tagId":
        382, "action": "delete"}` (only UPLOAD tags are changed); a list `value` is joined
        with commas. At most `MAX_TAG_VALUE_ACTIONS` (our cap; B00031 otherwise). B01376
        when the identity does not exist."""
        endpoint = "/v1/tags/value"
        identity = check_identities([{"id": id_value, "type": id_type}], endpoint=endpoint)[0]
        if isinstance(actions, Mapping) or not actions:
            raise _invalid(endpoint, "actions", "at least one action is required")
        if len(actions) > MAX_TAG_VALUE_ACTIONS:
            raise _limit(endpoint, "actions", f"at most {MAX_TAG_VALUE_ACTIONS} actions per call")
        body = []
        for index, action in enumerate(actions):
            field = f"actions[{index}]"
            if not isinstance(action, Mapping):
                raise _invalid(endpoint, field, "must be an object {tagId, action, value}")
            tag_id = action.get("tagId")
            if isinstance(tag_id, bool) or not isinstance(tag_id, int):
                raise _invalid(endpoint, f"{field}.tagId", "must be the tag's numeric id")
            verb = action.get("action")
            if verb not in TAG_VALUE_ACTIONS:
                raise _invalid(endpoint, f"{field}.action", f"{verb!r} is not set or delete")
            row: dict[str, Any] = {"tagId": tag_id, "action": verb}
            value = action.get("value")
            if isinstance(value, list | tuple):
                value = ",".join(str(v) for v in value)
            if value is not None:
                row["value"] = str(value)
            elif verb == "set":
                raise _invalid(endpoint, f"{field}.value", "is required to set a value")
            body.append(row)
        self._call("POST", endpoint, json={"identity": identity, "actions": body})

    # --- dimension tables (spec: 维度表) ---------------------------------------------------

    def dimension_data(self, *, dimension_id: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """`POST /open/dim/{dimensionId}/data` (spec: 维度表数据上传): upsert `rows` (objects
        holding the table's primary key column) into the dimension table whose alias is
        `dimension_id`. The spec names a maximum (B01206 上传数量超过限制) without giving it,
        so Linkflow's refusal is the check."""
        endpoint = "/open/dim/{dimensionId}/data"
        if not dimension_id:
            raise _invalid(endpoint, "dimensionId", "is required")
        if isinstance(rows, Mapping) or not rows:
            raise _invalid(endpoint, "rows", "at least one row is required")
        for index, row in enumerate(rows):
            if not isinstance(row, Mapping):
                raise _invalid(endpoint, f"rows[{index}]", "must be an object")
        self._call(
            "POST",
            f"/open/dim/{_segment(dimension_id)}/data",
            json=[dict(row) for row in rows],
            endpoint=endpoint,
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

    def iter_contacts(self, *, size: int = 200) -> Iterator[dict]:
        """Every contact, lazily, by the cursor: each page asks for the contacts after the
        largest id of the previous one; stops on a short or empty page."""
        if size < 1:
            raise _invalid("/open/contacts/cursor", "size", "must be at least 1")
        return walk_cursor(
            lambda cursor: self.contacts_cursor(last_max_id=cursor, size=size),
            start=0,
            next_cursor=lambda page: max(int(contact["id"]) for contact in page),
            size=size,
            endpoint="/open/contacts/cursor",
        )

    def contacts_bulk_ids(
        self,
        *,
        page: int,
        size: int,
        min_update_time: Moment | None = None,
        max_update_time: Moment | None = None,
        anonymous: int | None = None,
    ) -> list[int]:
        """`GET /open/contacts_bulk/ids`; the spec limits page × size to 10000 (B00030).
        `anonymous`: -1 everyone, 0 named (Linkflow's default), 1 anonymous."""
        if page * size > MAX_BULK_WINDOW:
            raise _limit(
                "/open/contacts_bulk/ids", "page", f"page*size must be at most {MAX_BULK_WINDOW}"
            )
        return self._call(
            "GET",
            "/open/contacts_bulk/ids",
            params={
                "page": page,
                "size": size,
                "minUpdateTime": None if min_update_time is None else _moment(min_update_time),
                "maxUpdateTime": None if max_update_time is None else _moment(max_update_time),
                "anonymous": anonymous,
            },
        )

    def iter_contact_ids(
        self,
        *,
        size: int = 1000,
        min_update_time: Moment | None = None,
        max_update_time: Moment | None = None,
        anonymous: int | None = None,
    ) -> Iterator[int]:
        """Contact ids, lazily, page after page (from 0) until a short page, but no further
        than the spec's window page × size ≤ 10000: ids beyond it cannot be reached this
        way (a warning is logged). To see more, narrow the update times and walk again, or
        use `iter_contacts` (the cursor has no window)."""
        if not 1 <= size <= MAX_BULK_WINDOW:
            raise _limit("/open/contacts_bulk/ids", "size", f"size must be 1-{MAX_BULK_WINDOW}")
        return walk_pages(
            lambda page: self.contacts_bulk_ids(
                page=page,
                size=size,
                min_update_time=min_update_time,
                max_update_time=max_update_time,
                anonymous=anonymous,
            ),
            first=0,
            last=MAX_BULK_WINDOW // size,
            size=size,
            endpoint="/open/contacts_bulk/ids",
        )

    def contacts_bulk(self, *, ids: Sequence[int], need_open_id: bool = False) -> list[dict]:
        """`GET /open/contacts_bulk`: details of at most 100 contacts (Linkflow would silently
        keep the first 100; we refuse instead of losing the rest)."""
        if not ids or len(ids) > MAX_BULK_IDS:
            raise _limit("/open/contacts_bulk", "ids", f"between 1 and {MAX_BULK_IDS} ids per call")
        return self._call(
            "GET",
            "/open/contacts_bulk",
            params={
                "ids": ",".join(str(int(i)) for i in ids),
                "needOpenId": "1" if need_open_id else None,
            },
        )

    def iter_contacts_bulk(
        self, *, ids: Iterable[int], need_open_id: bool = False
    ) -> Iterator[dict]:
        """Details of any number of contacts, lazily: `ids` (any iterable, consumed as
        needed) is sent 100 at a time."""

        def walk() -> Iterator[dict]:
            for chunk in chunked(ids, MAX_BULK_IDS):
                yield from self.contacts_bulk(ids=chunk, need_open_id=need_open_id) or []

        return walk()

    def contact_identities_lookup(
        self,
        *,
        id_type: str,
        id_value: str,
        identity_types: Sequence[str] | None = None,
    ) -> dict:
        """`POST /open/contacts/identities` (spec: 获取联系人所有的身份信息). Despite the
        POST, a lookup: the contact holding `{id: id_value, type: id_type}` and its
        identities, only those of `identity_types` when given. Answers `{contactId,
        identities: [{id, type, dateCreated}]}`. Retried like a read."""
        endpoint = "/open/contacts/identities"
        body: dict[str, Any] = {
            "identity": check_identities([{"id": id_value, "type": id_type}], endpoint=endpoint)[0]
        }
        if identity_types is not None:
            body["identityTypes"] = [str(t) for t in identity_types]
        return self._call("POST", endpoint, json=body, read=True)

    def contact_tag_values(self, *, id_type: str, id_value: str) -> list[dict]:
        """`POST /open/contacts/tags` (spec: 获取联系人标签值). Despite the POST and the name,
        a lookup: the tag values `[{tagId, tagName, tagKey, value}]` of the contact holding
        `{id: id_value, type: id_type}` (to change them, `tag_values`). Retried like a
        read."""
        endpoint = "/open/contacts/tags"
        identity = check_identities([{"id": id_value, "type": id_type}], endpoint=endpoint)[0]
        return self._call("POST", endpoint, json=identity, read=True)

    def contact_identity_unbind(
        self, *, contact_id: int, identities: Sequence[Mapping[str, Any]]
    ) -> None:
        """`DELETE /open/contacts/identities/unbind` (spec: 解绑用户身份): detach identities
        `{id, type}` from the contact (custom types, mobilePhone, wechat.unionId,
        wechat.openId, wxa.openId, workwechat.externalUserId). B01402 when none would be
        left; B00008 when the contact does not exist."""
        endpoint = "/open/contacts/identities/unbind"
        self._call(
            "DELETE",
            endpoint,
            json={
                "contactId": int(contact_id),
                "identities": check_identities(identities, endpoint=endpoint),
            },
        )

    def contact_identities(self, *, contact_id: int) -> list[dict]:
        """`GET /open/contacts/{id}/identities` (spec: 根据联系人ID查询身份):
        `[{id, type, dateCreated}]`; B00008 when the contact does not exist."""
        return self._call(
            "GET",
            f"/open/contacts/{int(contact_id)}/identities",
            endpoint="/open/contacts/{id}/identities",
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
            raise _limit(
                "/open/groups/{groupId}/contacts", "size", f"size must be 1-{MAX_GROUP_PAGE}"
            )
        return self._call(
            "GET",
            f"/open/groups/{int(group_id)}/contacts",
            params={"memberId": member_id, "size": size},
            endpoint="/open/groups/{groupId}/contacts",
        )

    def iter_group_members(self, *, group_id: int, size: int = 500) -> Iterator[dict]:
        """Every member of a group (`{memberId, contact: {id, …}, …}`), lazily, by the
        memberId cursor; stops on a short or empty page."""
        if not 1 <= size <= MAX_GROUP_PAGE:
            raise _limit(
                "/open/groups/{groupId}/contacts", "size", f"size must be 1-{MAX_GROUP_PAGE}"
            )
        return walk_cursor(
            lambda cursor: self.group_members(group_id=group_id, member_id=cursor, size=size),
            start=0,
            next_cursor=lambda page: max(int(member["memberId"]) for member in page),
            size=size,
            endpoint="/open/groups/{groupId}/contacts",
        )

    def group_members_add(self, *, group_id: int, contact_ids: Sequence[int]) -> dict:
        """`{success, failure, group}`: the contact ids added, those refused (unknown), and
        the group (spec: 添加群组联系人)."""
        return self._call(
            "POST",
            f"/open/groups/{int(group_id)}/contacts",
            json=[int(i) for i in contact_ids],
            endpoint="/open/groups/{groupId}/contacts",
        )

    def group_members_remove(self, *, group_id: int, contact_ids: Sequence[int]) -> dict:
        """`{success, failure, group}`: the contact ids removed, those that were not members,
        and the group (spec: 删除群组联系人)."""
        return self._call(
            "DELETE",
            f"/open/groups/{int(group_id)}/contacts",
            json=[int(i) for i in contact_ids],
            endpoint="/open/groups/{groupId}/contacts",
        )

    # --- reports (spec: 报表) --------------------------------------------------------------

    def report(self, *, report_id: int) -> dict:
        """`GET /open/report/{reportId}` (spec: 获取报表结果): `status` 0 while Linkflow still
        computes (ask again later), 1 when `result` is ready; the shape of `result` depends
        on `chartType`."""
        endpoint = "/open/report/{reportId}"
        return _mapping(
            endpoint, self._call("GET", f"/open/report/{int(report_id)}", endpoint=endpoint)
        )

    def dashboard(self, *, dashboard_id: int) -> dict:
        """`GET /open/dashboard/{dashboardId}/summary` (spec: 获取仪表盘定义):
        `{kanBanName, reports: [{id, reportName}]}`."""
        endpoint = "/open/dashboard/{dashboardId}/summary"
        return _mapping(
            endpoint,
            self._call("GET", f"/open/dashboard/{int(dashboard_id)}/summary", endpoint=endpoint),
        )

    # --- short links (spec: 短链接) ---------------------------------------------------------

    def short_url(self, *, url: str, utm: Mapping[str, Any] | None = None) -> str:
        """`POST /open/shorturl` (spec: 创建普通追踪短链接): the tracking short link of `url`;
        `utm` takes source, campaign, medium, content, term."""
        endpoint = "/open/shorturl"
        if not url:
            raise _invalid(endpoint, "url", "is required")
        body: dict[str, Any] = {"url": url}
        if utm_fields := _utm(utm, endpoint):
            body["utm"] = utm_fields
        return _short_url(endpoint, self._call("POST", endpoint, json=body))

    def short_url_distribute(
        self, *, url: str, contact_id: int, utm: Mapping[str, Any] | None = None
    ) -> str:
        """`POST /open/shorturl/distribute` (spec: 创建分发追踪短链接): a short link of `url`
        tracked to one contact, whose id travels as `utm.term` (a different `term` in `utm`
        is refused). B00008 when the contact does not exist."""
        endpoint = "/open/shorturl/distribute"
        if not url:
            raise _invalid(endpoint, "url", "is required")
        fields = _utm(utm, endpoint)
        term = str(int(contact_id))
        if fields.get("term", term) != term:
            raise _invalid(endpoint, "utm.term", "carries the contact id in a distribute link")
        fields["term"] = term
        return _short_url(endpoint, self._call("POST", endpoint, json={"url": url, "utm": fields}))
