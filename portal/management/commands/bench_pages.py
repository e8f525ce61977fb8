"""Benchmark 4 (issue 10): the list pages with 10,000 rows per brand — SQL queries per page
(limit: at most 10, and the same at 10 rows as at 10,000) and server time per page.

Every list page of the workspace, every REST list endpoint and every admin changelist
(`LIST_PAGES`, the same table `tests/perf/test_query_counts.py` enforces in `make test`) is
requested through Django's test `Client` in this process: a warm-up request, one request
whose SQL is counted, then `--repeat` timed requests (the median is printed). Figures are
taken at 10 rows per brand, then again after growing to `--rows`.

Nothing stays behind in the database: a throwaway brand pair (`bench-pages-…`), its users,
its rows and the shared reference rows (tags, notices, extra brands) are written inside one
transaction that is rolled back at the end, on SQLite and on PostgreSQL (`DATABASE_URL`)
alike. While it runs, that open transaction holds SQLite's write lock: other writers (a
`make run` worker) wait until it ends. Pages are served with DEBUG off, as in production.

Pages that also ask JD Cloud or Linkflow are served by the sandbox at `--sandbox-url`
(started for the run when none answers there); the brand is added to the sandbox's brands
through its control API (kept in the sandbox's memory), nothing there is reset.

    .venv/bin/python manage.py bench_pages [--rows 10000] [--repeat 5] [--only crowds:]
"""

from __future__ import annotations

import re
import statistics
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

import httpx
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, reset_queries, transaction
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from brands.models import Brand, BrandUser, TrackedLink
from campaigns.models import Activity, Notice, Reach, ShortLink, WechatCampaign, WritebackJob
from crowds.models import (
    Crowd,
    CrowdInstance,
    InstanceOrigin,
    InstanceStatus,
    OpenIdPackage,
    SyncState,
    Tag,
)
from portal.models import IntegrationCall
from reports.models import ReportRow

QUERY_LIMIT = 10
SMALL = 10  # rows per brand of the first measure
MASTER_PREFIX = "bench-pages-"
BATCH = 2000
# Tags, notices and brands are not rows of a brand: JD's catalog and notices, and the
# portal's tenants. The benchmark adds this many of each, not one per brand row.
REFERENCE_ROWS = 500
# Sandbox credentials of its Linkflow workspace (sandbox/linkflow/state.py DEFAULT_APPS).
SANDBOX_LINKFLOW_KEY = "sandbox-linkflow-key"
SANDBOX_LINKFLOW_SECRET = "sandbox-linkflow-secret"  # noqa: S105 - the sandbox's public demo app


# --- The rows ----------------------------------------------------------------------------
#
# Row n of a brand carries a marker `perf-<kind>-<brand id>-<n>` in a field its list shows,
# so a page's body tells how many rows it rendered.


def long_package_id(brand: Brand) -> str:
    """The package whose report has one row per day (the package report page's list)."""
    return f"perf-long-{brand.pk}"


def populate(brands: Iterable[Brand], *, first: int, count: int, reference: int) -> None:
    """Rows `first` … `first + count - 1` of every listed model for each brand, and
    `reference` more tags, notices and brands. Row n of a crowd, package, reach, activity
    and WeChat campaign belong together; every other package belongs to crowd 0, so that
    crowd's page lists half of the packages."""
    with scopes_disabled():
        for brand in brands:
            _brand_rows(brand, range(first, first + count))
        if reference:
            start = Tag.objects.filter(tag__startswith="PERF_TAG_").count()
            _reference_rows(range(start, start + reference))


def _bulk(model, rows: list) -> list:
    return model.objects.bulk_create(rows, batch_size=BATCH)


