"""Reaching a generated package (spec: 触发人群营销 `/crowd/instance/reach`), with a
pre-flight check before anything is sent."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from brands.models import Brand
from campaigns.models import Reach, ReachType
from campaigns.services.system import JDUnavailable, ensure_jd_available
from campaigns.writeback import writeback_for_reach
from crowds.conditions import Violation
from crowds.models import CrowdInstance
from portal.integrations.jdcloud import types as jd
from portal.integrations.jdcloud.errors import JDCloudError, JDCloudRejected, JDCloudTransportError
from portal.integrations.jdcloud.factory import jdcloud_client

# Spec 获取短信签名列表: the public domain has one signature, 【京东】.
PUBLIC_SIGNATURE = "【京东】"
SMS_SINGLE_LENGTH = 70  # one SMS holds 70 characters
SMS_PART_LENGTH = 67  # a long SMS is sent in parts of 67
UNSUBSCRIBE = re.compile(r"回复\s*T[A-Z]{0,4}\s*退订")
DEFAULT_UNSUBSCRIBE = "回复TD退订"
URL = re.compile(r"https?://\S+")

PRIVATE_TYPES = (ReachType.SMS_PRIVATE, ReachType.COUPON_PRIVATE)
COUPON_TYPES = (ReachType.COUPON_PUBLIC, ReachType.COUPON_PRIVATE)


def segments(text: str) -> int:
    """SMS billed per person: 1 up to 70 characters, else one per 67."""
    length = len(text)
    if length <= SMS_SINGLE_LENGTH:
        return 1
    return math.ceil(length / SMS_PART_LENGTH)


def render(template_content: str, params: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(params.get(m.group(1), m.group(0))), template_content)


@dataclass
class Preflight:
    """Everything checked before a reach is sent; `blocking` problems refuse the send."""

    text: str = ""
    template_name: str = ""
    signature: str = ""
    length: int = 0
    segments: int = 0
    package_size: int = 0
    cost: int = 0
    balance: int | None = None
    balance_domain: str = ""
    blocking: list[Violation] = field(default_factory=list)
    warnings: list[Violation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.blocking

    def as_dict(self) -> dict:
        return {
            "text": self.text,
            "template_name": self.template_name,
            "signature": self.signature,
            "length": self.length,
            "segments": self.segments,
            "package_size": self.package_size,
            "cost": self.cost,
            "balance": self.balance,
            "balance_domain": self.balance_domain,
            "ok": self.ok,
            "blocking": [{"path": v.path, "message": v.message} for v in self.blocking],
            "warnings": [{"path": v.path, "message": v.message} for v in self.warnings],
        }


@dataclass(frozen=True)
class ReachRequest:
    reach_type: str
    template_id: str
    template_params: dict[str, str]
    signature_id: str = ""
    batch_id: str = ""
    send_time: datetime | None = None


def reach_preflight(*, brand: Brand, instance: CrowdInstance, request: ReachRequest) -> Preflight:
    """Render the text and check it against JD's templates, signatures and balance."""
    check = Preflight()
    block = check.blocking.append
    if request.reach_type not in ReachType.values:
        block(
            Violation(
                "type",
                _("触达类型必须是 SMSPUBLIC / SMSPRIVATE / COUPONPUBLIC / COUPONPRIVATE"),
            )
        )
        return check
    private = request.reach_type in PRIVATE_TYPES
    if not instance.is_generated or not instance.package_id:
        block(Violation("package_id", _("人群包尚未生成成功,不能触达")))
    check.package_size = instance.package_size or 0
    client = jdcloud_client(brand_id=brand.pk)

    templates = {
        t.template_id: t
        for t in client.sms_templates(master_id=brand.master_id, type=2 if private else 1)
    }
    template = templates.get(str(request.template_id))
    if template is None:
        foreign_template = (
            _("模板 %(template)s 不是该品牌私域模板")
            if private
            else _("模板 %(template)s 不是该品牌公域模板")
        )
        block(Violation("params.template_id", foreign_template % {"template": request.template_id}))
        return check
    missing = [
        key
        for key in template.template_params
        if not str(request.template_params.get(key, "")).strip()
    ]
    for key in missing:
        block(
            Violation(f"params.template_params.{key}", _("请填写占位符 {%(key)s}") % {"key": key})
        )
    extra = sorted(set(request.template_params) - set(template.template_params))
    for key in extra:
        block(
            Violation(f"params.template_params.{key}", _("模板没有占位符 {%(key)s}") % {"key": key})
        )

    signature = "" if private else PUBLIC_SIGNATURE
    if private:
        signatures = {s.signature_id: s for s in client.sms_signature(master_id=brand.master_id)}
        chosen = signatures.get(request.signature_id)
        if chosen is None:
            block(Violation("params.signature_id", _("私域触达必须选择品牌的短信签名")))
        else:
            signature = chosen.signature_name
    elif request.signature_id:
        block(Violation("params.signature_id", _("公域触达不能指定签名")))
    if request.reach_type in COUPON_TYPES and not request.batch_id.strip():
        block(Violation("params.batch_id", _("优惠券触达必须填写优惠券批次ID")))
    if request.reach_type not in COUPON_TYPES and request.batch_id:
        block(Violation("params.batch_id", _("短信触达不能指定优惠券")))
    if request.send_time is not None and request.send_time <= timezone.now():
        block(Violation("params.send_time", _("定时发送时间必须晚于现在")))

    body = render(template.template_content, request.template_params)
    check.signature = signature
    check.text = f"{signature}{body}"
    check.length = len(check.text)
    check.segments = segments(check.text)
    check.cost = check.package_size * check.segments
    if not UNSUBSCRIBE.search(body):
        no_unsubscribe = _("短信内容缺少退订提示(如“%(example)s”)") % {
            "example": DEFAULT_UNSUBSCRIBE
        }
        block(Violation("params.template_id", no_unsubscribe))
    for value in request.template_params.values():
        if URL.search(str(value)) and len(str(value)) > 30:
            check.warnings.append(
                Violation("params.template_params", _("长链接建议先转换为短链接以节省短信条数"))
            )
            break

    balance = client.sms_balance(master_id=brand.master_id)
    check.balance = balance.private_balance if private else balance.public_balance
    check.balance_domain = "private" if private else "public"
    if check.cost > check.balance:
        shortfall = (
            _("短信余额不足:需要 %(cost)s 条,私域余额 %(balance)s 条")
            if private
            else _("短信余额不足:需要 %(cost)s 条,公域余额 %(balance)s 条")
        )
        block(Violation("balance", shortfall % {"cost": check.cost, "balance": check.balance}))
    return check


