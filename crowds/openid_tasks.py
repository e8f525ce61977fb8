"""Celery tasks of WeChat openId packages: the build, one slice at a time, and the sweeper
that resumes builds whose task was lost."""

from __future__ import annotations

import logging
import random

from celery import shared_task
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from brands.linkflow import LinkflowNotConnected
from brands.tenancy import brand_task
from crowds import openid
from crowds.linkflow_models import OpenIdPackage
from portal import redelivery
from portal.integrations.linkflow.errors import LinkflowError, LinkflowTransportError

logger = logging.getLogger(__name__)
_jitter = random.SystemRandom()

# Linkflow unreachable: tried again this many times, backing off, before the build fails.
TRANSPORT_RETRIES = 5
RETRY_BACKOFF_INITIAL_SECONDS = 5.0
RETRY_BACKOFF_MAX_SECONDS = 120.0
# The package's count of slices whose worker died (portal/redelivery.py).
DELIVERIES = "build_deliveries"


def retry_countdown(retries: int) -> float:
    base = RETRY_BACKOFF_INITIAL_SECONDS * 2**retries
    return min(base, RETRY_BACKOFF_MAX_SECONDS) * _jitter.uniform(0.8, 1.2)


@shared_task(bind=True, name="crowds.build_openid_package", max_retries=TRANSPORT_RETRIES)
@brand_task
def build_openid_package(self, *, package_id: int, brand_id: int) -> str:
    """One slice of a build; enqueues the next while the walk goes on. An outage is
    retried with backoff (the build resumes where it stopped); a refusal, a lost
    connection or an unexpected answer fails the package with the reason; so does a slice
    that keeps killing its worker, rather than run again."""
    delivery = OpenIdPackage.objects.filter(pk=package_id)
    attempt = delivery.values_list("attempt", flat=True).get()
    if times := redelivery.spent_counts(delivery, field=DELIVERIES).get(package_id):
        return _give_up_dying_build(package_id, attempt, times).status
    try:
        with redelivery.counted_delivery(delivery, field=DELIVERIES):
            outcome = openid.openid_package_build(package_id=package_id)
    except LinkflowTransportError as exc:
        retries = self.request.retries
        if retries < TRANSPORT_RETRIES:
            raise self.retry(exc=exc, countdown=retry_countdown(retries)) from exc
        reason = _("Linkflow could not be reached after %(attempts)d attempts: %(error)s") % {
            "attempts": retries + 1,
            "error": exc,
        }
        return openid.openid_package_fail(
            package_id=package_id, attempt=attempt, reason=reason
        ).status
    except (LinkflowError, LinkflowNotConnected, openid.OpenIdPackageRefused) as exc:
        return openid.openid_package_fail(
            package_id=package_id, attempt=attempt, reason=openid.describe_failure(exc)
        ).status
    except Exception as exc:
        logger.exception("building openId package %s failed", package_id)
        return openid.openid_package_fail(
            package_id=package_id, attempt=attempt, reason=openid.describe_failure(exc)
        ).status
    if outcome.more:
        build_openid_package.delay(package_id=package_id, brand_id=brand_id)
    return outcome.package.status


def _give_up_dying_build(package_id: int, attempt: int, times: int) -> OpenIdPackage:
    """Fail the build with the reason; its count starts afresh for the user's "build again"."""
    reason = _(
        "A slice of this build was cut off %(times)d times in a row before it finished "
        "(its worker stopped), so the build was stopped; build it again to retry."
    ) % {"times": times}
    package = openid.openid_package_fail(package_id=package_id, attempt=attempt, reason=reason)
    redelivery.delivery_finished(OpenIdPackage.objects.filter(pk=package_id), field=DELIVERIES)
    return package


@shared_task(name="crowds.resume_stalled_openid_builds")
def resume_stalled_openid_builds() -> int:
    """Periodic: resume builds whose task was lost (worker killed, message dropped); those
    whose worker died every time, more often than CELERY_MAX_REDELIVERIES, fail with the
    reason instead. Returns how many were sent again."""
    stalled = openid.openid_packages_stalled()
    with scopes_disabled():
        spent = OpenIdPackage.objects.filter(
            redelivery.deliveries_spent(DELIVERIES), pk__in=[pk for pk, _brand in stalled]
        ).values_list("pk", "attempt", DELIVERIES)
        dying = {pk: (attempt, times) for pk, attempt, times in spent}
        for package_id, (attempt, times) in dying.items():
            _give_up_dying_build(package_id, attempt, times)
    resumed = [(pk, brand_id) for pk, brand_id in stalled if pk not in dying]
    for package_id, brand_id in resumed:
        build_openid_package.delay(package_id=package_id, brand_id=brand_id)
    return len(resumed)