def _brand_rows(brand: Brand, numbers: range) -> None:
    b, now = brand.pk, timezone.now()
    yesterday = timezone.localdate() - timedelta(days=1)
    crowds = _bulk(
        Crowd,
        [
            Crowd(
                brand=brand,
                name=f"perf-crowd-{b}-{n}",
                search_id=f"perf-s-{b}-{n}",
                condition={"bool": {"must": []}},
                package_type=1 + n % 2,
                sync_state=SyncState.SYNCED,
            )
            for n in numbers
        ],
    )
    crowd_zero = Crowd.objects.get(brand=brand, search_id=f"perf-s-{b}-0")
    instances = _bulk(
        CrowdInstance,
        [
            CrowdInstance(
                brand=brand,
                crowd=crowd_zero if n % 2 == 0 else crowd,
                package_id=f"perf-p-{b}-{n}",
                name=f"perf-pkg-{b}-{n}",
                origin=InstanceOrigin.INIT,
                status=InstanceStatus.GENERATING if n % 10 == 9 else InstanceStatus.GENERATED,
                package_size=1000 + n,
                package_type=1,
            )
            for n, crowd in zip(numbers, crowds, strict=True)
        ],
    )
    # Lineage: each odd package is split from the one before it.
    Link = CrowdInstance.parents.through
    _bulk(
        Link,
        [
            Link(from_crowdinstance_id=child.pk, to_crowdinstance_id=parent.pk)
            for parent, child in zip(instances[::2], instances[1::2], strict=False)
        ],
    )
    reaches = _bulk(
        Reach,
        [
            Reach(
                brand=brand,
                instance=instance,
                reach_type="SMSPUBLIC",
                template_id=f"perf-reach-{b}-{n}",
                template_name=f"perf-reach-{b}-{n}",
                template_params={"shop": "店"},
                text="【京东】店上新啦,回复TD退订",
                cost=instance.package_size,
                status=Reach.Status.SENT,
                jd_code="0",
                sent_at=now,
            )
            for n, instance in zip(numbers, instances, strict=True)
        ],
    )
    _bulk(
        ShortLink,
        [
            ShortLink(
                brand=brand,
                long_url=f"https://item.jd.com/perf-short-{b}-{n}.html",
                short_url=f"https://3.cn/perf-short-{b}-{n}",
            )
            for n in numbers
        ],
    )
    reviews = list(Activity.Review.values)
    _bulk(
        Activity,
        [
            Activity(
                brand=brand,
                activity_id=f"perf-a-{b}-{n}",
                name=f"perf-activity-{b}-{n}",
                start_type=Activity.StartType.SINGLE,
                reach_type=Activity.ReachType.SMS,
                reach=reach,
                review=reviews[n % len(reviews)],
            )
            for n, reach in zip(numbers, reaches, strict=True)
        ],
    )
    _bulk(
        WechatCampaign,
        [
            WechatCampaign(
                brand=brand,
                business_id=f"perf-w-{b}-{n}",
                jd_activity_id=n + 1,
                name=f"perf-wechat-{b}-{n}",
                activity_type=WechatCampaign.ActivityType.TEMPLATE,
                pack_type=WechatCampaign.PackType.CUSTOMER,
                instance=instance,
                send_time=now,
                begin_time=now,
                end_time=now + timedelta(days=7),
                status=WechatCampaign.Status.LAUNCHED,
                pre_num=100,
                act_num=90,
            )
            for n, instance in zip(numbers, instances, strict=True)
        ],
    )
    # Report rows: three days of package n // 3 (the overview lists a package per three
    # rows), and one day of the long-running package per row (its report page's list).
    report_rows = [
        ReportRow(
            brand=brand,
            package_id=f"perf-p-{b}-{n // 3}",
            report_date=yesterday - timedelta(days=n % 3),
            report_type="exposure",
            reach_type="SMSPUBLIC",
            delivered_num=500 + n,
            uv=n % 50,
            pay_pins=n % 7,
            pay_amount=Decimal(n % 100) + Decimal("0.50"),
        )
        for n in numbers
    ] + [
        ReportRow(
            brand=brand,
            package_id=long_package_id(brand),
            report_date=yesterday - timedelta(days=n),
            report_type="exposure",
            reach_type="SMSPUBLIC",
            delivered_num=10_000,
            pay_pins=n % 5,
            pay_amount=Decimal(n % 30),
        )
        for n in numbers
    ]
    _bulk(ReportRow, report_rows)
    _bulk(
        IntegrationCall,
        [
            IntegrationCall(
                direction=IntegrationCall.Direction.OUTBOUND,
                system=IntegrationCall.System.JDCLOUD,
                brand=brand,
                method="POST",
                endpoint=f"/perf-call-{b}-{n}",
                http_status=200,
                remote_code="0",
                ok=True,
                duration_ms=30,
            )
            for n in numbers
        ],
    )
    _bulk(
        TrackedLink,
        [
            TrackedLink(
                brand=brand,
                url=f"https://item.jd.com/perf-link-{b}-{n}.html",
                utm_source="jd_portal",
                utm_campaign="perf_618_sms",
                short_url=f"https://lf.example/perf-tl-{b}-{n}",
            )
            for n in numbers
        ],
    )
    packages = _bulk(
        OpenIdPackage,
        [
            OpenIdPackage(
                brand=brand,
                group_id=n + 1,
                group_name=f"perf-openid-{b}-{n}",
                wechat_app_id="wx-perf",
                status=OpenIdPackage.Status.READY,
                count=100,
                members_seen=100,
                built_at=now,
            )
            for n in numbers
        ],
    )
    _bulk(
        WritebackJob,
        [
            WritebackJob(
                brand=brand,
                source_kind=WritebackJob.Source.WECHAT,
                source_id=n + 1,
                status=WritebackJob.Status.DONE,
                reason=f"perf-writeback-{b}-{n}",
                event="wechat_campaign_sent",
                package=package,
                total=100,
                sent=100,
                finished_at=now,
            )
            for n, package in zip(numbers, packages, strict=True)
        ],
    )
    users = _bulk(
        get_user_model(),
        # "!" is Django's unusable password: these users cannot log in.
        [get_user_model()(username=f"perf-pin-{b}-{n}", password="!") for n in numbers],  # noqa: S106
    )
    _bulk(
        BrandUser,
        [
            BrandUser(user=user, brand=brand, pin=user.username)
            for user in users  # the pin is the username: perf-pin-<brand>-<n>
        ],
    )


