"""The Django side of the JD Cloud client: settings in, call log out."""

from __future__ import annotations

from django.conf import settings

from portal.calllog import record_call
from portal.integrations.http import shared_client
from portal.integrations.jdcloud.client import CallRecord, JDCloudClient, RetryPolicy
from portal.integrations.jdcloud.signing import Credentials


def record_to_call_log(record: CallRecord) -> None:
    record_call(
        direction="out",
        system="jdcloud",
        method=record.method,
        endpoint=record.endpoint,
        brand_id=record.brand_id,
        http_status=record.http_status,
        remote_code=record.remote_code,
        ok=record.ok,
        duration_ms=record.duration_ms,
        attempt=record.attempt,
        error=record.error,
        request_body=record.request_body,
        response_body=record.response_body,
    )


def jdcloud_client(*, brand_id: int | None = None) -> JDCloudClient:
    """The JD Cloud client configured from settings, logging against `brand_id`."""
    return JDCloudClient(
        http=shared_client(
            "jdcloud",
            base_url=settings.JDCLOUD_API_BASE_URL,
            timeout=settings.JDCLOUD_TIMEOUT_SECONDS,
            connect_timeout=settings.JDCLOUD_CONNECT_TIMEOUT_SECONDS,
        ),
        credentials=Credentials(settings.JDCLOUD_ACCESS_KEY, settings.JDCLOUD_SECRET_KEY),
        algorithm=settings.JDCLOUD_SIGNING_ALGORITHM,
        service=settings.JDCLOUD_SIGNING_SERVICE,
        region=settings.JDCLOUD_SIGNING_REGION,
        partner_id=settings.JDCLOUD_PARTNER_ID,
        recorder=record_to_call_log,
        retry=RetryPolicy(attempts=settings.JDCLOUD_READ_ATTEMPTS),
        brand_id=brand_id,
    )
