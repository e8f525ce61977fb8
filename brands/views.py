"""Brand pages: login through JD Cloud, the brand settings page."""

from __future__ import annotations

import logging

from authlib.common.errors import AuthlibBaseError
from django.conf import settings
from django.contrib.auth import login
from django.http import HttpRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from requests import RequestException

from brands import services
from brands.access import brand_required, unusable_reason
from brands.models import Brand, BrandUser
from brands.oauth import jdcloud_oauth_client
from portal.integrations.jdcloud.errors import JDCloudError
from portal.integrations.jdcloud.factory import jdcloud_client

logger = logging.getLogger(__name__)
NEXT_SESSION_KEY = "jdcloud_login_next"


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("home")


def _failed(request: HttpRequest, reason: str, status: int = 403):
    return render(request, "brands/login_failed.html", {"reason": reason}, status=status)


@never_cache
@require_GET
def login_page(request: HttpRequest):
    if request.user.is_authenticated and getattr(request, "brand", None):
        return redirect(_safe_next(request, request.GET.get("next")))
    return render(request, "registration/login.html", {"next": request.GET.get("next", "")})


@never_cache
@require_GET
def jdcloud_login(request: HttpRequest):
    """Start the joint login: remember where to go, send the browser to JD Cloud."""
    request.session[NEXT_SESSION_KEY] = _safe_next(request, request.GET.get("next"))
    redirect_uri = request.build_absolute_uri(reverse("jdcloud-callback"))
    return jdcloud_oauth_client().authorize_redirect(request, redirect_uri)


@never_cache
@require_GET
def jdcloud_callback(request: HttpRequest):
    """JD Cloud returns here: check state, exchange the code, read the pin, ask JD whether
    the pin is a brand (`/master/verify`) and log in to that brand."""
    if request.GET.get("error"):
        return _failed(
            request,
            _("JD Cloud did not authorise the login: %(error)s")
            % {"error": request.GET.get("error_description") or request.GET["error"]},
        )
    client = jdcloud_oauth_client()
    try:
        token = client.authorize_access_token(request)
        userinfo = client.userinfo(token=token)
    except AuthlibBaseError as exc:
        logger.info("JD Cloud login refused: %s", exc)
        return _failed(
            request,
            _("The login could not be verified (%(error)s). Please start again.")
            % {"error": getattr(exc, "error", None) or type(exc).__name__},
        )
    except RequestException:
        logger.warning("JD Cloud OAuth unreachable", exc_info=True)
        return _failed(request, _("JD Cloud cannot be reached right now. Please try again."), 503)

    pin = str(userinfo.get(settings.JDCLOUD_OAUTH_PIN_CLAIM) or "").strip()
    if not pin:
        return _failed(request, _("JD Cloud did not tell us your account name."))
    try:
        verdict = jdcloud_client().master_verify(master_pin=pin)
    except JDCloudError as exc:
        logger.warning("master/verify failed for %s: %s", pin, exc)
        return _failed(
            request, _("JD Cloud could not confirm your brand right now. Please try again."), 503
        )
    if not verdict.valid or not verdict.master_id:
        return _failed(
            request, _("The JD Cloud account %(pin)s is not a brand of this portal.") % {"pin": pin}
        )
    brand = Brand.objects.filter(master_id=verdict.master_id).first()
    if brand is None:
        return _failed(
            request,
            _(
                "Your brand has not been set up in the portal yet. JD Cloud sends it "
                "when the account is opened; please contact JD Cloud."
            ),
        )
    reason = unusable_reason(brand)
    if reason:
        return _failed(request, reason)

    user = services.brand_user_for_pin(brand=brand, pin=pin)
    next_url = request.session.pop(NEXT_SESSION_KEY, None)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")  # new session key
    return redirect(_safe_next(request, next_url))


@brand_required
def brand_settings(request: HttpRequest):
    users = BrandUser.objects.select_related("user").order_by("pin")
    return render(request, "brands/settings.html", {"brand_users": users})
