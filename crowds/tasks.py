"""Celery tasks of the crowds app: small, idempotent, keyed by primary keys."""

from __future__ import annotations

from celery import shared_task
from django_scopes import scopes_disabled

from brands.tenancy import brand_task
from crowds import services
from crowds.models import InstanceStatus


@shared_task(name="crowds.poll_instance")
@brand_task
def poll_instance(*, instance_id: int, brand_id: int, first_look: bool = False) -> str:
    """Poll one instance; re-schedule itself while it is generating (a poll is one short
    task re-scheduled, never a sleeping loop). The chain's first task (`first_look`)
    books the first look: JD needs a while. Only a call that booked sends the next poll:
    a duplicate turned away as early must not start a second chain."""
    instance = services.instance_poll(
        instance_id=instance_id, jitter=services.poll_jitter(), first_look=first_look
    )
    if (
        instance.polled
        and instance.status == InstanceStatus.GENERATING
        and not instance.stuck
        and instance.next_poll_at
    ):
        poll_instance.apply_async(
            kwargs={"instance_id": instance_id, "brand_id": brand_id}, eta=instance.next_poll_at
        )
    return instance.status


@shared_task(name="crowds.resume_overdue_polls")
def resume_overdue_polls() -> int:
    """Periodic: restart poll chains that were lost (worker killed, message dropped); those
    whose worker died every time, more often than CELERY_MAX_REDELIVERIES, are flagged
    stuck with the reason instead. Returns how many were sent again."""
    services.instances_give_up_dying_polls()
    due = services.instances_due_for_poll()
    for instance_id, brand_id in due:
        poll_instance.delay(instance_id=instance_id, brand_id=brand_id)
    return len(due)


@shared_task(name="crowds.refresh_tag_catalog")
def refresh_tag_catalog() -> dict:
    with scopes_disabled():
        return services.tag_catalog_refresh()