def _reference_rows(numbers: range) -> None:
    now = timezone.now()
    _bulk(
        Tag,
        [
            Tag(
                tag=f"PERF_TAG_{n}",
                instruction=f"perf-tag-{n}",
                table_cd=f"{900 + n % 5}",
                tag_type=Tag.TagType.PUBLIC,
                enums=["是", "否"],
            )
            for n in numbers
        ],
    )
    _bulk(
        Notice,
        [
            Notice(
                notice_code=f"perf-notice-{n}",
                title=f"perf-notice-{n}",
                notice_type="1",
                notice_status="1",
                start_time=now - timedelta(days=1),
                end_time=now + timedelta(days=30),
            )
            for n in numbers
        ],
    )
    _bulk(
        Brand,
        [Brand(master_id=f"{MASTER_PREFIX}extra-{n}", name=f"perf-brand-{n}") for n in numbers],
    )


# --- The pages ---------------------------------------------------------------------------


@dataclass
class World:
    """What a page's URL needs: the brand whose user asks, and its client."""

    brand: Brand
    client: Client

    def crowd_zero(self) -> list:
        with scopes_disabled():
            return [Crowd.objects.get(brand=self.brand, search_id=f"perf-s-{self.brand.pk}-0").pk]

    def activity_zero(self) -> list:
        with scopes_disabled():
            return [
                Activity.objects.get(brand=self.brand, activity_id=f"perf-a-{self.brand.pk}-0").pk
            ]

    def long_package(self) -> list:
        return [long_package_id(self.brand)]

    def linkflow_group(self) -> list:
        """The largest of the Linkflow groups the sandbox seeds (the first group of any
        other workspace), as the portal's API lists them."""
        groups = self.client.get(reverse("v1:cdp-groups"), secure=True).json()
        largest = [g["id"] for g in groups if g["name"] == "关注用户"]
        return [(largest or [g["id"] for g in groups])[0]]


@dataclass(frozen=True)
class ListPage:
    """A page that lists rows. `marker` matches one row's marker in the body (the rows
    shown are counted by it); `per_page` is the most rows one page may show (None: the
    page shows the whole list by design, `why` says why); `remote` names the system the
    page also asks (served by the sandbox)."""

    route: str
    marker: str = ""
    per_page: int | None = 50
    remote: str = ""
    args: Callable[[World], list] | None = None
    why: str = ""

    @property
    def kind(self) -> str:
        if self.route.startswith("admin:"):
            return "admin"
        return "api" if self.route.startswith("v1:") else "page"

    def url(self, world: World) -> str:
        return reverse(self.route, args=self.args(world) if self.args else None)

    def rows_shown(self, body: str) -> int:
        return len(set(re.findall(self.marker, body))) if self.marker else 0


