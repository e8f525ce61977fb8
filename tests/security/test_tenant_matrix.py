"""The tenant matrix, pretix-style: brand B asks for brand A's objects on every route of the
UI and the REST API, with every method, and gets exactly what it gets for an ID that does not
exist; B's lists, exports and charts show none of A's rows.

Routes are read from the URL resolver (tests/security/routes.py), so a new route cannot be
forgotten: each must be listed below, with how to get an ID of each brand, or in an explicit
list of routes without brand objects, with the reason.
"""

from __future__ import annotations

import json
import re

import pytest
from django_scopes import ScopeError

from tests.security.figures import count
from tests.security.routes import Route, portal_routes
from tests.security.tenants import NOT_BRAND_SCOPED_MODELS, brand_owned_models, rows_of

pytestmark = pytest.mark.django_db

SUITE = "tenant matrix"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
MISSING = {int: 999_999_999, str: "zz-missing-0000"}

# Routes whose path parameter names a brand-owned row: route → the seeded row's role, or
# "role.attribute" when the parameter is not its primary key.
ID_ROUTES: dict[str, str] = {
    "crowds:detail": "crowd",
    "crowds:edit": "crowd",
    "crowds:sync": "crowd",
    "crowds:delete": "crowd",
    "crowds:instantiate": "crowd",
    "crowds:instance": "instance",
    "crowds:split": "instance",
    "crowds:filter": "instance",
    "crowds:save-as": "instance",
    "crowds:repoll": "instance",
    "openid:detail": "openid_package",
    "openid:restart": "openid_package",
    "openid:writeback-retry": "writeback",
    "campaigns:reach": "reach",
    "campaigns:activity": "activity",
    "campaigns:activity-edit": "activity",
    "campaigns:activity-submit": "activity",
    "campaigns:activity-preview": "activity",
    "campaigns:wechat-campaign": "wechat",
    "campaigns:wechat-cancel": "wechat",
    "campaigns:wechat-retry": "wechat",
    "campaigns:wechat-repoll": "wechat",
    "reports:package": "part.package_id",
    "reports:request": "part.package_id",
    "reports:uplift": "instance",
    "cdp:link-retry": "tracked_link",
    "v1:brand-user-detail": "brand_user",
    "v1:crowd-detail": "crowd",
    "v1:crowd-instantiate": "crowd",
    "v1:crowd-sync": "crowd",
    "v1:instance-detail": "instance",
    "v1:instance-filter": "instance",
    "v1:instance-repoll": "instance",
    "v1:instance-save-as": "instance",
    "v1:instance-split": "instance",
    "v1:sms-result": "part",
    "v1:reach-detail": "reach",
    "v1:activity-detail": "activity",
    "v1:activity-submit": "activity",
    "v1:wechat-campaign-detail": "wechat",
    "v1:wechat-campaign-cancel": "wechat",
    "v1:wechat-campaign-submit": "wechat",
    "v1:wechat-campaign-repoll": "wechat",
    "v1:cdp-short-link-retry": "tracked_link",
    "v1:cdp-short-link-detail": "tracked_link",
    "v1:cdp-openid-package-detail": "openid_package",
    "v1:cdp-openid-package-rebuild": "openid_package",
    "v1:cdp-writeback-detail": "writeback",
    "v1:cdp-writeback-retry": "writeback",
}
# Exports and other renderings of the same route.
ID_ROUTE_QUERIES = {
    "reports:package": ("", "?format=csv", "?report_type=click"),
    "reports:uplift": ("", "?format=csv"),
}
# Bodies that pass the input checks made before the object is looked up.
BODIES = {
    "v1:instance-split": {"type": "0", "ratio": [{"name": "x", "value": 0.5}]},
    "v1:instance-filter": {"filter_types": [1]},
    "v1:instance-save-as": {"crowd_name": "copy"},
    "v1:wechat-campaign-cancel": {"remark": "x"},
    "v1:crowd-detail": {"name": "x", "condition": {}},
    "v1:activity-detail": {"activity_name": "x"},
    "crowds:split": {"split_type": "0", "part_name": "x", "part_value": "0.5"},
    "crowds:filter": {"filter_types": "1"},
    "crowds:save-as": {"name": "copy"},
    "campaigns:wechat-cancel": {"remark": "x"},
}

