"""Sessions: the free-login preview session is read-only on every route and ends at its
deadline (a controlled clock); every login (JD Cloud OAuth, free login, admin) gives a new
session key and a new CSRF token, so that nothing planted before it survives."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
import time_machine
from django.conf import settings as django_settings
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client

from brands.middleware import PREVIEW_SESSION_KEY
from tests.brands.isv import signed
from tests.security.figures import count
from tests.security.routes import portal_routes
from tests.security.tenants import rows_of
from tests.security.test_tenant_matrix import ID_ROUTES, REMOTE_ID_ROUTES, value_of

pytestmark = pytest.mark.django_db

WRITES = ("POST", "PUT", "PATCH", "DELETE")
# What a preview session may still do (brands.middleware: _PREVIEW_WRITABLE).
PREVIEW_WRITABLE = {"set_language", "logout"}


def follow_free_login(client: Client, brand, preview_url: str = "/"):
    params = signed({"master_id": brand.master_id, "preview_url": preview_url})
    response = client.get("/JDCloud/master/verify?" + urlencode(params))
    assert response.status_code == 302, response.content[:300]
    return response


def cookie(client: Client, name: str) -> str | None:
    morsel = client.cookies.get(name)
    return morsel.value if morsel is not None and morsel.value else None


def plant_session(client: Client) -> str:
    """A session an attacker could have made this browser use (session fixation)."""
    store = SessionStore()
    store["planted"] = True
    store.create()
    client.cookies[django_settings.SESSION_COOKIE_NAME] = store.session_key
    return store.session_key


def csrf_token_of(client: Client, page: str = "/accounts/login/") -> str:
    """The browser's CSRF cookie, after a page with a form has set it."""
    client.get(page)
    token = cookie(client, django_settings.CSRF_COOKIE_NAME)
    assert token
    return token


# --- The preview session is read-only -----------------------------------------------------


def _path(route, tenant) -> str:
    if not route.params:
        return route.path()
    (param,) = route.params
    if route.name in ID_ROUTES:
        return route.path(**{param: value_of(tenant, ID_ROUTES[route.name])})
    if route.name in REMOTE_ID_ROUTES:
        return route.path(**{param: tenant.remote_id})
    return route.path(**{param: 1})


def test_a_preview_session_changes_nothing_on_any_route(tenants):
    """Every route of the UI and the API, every writing method, on the previewed brand's
    own objects: refused (403) before any view runs; nothing written."""
    preview = Client()
    follow_free_login(preview, tenants.a.brand)
    before = (rows_of(tenants.a.brand), rows_of(tenants.b.brand))
    accepted = []

    for route in portal_routes():
        if route.name in PREVIEW_WRITABLE:
            continue
        path = _path(route, tenants.a)
        for method in WRITES:
            response = preview.generic(method, path, data="{}", content_type="application/json")
            refused = response.status_code == 403
            count("preview read-only", tried=1, accepted=not refused)
            if not refused:
                accepted.append(f"{method} {path}: {response.status_code}")

    assert not accepted, "\n".join(accepted)
    assert (rows_of(tenants.a.brand), rows_of(tenants.b.brand)) == before
    assert PREVIEW_SESSION_KEY in preview.session  # it was a preview session all along


def test_a_preview_session_reads_only_its_brand(tenants):
    """What a preview session may read (pages, and the API reads that pages poll) is the
    previewed brand's: none of the other brand's texts or figures, and no 500."""
    preview = Client()
    follow_free_login(preview, tenants.a.brand)
    theirs = tenants.markers(tenants.b)
    shown = []
    for route in portal_routes():
        path = _path(route, tenants.a)
        response = preview.get(path)
        text = response.content.decode("utf-8", "replace")
        leaked = [m for m in theirs if m in text]
        count("preview read-only", **{"reads tried": 1, "reads leaked": bool(leaked)})
        if leaked or response.status_code == 500:
            shown.append(f"GET {path}: {response.status_code} {leaked}")
    assert not shown, "\n".join(shown)


def test_a_preview_session_may_switch_language_and_log_out(client, brand):
    follow_free_login(client, brand)

    assert client.post("/i18n/setlang/", {"language": "en", "next": "/"}).status_code == 302
    assert client.get("/settings/").status_code == 200
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/settings/").status_code == 302  # to the login page


