"""JD Cloud's notices and system status (spec: 公告、系统状态).

`/system/status` is checked periodically; while JD is down or upgrading, actions that need
it are refused with the reason (`ensure_jd_available`) instead of being queued.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import Notice, SystemState
from portal.integrations.jdcloud.errors import JDCloudError
from portal.integrations.jdcloud.factory import jdcloud_client
from portal.integrations.jdcloud.types import DATETIME_FORMAT


class JDUnavailable(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return timezone.make_aware(datetime.strptime(text.strip(), DATETIME_FORMAT))
    except ValueError:
        return None


def notices_refresh() -> int:
    """Store `/notice/list`; notices JD no longer lists are removed."""
    notices = jdcloud_client().notice_list()
    with transaction.atomic():
        for notice in notices:
            Notice.objects.update_or_create(
                notice_code=notice.notice_code,
                defaults={
                    "title": notice.title,
                    "content": notice.content,
                    "notice_type": notice.notice_type,
                    "notice_status": notice.notice_status,
                    "start_time": _when(notice.start_time),
                    "end_time": _when(notice.end_time),
                    "expire_time": _when(notice.expire_time),
                },
            )
        Notice.objects.exclude(notice_code__in=[n.notice_code for n in notices]).delete()
    return len(notices)


def notices_current(*, now: datetime | None = None) -> QuerySet[Notice]:
    """Notices to show as a banner: valid (status 1), not expired, not over."""
    now = now or timezone.now()
    return Notice.objects.filter(notice_status="1").filter(
        Q(expire_time__isnull=True) | Q(expire_time__gt=now),
        Q(end_time__isnull=True) | Q(end_time__gt=now),
    )


def system_state() -> SystemState:
    state, _created = SystemState.objects.get_or_create(pk=1)
    return state


def system_status_check() -> SystemState:
    """Ask `/system/status`. The spec: no answer means the system is being upgraded."""
    state = system_state()
    try:
        status = jdcloud_client().system_status()
        up, reason = status.is_up, "" if status.is_up else f"status {status.status}"
    except JDCloudError as exc:
        up, reason = False, getattr(exc, "msg", "") or str(exc)
    if not up:
        upgrade = notices_current().filter(notice_type="SYS_UPGRADE").first()
        if upgrade is not None:
            reason = upgrade.title
    state.up, state.reason, state.checked_at = up, reason[:300], timezone.now()
    state.save()
    return state


def ensure_jd_available() -> None:
    state = SystemState.objects.filter(pk=1).first()
    if state is not None and not state.up:
        reason = state.reason or _("系统升级中")
        raise JDUnavailable(_("京东云暂不可用(%(reason)s),请稍后再试。") % {"reason": reason})
