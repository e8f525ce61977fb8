"""A brand's Linkflow CDP connection (PRODUCT.md §5): its App Key / App Secret, a client
for its workspace, and the "test connection" check.

The secret is stored encrypted (`Brand.linkflow_app_secret`) and never shown again: forms
and the API take it write-only, and an empty value keeps the stored one.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from brands.models import Brand
from portal.integrations.linkflow.client import LinkflowClient
from portal.integrations.linkflow.errors import LinkflowError, LinkflowRejected
from portal.integrations.linkflow.factory import linkflow_client


class LinkflowNotConnected(Exception):
    """The brand has not connected a Linkflow workspace."""

    def __init__(self) -> None:
        super().__init__(
            _("Linkflow is not connected: add the App Key and App Secret in Settings.")
        )


def linkflow_for(brand: Brand) -> LinkflowClient:
    """The client for `brand`'s own Linkflow workspace."""
    if not brand.linkflow_connected:
        raise LinkflowNotConnected()
    return linkflow_client(
        app_key=brand.linkflow_app_key,
        app_secret=brand.linkflow_app_secret,
        brand_id=brand.pk,
    )


def linkflow_connect(
    *,
    brand: Brand,
    app_key: str,
    app_secret: str = "",
    channel_key: str | None = None,
    wechat_app_id: str | None = None,
) -> Brand:
    """Store the brand's Linkflow credentials; an empty `app_secret` keeps the stored one.

    Changing either value forgets the last check's result (it was about other credentials).
    A token cached for the App Key stays valid: Linkflow issues it to the app, not to a
    secret, and the check asks for a new one anyway."""
    app_key = app_key.strip()
    app_secret = app_secret.strip()
    changed = app_key != brand.linkflow_app_key or bool(app_secret)
    brand.linkflow_app_key = app_key
    if app_secret:
        brand.linkflow_app_secret = app_secret
    fields = ["linkflow_app_key", "linkflow_app_secret", "updated_at"]
    if channel_key is not None:
        brand.linkflow_channel_key = channel_key.strip()
        fields.append("linkflow_channel_key")
    if wechat_app_id is not None:
        brand.wechat_app_id = wechat_app_id.strip()
        fields.append("wechat_app_id")
    if changed:
        brand.linkflow_checked_at = None
        brand.linkflow_check_error = ""
        fields += ["linkflow_checked_at", "linkflow_check_error"]
    brand.save(update_fields=fields)
    return brand


def linkflow_disconnect(*, brand: Brand) -> Brand:
    brand.linkflow_app_key = ""
    brand.linkflow_app_secret = None
    brand.linkflow_checked_at = None
    brand.linkflow_check_error = ""
    brand.save(
        update_fields=[
            "linkflow_app_key",
            "linkflow_app_secret",
            "linkflow_checked_at",
            "linkflow_check_error",
            "updated_at",
        ]
    )
    return brand


def linkflow_check(*, brand: Brand) -> str:
    """Ask Linkflow for a new token with the stored credentials; "" when it worked, else
    the reason. The outcome is kept on the brand (shown in Settings and the API)."""
    try:
        client = linkflow_for(brand)
        client.token()
        error = ""
    except LinkflowNotConnected as exc:
        error = str(exc)
    except LinkflowRejected as exc:
        error = _("Linkflow refused the App Key / App Secret (%(code)s: %(message)s)") % {
            "code": exc.code,
            "message": exc.message,
        }
    except LinkflowError as exc:
        error = _("Linkflow cannot be reached: %(error)s") % {"error": exc}
    brand.linkflow_checked_at = timezone.now()
    brand.linkflow_check_error = error[:500]
    brand.save(update_fields=["linkflow_checked_at", "linkflow_check_error", "updated_at"])
    return error