# --- The preview session ends at its deadline ---------------------------------------------

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("save_every_request", [False, True], ids=["quiet", "saved-each-time"])
def test_a_preview_session_ends_at_its_deadline_however_it_is_used(
    client, brand, settings, save_every_request
):
    """The deadline is absolute: using the session, even re-saving it on every request
    (which slides the database expiry), does not extend it."""
    settings.PREVIEW_SESSION_SECONDS = 120
    settings.SESSION_SAVE_EVERY_REQUEST = save_every_request
    with time_machine.travel(START, tick=False) as clock:
        follow_free_login(client, brand)
        for elapsed in (30, 60, 90, 119):
            clock.move_to(START.timestamp() + elapsed)
            assert client.get("/settings/").status_code == 200, elapsed

        clock.move_to(START.timestamp() + 121)
        response = client.get("/settings/")

        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
        assert PREVIEW_SESSION_KEY not in client.session
        assert client.get("/api/v1/me/").status_code == 403
    count("preview expiry", tried=1, **{"ended on time": 1})


# --- Every login rotates the session key and the CSRF token ---------------------------------


def assert_rotated(client: Client, planted: str, csrf_before: str) -> None:
    session_after = cookie(client, django_settings.SESSION_COOKIE_NAME)
    csrf_after = cookie(client, django_settings.CSRF_COOKIE_NAME)
    assert session_after and session_after != planted
    assert not SessionStore().exists(planted)  # the planted session is gone, not just left
    assert csrf_after and csrf_after != csrf_before
    count("login rotation", tried=1, rotated=1)


def test_the_free_login_rotates_the_session_and_the_csrf_token(client, brand):
    csrf_before = csrf_token_of(client)
    planted = plant_session(client)

    follow_free_login(client, brand)

    assert_rotated(client, planted, csrf_before)
    assert "planted" not in client.session


def test_the_free_login_replaces_a_logged_in_session(brand_client, brand, other_brand):
    csrf_before = csrf_token_of(brand_client, "/settings/")
    logged_in = cookie(brand_client, django_settings.SESSION_COOKIE_NAME)

    follow_free_login(brand_client, other_brand)

    assert_rotated(brand_client, logged_in, csrf_before)
    assert "_auth_user_id" not in brand_client.session


def test_the_admin_login_rotates_the_session_and_the_csrf_token(settings, django_user_model):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    django_user_model.objects.create_superuser("root", password="pw-Root-12345")
    browser = Client(enforce_csrf_checks=True)
    csrf_before = csrf_token_of(browser)
    planted = plant_session(browser)

    response = browser.post(
        "/admin/login/?next=/admin/",
        {"username": "root", "password": "pw-Root-12345", "csrfmiddlewaretoken": csrf_before},
    )

    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert_rotated(browser, planted, csrf_before)


def test_the_jdcloud_login_rotates_the_session_and_the_csrf_token(
    settings, sandbox_url, make_brand
):
    httpx.post(f"{sandbox_url}/_control/reset", json={"seed": 1}).raise_for_status()
    settings.JDCLOUD_API_BASE_URL = f"{sandbox_url}/jdcloud"
    settings.JDCLOUD_OAUTH_AUTHORIZE_URL = f"{sandbox_url}/oauth2/authorize"
    settings.JDCLOUD_OAUTH_TOKEN_URL = f"{sandbox_url}/oauth2/token"
    settings.JDCLOUD_OAUTH_USERINFO_URL = f"{sandbox_url}/oauth2/userinfo"
    make_brand(master_id="63d1f0a3-0b2b-4da3-a35f-007ae0672a10", name="测试品牌商")
    browser = Client(HTTP_HOST="127.0.0.1")
    csrf_before = csrf_token_of(browser)
    planted = plant_session(browser)

    authorize = urlsplit(browser.get("/accounts/jdcloud/login/")["Location"])
    # The OAuth state went into the planted session: the login must not keep using it.
    assert cookie(browser, django_settings.SESSION_COOKIE_NAME) == planted
    approved = httpx.post(
        f"{authorize.scheme}://{authorize.netloc}{authorize.path}?{authorize.query}",
        data={"pin": "demo_brand_pin"},
    )
    back = urlsplit(approved.headers["location"])
    response = browser.get(back.path, parse_qs(back.query))

    assert response.status_code == 302
    assert "_auth_user_id" in browser.session
    assert_rotated(browser, planted, csrf_before)
