"""Tenancy by construction (STYLE.md §5, after pretix's django-scopes).

Brand-owned models use `ScopedManager(brand="brand")`: querying one outside a brand scope
raises `ScopeError`. Requests get their scope from `BrandContextMiddleware`; Celery tasks
take `brand_id` and enter the scope with `brand_task`; the admin, callback intake and
periodic fan-out use `scopes_disabled()` explicitly.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from django_scopes import scope

from brands.models import Brand

P = ParamSpec("P")
R = TypeVar("R")


def brand_task(body: Callable[P, R]) -> Callable[P, R]:
    """Run a task body inside the scope of its `brand_id` keyword argument."""

    @wraps(body)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        brand_id = kwargs.get("brand_id")
        if brand_id is None:
            raise TypeError(f"{body.__name__} must be called with brand_id=")
        brand = Brand.objects.get(pk=brand_id)
        with scope(brand=brand):
            return body(*args, **kwargs)

    return run
