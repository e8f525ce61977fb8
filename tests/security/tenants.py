"""Two brands with a row in every brand-owned model, each row carrying its brand's marker,
so that a page or an answer of one brand can be searched for the other brand's data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models
from django.utils import timezone
from django_scopes import scopes_disabled

from brands.models import Brand, BrandUser, TrackedLink
from campaigns.models import Activity, Reach, ReachType, ShortLink, WechatCampaign
from crowds.models import Crowd, CrowdInstance, InstanceOrigin, InstanceStatus, SyncState
from reports.models import ReportRow, ReportType

# Models with a `brand` that are not brand data shown to brand users, and why.
NOT_BRAND_SCOPED_MODELS = {
    "portal.IntegrationCall": "the integration call log: read by staff in the admin only, "
    "written by callbacks before the brand is known",
}


@dataclass
class Tenant:
    """One brand and its seeded rows, by role."""

    brand: Brand
    marker: str
    remote_id: int  # its Linkflow report / dashboard / group ID
    user: object = None
    rows: dict[str, models.Model] = field(default_factory=dict)
    numbers: list[str] = field(default_factory=list)  # figures only this brand's rows hold

    def __getitem__(self, role: str) -> models.Model:
        return self.rows[role]


def is_scoped(model: type[models.Model]) -> bool:
    """Whether the model's default manager is a django-scopes `ScopedManager`."""
    return type(model._default_manager).__qualname__.startswith("ScopedManager.")


def brand_owned_models() -> list[type[models.Model]]:
    """Every installed model with a foreign key named `brand` to Brand, or a scoped manager."""
    owned = []
    for model in apps.get_models():
        brand_fk = any(
            f.name == "brand" and getattr(f, "related_model", None) is Brand
            for f in model._meta.get_fields()
        )
        if brand_fk or is_scoped(model):
            owned.append(model)
    return owned


def seed(brand: Brand, marker: str, *, remote_id: int) -> Tenant:
    """A row of every brand-owned model for `brand`; every text names `marker`.
    `remote_id` is the brand's Linkflow report / dashboard / group ID."""
    tenant = Tenant(brand, marker, remote_id)
    now = timezone.now()
    yesterday = timezone.localdate() - timedelta(days=1)
    with scopes_disabled():
        user = get_user_model().objects.create(username=f"{marker}_pin")
        tenant.user = user
        tenant.rows["brand_user"] = BrandUser.objects.create(
            user=user, brand=brand, pin=f"{marker}_pin"
        )
        tenant.rows["tracked_link"] = TrackedLink.objects.create(
            brand=brand,
            url=f"https://{marker}.example/landing",
            utm_campaign=marker,
            short_url=f"https://lf.example/{marker}",
        )
        crowd = Crowd.objects.create(
            brand=brand,
            name=f"{marker} crowd",
            description=f"{marker} crowd description",
            search_id=f"{marker}-search",
            sync_state=SyncState.SYNCED,
        )
        tenant.rows["crowd"] = crowd
        parent = CrowdInstance.objects.create(
            brand=brand,
            crowd=crowd,
            package_id=f"{marker}-pkg",
            name=f"{marker} package",
            origin=InstanceOrigin.INIT,
            status=InstanceStatus.GENERATED,
            package_size=1000,
            package_type=1,
            completed_at=now,
        )
        tenant.rows["instance"] = parent
        parts = []
        for half in ("a", "b"):
            part = CrowdInstance.objects.create(
                brand=brand,
                crowd=crowd,
                package_id=f"{marker}-part-{half}",
                name=f"{marker} part {half}",
                origin=InstanceOrigin.SPLIT,
                status=InstanceStatus.GENERATED,
                package_size=500,
                package_type=1,
                completed_at=now,
            )
            part.parents.add(parent)
            parts.append(part)
        tenant.rows["part"], tenant.rows["held_out"] = parts
        reach = Reach.objects.create(
            brand=brand,
            instance=parts[0],
            reach_type=ReachType.SMS_PUBLIC,
            template_id="4370",
            template_name=f"{marker} template",
            text=f"{marker} sms text",
            status=Reach.Status.SENT,
            sent_at=now,
        )
        tenant.rows["reach"] = reach
        tenant.rows["short_link"] = ShortLink.objects.create(
            brand=brand,
            long_url=f"https://{marker}.example/long",
            short_url=f"https://3.cn/{marker}",
        )
        tenant.rows["activity"] = Activity.objects.create(
            brand=brand,
            activity_id=f"{marker}-act",
            name=f"{marker} activity",
            description=f"{marker} activity description",
            start_type=Activity.StartType.SINGLE,
            reach_type=Activity.ReachType.SMS,
            reach=reach,
            review=Activity.Review.PENDING,
            content_hash="h",
            submitted_hash="h",
            submitted_at=now,
        )
        tenant.rows["wechat"] = WechatCampaign.objects.create(
            brand=brand,
            business_id=f"{marker}-wx",
            name=f"{marker} wechat",
            activity_type=WechatCampaign.ActivityType.TEMPLATE,
            pack_type=WechatCampaign.PackType.CUSTOMER,
            instance=parts[0],
            template_id=f"{marker}-tpl",
            send_time=now + timedelta(days=1),
            begin_time=now + timedelta(days=1),
            end_time=now + timedelta(days=2),
            status=WechatCampaign.Status.LAUNCH_NEED,
        )
        for role, package in (("report_row", parts[0]), ("held_out_row", parts[1])):
            tenant.rows[role] = ReportRow.objects.create(
                brand=brand,
                package_id=package.package_id,
                report_date=yesterday,
                report_type=ReportType.EXPOSURE,
                reach_type=ReachType.SMS_PUBLIC if role == "report_row" else "",
                shop_id=marker[:32],
                pv=321,
                uv=123,
                delivered_num=400,
                people_sent_num=450,
                pay_pins=17,
                pay_amount=Decimal("987.65"),
                top5_raw={"browse_sku_top5": f"{marker}sku:5"},
            )
        _seed_linkflow_models(tenant, remote_id=remote_id, now=now)
    return tenant