ADMIN_PER_PAGE = 100  # ModelAdmin.list_per_page
ADMIN_ROW = r'name="_selected_action" value="\d+"'  # a changelist row's action checkbox
CROWD, PACKAGE = r"perf-crowd-\d+-\d+", r"perf-pkg-\d+-\d+"

LIST_PAGES: tuple[ListPage, ...] = (
    # The workspace.
    ListPage("crowds:list", CROWD),
    ListPage("crowds:instances", PACKAGE),
    ListPage("crowds:detail", PACKAGE, args=World.crowd_zero),
    ListPage(
        "crowds:tags",
        r"PERF_TAG_\d+",
        per_page=None,
        why="JD's whole tag catalog, grouped, is what the builder picks from",
    ),
    # Forms whose choices are the brand's packages or reaches: the newest 100 (the calc
    # form searches for older ones; an activity keeps its linked reach among them).
    ListPage("crowds:calc", PACKAGE, per_page=100),
    ListPage("campaigns:activity-new", PACKAGE, per_page=100),
    ListPage("campaigns:activity-edit", PACKAGE, per_page=101, args=World.activity_zero),
    ListPage(
        "campaigns:wechat-new",
        PACKAGE,
        per_page=None,
        remote="jdcloud",
        why="the WeChat form offers every generated package",
    ),
    ListPage("campaigns:list", r"perf-reach-\d+-\d+", per_page=5, remote="jdcloud"),
    ListPage("campaigns:reaches", r"perf-reach-\d+-\d+"),
    ListPage("campaigns:reach-new", PACKAGE, per_page=100),
    ListPage("campaigns:sms", remote="jdcloud"),
    ListPage("campaigns:wechat-news", remote="jdcloud"),
    ListPage("campaigns:activities", r"perf-activity-\d+-\d+"),
    ListPage("campaigns:wechat", r"perf-wechat-\d+-\d+", remote="jdcloud"),
    ListPage("reports:overview", r'data-package-id="perf-p-\d+-\d+"'),
    ListPage("reports:package", r'<tr data-date="[\d-]+"', args=World.long_package),
    ListPage("cdp:links", r"perf-link-\d+-\d+", per_page=25),
    ListPage("cdp:groups", remote="linkflow"),
    ListPage("cdp:group", remote="linkflow", args=World.linkflow_group),
    ListPage("cdp:tags", remote="linkflow"),
    ListPage("openid:list", r"perf-openid-\d+-\d+", remote="linkflow"),
    # Linkflow dashboards and reports this brand opened, the latest 20 (reports.cdp).
    ListPage("cdp_reports:dashboards"),
    # The REST API (DRF's PageNumberPagination, PAGE_SIZE 50).
    ListPage("v1:crowd-list", CROWD),
    ListPage("v1:instance-list", PACKAGE),
    ListPage("v1:reach-list", r"perf-reach-\d+-\d+"),
    ListPage("v1:short-link-list", r"perf-short-\d+-\d+"),
    ListPage("v1:activity-list", r"perf-activity-\d+-\d+"),
    ListPage("v1:wechat-campaign-list", r"perf-wechat-\d+-\d+"),
    ListPage("v1:report-list", r'"id":\d+,"package_id":"perf-'),
    ListPage("v1:brand-user-list", r"perf-pin-\d+-\d+"),
    ListPage("v1:cdp-short-link-list", r"perf-link-\d+-\d+"),
    ListPage("v1:cdp-openid-package-list", r"perf-openid-\d+-\d+"),
    ListPage("v1:cdp-writeback-list", r"perf-writeback-\d+-\d+"),
    ListPage("v1:tag-list", r"PERF_TAG_\d+", per_page=None, why="JD's whole tag catalog"),
    ListPage(
        "v1:notices",
        r"perf-notice-\d+",
        per_page=None,
        why="the notices JD Cloud publishes now: a handful, refreshed from /notice/list",
    ),
    ListPage("v1:sms-templates", remote="jdcloud"),
    ListPage("v1:sms-signatures", remote="jdcloud"),
    ListPage("v1:sms-recharge", remote="jdcloud"),
    ListPage("v1:sms-consume", remote="jdcloud"),
    ListPage("v1:wechat-templates", remote="jdcloud"),
    ListPage("v1:wechat-news", remote="jdcloud"),
    ListPage("v1:cdp-groups", remote="linkflow"),
    ListPage("v1:cdp-group-members", remote="linkflow", args=World.linkflow_group),
    ListPage("v1:cdp-tags", remote="linkflow"),
    # The admin: every brand's rows (`list_per_page` 100).
    ListPage("admin:brands_brand_changelist", r"perf-brand-\d+", per_page=ADMIN_PER_PAGE),
    ListPage("admin:brands_branduser_changelist", r"perf-pin-\d+-\d+", per_page=ADMIN_PER_PAGE),
    ListPage("admin:auth_user_changelist", r"perf-pin-\d+-\d+", per_page=ADMIN_PER_PAGE),
    ListPage("admin:auth_group_changelist", per_page=ADMIN_PER_PAGE),
    ListPage("admin:crowds_tag_changelist", r"PERF_TAG_\d+", per_page=ADMIN_PER_PAGE),
    ListPage("admin:crowds_crowd_changelist", CROWD, per_page=ADMIN_PER_PAGE),
    ListPage("admin:crowds_crowdinstance_changelist", PACKAGE, per_page=ADMIN_PER_PAGE),
    ListPage("admin:campaigns_reach_changelist", PACKAGE, per_page=ADMIN_PER_PAGE),
    ListPage(
        "admin:campaigns_shortlink_changelist", r"perf-short-\d+-\d+", per_page=ADMIN_PER_PAGE
    ),
    ListPage(
        "admin:campaigns_activity_changelist", r"perf-activity-\d+-\d+", per_page=ADMIN_PER_PAGE
    ),
    ListPage(
        "admin:campaigns_wechatcampaign_changelist",
        r"perf-wechat-\d+-\d+",
        per_page=ADMIN_PER_PAGE,
    ),
    ListPage("admin:campaigns_notice_changelist", r"perf-notice-\d+", per_page=ADMIN_PER_PAGE),
    ListPage("admin:campaigns_systemstate_changelist", per_page=ADMIN_PER_PAGE),
    ListPage(
        "admin:reports_reportrow_changelist",
        r"perf-(?:p-\d+-\d+|long-\d+)",
        per_page=ADMIN_PER_PAGE,
    ),
    ListPage(
        "admin:crowds_openidpackage_changelist", r"perf-openid-\d+-\d+", per_page=ADMIN_PER_PAGE
    ),
    # Its columns show no marker: the rows are counted by their action checkboxes.
    ListPage("admin:campaigns_writebackjob_changelist", ADMIN_ROW, per_page=ADMIN_PER_PAGE),
    # Linkflow report snapshots and dashboards (reports.cdp): no rows written here yet.
    ListPage("admin:reports_linkflowreport_changelist", per_page=ADMIN_PER_PAGE),
    ListPage("admin:reports_linkflowdashboard_changelist", per_page=ADMIN_PER_PAGE),
    # The newest calls come first: those the remote pages above just made, then these rows.
    ListPage("admin:portal_integrationcall_changelist", ADMIN_ROW, per_page=ADMIN_PER_PAGE),
)


