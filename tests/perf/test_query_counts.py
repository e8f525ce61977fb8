"""SQL queries per list page do not grow with the rows (issue 10, item 4).

Every list page of the workspace, every REST list endpoint and every admin changelist
(`LIST_PAGES` in the `bench_pages` command, which times the same pages at 10,000 rows) is
requested with 10 rows per brand in every listed model, then with 200: the query count must
be the same both times and at most 10, and a page may show no more rows than a page holds.

A new route is noticed: every named route must be either in `LIST_PAGES` or in `NOT_LISTS`
below with the reason it lists nothing that grows, and every model registered in the admin
must have its changelist in `LIST_PAGES`. DRF's `…-list` routes are list pages by name.
"""

from __future__ import annotations

import httpx
import pytest
import stamina
from django.contrib import admin
from django.db import connection, transaction
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver

from portal.management.commands.bench_pages import (
    LIST_PAGES,
    QUERY_LIMIT,
    SMALL,
    Figures,
    ListPage,
    brand_pair,
    logged_in_clients,
    measure_pages,
    sandbox_knows,
)

LARGE = 200

# Routes that list nothing that grows with a brand's rows, by why.
FORMS_AND_ACTIONS = {
    "login", "jdcloud-login", "jdcloud-callback", "logout", "set_language",
    "crowds:import", "crowds:create", "crowds:edit", "crowds:sync", "crowds:delete",
    "crowds:instantiate", "crowds:split", "crowds:filter", "crowds:save-as", "crowds:repoll",
    "campaigns:activity-submit", "campaigns:wechat-cancel", "campaigns:wechat-retry",
    "campaigns:wechat-repoll",
    "reports:repull", "reports:request",
    "brands:settings", "brands:linkflow-save", "brands:linkflow-test",
    "brands:linkflow-disconnect", "cdp:index", "cdp:link-retry", "cdp_reports:refresh",
    "v1:condition-compile", "v1:crowd-import-from-jd", "v1:crowd-instantiate", "v1:crowd-sync",
    "v1:instance-calc", "v1:instance-filter", "v1:instance-repoll", "v1:instance-save-as",
    "v1:instance-split", "v1:reach-preflight", "v1:activity-submit",
    "v1:wechat-campaign-cancel", "v1:wechat-campaign-submit", "v1:wechat-campaign-repoll",
    "v1:report-create-report",
    "v1:report-pull", "v1:cdp-short-link-retry", "v1:brand-linkflow-test",
    "openid:restart", "openid:writeback-retry", "v1:cdp-openid-package-rebuild",
    "v1:cdp-writeback-retry",
}  # fmt: skip
ONE_THING = {
    "home", "healthz", "crowds:instance", "campaigns:reach", "campaigns:activity",
    "campaigns:activity-preview", "campaigns:wechat-campaign", "reports:uplift",
    "cdp_reports:dashboard", "cdp_reports:report",
    "v1:me", "v1:brand", "v1:brand-user-detail", "v1:tag-detail", "v1:crowd-detail",
    "v1:instance-detail", "v1:reach-detail", "v1:activity-detail",
    "v1:wechat-campaign-detail", "v1:cdp-short-link-detail", "v1:sms-balance",
    "v1:sms-result", "v1:wechat-info", "v1:report-uplift", "v1:cdp-report", "v1:cdp-dashboard",
    "openid:detail", "v1:cdp-openid-package-detail", "v1:cdp-writeback-detail",
}  # fmt: skip
CALLBACKS_AND_DOCS = {
    "jdcloud-master-sync", "jdcloud-master-edit", "jdcloud-free-login",
    "jdcloud-activity-update", "openid:file", "schema", "api-docs",
}  # fmt: skip
NOT_LISTS = FORMS_AND_ACTIONS | ONE_THING | CALLBACKS_AND_DOCS