def _seed_linkflow_models(tenant: Tenant, *, remote_id: int, now) -> None:
    """The Linkflow-side twins (openId packages, write-backs, report snapshots), when
    installed."""
    brand, marker = tenant.brand, tenant.marker
    if _installed("crowds.OpenIdPackage"):
        package_model = apps.get_model("crowds", "OpenIdPackage")
        tenant.rows["openid_package"] = package_model.objects.create(
            brand=brand,
            group_id=remote_id,
            group_name=f"{marker} group",
            wechat_app_id=f"wx{marker}",
            status="ready",
            count=2,
        )
    if _installed("campaigns.WechatOpenIdAudience") and "openid_package" in tenant.rows:
        tenant.rows["openid_audience"] = apps.get_model(
            "campaigns", "WechatOpenIdAudience"
        ).objects.create(brand=brand, campaign=tenant["wechat"], package=tenant["openid_package"])
    if _installed("campaigns.WritebackJob"):
        tenant.rows["writeback"] = apps.get_model("campaigns", "WritebackJob").objects.create(
            brand=brand,
            source_kind="reach",
            source_id=tenant["reach"].pk,
            status="failed",
            reason=f"{marker} writeback failed",
            event=f"{marker}_event",
        )
    if _installed("campaigns.WritebackRefusal") and "writeback" in tenant.rows:
        tenant.rows["writeback_refusal"] = apps.get_model(
            "campaigns", "WritebackRefusal"
        ).objects.create(
            brand=brand,
            job=tenant["writeback"],
            open_id=f"o{marker}refused",
            code="B00010",
            message=f"{marker} writeback refused",
        )
    if _installed("reports.LinkflowReport"):
        tenant.rows["linkflow_report"] = apps.get_model("reports", "LinkflowReport").objects.create(
            brand=brand,
            report_id=remote_id,
            name=f"{marker} linkflow report",
            chart_type="table",
            status="ready",
            body={"reportName": f"{marker} linkflow report", "result": []},
            ready_at=now,
        )
    if _installed("reports.LinkflowDashboard"):
        tenant.rows["linkflow_dashboard"] = apps.get_model(
            "reports", "LinkflowDashboard"
        ).objects.create(
            brand=brand,
            dashboard_id=remote_id,
            name=f"{marker} dashboard",
            reports=[{"id": remote_id, "reportName": f"{marker} linkflow report"}],
            opened_at=now,
        )


def _installed(label: str) -> bool:
    try:
        apps.get_model(label)
    except LookupError:
        return False
    return True


def rows_of(brand: Brand) -> dict[str, list[dict]]:
    """Every row of every brand-owned model that belongs to `brand`, as values."""
    with scopes_disabled():
        snapshot = {
            model._meta.label: list(
                model._default_manager.filter(brand=brand).order_by("pk").values()
            )
            for model in brand_owned_models()
            if model._meta.label not in NOT_BRAND_SCOPED_MODELS
        }
        snapshot["brands.Brand"] = list(Brand.objects.filter(pk=brand.pk).values())
    return snapshot
