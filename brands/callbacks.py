"""The brand ISV endpoints JD Cloud calls (spec: 品牌商相关, 免登跳转活动详情)."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponseRedirect
from django.middleware.csrf import rotate_token
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import serializers

from brands import services
from brands.middleware import PREVIEW_SESSION_KEY
from brands.models import Brand
from portal.callbacks import (
    CODE_BAD_REQUEST,
    CODE_NOT_FOUND,
    CallbackError,
    isv_callback,
    read_params,
    verify_token,
)
from portal.calllog import record_call


class JDStringField(serializers.CharField):
    """A spec `String`: JD sometimes sends numbers there (its own examples do); objects,
    arrays and booleans are refused."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, str | int):
            self.fail("invalid")
        return super().to_internal_value(data)


class JDIntegerField(serializers.IntegerField):
    """A spec `int`/`long`: an integer or a string of digits, nothing else (no 1.5, no true)."""

    def to_internal_value(self, data):
        if isinstance(data, (bool, float)):
            self.fail("invalid")
        if isinstance(data, str) and not data.strip().lstrip("-").isdigit():
            self.fail("invalid")
        return super().to_internal_value(data)


class MasterSyncInput(serializers.Serializer):
    master_id = JDStringField(max_length=64)
    master_name = JDStringField(max_length=255)
    master_desc = JDStringField(allow_blank=True)
    shop_id = JDStringField(max_length=64)
    shop_type = serializers.ChoiceField(choices=["1", "2"])
    user_type = serializers.ChoiceField(choices=["1"])
    expire_time = JDIntegerField(min_value=0, max_value=253402300799)
    status = serializers.ChoiceField(choices=[0, 1])
    token = JDStringField()

    def to_internal_value(self, data):
        # Choice fields compare as given: "1" and 1 mean the same to JD.
        data = dict(data)
        for name in ("shop_type", "user_type"):
            if isinstance(data.get(name), int) and not isinstance(data.get(name), bool):
                data[name] = str(data[name])
        if isinstance(data.get("status"), str) and data["status"].strip() in ("0", "1"):
            data["status"] = int(data["status"])
        return super().to_internal_value(data)


class MasterEditInput(MasterSyncInput):
    master_name = None
    master_desc = None
    shop_id = None
    shop_type = None
    user_type = None


@isv_callback("/JDCloud/master/sync", serializer=MasterSyncInput)
def master_sync(request: HttpRequest, data: dict[str, Any]) -> dict:
    request.callback_brand_id = services.brand_sync(
        master_id=data["master_id"],
        name=data["master_name"],
        description=data["master_desc"],
        shop_id=data["shop_id"],
        shop_type=data["shop_type"],
        user_type=data["user_type"],
        expire_time=data["expire_time"],
        status=data["status"],
    )
    return {"status": "1"}


@isv_callback("/JDCloud/master/edit", serializer=MasterEditInput)
def master_edit(request: HttpRequest, data: dict[str, Any]) -> dict:
    brand = services.brand_edit(
        master_id=data["master_id"], expire_time=data["expire_time"], status=data["status"]
    )
    if brand is None:
        raise CallbackError(
            CODE_NOT_FOUND, f"master_id: 品牌商 {data['master_id']} 不存在", {"status": "0"}
        )
    request.callback_brand_id = brand.pk
    return {"status": "1"}


def _preview_url_allowed(request: HttpRequest, url: str) -> bool:
    """Our own absolute path, or a URL on our host or a PREVIEW_ALLOWED_HOSTS host."""
    allowed = {request.get_host(), *settings.PREVIEW_ALLOWED_HOSTS}
    if not url_has_allowed_host_and_scheme(
        url, allowed_hosts=allowed, require_https=request.is_secure()
    ):
        return False
    parts = urlsplit(url)
    return bool(parts.scheme and parts.netloc) or url.startswith("/")


def _refuse(request: HttpRequest, reason: str, status: int = 403):
    return render(request, "brands/preview_refused.html", {"reason": reason}, status=status)


@csrf_exempt
def free_login(request: HttpRequest):
    """`GET /JDCloud/master/verify?master_id&preview_url&token` (免登跳转活动详情): JD's
    reviewers land here. A valid token opens a read-only preview session of that brand
    for a bounded time and redirects to `preview_url`, if it stays on allowed hosts."""
    started = time.monotonic()
    brand = None
    params = None
    outcome = "success"
    try:
        if request.method != "GET":
            raise CallbackError("405", _("Only GET is supported here."))
        params = read_params(request)
        verify_token(params)
        master_id = str(params.get("master_id") or "")
        preview_url = str(params.get("preview_url") or "")
        if not master_id or not preview_url:
            raise CallbackError(CODE_BAD_REQUEST, _("master_id and preview_url are required."))
        brand = Brand.objects.filter(master_id=master_id).first()
        if brand is None:
            raise CallbackError(CODE_NOT_FOUND, _("This brand is not known to the portal."))
        if not brand.is_usable:
            raise CallbackError("403", _("This brand is frozen or expired."))
        if not _preview_url_allowed(request, preview_url):
            raise CallbackError("403", _("The preview address leads outside the portal."))
    except CallbackError as exc:
        outcome = exc.msg
        response = _refuse(request, exc.msg)
    else:
        # A fresh session and CSRF token, as any login gets: whoever was logged in here
        # is not who follows this link, and a planted session key or token must not survive.
        logout(request)
        request.session.cycle_key()
        rotate_token(request)
        request.session[PREVIEW_SESSION_KEY] = {
            "brand_id": brand.pk,
            "expires_at": time.time() + settings.PREVIEW_SESSION_SECONDS,
        }
        request.session.set_expiry(settings.PREVIEW_SESSION_SECONDS)
        response = HttpResponseRedirect(preview_url)
    record_call(
        direction="in",
        system="jdcloud",
        method=request.method or "?",
        endpoint="/JDCloud/master/verify",
        brand_id=brand.pk if brand else None,
        http_status=response.status_code,
        remote_code="0" if outcome == "success" else "403",
        ok=outcome == "success",
        duration_ms=int((time.monotonic() - started) * 1000),
        error="" if outcome == "success" else str(outcome),
        request_body=params,  # None when the query could not be read (too many fields)
    )
    return response
