"""Daily report pulls: a fan-out after 12:00 (JD publishes the previous day from noon)."""

from __future__ import annotations

from datetime import date, timedelta

from celery import shared_task
from django.utils import timezone
from django_scopes import scopes_disabled

from brands.models import Brand
from brands.tenancy import brand_task
from portal.integrations.jdcloud.errors import RETRY_LATER
from reports import services


@shared_task(name="reports.pull_yesterday")
def pull_yesterday() -> int:
    """Periodic fan-out over every active brand (unscoped on purpose), one task each."""
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    with scopes_disabled():
        brands = [b.pk for b in Brand.objects.filter(status=Brand.Status.ACTIVE) if b.is_usable]
    for brand_id in brands:
        pull_brand_day.delay(brand_id=brand_id, report_date=yesterday)
    return len(brands)


@shared_task(
    name="reports.pull_brand_day",
    # Transport failures and JD's busy / system-error answers; a refusal is final.
    autoretry_for=RETRY_LATER,
    retry_backoff=30,
    retry_backoff_max=1800,
    retry_jitter=True,
    max_retries=6,
)
@brand_task
def pull_brand_day(*, brand_id: int, report_date: str) -> dict:
    brand = Brand.objects.get(pk=brand_id)
    return services.report_pull(brand=brand, report_date=date.fromisoformat(report_date))
