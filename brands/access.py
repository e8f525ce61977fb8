"""Who may enter the brand workspace, and as which brand.

`BrandContextMiddleware` sets `request.brand` from the session, never from a request
parameter (STYLE.md §5); these decorators turn "no usable brand" into a page that says why.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render
from django.utils.translation import gettext as _

from brands.models import Brand


def brand_of(user) -> Brand | None:
    brand_user = getattr(user, "brand_user", None) if user.is_authenticated else None
    return brand_user.brand if brand_user else None


def unusable_reason(brand: Brand) -> str | None:
    """Why a brand cannot log in or act, in the user's language; None when it can."""
    if brand.status != Brand.Status.ACTIVE:
        return _("The brand %(name)s is frozen by JD Cloud.") % {"name": brand.name}
    if brand.is_expired:
        return _("The brand %(name)s expired on %(date)s.") % {
            "name": brand.name,
            "date": brand.expire_time.date().isoformat(),
        }
    return None


def brand_required(view=None, *, allow_preview: bool = True):
    """The view runs with a usable `request.brand`; read-only preview sessions are
    admitted unless `allow_preview=False`."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            brand = getattr(request, "brand", None)
            access = getattr(request, "brand_access", None)
            if brand is None:
                if not request.user.is_authenticated:
                    return redirect_to_login(request.get_full_path())
                reason = _("Your account is not linked to a brand.")
                return render(request, "workspace/unavailable.html", {"reason": reason}, status=403)
            if access == "preview" and not allow_preview:
                reason = _("This page is not part of the activity preview.")
                return render(request, "workspace/unavailable.html", {"reason": reason}, status=403)
            reason = unusable_reason(brand)
            if reason:
                return render(request, "workspace/unavailable.html", {"reason": reason}, status=403)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate(view) if view is not None else decorate
