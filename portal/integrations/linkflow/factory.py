"""The Django side of the Linkflow client: settings in, call log out."""

from __future__ import annotations

from django.conf import settings

from portal.calllog import record_call
from portal.integrations.http import shared_client
from portal.integrations.linkflow.client import LinkflowClient
from portal.integrations.masking import MASK

# Linkflow answers with people (names, phones, openIds). The call log keeps what an
# administrator needs to see — which call, which status, how many items — not the people.
PERSONAL_KEYS = frozenset(
    {
        "name", "nickname", "mobilephone", "homephone", "phone", "email", "idcard", "openid",
        "openids", "unionid", "street", "address", "dateofbirthday", "avatar", "profilephoto",
        "identities", "id_value", "idvalue", "ids", "data", "props", "messages", "contact",
    }
)  # fmt: skip


def without_people(body):
    """`body` for the call log: lists become their length, personal fields are masked."""
    if isinstance(body, list):
        return {"items": len(body)}
    if isinstance(body, dict):
        return {
            key: value
            if key == "file"  # an upload's {name, size}, as the client records it
            else MASK
            if str(key).lower() in PERSONAL_KEYS
            else without_people(value)
            for key, value in body.items()
        }
    return body


def record_to_call_log(**call) -> None:
    call["request_body"] = without_people(call.get("request_body"))
    call["response_body"] = without_people(call.get("response_body"))
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
            connect_timeout=settings.LINKFLOW_CONNECT_TIMEOUT_SECONDS,
        ),
        app_key=app_key,
        app_secret=app_secret,
        recorder=record_to_call_log,
        brand_id=brand_id,
    )
