"""Typed requests and results of the JD Cloud ECRM API.

Field names are the spec's. Results are built with `from_api`, which takes the fields a
dataclass declares, coerces them to the declared type (JD sends numbers as strings and
strings as numbers interchangeably: `package_size` "44647", `code` 0 or "0") and ignores
fields the spec added later.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import types
import typing
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Generic, Self, TypeVar

from portal.integrations.jdcloud.errors import JDCloudUnexpectedResponse

DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # the spec's "yyyy-MM-dd HH:mm:ss"
DATE_FORMAT = "%Y-%m-%d"

T = TypeVar("T")


def _coerce(value: Any, annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        inner = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _coerce(value, inner[0])
    if value is None:
        return None
    if annotation is str:
        return value if isinstance(value, str) else str(value)
    if annotation is int:
        return int(value) if value != "" else 0
    if annotation is float:
        return float(value) if value != "" else 0.0
    if annotation is bool:
        return value if isinstance(value, bool) else str(value).lower() in ("1", "true")
    if origin is list:
        (item,) = typing.get_args(annotation)
        if isinstance(value, str):  # JD types some lists as "JSON in a string"
            value = json.loads(value) if value.strip() else []
        return [_coerce(v, item) for v in value]
    if dataclasses.is_dataclass(annotation):
        return annotation.from_api(value)
    return value


class ApiResult:
    """Mixin: build a dataclass from a JD answer."""

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        if not isinstance(data, Mapping):
            raise JDCloudUnexpectedResponse(
                f"{cls.__name__}: expected an object, got {type(data).__name__}", endpoint="?"
            )
        hints = typing.get_type_hints(cls)
        values = {}
        for field in dataclasses.fields(cls):  # type: ignore[arg-type]
            key = field.metadata.get("api", field.name)
            if key in data:
                raw = data[key]
            elif field.metadata.get("alias") in data:
                raw = data[field.metadata["alias"]]
            else:
                continue
            try:
                values[field.name] = _coerce(raw, hints[field.name])
            except (TypeError, ValueError) as exc:
                raise JDCloudUnexpectedResponse(
                    f"{cls.__name__}.{field.name}: cannot read {raw!r} ({exc})", endpoint="?"
                ) from exc
        return cls(**values)


def _api(name: str, alias: str | None = None, default: Any = None) -> Any:
    metadata = {"api": name}
    if alias:
        metadata["alias"] = alias
    return dataclasses.field(default=default, metadata=metadata)


# --- Brands --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class MasterVerifyResult(ApiResult):
    valid: bool = False
    master_id: str | None = None


# --- Tags and crowds ----------------------------------------------------------------


class PackageType(enum.IntEnum):
    PUBLIC = 1  # 公域人群
    PRIVATE = 2  # 私域人群


@dataclasses.dataclass(frozen=True)
class Tag(ApiResult):
    tag: str = ""
    instruction: str = ""
    table_cd: str = ""
    tag_type: str = ""
    # The spec's own example once spells the key "enums " (with a space).
    enums: list[str] = _api("enums", alias="enums ", default=())


@dataclasses.dataclass(frozen=True)
class Crowd(ApiResult):
    search_id: str = ""
    data_type: str = _api("data_type", alias="date_type", default="1")
    crowd_type: int = 1
    condition: str = ""
    crowd_name: str | None = None
    crowd_desc: str | None = None
    master_id: str = ""
    package_type: int = 1
    create_time: str | None = None


@dataclasses.dataclass(frozen=True)
class Page(Generic[T]):
    """The spec's page envelope (`/crowd/list`, `/sms/recharge`, `/sms/consume`)."""

    page_num: int
    page_size: int
    total: int
    pages: int
    result: list[T]

    @classmethod
    def parse(cls, data: Mapping[str, Any], item: type) -> Page:
        if not isinstance(data, Mapping) or not isinstance(data.get("result", []), list):
            raise JDCloudUnexpectedResponse("expected a page object", endpoint="?")
        return cls(
            page_num=int(data.get("page_num") or 1),
            page_size=int(data.get("page_size") or 0),
            total=int(data.get("total") or 0),
            pages=int(data.get("pages") or 0),
            result=[item.from_api(row) for row in data.get("result") or []],
        )


@dataclasses.dataclass(frozen=True)
class CrowdInstanceRef(ApiResult):
    search_id: str = ""
    package_id: str = ""


class InstanceStatus(enum.StrEnum):
    GENERATING = "0"
    FAILED = "1"
    GENERATED = "2"


@dataclasses.dataclass(frozen=True)
class CrowdInstanceStatus(ApiResult):
    status: str = "0"
    package_size: int = 0
    package_size_view: str = "0"
    package_type: int | None = None

    @property
    def is_final(self) -> bool:
        return self.status in (InstanceStatus.FAILED, InstanceStatus.GENERATED)


@dataclasses.dataclass(frozen=True)
class SaveAsResult(ApiResult):
    search_id: str = ""
    package_id: str | None = None  # not in the spec; the sandbox adds it


