"""Writing the integration call log. Every client and callback goes through `record_call`."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from portal.integrations.masking import mask
from portal.models import IntegrationCall

logger = logging.getLogger(__name__)

_MAX_TEXT = 20_000


def _without_nul(value: Any) -> Any:
    """`value` with every NUL character replaced by U+FFFD: PostgreSQL stores no NUL in
    text nor its escape in jsonb, and a forged body full of them must still be logged."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_without_nul(key): _without_nul(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_without_nul(item) for item in value]
    return value


def _storable(body: Any) -> Any:
    """A JSON-storable, masked, bounded version of a request or response body."""
    if body is None:
        return None
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    if isinstance(body, str):
        return _without_nul(body[:_MAX_TEXT])
    return _without_nul(mask(body))


def record_call(
    *,
    direction: str,
    system: str,
    method: str,
    endpoint: str,
    brand_id: int | None = None,
    http_status: int | None = None,
    remote_code: str | int | None = None,
    ok: bool,
    duration_ms: int,
    attempt: int = 1,
    error: str = "",
    request_body: Any = None,
    response_body: Any = None,
) -> IntegrationCall | None:
    """Store one call. A failure to log never breaks the call being logged."""
    try:
        with transaction.atomic():  # a savepoint: a failed insert leaves the caller's work intact
            return IntegrationCall.objects.create(
                direction=direction,
                system=system,
                method=method.upper(),
                endpoint=_without_nul(endpoint[:255]),
                brand_id=brand_id,
                http_status=http_status,
                remote_code="" if remote_code is None else str(remote_code)[:32],
                ok=ok,
                duration_ms=max(0, int(duration_ms)),
                attempt=attempt,
                error=_without_nul(error[:_MAX_TEXT]),
                request_body=_storable(request_body),
                response_body=_storable(response_body),
            )
    except Exception:  # the log is a record, not a dependency of the call
        logger.exception("could not record %s %s call to %s", direction, system, endpoint)
        return None
