"""The Celery app `portal`: `celery -A portal worker`, `celery -A portal beat`.

Configuration lives in Django settings under the `CELERY_` prefix. Tasks are small and
idempotent (STYLE.md §6): they are acknowledged only after they ran (`acks_late`), a task
whose worker died is handed back to the broker (`task_reject_on_worker_lost`), and they
are enqueued after the surrounding transaction commits (`task.delay_on_commit(...)`,
from `DjangoTask`), so a worker never looks for a row that is not there yet.
"""

import os

from celery import Celery
from celery.schedules import crontab
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")


app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    # One message at a time per process: with acks_late, a prefetched message would
    # wait behind a slow one and be redelivered if the worker died.
    worker_prefetch_multiplier=1,
    task_track_started=True,
    result_expires=60 * 60 * 24,
    broker_connection_retry_on_startup=True,
    timezone="Asia/Shanghai",
    enable_utc=True,
)

app.conf.beat_schedule = {
    "prune-integration-call-log": {
        "task": "portal.tasks.prune_integration_calls",
        "schedule": crontab(hour=3, minute=30),
    },
    "refresh-tag-catalog": {
        "task": "crowds.refresh_tag_catalog",
        "schedule": crontab(minute=15),  # hourly: JD adds tags rarely, reading is cheap
    },
    "resume-overdue-instance-polls": {
        "task": "crowds.resume_overdue_polls",
        "schedule": 60.0,
    },
    "resume-overdue-wechat-polls": {
        "task": "campaigns.resume_overdue_wechat_polls",
        "schedule": 60.0,
    },
    "resume-overdue-linkflow-report-polls": {
        "task": "reports.cdp.resume_overdue_report_polls",
        "schedule": 60.0,
    },
    "resume-stalled-openid-builds": {
        "task": "crowds.resume_stalled_openid_builds",
        "schedule": 120.0,
    },
    "resume-stalled-writebacks": {"task": "campaigns.resume_stalled_writebacks", "schedule": 120.0},
    "refresh-jd-notices": {"task": "campaigns.refresh_notices", "schedule": 300.0},
    # Spec 获取系统状态: no answer means JD is upgrading; actions are refused meanwhile.
    "check-jd-system-status": {"task": "campaigns.check_system_status", "schedule": 60.0},
    # Spec 获取人群营销报表: the previous day can be synced from 12:00.
    "pull-yesterdays-reports": {
        "task": "reports.pull_yesterday",
        "schedule": crontab(hour=12, minute=30),
    },
}

app.autodiscover_tasks()
# Task modules beside the apps' `tasks.py` (Linkflow features).
app.autodiscover_tasks(["reports.cdp"])
app.autodiscover_tasks(["crowds"], related_name="openid_tasks")
app.autodiscover_tasks(["campaigns"], related_name="writeback_tasks")


@worker_ready.connect
def warm_up(sender, **kwargs):
    """A fresh deployment should not wait for the first beat tick to know JD's tag catalog,
    notices and status: ask once when a worker starts (WARM_UP_ON_WORKER_START)."""
    from django.conf import settings

    if not settings.WARM_UP_ON_WORKER_START:
        return
    for name in (
        "crowds.refresh_tag_catalog",
        "campaigns.refresh_notices",
        "campaigns.check_system_status",
    ):
        sender.app.send_task(name, countdown=3)
