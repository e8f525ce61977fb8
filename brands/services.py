"""Writes of the brands app (STYLE.md: services named <entity>_<action>)."""

from __future__ import annotations

from datetime import UTC, datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django_scopes import scopes_disabled

from brands.models import Brand, BrandUser


def _expiry(expire_time: int) -> datetime:
    return datetime.fromtimestamp(expire_time, tz=UTC)


# What `/JDCloud/master/sync` sets; the rest of a brand (its Linkflow connection) is ours.
_SYNCED_FIELDS = (
    "name",
    "description",
    "shop_id",
    "shop_type",
    "user_type",
    "expire_time",
    "status",
    "updated_at",
)


def brand_sync(
    *,
    master_id: str,
    name: str,
    description: str,
    shop_id: str,
    shop_type: str,
    user_type: str,
    expire_time: int,
    status: int,
) -> int:
    """Create or update a brand as JD Cloud pushed it (`/JDCloud/master/sync`); its id.

    One statement, `INSERT ... ON CONFLICT (master_id) DO UPDATE ... RETURNING id`: a
    repeated call changes nothing more, two concurrent first calls cannot both insert, and
    a callback pays one round trip for it (issue 10, benchmark 1). The row is not read
    back, hence the id rather than the brand."""
    brand = Brand(
        master_id=master_id,
        name=name,
        description=description,
        shop_id=shop_id,
        shop_type=shop_type,
        user_type=user_type,
        expire_time=_expiry(expire_time),
        status=status,
    )
    Brand.objects.bulk_create(
        [brand],
        update_conflicts=True,
        unique_fields=["master_id"],
        update_fields=_SYNCED_FIELDS,
    )
    return brand.pk


def brand_edit(*, master_id: str, expire_time: int, status: int) -> Brand | None:
    """Apply `/JDCloud/master/edit`; None when JD names a brand we were never sent."""
    with transaction.atomic():
        brand = Brand.objects.select_for_update().filter(master_id=master_id).first()
        if brand is None:
            return None
        brand.expire_time = _expiry(expire_time)
        brand.status = status
        brand.save(update_fields=["expire_time", "status", "updated_at"])
    return brand


def brand_user_for_pin(*, brand: Brand, pin: str):
    """The Django user of `pin` in `brand`, created on first login. A pin that JD now
    assigns to another brand moves with it (JD is the authority on who belongs where)."""
    User = get_user_model()
    with transaction.atomic(), scopes_disabled():
        brand_user = BrandUser.objects.select_related("user").filter(pin=pin).first()
        if brand_user is None:
            user, _ = User.objects.get_or_create(username=f"jd:{pin}")
            user.set_unusable_password()
            user.save()
            brand_user = BrandUser.objects.create(user=user, brand=brand, pin=pin)
        elif brand_user.brand_id != brand.pk:
            brand_user.brand = brand
            brand_user.save(update_fields=["brand"])
    return brand_user.user