@dataclasses.dataclass(frozen=True)
class CalcResult(ApiResult):
    search_id: str = ""
    package_id: str = ""
    package_status: str = "0"


class SplitType(enum.StrEnum):
    RATIO = "0"  # 百分比: parts are fractions, their sum ≤ 1
    COUNT = "1"  # 人数: parts are head counts, their sum ≤ the package size


@dataclasses.dataclass(frozen=True)
class SplitPart(ApiResult):
    package_id: str = ""
    package_size: int = 0
    package_name: str = ""


class FilterType(enum.IntEnum):
    RESTRICTED = 1  # 受限制
    UNKNOWN = 2  # 未知状态
    FAILED = 3  # 发送失败
    DELIVERED = 4  # 发送成功


@dataclasses.dataclass(frozen=True)
class FilterResult(ApiResult):
    package_id: str = ""
    filter_type: str = ""


# --- Reach (触发人群营销) -------------------------------------------------------------


class ReachType(enum.StrEnum):
    SMS_PUBLIC = "SMSPUBLIC"
    SMS_PRIVATE = "SMSPRIVATE"
    COUPON_PUBLIC = "COUPONPUBLIC"
    COUPON_PRIVATE = "COUPONPRIVATE"


def _template_params(value: Mapping[str, Any] | str) -> str:
    """`template_params` is a JSON string in the spec, not an object."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _send_time(value: datetime | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.strftime(DATETIME_FORMAT)


@dataclasses.dataclass(frozen=True)
class SmsPublicReach:
    """公域短信: template, its parameters, optional send time."""

    template_id: str
    template_params: Mapping[str, Any] | str
    send_time: datetime | str | None = None
    type: typing.ClassVar[ReachType] = ReachType.SMS_PUBLIC

    def to_params(self) -> dict[str, Any]:
        params = {
            "template_id": str(self.template_id),
            "template_params": _template_params(self.template_params),
        }
        for name in ("signature_id", "batch_id"):
            if hasattr(self, name):
                params[name] = str(getattr(self, name))
        if self.send_time is not None:
            params["send_time"] = _send_time(self.send_time)
        return params


@dataclasses.dataclass(frozen=True)
class SmsPrivateReach(SmsPublicReach):
    """私域短信: adds the private signature."""

    signature_id: str = ""
    type: typing.ClassVar[ReachType] = ReachType.SMS_PRIVATE


@dataclasses.dataclass(frozen=True)
class CouponPublicReach(SmsPublicReach):
    """公域优惠券: adds the coupon batch."""

    batch_id: str = ""
    type: typing.ClassVar[ReachType] = ReachType.COUPON_PUBLIC


@dataclasses.dataclass(frozen=True)
class CouponPrivateReach(SmsPublicReach):
    """私域优惠券: signature and coupon batch."""

    signature_id: str = ""
    batch_id: str = ""
    type: typing.ClassVar[ReachType] = ReachType.COUPON_PRIVATE


Reach = SmsPublicReach | SmsPrivateReach | CouponPublicReach | CouponPrivateReach


# --- SMS ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SmsTemplate(ApiResult):
    template_id: str = ""
    template_name: str = ""
    template_content: str = ""
    template_params: list[str] = ()


@dataclasses.dataclass(frozen=True)
class SmsSignature(ApiResult):
    signature_id: str = ""
    signature_name: str = ""
    type: str = "2"


@dataclasses.dataclass(frozen=True)
class SmsBalance(ApiResult):
    public_balance: int = 0
    private_balance: int = 0


@dataclasses.dataclass(frozen=True)
class RechargeRecord(ApiResult):
    order_id: str = ""
    number: int = 0
    type: int = 1
    status: int = 1
    create_time: str = ""


@dataclasses.dataclass(frozen=True)
class ConsumeRecord(ApiResult):
    consume_id: str = ""
    number: int = 0
    type: int = 1
    direction: int = 1  # 1=消费 2=退还
    create_time: str = ""


@dataclasses.dataclass(frozen=True)
class SmsResult(ApiResult):
    success: int = 0
    failed: int = 0
    restrict: int = 0
    unknown: int = 0

    @property
    def total(self) -> int:
        return self.success + self.failed + self.restrict + self.unknown


# --- Activities and reports --------------------------------------------------------------


class StartType(enum.StrEnum):
    SINGLE = "1"  # 单次执行
    PERIODIC = "2"  # 周期性执行


class ActivityReachType(enum.StrEnum):
    SMS = "SMS"
    OTHER = "OTHER"


class ReportType(enum.StrEnum):
    CLICK = "click"
    EXPOSURE = "exposure"
    ALL = "all"


@dataclasses.dataclass(frozen=True)
class ReportBatch(ApiResult):
    """One `/report` answer. Rows stay as JD sent them: `reports` parses them."""

    partner_id: str = ""
    report_date: str = ""
    shop_id: str | None = None
    report_data: list[dict] = ()


# --- WeChat ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class WxTemplate(ApiResult):
    templateId: str = ""  # noqa: N815 - the spec's name
    title: str = ""
    primaryIndustry: str = ""  # noqa: N815
    deputyIndustry: str = ""  # noqa: N815
    content: str = ""
    example: str = ""


@dataclasses.dataclass(frozen=True)
class WxNewsPage(ApiResult):
    totalCount: int = 0  # noqa: N815
    itemCount: int = 0  # noqa: N815
    items: list[dict] = ()


@dataclasses.dataclass(frozen=True)
class WxTemplateData:
    name: str
    value: str
    color: str | None = None


@dataclasses.dataclass(frozen=True)
class WxActivity:
    """`/activity/wx/create`: template (activity_type 3) or news (4) to a pack (1-5)."""

    master_id: str
    business_id: str
    send_time: datetime
    create_time: datetime
    begin_time: datetime
    end_time: datetime
    pack_type: int
    activity_type: int
    package_id: str | None = None
    # pack_type 3 (UPLOAD_OPENID): the address JD fetches the openId file from. Absent from
    # the spec's field table, present in its example request.
    pack_path: str | None = None
    pack_desc: str | None = None
    pack_name: str | None = None
    media_id: str | None = None
    media_title: str | None = None
    template_id: str | None = None
    template_data: tuple[WxTemplateData, ...] = ()
    template_url: str | None = None
    mini_app_id: str | None = None
    mini_path_page: str | None = None
    url_mappings: tuple[tuple[str, str], ...] = ()  # (url, shortUrl)

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "master_id": self.master_id,
            "business_id": self.business_id,
            "send_time": _send_time(self.send_time),
            "create_time": _send_time(self.create_time),
            "begin_time": _send_time(self.begin_time),
            "end_time": _send_time(self.end_time),
            "pack_type": int(self.pack_type),
            "package_id": self.package_id,
            "pack_desc": self.pack_desc,
            "pack_name": self.pack_name,
            "activity_type": int(self.activity_type),
        }
        if self.pack_path:
            body["pack_path"] = self.pack_path
        if self.media_id:
            body["mediaInfo"] = {"mediaId": self.media_id, "mediaTitle": self.media_title}
        if self.template_id:
            body["templateInfo"] = {
                "templateId": self.template_id,
                "data": [dataclasses.asdict(d) for d in self.template_data],
                "url": self.template_url,
                "miniAppId": self.mini_app_id,
                "miniPathPage": self.mini_path_page,
            }
        if self.url_mappings:
            body["urlMappingList"] = [{"url": u, "shortUrl": s} for u, s in self.url_mappings]
        return body


class WxActivityStatus(enum.IntEnum):
    CREATE = 0  # 正在获取映射关系
    LAUNCHED = 1  # 已投放
    LAUNCH_NEED = 2  # 待投放
    LAUNCH_REJECTED = 3  # 已驳回
    LAUNCH_NEED_ARRIVE = 4  # 待触达
    LAUNCH_ARRIVING = 5  # 触达中
    SEND_FAIL = 6  # 发送失败


@dataclasses.dataclass(frozen=True)
class WxActivityInfo(ApiResult):
    activity_id: int = 0
    business_id: str = ""
    activity_content: str | None = None
    activity_type: int = 3
    pack_type: int = 1
    pack_path: str | None = None
    pack_desc: str | None = None
    pack_name: str | None = None
    pre_num: int = 0
    act_num: int = 0
    begin_time: str | None = None
    end_time: str | None = None
    send_time: str | None = None
    activity_status: int = 0
    remark: str | None = None
    created: str | None = None
    mediaInfo: dict | None = None  # noqa: N815
    templateInfo: dict | None = None  # noqa: N815

    @property
    def is_final(self) -> bool:
        return self.activity_status in (
            WxActivityStatus.LAUNCHED,
            WxActivityStatus.LAUNCH_REJECTED,
            WxActivityStatus.SEND_FAIL,
        )


@dataclasses.dataclass(frozen=True)
class WeChatInfo(ApiResult):
    appId: str = ""  # noqa: N815
    appName: str = ""  # noqa: N815
    pinFollowerNum: int = 0  # noqa: N815
    notPinFollowerNum: int = 0  # noqa: N815
    allFollowerNum: int = 0  # noqa: N815


# --- Notices and system status -------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Notice(ApiResult):
    notice_code: str = ""
    title: str = ""
    content: str = ""
    notice_type: str = "OTHER"  # SYS_UPGRADE | OTHER
    notice_status: str = "1"
    start_time: str | None = None
    end_time: str | None = None
    expire_time: str | None = None


@dataclasses.dataclass(frozen=True)
class SystemStatus(ApiResult):
    system_code: str = "ECRM_API"
    status: str = "1"

    @property
    def is_up(self) -> bool:
        return self.status == "1"


def format_date(value: date | str) -> str:
    return value if isinstance(value, str) else value.strftime(DATE_FORMAT)


def format_datetime(value: datetime | str | None) -> str | None:
    return _send_time(value)