# --- Measuring the pages -----------------------------------------------------------------

# Savepoints are the enclosing transaction's (pytest's, or the benchmark's rolled-back one)
# around each `atomic()` block; in production the same blocks are BEGIN / COMMIT, which
# Django does not log as queries.
_TRANSACTION_NOISE = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


def counted(queries: list[dict]) -> list[str]:
    return [q["sql"] for q in queries if not q["sql"].startswith(_TRANSACTION_NOISE)]


@dataclass
class Figures:
    """One page at one size: its answer, the SQL of one request, the rows it showed and
    the median time of `repeat` more requests (None when not timed)."""

    url: str = ""
    status: int = 0
    queries: list[str] = field(default_factory=list)
    shown: int = 0
    ms: float | None = None
    error: str = ""


def measure(page: ListPage, client: Client, world: World, repeat: int = 0) -> Figures:
    """A warm-up request (it fills what a first request fills: content types, the
    Linkflow token, compiled templates), one request with its SQL counted, then `repeat`
    timed ones."""
    try:
        url = page.url(world)
        client.get(url, secure=True)
        reset_queries()  # under DEBUG the log is a bounded deque, already full after populate()
        with CaptureQueriesContext(connection) as context:
            response = client.get(url, secure=True)
        # Read now: the next request empties the log (django.db.reset_queries).
        queries = counted(context.captured_queries)
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            client.get(url, secure=True)
            times.append((time.perf_counter() - started) * 1000)
    except Exception as exc:  # one broken page must not hide the figures of the others
        return Figures(error=f"{type(exc).__name__}: {exc}")
    return Figures(
        url=url,
        status=response.status_code,
        queries=queries,
        shown=page.rows_shown(response.content.decode()),
        ms=statistics.median(times) if times else None,
    )


