"""The JD Cloud ECRM API: one method per JD-provided endpoint of the spec
(`shared/specs/001_debf53847bfe92df.txt`), named after its path.

Every request is signed for JD Cloud's API gateway (`signing.py`). GET carries no
Content-Type; POST sends `application/json; charset=UTF-8` (spec: 京东云提供接口通用申明).
The `{code, msg, data}` envelope is unwrapped: `code` 0 / "0" gives `data`, anything else
raises `JDCloudRejected`, or its subclass `JDBusy` when the trouble is JD's own (busy,
system error, rate limit: `errors.is_transient`) and a later try may succeed. Reads are
retried with exponential backoff and jitter on transport errors; writes never are, since
JD may have acted on a request whose answer was lost. `JDBusy` is left to the caller's
retry (a task's backoff), not retried here. Every attempt is written to the call log.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import httpx
import stamina

from portal.integrations.jdcloud import types as t
from portal.integrations.jdcloud.errors import (
    JDCloudError,
    JDCloudRejected,
    JDCloudTransportError,
    JDCloudUnexpectedResponse,
    rejection,
)
from portal.integrations.jdcloud.signing import Credentials, sign

logger = logging.getLogger(__name__)

POST_CONTENT_TYPE = "application/json; charset=UTF-8"


@dataclass(frozen=True)
class CallRecord:
    """One attempt, as handed to the recorder (the integration call log)."""

    method: str
    endpoint: str
    attempt: int
    duration_ms: int
    http_status: int | None
    remote_code: str | None
    ok: bool
    error: str
    request_body: Any
    response_body: Any
    brand_id: int | None


Recorder = Callable[[CallRecord], None]


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3
    wait_initial: float = 0.2
    wait_max: float = 2.0
    wait_jitter: float = 0.5
    timeout: float = 30.0


def _json_body(payload: Mapping[str, Any]) -> bytes:
    clean = {k: v for k, v in payload.items() if v is not None}
    return json.dumps(clean, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _condition(value: Mapping[str, Any] | str) -> str:
    """Conditions are JSON *strings* in the spec (人群对象相关: condition String)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _number(value: float | int) -> str:
    """0.4 → "0.4", 1000 → "1000", 1000.0 → "1000" (split ratios and counts)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


class JDCloudClient:
    def __init__(
        self,
        *,
        http: httpx.Client,
        credentials: Credentials,
        algorithm: str,
        service: str = "simpleclient",
        region: str = "jdcloud-api",
        partner_id: str = "",
        recorder: Recorder | None = None,
        retry: RetryPolicy | None = None,
        brand_id: int | None = None,
    ) -> None:
        self._http = http
        self._credentials = credentials
        self._algorithm = algorithm
        self._service = service
        self._region = region
        self.partner_id = partner_id
        self._recorder = recorder
        self._retry = retry or RetryPolicy()
        self.brand_id = brand_id

    def for_brand(self, brand_id: int | None) -> JDCloudClient:
        """The same client, logging its calls against `brand_id`."""
        clone = object.__new__(JDCloudClient)
        clone.__dict__.update(self.__dict__)
        clone.brand_id = brand_id
        return clone

    # --- transport ------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        endpoint: str | None = None,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        read: bool,
    ) -> Any:
        endpoint = endpoint or path
        if not read:
            return self._attempt(method, path, endpoint, params, body, attempt=1)
        retrying = stamina.retry_context(
            on=JDCloudTransportError,
            attempts=self._retry.attempts,
            timeout=self._retry.timeout,
            wait_initial=self._retry.wait_initial,
            wait_max=self._retry.wait_max,
            wait_jitter=self._retry.wait_jitter,
        )
        for attempt in retrying:
            with attempt:
                return self._attempt(method, path, endpoint, params, body, attempt=attempt.num)
        raise AssertionError("unreachable")  # pragma: no cover

    def _attempt(
        self,
        method: str,
        path: str,
        endpoint: str,
        params: Mapping[str, Any] | None,
        body: Mapping[str, Any] | None,
        *,
        attempt: int,
    ) -> Any:
        query = {k: v for k, v in (params or {}).items() if v is not None}
        content = _json_body(body or {}) if method == "POST" else b""
        headers = {"Content-Type": POST_CONTENT_TYPE} if method == "POST" else {}
        request = self._http.build_request(
            method, path.lstrip("/"), params=query, content=content, headers=headers
        )
        signature = sign(
            method=method,
            url=str(request.url),
            headers={k: v for k, v in request.headers.items() if k.lower() == "content-type"},
            body=content,
            credentials=self._credentials,
            service=self._service,
            region=self._region,
            algorithm=self._algorithm,
        )
        request.headers.update(signature.headers)

        started = time.monotonic()
        response: httpx.Response | None = None
        payload: Any = None
        outcome: JDCloudError | None = None
        try:
            response = self._http.send(request)
            payload, outcome = self._interpret(endpoint, response)
        except httpx.TimeoutException as exc:
            outcome = JDCloudTransportError(f"timeout calling {endpoint}: {exc}", endpoint=endpoint)
        except httpx.TransportError as exc:
            outcome = JDCloudTransportError(
                f"cannot reach JD Cloud for {endpoint}: {exc}", endpoint=endpoint
            )
        duration_ms = int((time.monotonic() - started) * 1000)
        self._record(
            CallRecord(
                method=method,
                endpoint=endpoint,
                attempt=attempt,
                duration_ms=duration_ms,
                http_status=response.status_code if response is not None else None,
                remote_code=getattr(outcome, "code", None) if outcome else "0",
                ok=outcome is None,
                error=str(outcome) if outcome else "",
                request_body=body if method == "POST" else query,
                response_body=payload if payload is not None else _text(response),
                brand_id=self.brand_id,
            )
        )
        if outcome is not None:
            raise outcome
        return payload.get("data")

    @staticmethod
    def _interpret(endpoint: str, response: httpx.Response) -> tuple[Any, JDCloudError | None]:
        status = response.status_code
        if status >= 500 or status == 429:
            return None, JDCloudTransportError(
                f"JD Cloud answered HTTP {status} for {endpoint}",
                endpoint=endpoint,
                http_status=status,
            )
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if status >= 400:
            # The gateway's own errors: {"requestId", "error": {"code", "status", "message"}}
            error = (payload or {}).get("error") if isinstance(payload, dict) else None
            message = (
                (error or {}).get("message") or (payload or {}).get("msg") if payload else None
            )
            return payload, rejection(
                code=str(status),
                msg=message or response.text[:200] or f"HTTP {status}",
                endpoint=endpoint,
                http_status=status,
            )
        if not isinstance(payload, dict):
            return None, JDCloudUnexpectedResponse(
                f"{endpoint} answered something that is not a JSON object", endpoint=endpoint
            )
        # `/shorturl/create` names its status `result` instead of `code` (spec example).
        code = payload.get("code", payload.get("result"))
        if code is None:
            return payload, JDCloudUnexpectedResponse(
                f"{endpoint} answered without a code", endpoint=endpoint
            )
        if str(code).strip() != "0":
            return payload, rejection(
                code=str(code), msg=str(payload.get("msg") or "").strip(), endpoint=endpoint
            )
        return payload, None

    def _record(self, record: CallRecord) -> None:
        if self._recorder is not None:
            self._recorder(record)
        level = logging.DEBUG if record.ok else logging.WARNING
        logger.log(
            level,
            "jdcloud %s %s attempt=%s status=%s code=%s %sms",
            record.method,
            record.endpoint,
            record.attempt,
            record.http_status,
            record.remote_code,
            record.duration_ms,
        )

    def _get(self, path: str, read: bool = True, **params: Any) -> Any:
        return self._call("GET", path, params=params, read=read)

    def _post(self, path: str, body: Mapping[str, Any], *, read: bool) -> Any:
        return self._call("POST", path, body=body, read=read)

    @staticmethod
    def _status_ok(endpoint: str, data: Any, ok: str = "0") -> None:
        """Writes answer `data.status`; anything but `ok` is a refusal."""
        status = str((data or {}).get("status", "")) if isinstance(data, dict) else ""
        if status != ok:
            raise JDCloudRejected(
                code=status or "?", msg=f"status {status or 'missing'}", endpoint=endpoint
            )

    @staticmethod
    def _list(endpoint: str, data: Any) -> list:
        if not isinstance(data, list):
            raise JDCloudUnexpectedResponse(f"{endpoint} did not answer a list", endpoint=endpoint)
        return data

    # --- 品牌商相关 --------------------------------------------------------------------

    def master_verify(self, *, master_pin: str) -> t.MasterVerifyResult:
        data = self._post("/master/verify", {"master_pin": master_pin}, read=True)
        return t.MasterVerifyResult.from_api(data or {})

    # --- 人群对象相关 ------------------------------------------------------------------

    def tag_list_v2(self) -> list[t.Tag]:
        return [
            t.Tag.from_api(row) for row in self._list("/tag/list/v2", self._get("/tag/list/v2"))
        ]

    def crowd_create_v2(
        self,
        *,
        master_id: str,
        crowd_name: str,
        crowd_desc: str,
        condition: Mapping[str, Any] | str,
        package_type: int,
        data_type: str = "1",
        crowd_type: str = "1",
    ) -> str:
        """Returns the new `search_id`."""
        data = self._post(
            "/crowd/create/v2",
            {
                "data_type": data_type,
                "condition": _condition(condition),
                "crowd_name": crowd_name,
                "crowd_desc": crowd_desc,
                "master_id": master_id,
                "crowd_type": crowd_type,
                "package_type": int(package_type),
            },
            read=False,
        )
        return t.CrowdInstanceRef.from_api(data or {}).search_id

    def crowd_edit_v2(
        self,
        *,
        search_id: str,
        condition: Mapping[str, Any] | str,
        crowd_desc: str | None = None,
        crowd_name: str | None = None,
    ) -> None:
        data = self._post(
            "/crowd/edit/v2",
            {
                "search_id": search_id,
                "condition": _condition(condition),
                "crowd_desc": crowd_desc,
                "crowd_name": crowd_name,
            },
            read=False,
        )
        self._status_ok("/crowd/edit/v2", data)

    def crowd_del(self, *, search_id: str) -> None:
        self._status_ok(
            "/crowd/del", self._post("/crowd/del", {"search_id": search_id}, read=False)
        )

    def crowd_info(self, *, search_id: str) -> t.Crowd:
        return t.Crowd.from_api(
            self._post("/crowd/info", {"search_id": search_id}, read=True) or {}
        )

    def crowd_list(
        self,
        *,
        master_id: str,
        crowd_name: str | None = None,
        crowd_type: int | None = None,
        page_num: int = 1,
        page_size: int = 10,
        package_type: int | None = None,
    ) -> t.Page[t.Crowd]:
        data = self._post(
            "/crowd/list",
            {
                "master_id": master_id,
                "crowd_name": crowd_name,
                "crowd_type": crowd_type,
                "page_num": page_num,
                "page_size": page_size,
                "package_type": package_type,
            },
            read=True,
        )
        return t.Page.parse(data or {}, t.Crowd)

    def crowd_init(self, *, search_id: str) -> t.CrowdInstanceRef:
        data = self._post("/crowd/init", {"search_id": search_id}, read=False)
        return t.CrowdInstanceRef.from_api(data or {})

    # --- 人群对象实例相关 ----------------------------------------------------------------

    def crowd_instance_status(self, *, package_id: str) -> t.CrowdInstanceStatus:
        # The id is a path variable; the spec plans a query string later.
        data = self._call(
            "GET",
            f"/crowd/instance/status/{package_id}",
            endpoint="/crowd/instance/status/{package_id}",
            read=True,
        )
        return t.CrowdInstanceStatus.from_api(data or {})

    def crowd_instance_saveas(
        self, *, package_id: str, crowd_name: str, crowd_desc: str, master_id: str
    ) -> t.SaveAsResult:
        data = self._post(
            "/crowd/instance/saveas",
            {
                "package_id": package_id,
                "crowd_name": crowd_name,
                "crowd_desc": crowd_desc,
                "master_id": master_id,
            },
            read=False,
        )
        return t.SaveAsResult.from_api(data or {})

    def crowd_instance_calc(
        self,
        *,
        master_id: str,
        crowd_name: str,
        crowd_desc: str,
        condition: Mapping[str, Any] | str,
        data_type: str = "1",
    ) -> t.CalcResult:
        data = self._post(
            "/crowd/instance/calc",
            {
                "data_type": data_type,
                "condition": _condition(condition),
                "crowd_name": crowd_name,
                "crowd_desc": crowd_desc,
                "master_id": master_id,
            },
            read=False,
        )
        return t.CalcResult.from_api(data or {})

    def crowd_instance_split(
        self,
        *,
        package_id: str,
        parts: Sequence[tuple[str, float | int]],
        split_type: t.SplitType,
    ) -> list[t.SplitPart]:
        """`parts` are (name, ratio) for RATIO or (name, head count) for COUNT; the spec
        sends them as "name|value" strings."""
        data = self._post(
            "/crowd/instance/split",
            {
                "package_id": package_id,
                "ratio": [f"{name}|{_number(value)}" for name, value in parts],
                "type": str(t.SplitType(split_type)),
            },
            read=False,
        )
        return [t.SplitPart.from_api(row) for row in self._list("/crowd/instance/split", data)]

    def crowd_instance_filter(
        self, *, package_id: str, filter_types: Sequence[int]
    ) -> list[t.FilterResult]:
        data = self._post(
            "/crowd/instance/filter",
            # The table names `filter_types` (its example says `filter_type`): send the table's.
            {"package_id": package_id, "filter_types": [str(int(f)) for f in filter_types]},
            read=False,
        )
        return [t.FilterResult.from_api(row) for row in self._list("/crowd/instance/filter", data)]

    def crowd_instance_reach(self, *, package_id: str, reach: t.Reach) -> None:
        data = self._post(
            "/crowd/instance/reach",
            {"package_id": package_id, "type": str(reach.type), "params": reach.to_params()},
            read=False,
        )
        self._status_ok("/crowd/instance/reach", data)

    # --- 短信相关 ------------------------------------------------------------------------

    def shorturl_create(self, *, url: str) -> str:
        data = self._post("/shorturl/create", {"url": url}, read=False)
        short = (data or {}).get("short_url") if isinstance(data, dict) else None
        if not short:
            raise JDCloudUnexpectedResponse("no short_url in answer", endpoint="/shorturl/create")
        return str(short)

    def sms_templates(self, *, master_id: str, type: int) -> list[t.SmsTemplate]:  # noqa: A002
        data = self._post("/sms/templates", {"master_id": master_id, "type": int(type)}, read=True)
        return [t.SmsTemplate.from_api(row) for row in self._list("/sms/templates", data)]

    def sms_signature(self, *, master_id: str, type: int = 2) -> list[t.SmsSignature]:  # noqa: A002
        data = self._get("/sms/signature", master_id=master_id, type=type)
        return [t.SmsSignature.from_api(row) for row in self._list("/sms/signature", data)]

    def sms_balance(self, *, master_id: str) -> t.SmsBalance:
        return t.SmsBalance.from_api(self._get("/sms/balance", master_id=master_id) or {})

    def _ledger(self, path: str, item: type, master_id: str, **query: Any) -> t.Page:
        """`/sms/recharge` and `/sms/consume` share their filters and page envelope."""
        data = self._get(
            path,
            master_id=master_id,
            start_date=t.format_datetime(query["start_date"]),
            end_date=t.format_datetime(query["end_date"]),
            page_num=query["page_num"],
            page_size=query["page_size"],
        )
        return t.Page.parse(data or {}, item)

    def sms_recharge(
        self,
        *,
        master_id: str,
        start_date: datetime | str | None = None,
        end_date: datetime | str | None = None,
        page_num: int = 1,
        page_size: int = 10,
    ) -> t.Page[t.RechargeRecord]:
        return self._ledger(
            "/sms/recharge",
            t.RechargeRecord,
            master_id,
            start_date=start_date,
            end_date=end_date,
            page_num=page_num,
            page_size=page_size,
        )

    def sms_consume(
        self,
        *,
        master_id: str,
        start_date: datetime | str | None = None,
        end_date: datetime | str | None = None,
        page_num: int = 1,
        page_size: int = 10,
    ) -> t.Page[t.ConsumeRecord]:
        return self._ledger(
            "/sms/consume",
            t.ConsumeRecord,
            master_id,
            start_date=start_date,
            end_date=end_date,
            page_num=page_num,
            page_size=page_size,
        )

    def sms_result(self, *, package_id: str) -> t.SmsResult:
        return t.SmsResult.from_api(
            self._post("/sms/result", {"package_id": package_id}, read=True) or {}
        )

    # --- 活动相关 ------------------------------------------------------------------------

    def activity_create(
        self,
        *,
        master_id: str,
        activity_id: str,
        activity_name: str,
        start_type: t.StartType | str,
        activity_reach_type: t.ActivityReachType | str,
        activity_desc: str | None = None,
        preview_url: str | None = None,
        start_type_remark: str | None = None,
    ) -> None:
        data = self._post(
            "/activity/create",
            {
                "master_id": master_id,
                "activity_id": str(activity_id),
                "activity_name": activity_name,
                "activity_desc": activity_desc,
                "preview_url": preview_url,
                "start_type": str(t.StartType(str(start_type))),
                "start_type_remark": start_type_remark,
                "activity_reach_type": str(t.ActivityReachType(str(activity_reach_type))),
            },
            read=False,
        )
        self._status_ok("/activity/create", data)

    # --- 报表相关 ------------------------------------------------------------------------

    def report_create(
        self,
        *,
        package_id: str,
        master_id: str,
        report_date: datetime | str | None = None,
        partner_id: str | None = None,
    ) -> None:
        data = self._post(
            "/report/create",
            {
                "package_id": package_id,
                "master_id": master_id,
                "partner_id": partner_id or self.partner_id,
                "report_date": t.format_datetime(report_date),
            },
            read=False,
        )
        self._status_ok("/report/create", data)

    def report(
        self,
        *,
        master_id: str,
        report_date: date | str,
        report_type: t.ReportType | str = t.ReportType.EXPOSURE,
        partner_id: str | None = None,
    ) -> t.ReportBatch:
        data = self._post(
            "/report",
            {
                "master_id": master_id,
                "partner_id": partner_id or self.partner_id,
                "report_date": t.format_date(report_date),
                "report_type": str(t.ReportType(str(report_type))),
            },
            read=True,
        )
        return t.ReportBatch.from_api(data or {})

    def report_pull(
        self, *, report_date: date | str | None = None, partner_id: str | None = None
    ) -> None:
        data = self._post(
            "/report/pull",
            {
                "partner_id": partner_id or self.partner_id,
                "report_date": t.format_date(report_date) if report_date else None,
            },
            read=False,
        )
        self._status_ok("/report/pull", data)

    # --- 微信活动 ------------------------------------------------------------------------

    def activity_wx_get_all_template(self, *, master_id: str) -> list[t.WxTemplate]:
        data = self._get("/activity/wx/getAllTemplate", master_id=master_id)
        return [
            t.WxTemplate.from_api(row) for row in self._list("/activity/wx/getAllTemplate", data)
        ]

    def activity_wx_batch_get_news(
        self, *, master_id: str, offset: int = 0, count: int = 20
    ) -> t.WxNewsPage:
        if not 1 <= count <= 20:
            raise ValueError("count must be between 1 and 20 (spec: batchGetNews)")
        data = self._get(
            "/activity/wx/batchGetNews", master_id=master_id, offset=offset, count=count
        )
        return t.WxNewsPage.from_api(data or {})

    def activity_wx_create(self, activity: t.WxActivity) -> int:
        """Returns JD's WeChat activity id."""
        if activity.pack_type == 3 and not activity.pack_path:
            raise ValueError("pack_type 3 (UPLOAD_OPENID) needs pack_path, the openId file's URL")
        data = self._post("/activity/wx/create", activity.to_body(), read=False)
        try:
            return int(data)
        except (TypeError, ValueError) as exc:
            raise JDCloudUnexpectedResponse(
                f"activity id {data!r} is not a number", endpoint="/activity/wx/create"
            ) from exc

    def activity_wx_activity_info(self, *, master_id: str, activity_id: int) -> t.WxActivityInfo:
        data = self._get("/activity/wx/activityInfo", master_id=master_id, activity_id=activity_id)
        return t.WxActivityInfo.from_api(data or {})

    def activity_wx_reject(self, *, master_id: str, activity_id: int, remark: str) -> None:
        if len(remark) > 50:
            raise ValueError("remark must be at most 50 characters (spec: 取消微信活动)")
        data = self._post(
            "/activity/wx/reject",
            {"master_id": master_id, "activity_id": int(activity_id), "remark": remark},
            read=False,
        )
        if data is not True:
            raise JDCloudRejected(code="?", msg="cancel refused", endpoint="/activity/wx/reject")

    def activity_wx_convert_url(self, *, master_id: str, url: str) -> str:
        data = self._get("/activity/wx/convertUrl", read=False, master_id=master_id, url=url)
        if not isinstance(data, str) or not data:
            raise JDCloudUnexpectedResponse("no converted URL", endpoint="/activity/wx/convertUrl")
        return data

    def activity_wx_wechat_info(self, *, master_id: str) -> t.WeChatInfo:
        return t.WeChatInfo.from_api(
            self._get("/activity/wx/weChatInfo", master_id=master_id) or {}
        )

    # --- 公告、系统状态 -------------------------------------------------------------------

    def notice_list(self) -> list[t.Notice]:
        return [
            t.Notice.from_api(row) for row in self._list("/notice/list", self._get("/notice/list"))
        ]

    def system_status(self, *, system_code: str = "ECRM_API") -> t.SystemStatus:
        return t.SystemStatus.from_api(self._get("/system/status", system_code=system_code) or {})


def _text(response: httpx.Response | None) -> str | None:
    if response is None:
        return None
    try:
        return response.text[:2000]
    except Exception:  # an undecodable body is still worth a row in the log
        return None
