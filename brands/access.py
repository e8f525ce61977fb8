"""Who may enter the brand workspace, and as which brand.

The brand always comes from the authenticated session (the user's BrandUser), never from
a request parameter (STYLE.md §5).
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.translation import gettext as _

from brands.models import Brand


def brand_of(user) -> Brand | None:
    brand_user = getattr(user, "brand_user", None) if user.is_authenticated else None
    return brand_user.brand if brand_user else None


def brand_required(view):
    """Log-in required; the request gets `request.brand`, or a page that says why not."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        brand = brand_of(request.user)
        if brand is None:
            reason = _("Your account is not linked to a brand.")
            return render(request, "workspace/unavailable.html", {"reason": reason}, status=403)
        if not brand.is_usable:
            if brand.status != Brand.Status.ACTIVE:
                reason = _("The brand %(name)s is frozen by JD Cloud.") % {"name": brand.name}
            else:
                reason = _("The brand %(name)s expired on %(date)s.") % {
                    "name": brand.name,
                    "date": brand.expire_time.date().isoformat(),
                }
            return render(request, "workspace/unavailable.html", {"reason": reason}, status=403)
        request.brand = brand
        return view(request, *args, **kwargs)

    return wrapper
