"""Activities under JD's review (spec: 活动相关, 免登跳转活动详情).

The local row comes first (`activity_create`), JD is asked to review it
(`activity_submit` → `/activity/create`), and JD's answer arrives on
`POST /JDCloud/activity/update` (`activity_record_review`).

What JD reviewed is pinned by a hash of the reviewed content. Editing an activity after
its approval voids the approval and requires re-submission (PRODUCT.md §3): an edit that
changes the hash sends a pending, approved or rejected activity back to draft, and a
review that arrives for content edited since its submission does not apply.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Sequence

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from brands.models import Brand
from campaigns.models import Activity, Reach
from crowds.conditions import Violation
from portal.integrations.jdcloud import types as jd
from portal.integrations.jdcloud.errors import JDCloudError, JDCloudTransportError
from portal.integrations.jdcloud.factory import jdcloud_client

logger = logging.getLogger(__name__)

# The portal's preview page of an activity: JD's reviewers open it through the free-login
# link (spec: 免登跳转活动详情), `preview_url` being "免登后,真正的活动预览地址".
PREVIEW_PATH = "/campaigns/activities/{pk}/preview/"

NAME_MAX = 100  # JD Cloud refuses longer `activity_name`s
REMARK_MAX = 500
APPROVED, REJECTED = "1", "2"  # spec: approve_status 1=通过 2=驳回

# Fields whose edit changes what JD reviewed (and so voids the review).
EDITABLE = ("name", "description", "start_type", "start_type_remark", "reach_type", "reach")
REVIEWED_STATES = (Activity.Review.PENDING, Activity.Review.APPROVED, Activity.Review.REJECTED)


class ActivityInputError(Exception):
    """Bad input: each violation names its field (spec names: `activity_name`...)."""

    def __init__(self, violations: Sequence[Violation]) -> None:
        super().__init__("; ".join(f"{v.path}: {v.message}" for v in violations))
        self.violations = list(violations)


class ActivityConflict(Exception):
    """The activity's state does not allow this (already approved, awaiting review...)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ActivityRemoteError(Exception):
    """JD Cloud cannot take the request now (down or upgrading); nothing was recorded."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable


def preview_url(activity: Activity) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + PREVIEW_PATH.format(pk=activity.pk)


def content_hash(activity: Activity) -> str:
    """sha256 of the canonical JSON of what JD reviews: the `/activity/create` fields and
    the reach the preview page shows."""
    content = {
        "activity_name": activity.name,
        "activity_desc": activity.description,
        "start_type": activity.start_type,
        "start_type_remark": activity.start_type_remark,
        "activity_reach_type": activity.reach_type,
        "reach": activity.reach_id,
    }
    canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _check(activity: Activity) -> None:
    errors = []
    name = activity.name.strip()
    if not name:
        errors.append(Violation("activity_name", _("活动名称不能为空")))
    elif len(name) > NAME_MAX:
        errors.append(
            Violation("activity_name", _("活动名称不能超过 %(max)s 个字符") % {"max": NAME_MAX})
        )
    if activity.start_type not in Activity.StartType.values:
        errors.append(Violation("start_type", _("启动方式必须是 1(单次执行)或 2(周期性执行)")))
    remark = activity.start_type_remark.strip()
    if activity.start_type == Activity.StartType.PERIODIC and not remark:
        errors.append(
            Violation(
                "start_type_remark",
                _(
                    "周期性执行时必须填写启动方式备注,例如:周期:每1周执行一次;"
                    "开始时间:2019-04-22 20:20:00;结束:执行5次结束。"
                ),
            )
        )
    if activity.start_type == Activity.StartType.SINGLE and remark:
        errors.append(Violation("start_type_remark", _("单次执行的活动不填写启动方式备注")))
    if len(remark) > REMARK_MAX:
        errors.append(
            Violation(
                "start_type_remark",
                _("启动方式备注不能超过 %(max)s 个字符") % {"max": REMARK_MAX},
            )
        )
    if activity.reach_type not in Activity.ReachType.values:
        errors.append(Violation("activity_reach_type", _("触达方式必须是 SMS 或 OTHER")))
    if activity.reach is not None:
        if activity.reach.brand_id != activity.brand_id:
            errors.append(Violation("reach", _("触达记录不存在")))
        elif activity.reach_type != Activity.ReachType.SMS:
            # Spec: SMS = 短信(包括人群触达方式中的短信和优惠券): every reach is "SMS".
            errors.append(
                Violation("activity_reach_type", _("关联了短信/优惠券触达时,触达方式必须是 SMS"))
            )
    if errors:
        raise ActivityInputError(errors)
    activity.name = name
    activity.start_type_remark = remark


def activity_create(
    *,
    brand: Brand,
    name: str,
    description: str = "",
    start_type: str,
    start_type_remark: str = "",
    reach_type: str,
    reach: Reach | None = None,
) -> Activity:
    """A draft activity with a fresh `activity_id`; nothing is sent to JD yet."""
    activity = Activity(
        brand=brand,
        activity_id=uuid.uuid4().hex,
        name=name or "",
        description=description or "",
        start_type=str(start_type),
        start_type_remark=start_type_remark or "",
        reach_type=str(reach_type),
        reach=reach,
        review=Activity.Review.DRAFT,
    )
    _check(activity)
    activity.content_hash = content_hash(activity)
    activity.save()
    return activity


def activity_update(*, activity: Activity, **fields) -> Activity:
    """Change the content (`name`, `description`, `start_type`, `start_type_remark`,
    `reach_type`, `reach`). A change of the reviewed content voids a pending, approved or
    rejected review: the activity is a draft again and must be re-submitted."""
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise TypeError(f"activity_update() got unexpected fields {sorted(unknown)}")
    with transaction.atomic():
        current = Activity.objects.select_for_update().get(pk=activity.pk)
        for name, value in fields.items():
            if name in ("description", "start_type_remark"):
                value = value or ""
            elif name in ("start_type", "reach_type"):
                value = str(value)
            setattr(current, name, value)
        _check(current)
        new_hash = content_hash(current)
        if new_hash != current.content_hash and current.review in REVIEWED_STATES:
            current.review = Activity.Review.DRAFT
        current.content_hash = new_hash
        current.save()
    return current


def _jd_message(exc: JDCloudError) -> str:
    if isinstance(exc, JDCloudTransportError):
        if exc.http_status:
            return _("京东云暂时无法访问(HTTP %(status)s),请稍后重试") % {"status": exc.http_status}
        return _("京东云暂时无法访问,请稍后重试")
    return getattr(exc, "msg", "") or str(exc)


def _ensure_jd_available() -> None:
    # Imported here: `campaigns.services.system` is maintained alongside this module.
    from campaigns.services.system import JDUnavailable, ensure_jd_available

    try:
        ensure_jd_available()
    except JDUnavailable as exc:
        raise ActivityRemoteError(exc.reason) from exc


def activity_submit(*, activity: Activity) -> Activity:
    """`/activity/create`. Success: awaiting review, with the hash of what was sent.
    Failure: `submit_failed` with JD's message; submitting again retries."""
    if activity.review == Activity.Review.PENDING:
        raise ActivityConflict(_("活动已提交,正在等待京东审核"))
    if activity.review == Activity.Review.APPROVED:
        raise ActivityConflict(_("活动已审核通过,修改内容后才需要重新提交"))
    _ensure_jd_available()
    sent_hash = activity.content_hash
    try:
        jdcloud_client(brand_id=activity.brand_id).activity_create(
            master_id=activity.brand.master_id,
            activity_id=activity.activity_id,
            activity_name=activity.name,
            activity_desc=activity.description or None,
            preview_url=preview_url(activity),
            start_type=jd.StartType(activity.start_type),
            start_type_remark=activity.start_type_remark or None,
            activity_reach_type=jd.ActivityReachType(activity.reach_type),
        )
    except JDCloudError as exc:
        Activity.objects.filter(pk=activity.pk).update(
            review=Activity.Review.SUBMIT_FAILED,
            submit_error=_jd_message(exc),
            updated_at=timezone.now(),
        )
        activity.refresh_from_db()
        return activity
    now = timezone.now()
    submitted = {"submitted_hash": sent_hash, "submitted_at": now, "submit_error": ""}
    # An edit that landed while JD was answering keeps the activity a draft: JD reviews
    # the content that was sent, which is no longer the activity's.
    if not Activity.objects.filter(pk=activity.pk, content_hash=sent_hash).update(
        **submitted, review=Activity.Review.PENDING, updated_at=now
    ):
        Activity.objects.filter(pk=activity.pk).update(**submitted, updated_at=now)
    activity.refresh_from_db()
    return activity