# Routes whose parameter is an ID in the brand's own Linkflow workspace, read with the
# brand's own App Key: there is no "another brand's ID" locally. B asking for A's ID must
# still show none of A's rows (A's snapshots of that report or dashboard) and change none.
REMOTE_ID_ROUTES = {
    "cdp:group",
    "v1:cdp-group-members",
    "cdp_reports:dashboard",
    "cdp_reports:report",
    "cdp_reports:refresh",
    "v1:cdp-report",
    "v1:cdp-dashboard",
}

# Routes without a parameter that list brand rows: route → the text of A's rows that A's
# page must show (so that the absence on B's page means something), and extra queries.
LIST_ROUTES: dict[str, tuple[str, tuple[str, ...]]] = {
    "crowds:list": ("{m} crowd", ()),
    "crowds:instances": ("{m} package", ()),
    "crowds:calc": ("{m} part a", ()),
    "openid:list": ("{m} group", ()),
    "campaigns:list": ("{m} activity", ()),
    "campaigns:reach-new": ("{m} part a", ()),
    "campaigns:reaches": ("{m} part a", ()),
    "campaigns:activities": ("{m} activity", ()),
    "campaigns:wechat": ("{m} wechat", ()),
    "reports:overview": ("{m}-part-a", ("?format=csv", "?report_type=exposure&format=csv")),
    "brands:settings": ("{m}_pin", ()),
    "cdp:links": ("{m}.example", ()),
    "cdp_reports:dashboards": ("{m} dashboard", ()),
    "v1:brand-user-list": ("{m}_pin", ()),
    "v1:crowd-list": ("{m} crowd", ()),
    "v1:instance-list": ("{m}-pkg", ()),
    "v1:reach-list": ("{m} sms text", ()),
    "v1:short-link-list": ("{m}.example", ()),
    "v1:activity-list": ("{m} activity", ()),
    "v1:wechat-campaign-list": ("{m} wechat", ()),
    "v1:report-list": ("{m}-part-a", ()),
    "v1:cdp-short-link-list": ("{m}.example", ()),
    "v1:cdp-openid-package-list": ("{m} group", ()),
    "v1:cdp-writeback-list": ("{m} writeback failed", ()),
}

# Brand pages and endpoints that show no brand rows (forms, JD Cloud's or Linkflow's live
# answers for the session's brand, actions): B's answer is still searched for A's data.
OTHER_BRAND_ROUTES = {
    "home": "the workspace home: the brand's name and links",
    "crowds:import": "POST: imports the brand's crowds from JD Cloud",
    "crowds:create": "the condition builder form",
    "crowds:tags": "JD's tag catalog, the same for every brand",
    "campaigns:sms": "the SMS ledger, read live from JD Cloud for the brand",
    "campaigns:activity-new": "the activity form",
    "campaigns:wechat-new": "the WeChat campaign form (JD's templates for the brand)",
    "campaigns:wechat-news": "the brand's WeChat news, read live from JD Cloud",
    "reports:repull": "POST: pulls a day's reports of the brand again",
    "brands:linkflow-save": "POST: the brand's Linkflow connection",
    "brands:linkflow-test": "POST: tests the brand's Linkflow connection",
    "brands:linkflow-disconnect": "POST: removes the brand's Linkflow connection",
    "cdp:index": "a redirect to the groups page",
    "cdp:groups": "the brand's Linkflow groups, read live with its App Key",
    "cdp:tags": "the brand's Linkflow tags, read live with its App Key",
    "v1:me": "the session's user and brand",
    "v1:brand": "the session's brand",
    "v1:brand-linkflow-test": "POST: tests the brand's Linkflow connection",
    "v1:condition-compile": "POST: compiles a condition, no rows",
    "v1:crowd-import-from-jd": "POST: imports the brand's crowds from JD Cloud",
    "v1:instance-calc": "POST: IDs in the body (see REFERENCES)",
    "v1:sms-balance": "read live from JD Cloud for the brand",
    "v1:sms-templates": "read live from JD Cloud for the brand",
    "v1:sms-signatures": "read live from JD Cloud for the brand",
    "v1:sms-recharge": "read live from JD Cloud for the brand",
    "v1:sms-consume": "read live from JD Cloud for the brand",
    "v1:notices": "JD Cloud's notices, the same for every brand",
    "v1:wechat-info": "read live from JD Cloud for the brand",
    "v1:wechat-templates": "read live from JD Cloud for the brand",
    "v1:wechat-news": "read live from JD Cloud for the brand",
    "v1:reach-preflight": "POST: IDs in the body (see REFERENCES)",
    "v1:report-create-report": "POST: IDs in the body (see REFERENCES)",
    "v1:report-pull": "POST: pulls a day's reports of the brand again",
    "v1:report-uplift": "GET with ?split=<ID> (see REFERENCES)",
    "v1:cdp-groups": "the brand's Linkflow groups, read live with its App Key",
    "v1:cdp-tags": "the brand's Linkflow tags, read live with its App Key",
}

