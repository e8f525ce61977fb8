"""Celery tasks of WeChat openId packages: the build, one slice at a time, and the sweeper
that resumes builds whose task was lost."""

from __future__ import annotations

import logging
import random

from celery import shared_task
from django.utils.translation import gettext as _

from brands.linkflow import LinkflowNotConnected
from brands.tenancy import brand_task
from crowds import openid
from crowds.linkflow_models import OpenIdPackage
from portal.integrations.linkflow.errors import LinkflowError, LinkflowTransportError

logger = logging.getLogger(__name__)
_jitter = random.SystemRandom()

# Linkflow unreachable: tried again this many times, backing off, before the build fails.
TRANSPORT_RETRIES = 5
RETRY_BACKOFF_INITIAL_SECONDS = 5.0
RETRY_BACKOFF_MAX_SECONDS = 120.0


def retry_countdown(retries: int) -> float:
    base = RETRY_BACKOFF_INITIAL_SECONDS * 2**retries
    return min(base, RETRY_BACKOFF_MAX_SECONDS) * _jitter.uniform(0.8, 1.2)


@shared_task(bind=True, name="crowds.build_openid_package", max_retries=TRANSPORT_RETRIES)
@brand_task
def build_openid_package(self, *, package_id: int, brand_id: int) -> str:
    """One slice of a build; enqueues the next while the walk goes on. An outage is
    retried with backoff (the build resumes where it stopped); a refusal, a lost
    connection or an unexpected answer fails the package with the reason."""
    attempt = OpenIdPackage.objects.values_list("attempt", flat=True).get(pk=package_id)
    try:
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


@shared_task(name="crowds.resume_stalled_openid_builds")
def resume_stalled_openid_builds() -> int:
    """Periodic: resume builds whose task was lost (worker killed, message dropped)."""
    stalled = openid.openid_packages_stalled()
    for package_id, brand_id in stalled:
        build_openid_package.delay(package_id=package_id, brand_id=brand_id)
    return len(stalled)