def activity_review_applies(activity: Activity) -> bool:
    """Whether a review JD sends now is about the activity's current content: it was
    submitted, and not edited since."""
    return (
        activity.review != Activity.Review.DRAFT
        and bool(activity.submitted_hash)
        and activity.submitted_hash == activity.content_hash
    )


def activity_record_review(
    *, brand: Brand, activity_id: str, approve_status: str, audit_remark: str, auditor: str
) -> Activity:
    """JD's review (`/JDCloud/activity/update`). Idempotent: the same review again changes
    nothing. A review of content edited since its submission does not apply: the activity
    stays as it is (a draft) and the caller says so. Raises `Activity.DoesNotExist`."""
    approve_status = str(approve_status)
    if approve_status not in (APPROVED, REJECTED):
        raise ActivityInputError([Violation("approve_status", "取值必须是 1(通过)或 2(驳回)")])
    review = Activity.Review.APPROVED if approve_status == APPROVED else Activity.Review.REJECTED
    audit_remark, auditor = audit_remark or "", auditor or ""
    with transaction.atomic():
        activity = Activity.objects.select_for_update().get(
            brand=brand, activity_id=str(activity_id)
        )
        if not activity_review_applies(activity):
            logger.info(
                "review %s of activity %s ignored: edited since its submission",
                approve_status,
                activity.activity_id,
            )
            return activity
        if (activity.review, activity.audit_remark, activity.auditor) == (
            review,
            audit_remark,
            auditor,
        ):
            return activity  # JD repeated its callback
        activity.review = review
        activity.audit_remark = audit_remark
        activity.auditor = auditor
        activity.reviewed_at = timezone.now()
        activity.save(
            update_fields=["review", "audit_remark", "auditor", "reviewed_at", "updated_at"]
        )
    return activity
