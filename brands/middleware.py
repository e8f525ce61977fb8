"""The brand of the request, and the data scope that goes with it (STYLE.md §5).

The brand comes from the session only: a brand user's own brand, or the brand of a
free-login preview session. Every request runs inside `django_scopes.scope(brand=...)`,
so a query of a brand-owned model outside it raises instead of leaking rows. The admin
opts out explicitly (staff see every brand).
"""

from __future__ import annotations

import time

from django.shortcuts import render
from django.utils.translation import gettext as _
from django_scopes import scope, scopes_disabled

from brands.models import Brand, BrandUser

PREVIEW_SESSION_KEY = "preview_brand"
# Preview sessions may still change the language or leave.
_PREVIEW_WRITABLE = ("/i18n/setlang/", "/accounts/logout/")


class BrandContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.brand, request.brand_access = self._resolve(request)
        if request.path.startswith("/admin/"):
            with scopes_disabled():
                return self.get_response(request)
        if (
            request.brand_access == "preview"
            and request.method not in ("GET", "HEAD", "OPTIONS")
            and not request.path.startswith(_PREVIEW_WRITABLE)
        ):
            reason = _("This is a read-only preview session: nothing can be changed.")
            return render(request, "workspace/unavailable.html", {"reason": reason}, status=403)
        with scope(brand=request.brand):
            return self.get_response(request)

    @staticmethod
    def _resolve(request) -> tuple[Brand | None, str | None]:
        user = request.user
        if user.is_authenticated:
            # One query for the link and its brand (every page pays for this one).
            with scopes_disabled():
                brand_user = (
                    BrandUser.objects.select_related("brand").filter(user_id=user.pk).first()
                )
            if brand_user is not None:
                return brand_user.brand, "member"
            return None, None
        preview = request.session.get(PREVIEW_SESSION_KEY)
        if isinstance(preview, dict):
            if preview.get("expires_at", 0) > time.time():
                brand = Brand.objects.filter(pk=preview.get("brand_id")).first()
                if brand is not None:
                    return brand, "preview"
            request.session.pop(PREVIEW_SESSION_KEY, None)
        return None, None