# Routes that are not about one brand's data, and why.
NOT_BRAND_SCOPED = {
    "healthz": "the health check",
    "login": "the login page",
    "jdcloud-login": "starts the JD Cloud OAuth login",
    "jdcloud-callback": "ends the JD Cloud OAuth login (state-checked)",
    "logout": "ends the session",
    "set_language": "Django's language switch",
    "jdcloud-master-sync": "ISV callback: token-checked (test_callback_forgeries.py)",
    "jdcloud-master-edit": "ISV callback: token-checked (test_callback_forgeries.py)",
    "jdcloud-free-login": "ISV free login: token-checked (test_callback_forgeries.py)",
    "jdcloud-activity-update": "ISV callback: token-checked (test_callback_forgeries.py)",
    "schema": "the OpenAPI schema",
    "api-docs": "the API documentation page",
    "v1:tag-list": "JD's tag catalog, the same for every brand",
    "v1:tag-detail": "JD's tag catalog, the same for every brand",
    "openid:file": "no session: JD Cloud fetches the file with a signed, expiring token; a "
    "wrong token is a 404 (tests/crowds/test_openid.py)",
}

# IDs sent in a query string or a body rather than the path: B with A's ID must get what
# it gets with a missing ID. (label, method, path, body or None; "{role}" is replaced.)
REFERENCES = [
    ("reach wizard", "GET", "/campaigns/reach/new/?instance={part}", None),
    ("uplift API", "GET", "/api/v1/reports/uplift/?split={instance}", None),
    ("instances by crowd", "GET", "/api/v1/instances/?crowd={crowd}", None),
    ("report rows by package", "GET", "/api/v1/reports/?package_id={part.package_id}", None),
    (
        "report from dashboard",
        "GET",
        "/cdp/reports/?dashboard={linkflow_dashboard.dashboard_id}",
        None,
    ),
    ("report create", "POST", "/api/v1/reports/create/", {"instance": "{part}"}),
    (
        "reach preflight",
        "POST",
        "/api/v1/reaches/preflight/",
        {"instance": "{part}", "type": "SMSPUBLIC", "template_id": "4370"},
    ),
    (
        "reach send",
        "POST",
        "/api/v1/reaches/",
        {"instance": "{part}", "type": "SMSPUBLIC", "template_id": "4370"},
    ),
    (
        "calc API",
        "POST",
        "/api/v1/instances/calc/",
        {"operation": "union", "packages": ["{part}", "{held_out}"], "crowd_name": "x"},
    ),
    (
        "calc page",
        "POST",
        "/crowds/instances/calc/",
        {"operation": "union", "packages": "{part}", "name": "x"},
    ),
    (
        "activity with a reach",
        "POST",
        "/api/v1/activities/",
        {"activity_name": "x", "start_type": "1", "activity_reach_type": "SMS", "reach": "{reach}"},
    ),
]


def value_of(tenant, spec: str):
    role, _, attribute = spec.partition(".")
    return getattr(tenant[role], attribute or "pk")


def routes_by_name() -> dict[str, Route]:
    return {route.name: route for route in portal_routes()}


def shape(response, *references: str, numbers: bool = False) -> tuple:
    """Status, content type and body, with the ID or path asked for blanked out and the
    per-response CSRF token removed."""
    body = response.content.decode("utf-8", "replace")
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', 'name="csrfmiddlewaretoken"', body)
    for reference in references:
        if len(reference) >= 4:
            body = body.replace(reference, "<ref>")
    if numbers:
        body = re.sub(r"\d+", "<n>", body.replace("<ref>", "<n>"))
    content_type = response.get("Content-Type", "").split(";")[0]
    return response.status_code, content_type, body


def send(client, method: str, path: str, body=None):
    if path.startswith("/api/"):
        data = json.dumps(body if body is not None else {})
        return client.generic(method, path, data=data, content_type="application/json")
    if method == "GET":
        return client.get(path)
    if method == "POST":
        return client.post(path, body or {})
    return client.generic(method, path)


