"""The Django side of the Linkflow client: settings in, call log out."""

from __future__ import annotations

from django.conf import settings

from portal.calllog import record_call
from portal.integrations.http import shared_client
from portal.integrations.linkflow.client import LinkflowClient


def record_to_call_log(**call) -> None:
    record_call(direction="out", system="linkflow", **call)


def linkflow_client(
    *, app_key: str, app_secret: str, brand_id: int | None = None
) -> LinkflowClient:
    """A client for one brand's Linkflow workspace (its App Key / App Secret)."""
    return LinkflowClient(
        http=shared_client(
            "linkflow",
            base_url=settings.LINKFLOW_API_BASE_URL,
            timeout=settings.LINKFLOW_TIMEOUT_SECONDS,
            connect_timeout=settings.JDCLOUD_CONNECT_TIMEOUT_SECONDS,
        ),
        app_key=app_key,
        app_secret=app_secret,
        recorder=record_to_call_log,
        brand_id=brand_id,
    )