def _route_names(patterns, namespaces=()) -> set[str]:
    names = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = (*namespaces, pattern.namespace) if pattern.namespace else namespaces
            names |= _route_names(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(":".join((*namespaces, pattern.name)))
    return names


def test_every_route_is_a_tested_list_page_or_known_to_list_nothing_that_grows():
    routes = {
        name for name in _route_names(get_resolver().url_patterns) if not name.startswith("admin:")
    }
    listed = {page.route for page in LIST_PAGES if page.kind != "admin"}
    unclassified = routes - listed - NOT_LISTS
    assert not unclassified, f"add these routes to LIST_PAGES or to NOT_LISTS: {unclassified}"
    assert not (listed | NOT_LISTS) - routes, "routes that no longer exist"
    assert not listed & NOT_LISTS
    assert {name for name in routes if name.endswith("-list")} <= listed


def test_every_admin_changelist_is_a_tested_list_page():
    changelists = {
        f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"
        for model in admin.site._registry
    }
    assert changelists == {page.route for page in LIST_PAGES if page.kind == "admin"}


@pytest.fixture(scope="module")
def figures(request, django_db_setup, django_db_blocker):
    """Every list page measured at 10 and at 200 rows per brand, in one transaction that
    is rolled back (populating once for all pages keeps this module fast).

    Pages that also ask JD Cloud or Linkflow get the session's sandbox; when it does not
    start, those pages carry the error and only their tests fail."""
    pages, sandbox_url, sandbox_error = list(LIST_PAGES), "", ""
    if any(page.remote for page in pages):
        try:
            sandbox_url = request.getfixturevalue("sandbox_url")
        except Exception as exc:  # reported by the remote pages' tests
            sandbox_error = f"the sandbox did not start: {exc}"
            pages = [page for page in pages if not page.remote]
    remote = override_settings(
        JDCLOUD_API_BASE_URL=f"{sandbox_url}/jdcloud" if not sandbox_error else "",
        LINKFLOW_API_BASE_URL=f"{sandbox_url}/linkflow" if not sandbox_error else "",
    )
    # As the suite's autouse fixture does for each test: retries without waiting.
    retries = stamina.set_testing(True, attempts=3)
    with django_db_blocker.unblock(), remote, retries, transaction.atomic():
        assert "test" in str(connection.settings_dict["NAME"]), "not the test database"
        brands = brand_pair("test", linkflow=True)
        if not sandbox_error:
            reset = {"seed": 7, "clock": "manual"}
            httpx.post(f"{sandbox_url}/_control/reset", json=reset).raise_for_status()
            sandbox_knows(sandbox_url, brands[0])
        member, admin_client = logged_in_clients(brands[0], "test")
        measured = measure_pages(
            pages, brands=brands, member=member, admin=admin_client, sizes=(SMALL, LARGE)
        )
        transaction.set_rollback(True)
    for page in LIST_PAGES:
        measured.setdefault(page.route, {SMALL: Figures(error=sandbox_error)})
    return measured


def _queries(figures: dict[int, Figures]) -> str:
    lines = []
    for size, measured in figures.items():
        lines += [f"at {size} rows per brand:", *(sql[:300] for sql in measured.queries), ""]
    return "\n".join(lines)


@pytest.mark.django_db  # also what makes pytest-django create the test database
@pytest.mark.parametrize("page", LIST_PAGES, ids=lambda page: page.route)
def test_a_list_page_makes_the_same_few_queries_at_10_and_200_rows(page: ListPage, figures):
    small, large = figures[page.route].get(SMALL), figures[page.route].get(LARGE)
    assert not (small.error or (large and large.error)), small.error or large.error
    assert small.status == large.status == 200, (small.url, small.status, large.status)
    assert len(small.queries) == len(large.queries), _queries(figures[page.route])
    if page.marker:
        assert large.shown > 0, "the page shows none of the rows"
        if page.per_page is not None:
            assert large.shown <= page.per_page, f"{large.shown} rows on one page"
    assert len(large.queries) <= QUERY_LIMIT, _queries(figures[page.route])