def measure_pages(
    pages: Iterable[ListPage],
    *,
    brands: tuple[Brand, Brand],
    member: Client,
    admin: Client,
    sizes: Iterable[int],
    reference_cap: int | None = None,
    repeat: int = 0,
    progress: Callable[[str], None] = lambda line: None,
) -> dict[str, dict[int, Figures]]:
    """Grow the rows of `brands` (the first one's user is `member`) to each size in turn
    and measure every page there: {route: {size: figures}}."""
    pages = list(pages)
    world = World(brand=brands[0], client=member)
    figures: dict[str, dict[int, Figures]] = {page.route: {} for page in pages}
    done = 0
    for size in sizes:
        cap = size if reference_cap is None else reference_cap
        started = time.perf_counter()
        populate(
            brands,
            first=done,
            count=size - done,
            reference=max(0, min(size, cap) - min(done, cap)),
        )
        progress(f"{size:,} rows per brand ({time.perf_counter() - started:.1f} s to write)")
        done = size
        for page in pages:
            client = admin if page.kind == "admin" else member
            figures[page.route][size] = measure(page, client, world, repeat)
    return figures


def brand_pair(run: str, *, linkflow: bool) -> tuple[Brand, Brand]:
    brand = Brand.objects.create(master_id=f"{MASTER_PREFIX}{run}-a", name="perf-brand-a")
    if linkflow:
        brand.linkflow_app_key = SANDBOX_LINKFLOW_KEY
        brand.linkflow_app_secret = SANDBOX_LINKFLOW_SECRET
        brand.save()
    return brand, Brand.objects.create(master_id=f"{MASTER_PREFIX}{run}-b", name="perf-brand-b")


def logged_in_clients(brand: Brand, run: str) -> tuple[Client, Client]:
    """A client of a user of `brand`, and one of a superuser (no passwords: force_login)."""
    User = get_user_model()
    member = User.objects.create_user(username=f"{MASTER_PREFIX}{run}-member")
    BrandUser.objects.create(user=member, brand=brand, pin=member.username)
    superuser = User.objects.create_superuser(username=f"{MASTER_PREFIX}{run}-admin")
    member_client, admin_client = Client(), Client()
    member_client.force_login(member)
    admin_client.force_login(superuser)
    return member_client, admin_client


def sandbox_knows(sandbox_url: str, brand: Brand) -> None:
    """JD Cloud's sandbox answers for the brands it knows: add this one (nothing is reset)."""
    httpx.post(
        f"{sandbox_url}/_control/brands", json={"master_id": brand.master_id}, timeout=10
    ).raise_for_status()


# --- The command -------------------------------------------------------------------------


class Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "SQL queries and server time of every list page with 10,000 rows per brand."

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=10_000, help="rows per brand per model")
        parser.add_argument("--repeat", type=int, default=5, help="timed requests per page")
        parser.add_argument("--only", default="", help="only the routes starting with this")
        parser.add_argument("--sandbox-url", default=settings.SANDBOX_URL)

    # The checks would build the template engines now, under the DEBUG that handle() turns off.
    requires_system_checks: list = []

    def handle(self, *args, rows: int, repeat: int, only: str, sandbox_url: str, **options):
        if rows <= SMALL:
            raise CommandError(f"--rows must be more than {SMALL}")
        if repeat < 1:
            raise CommandError("--repeat must be at least 1")
        pages = [p for p in LIST_PAGES if p.route.startswith(only)]
        if not pages:
            raise CommandError(f"no list page's route starts with {only!r}")
        # A fresh checkout's database has no tables yet (make run migrates; make bench may
        # come first): bring its schema up to date. The rows made below are rolled back.
        call_command("migrate", "--noinput", verbosity=0)
        process, remote = None, {}
        if any(p.remote for p in pages):
            sandbox_url, process = self._sandbox(sandbox_url)
            remote = {
                "JDCLOUD_API_BASE_URL": f"{sandbox_url}/jdcloud",
                "LINKFLOW_API_BASE_URL": f"{sandbox_url}/linkflow",
            }
        # Pages are served as in production: no SQL log, no template debugging (the engines
        # are built at the first page, after this). The test client's host name is allowed,
        # whatever the deployment allows.
        served = override_settings(
            DEBUG=False, ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"], **remote
        )
        try:
            with served, transaction.atomic():
                run = uuid.uuid4().hex[:8]
                brands = brand_pair(run, linkflow=True)
                if any(p.remote == "jdcloud" for p in pages):
                    sandbox_knows(sandbox_url, brands[0])
                member, admin = logged_in_clients(brands[0], run)
                figures = measure_pages(
                    pages,
                    brands=brands,
                    member=member,
                    admin=admin,
                    sizes=(SMALL, rows),
                    reference_cap=REFERENCE_ROWS,
                    repeat=repeat,
                    progress=self.stderr.write,
                )
                raise Rollback
        except Rollback:
            pass
        finally:
            if process is not None:
                process.terminate()
                process.wait(timeout=10)
        self._report(pages, figures, rows, repeat)

    @staticmethod
    def _sandbox(url: str):
        from tests.processes import free_port, start_process, wait_for_http

        try:
            httpx.get(f"{url}/health", timeout=2).raise_for_status()
            return url, None
        except httpx.HTTPError:
            port = free_port()
            process = start_process(["-m", "sandbox", "--port", str(port)], name="sandbox")
            url = f"http://127.0.0.1:{port}"
            wait_for_http(f"{url}/health", process)
            return url, process

    def _report(self, pages: list[ListPage], figures: dict, rows: int, repeat: int) -> None:
        write = self.stdout.write
        write(
            f"List pages at {SMALL} and {rows:,} rows per brand in every listed model (2 brands, "
            f"{min(rows, REFERENCE_ROWS)} tags / notices / extra brands); {connection.vendor}, "
            f"DEBUG off; median of {repeat} requests through the test Client\n"
        )
        at = f"@{rows:,}"
        write(
            f"{'page':44} {'queries@' + str(SMALL):>10} {'queries' + at:>14} {'limit':>6} "
            f"{'rows shown':>10} {'limit':>6} {'ms@' + str(SMALL):>8} {'ms' + at:>10}  verdict"
        )
        met = 0
        for page in pages:
            small, large = figures[page.route][SMALL], figures[page.route][rows]
            error = small.error or large.error
            if not error and not small.status == large.status == 200:
                error = f"HTTP {small.status} / {large.status}"
            if error:
                write(f"{page.route:44} {error}")
                continue
            ok = len(small.queries) == len(large.queries) <= QUERY_LIMIT
            ok = ok and (page.per_page is None or large.shown <= page.per_page)
            met += ok
            shown_limit = "all" if page.per_page is None else str(page.per_page)
            shown = str(large.shown) if page.marker else "—"
            shown_limit = shown_limit if page.marker else "—"
            notes = [page.remote + " via the sandbox"] if page.remote else []
            if page.per_page is None:
                notes.append("whole list: " + page.why)
            write(
                f"{page.route:44} {len(small.queries):>10} {len(large.queries):>14} "
                f"{'≤ ' + str(QUERY_LIMIT):>6} {shown:>10} {shown_limit:>6} "
                f"{small.ms:>8.1f} {large.ms:>10.1f}  {'ok' if ok else 'NOT met'}"
                + (f"  ({'; '.join(notes)})" if notes else "")
            )
        write(
            f"\n{met} of {len(pages)} pages: at most {QUERY_LIMIT} queries, the same at {SMALL} "
            f"and {rows:,} rows, no more rows than a page holds"
        )
