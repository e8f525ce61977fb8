"""Portal-wide Celery tasks: housekeeping and the worker round-trip check."""

from __future__ import annotations

import socket
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from portal.models import IntegrationCall


@shared_task(name="portal.tasks.prune_integration_calls")
def prune_integration_calls(days: int | None = None) -> int:
    """Delete call-log rows older than the retention period; returns how many went."""
    keep_days = settings.INTEGRATION_CALL_RETENTION_DAYS if days is None else days
    cutoff = timezone.now() - timedelta(days=keep_days)
    deleted, _ = IntegrationCall.objects.filter(created_at__lt=cutoff).delete()
    return deleted


@shared_task(name="portal.tasks.ping")
def ping(payload: str) -> dict:
    """Answer with the payload and the worker's host: proves a worker consumes the queue."""
    return {"payload": payload, "worker": socket.gethostname()}