class ReachRefused(Exception):
    def __init__(self, preflight: Preflight | None, message: str = "") -> None:
        super().__init__(message or "; ".join(v.message for v in preflight.blocking))
        self.preflight = preflight
        self.message = message or str(self)


def _jd_reach(request: ReachRequest) -> jd.Reach:
    common = {
        "template_id": request.template_id,
        "template_params": request.template_params,
        "send_time": request.send_time.astimezone(timezone.get_current_timezone())
        if request.send_time
        else None,
    }
    if request.reach_type == ReachType.SMS_PUBLIC:
        return jd.SmsPublicReach(**common)
    if request.reach_type == ReachType.SMS_PRIVATE:
        return jd.SmsPrivateReach(**common, signature_id=request.signature_id)
    if request.reach_type == ReachType.COUPON_PUBLIC:
        return jd.CouponPublicReach(**common, batch_id=request.batch_id)
    return jd.CouponPrivateReach(
        **common, signature_id=request.signature_id, batch_id=request.batch_id
    )


def reach_send(*, brand: Brand, instance: CrowdInstance, request: ReachRequest, user=None) -> Reach:
    """Pre-flight, then record the reach, then ask JD. A refusal by JD is kept on the row
    with its code and message; nothing is retried blindly (JD may have sent it)."""
    try:
        ensure_jd_available()
    except JDUnavailable as exc:
        raise ReachRefused(None, exc.reason) from exc
    preflight = reach_preflight(brand=brand, instance=instance, request=request)
    if not preflight.ok:
        raise ReachRefused(preflight)
    reach = Reach.objects.create(
        brand=brand,
        instance=instance,
        reach_type=request.reach_type,
        template_id=request.template_id,
        template_params=request.template_params,
        text=preflight.text,
        signature_id=request.signature_id,
        template_name=preflight.template_name,
        signature_name=preflight.signature,
        batch_id=request.batch_id,
        send_time=request.send_time,
        segments=preflight.segments,
        cost=preflight.cost,
        created_by=user,
    )
    client = jdcloud_client(brand_id=brand.pk)
    try:
        client.crowd_instance_reach(package_id=instance.package_id, reach=_jd_reach(request))
    except JDCloudError as exc:
        # A reach is never re-sent by us. When its answer was lost (timeout, 5xx) or JD says
        # the package was already reached (a retry of a reach whose answer was lost), JD's
        # send results tell whether it went out: then it is recorded as sent, not failed.
        already = isinstance(exc, JDCloudRejected) and ALREADY_REACHED in (exc.msg or "")
        if (isinstance(exc, JDCloudTransportError) or already) and _was_reached(client, instance):
            reach.jd_msg = str(
                _("JD Cloud's answer was lost; its send results show the package was reached.")
            )
            return _sent(reach, extra=["jd_msg"])
        reach.status = Reach.Status.FAILED
        reach.jd_code = str(getattr(exc, "code", "") or getattr(exc, "http_status", "") or "")
        reach.jd_msg = getattr(exc, "msg", "") or str(exc)
        reach.save(update_fields=["status", "jd_code", "jd_msg"])
        writeback_for_reach(reach=reach)
        return reach
    reach.jd_code = "0"
    return _sent(reach, extra=["jd_code"])


# JD's refusal of a second reach of one package (spec: 一个人群包只能触达一次).
ALREADY_REACHED = "已触达"


def _was_reached(client, instance: CrowdInstance) -> bool:
    """Whether JD holds send results for the package (it answers 未触达 otherwise)."""
    try:
        client.sms_result(package_id=instance.package_id)
    except JDCloudError:
        return False
    return True


def _sent(reach: Reach, *, extra: list[str]) -> Reach:
    reach.status = Reach.Status.SENT
    reach.sent_at = timezone.now()
    reach.save(update_fields=["status", "sent_at", *extra])
    writeback_for_reach(reach=reach)
    return reach