def internal_error(response) -> bool:
    """A 500 (or another 5xx than the 502 / 503 that say JD Cloud or Linkflow failed)."""
    return response.status_code >= 500 and response.status_code not in (502, 503)


def foreign_text(response, markers) -> list[str]:
    text = response.content.decode("utf-8", "replace")
    return [m for m in markers if m in text]


# --- The registry is complete ---------------------------------------------------------------


def test_every_route_is_in_the_registry():
    registered = {
        **dict.fromkeys(ID_ROUTES, "id"),
        **dict.fromkeys(REMOTE_ID_ROUTES, "remote id"),
        **dict.fromkeys(LIST_ROUTES, "list"),
        **dict.fromkeys(OTHER_BRAND_ROUTES, "page"),
        **dict.fromkeys(NOT_BRAND_SCOPED, "not brand-scoped"),
    }
    routes = routes_by_name()

    unregistered = sorted(f"{n} ({r.pattern})" for n, r in routes.items() if n not in registered)
    stale = sorted(n for n in registered if n not in routes)
    with_params = sorted(n for n, r in routes.items() if r.params and registered.get(n) == "list")

    assert not unregistered, f"routes to add to the tenant matrix: {unregistered}"
    assert not stale, f"registry entries without a route: {stale}"
    assert not with_params, f"routes with a parameter registered as lists: {with_params}"


def test_every_brand_owned_model_has_rows_of_both_brands(tenants):
    owned = [m for m in brand_owned_models() if m._meta.label not in NOT_BRAND_SCOPED_MODELS]
    rows_a, rows_b = rows_of(tenants.a.brand), rows_of(tenants.b.brand)

    assert len(owned) >= 10
    empty = [m._meta.label for m in owned if not rows_a[m._meta.label] or not rows_b[m._meta.label]]
    assert not empty, f"seed a row of these models in tests/security/tenants.py: {empty}"
    count(SUITE, models=len(owned))


def test_an_unscoped_query_of_every_brand_owned_model_raises(tenants):
    owned = [m for m in brand_owned_models() if m._meta.label not in NOT_BRAND_SCOPED_MODELS]
    unscoped = []
    for model in owned:
        for query in (
            lambda m: list(m._default_manager.all()),
            lambda m: m._default_manager.count(),
        ):
            try:
                query(model)
            except ScopeError:
                continue
            unscoped.append(model._meta.label)
    assert not unscoped, f"brand-owned models readable without a brand scope: {unscoped}"


# --- IDs of another brand ---------------------------------------------------------------------
# Each test walks its whole registry with one seeding (two brands, ~40 rows) and reports
# every failing case at once.


def test_another_brands_id_answers_like_a_missing_id(tenants):
    routes = routes_by_name()
    before = rows_of(tenants.a.brand)
    failures, never_found = [], []

    for name, spec in sorted(ID_ROUTES.items()):
        route = routes[name]
        (param,) = route.params
        theirs = value_of(tenants.a, spec)
        missing = MISSING[type(theirs)]
        found = False
        for query in ID_ROUTE_QUERIES.get(name, ("",)):
            foreign_path = route.path(**{param: theirs}) + query
            missing_path = route.path(**{param: missing}) + query
            for method in METHODS:
                body = BODIES.get(name)
                foreign = send(tenants.client_b, method, foreign_path, body)
                absent = send(tenants.client_b, method, missing_path, body)
                differs = shape(foreign, foreign_path, str(theirs)) != shape(
                    absent, missing_path, str(missing)
                )
                internal = internal_error(foreign)
                count(SUITE, tried=1, leaked=differs, **{"5xx": internal})
                if differs or internal:
                    failures.append(
                        f"{method} {foreign_path}: {foreign.status_code} "
                        f"(missing ID: {absent.status_code}) {foreign.content[:200]!r}"
                    )
                found |= foreign.status_code == absent.status_code == 404
        if not found:
            never_found.append(name)

    assert not failures, "\n".join(failures)
    assert not never_found, f"routes where no method looked the ID up: {never_found}"
    assert rows_of(tenants.a.brand) == before


def test_the_ids_of_the_matrix_are_real(tenants):
    """The other side of the matrix: a GET by the owner of the very same IDs is no 404
    (405 where the route takes only POST; 409 / 502 where JD Cloud or Linkflow is asked),
    and each seeded row opens at least one page or answer (200) of its owner."""
    routes = routes_by_name()
    wrong, opened = [], set()
    for name, spec in sorted(ID_ROUTES.items()):
        route = routes[name]
        (param,) = route.params
        response = tenants.client_a.get(route.path(**{param: value_of(tenants.a, spec)}))
        if response.status_code == 200:
            opened.add(spec.split(".")[0])
        elif response.status_code not in (302, 405, 409, 502):
            wrong.append(f"{name}: {response.status_code}")
    assert not wrong
    rows = {spec.split(".")[0] for spec in ID_ROUTES.values()}
    assert opened == rows, f"IDs no page of their owner opens: {rows - opened}"


def test_another_brands_linkflow_id_shows_none_of_its_rows(tenants):
    routes = routes_by_name()
    before = rows_of(tenants.a.brand)
    failures = []
    for name in sorted(REMOTE_ID_ROUTES):
        route = routes[name]
        (param,) = route.params
        path = route.path(**{param: tenants.a.remote_id})
        for method in METHODS:
            response = send(tenants.client_b, method, path)
            shown = foreign_text(response, tenants.markers(tenants.a))
            internal = internal_error(response)
            count(SUITE, tried=1, leaked=bool(shown), **{"5xx": internal})
            if shown or internal:
                failures.append(f"{method} {path}: {response.status_code} shows {shown}")
    assert not failures, "\n".join(failures)
    assert rows_of(tenants.a.brand) == before


def _fill(value, tenant, *, missing: bool = False):
    """`value` with each "{role}" / "{role.attribute}" replaced by `tenant`'s, or by a
    missing ID of the same type."""
    if isinstance(value, dict):
        return {k: _fill(v, tenant, missing=missing) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, tenant, missing=missing) for v in value]
    if not isinstance(value, str) or "{" not in value:
        return value
    whole = re.fullmatch(r"\{([\w.]+)\}", value)
    if whole:
        real = value_of(tenant, whole[1])
        return MISSING[type(real)] if missing else real
    return re.sub(
        r"\{([\w.]+)\}", lambda m: str(_fill("{" + m[1] + "}", tenant, missing=missing)), value
    )


def test_another_brands_id_in_a_query_or_body_answers_like_a_missing_id(tenants):
    before = rows_of(tenants.a.brand)
    failures = []
    for label, method, template, body in REFERENCES:
        a = tenants.a
        foreign = send(tenants.client_b, method, _fill(template, a), _fill(body, a))
        absent = send(
            tenants.client_b, method, _fill(template, a, missing=True), _fill(body, a, missing=True)
        )
        # The answer may echo the IDs sent ("人群包 [2, 3] 不存在"): numbers compare as such.
        differs = shape(foreign, numbers=True) != shape(absent, numbers=True)
        internal = internal_error(foreign)
        count(SUITE, tried=1, leaked=differs, **{"5xx": internal})
        if differs or internal:
            failures.append(
                f"{label}: {foreign.status_code} {foreign.content[:200]!r} "
                f"(missing ID: {absent.status_code} {absent.content[:200]!r})"
            )
    assert not failures, "\n".join(failures)
    assert rows_of(tenants.a.brand) == before


# --- Lists, exports and charts ------------------------------------------------------------------


def test_a_brands_pages_show_none_of_another_brands_rows(tenants):
    """Every page and endpoint of B without an ID (lists, CSV exports, the charts' data in
    the pages) shows none of A's texts or figures; A's own lists do show them."""
    routes = routes_by_name()
    failures = []
    for name in sorted({*LIST_ROUTES, *OTHER_BRAND_ROUTES}):
        expected, queries = LIST_ROUTES.get(name, ("", ()))
        for query in ("", *queries):
            path = routes[name].path() + query
            theirs = tenants.client_b.get(path)
            shown = foreign_text(theirs, tenants.markers(tenants.a))
            internal = internal_error(theirs)
            count("tenant lists", tried=1, leaked=bool(shown), **{"5xx": internal})
            if shown or internal:
                failures.append(f"B: GET {path}: {theirs.status_code} shows {shown}")
            if expected:
                mine = tenants.client_a.get(path)
                if expected.format(m=tenants.a.marker) not in mine.content.decode():
                    failures.append(f"A: GET {path}: {mine.status_code} lacks A's own rows")
    assert not failures, "\n".join(failures)
