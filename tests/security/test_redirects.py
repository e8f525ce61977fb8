"""Open redirects: every parameter the portal redirects to, fed with payloads meant to send
the browser elsewhere. None may leave the allowed hosts: the portal's own host, and for the
free login's `preview_url` the PREVIEW_ALLOWED_HOSTS.

The parameters (found by reading every `redirect(...)` of the portal): the free login's
`preview_url`; `next` of the login page, of the JD Cloud OAuth login (kept in the session
until JD Cloud sends the browser back), of the language switch (and its Referer fallback),
of the admin login, of the logout, of a crowd's "retry sync" and of the reports' "pull
again".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django_scopes import scopes_disabled

from brands.middleware import PREVIEW_SESSION_KEY
from brands.models import BrandUser
from brands.views import NEXT_SESSION_KEY
from crowds.models import Crowd, SyncState
from tests.brands.isv import signed
from tests.security.figures import count

pytestmark = pytest.mark.django_db

SUITE = "open redirects"
PARTNER = "preview.partner.example"  # the PREVIEW_ALLOWED_HOSTS of these tests

# "{host}" is the host the request was made to.
PAYLOADS = [
    "https://evil.com/",
    "http://evil.com",
    "//evil.com",
    "///evil.com",
    "////evil.com/",
    "//evil.com/%2F..",
    "https:evil.com",
    "http:/evil.com",
    "https:/\\evil.com",
    "https:\\\\evil.com",
    "/\\evil.com",
    "\\\\evil.com",
    "\\/evil.com",
    "/\\/evil.com",
    "%2F%2Fevil.com",
    "/%2F%2Fevil.com",
    "%5C%5Cevil.com",
    "/%5Cevil.com",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "java\tscript:alert(1)",
    " javascript:alert(1)",
    "\x01javascript:alert(1)",
    "javascript://{host}/%0Aalert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "ftp://evil.com/",
    "http://{host}@evil.com/",
    "https://{host}:443@evil.com/",
    "http://evil.com\\@{host}/",
    "http://evil.com#@{host}/",
    "http://evil.com?@{host}/",
    "http://{host}%40evil.com/",
    "http://{host}.evil.com/",
    "http://evil.com/{host}",
    "http://evil{host}/",
    "\t//evil.com",
    "\n//evil.com",
    "\r\n//evil.com",
    " //evil.com",
    "/\t/evil.com",
    "/\n/evil.com",
    "/\r/evil.com",
    "//evil.com\x00",
    "\x00//evil.com",
    "https://ｅｖｉｌ.com/",
    "https://evil。com/",
    "http://tеstserver/",  # Cyrillic е
    "http://xn--tstserver-2ye/",
    "http://0x7f000001/",
    "http://2130706433/",
    "http://[::ffff:7f00:1]/",
    "http://localhost/",
    "https://preview.partner.example.evil.com/",
    "https://preview.partner.example@evil.com/",
    "//preview.partner.example@evil.com",
    "https://evil.com/#preview.partner.example",
    "https://evil.com\\.preview.partner.example/",
    "/settings/\r\nLocation: https://evil.com/",
]
SAFE = "/campaigns/"  # honoured everywhere: the control that each parameter is used at all

_C0_AND_SPACE = "".join(chr(c) for c in range(0x21))


def destination(location: str, host: str) -> tuple[str, str]:
    """(scheme, host) a browser would go to for `Location: location` from http://host/:
    leading and trailing C0 controls and spaces dropped, tabs and newlines removed,
    backslashes read as slashes (WHATWG URL parsing of http(s) URLs)."""
    cleaned = re.sub(r"[\t\n\r]", "", location.strip(_C0_AND_SPACE)).replace("\\", "/")
    target = urlsplit(urljoin(f"http://{host}/some/page", cleaned))
    return target.scheme.lower(), (target.hostname or "").lower()


def stays(response, host: str, allowed: set[str]) -> bool:
    if response.status_code not in (301, 302, 303, 307, 308):
        return True  # no redirect at all (refused, or a page)
    scheme, target = destination(response["Location"], host)
    return scheme in ("http", "https") and target in allowed


def run(host: str, allowed: set[str], attempt: Callable[[str], object]) -> None:
    """Every payload through `attempt`, then the safe control; reports all escapes at once."""
    escaped, errors = [], []
    for template in PAYLOADS:
        payload = template.replace("{host}", host)
        response = attempt(payload)
        left = not stays(response, host, allowed)
        count(SUITE, tried=1, left=left, **{"5xx": response.status_code >= 500})
        if left:
            escaped.append(f"{payload!r} → {response['Location']!r}")
        if response.status_code >= 500:
            errors.append(f"{payload!r} → {response.status_code}")
    assert not escaped, "\n".join(escaped)
    assert not errors, "\n".join(errors)
    control = attempt(SAFE)
    assert control.status_code == 302 and control["Location"].endswith(SAFE), control


def test_there_are_enough_payloads():
    assert len(PAYLOADS) >= 30


@pytest.mark.parametrize(
    ("location", "lands_on"),
    [
        ("/campaigns/", ("http", "testserver")),
        ("campaigns/", ("http", "testserver")),
        ("http://testserver/x", ("http", "testserver")),
        ("//evil.com", ("http", "evil.com")),
        ("/\\evil.com", ("http", "evil.com")),
        (" \t//evil.com", ("http", "evil.com")),
        ("/\t/evil.com", ("http", "evil.com")),
        ("http://testserver@evil.com/", ("http", "evil.com")),
        ("https:evil.com", ("https", "")),
        ("javascript:alert(1)", ("javascript", "")),
    ],
)
def test_the_checker_sees_where_a_browser_would_go(location, lands_on):
    assert destination(location, "testserver") == lands_on


# --- Each parameter -------------------------------------------------------------------------


@pytest.fixture
def member(client, brand):
    """A brand user's browser (no password: logged in directly)."""
    with scopes_disabled():
        user = get_user_model().objects.create(username="member_pin")
        BrandUser.objects.create(user=user, brand=brand, pin="member_pin")

    def fresh() -> Client:
        client.logout()
        client.force_login(user)
        return client

    return fresh


def test_the_free_login_preview_url(client, brand, settings):
    settings.PREVIEW_ALLOWED_HOSTS = [PARTNER]

    def attempt(payload):
        client.logout()
        params = signed({"master_id": brand.master_id, "preview_url": payload})
        response = client.get("/JDCloud/master/verify?" + urlencode(params))
        if response.status_code != 302:
            assert PREVIEW_SESSION_KEY not in client.session
        return response

    run("testserver", {"testserver", PARTNER}, attempt)
    assert attempt(f"https://{PARTNER}/act/1")["Location"] == f"https://{PARTNER}/act/1"


def test_the_login_pages_next(member):
    run("testserver", {"testserver"}, lambda p: member().get("/accounts/login/", {"next": p}))


def test_the_logouts_next(member):
    run("testserver", {"testserver"}, lambda p: member().post("/accounts/logout/", {"next": p}))


def test_the_language_switchs_next_and_referer(member):
    def by_next(payload):
        return member().post("/i18n/setlang/", {"language": "en", "next": payload})

    def by_referer(payload):
        answer = member().post("/i18n/setlang/", {"language": "en"}, HTTP_REFERER=payload)
        return answer

    run("testserver", {"testserver"}, by_next)
    run("testserver", {"testserver"}, by_referer)


def test_the_crowd_sync_next(member, brand, control):
    with scopes_disabled():
        crowd = Crowd.objects.create(brand=brand, name="c", sync_state=SyncState.FAILED)
    path = f"/crowds/{crowd.pk}/sync/"
    run("testserver", {"testserver"}, lambda p: member().post(path, {"next": p}))


def test_the_report_repulls_next(member):
    run("testserver", {"testserver"}, lambda p: member().post("/reports/repull/", {"next": p}))


def test_the_admin_logins_next(client, settings, django_user_model):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    django_user_model.objects.create_superuser("root", password="pw-Root-12345")

    def attempt(payload):
        client.logout()
        return client.post(
            "/admin/login/?" + urlencode({"next": payload}),
            {"username": "root", "password": "pw-Root-12345", "next": payload},
        )

    run("testserver", {"testserver"}, attempt)


# --- The JD Cloud OAuth login: `next` kept in the session across the round trip ----------


@pytest.fixture
def portal(settings, sandbox_url, make_brand):
    """A browser on a loopback host (the sandbox accepts loopback redirect URIs), the
    portal pointed at the sandbox, and the sandbox's demo brand."""
    httpx.post(f"{sandbox_url}/_control/reset", json={"seed": 1}).raise_for_status()
    settings.JDCLOUD_API_BASE_URL = f"{sandbox_url}/jdcloud"
    settings.JDCLOUD_OAUTH_AUTHORIZE_URL = f"{sandbox_url}/oauth2/authorize"
    settings.JDCLOUD_OAUTH_TOKEN_URL = f"{sandbox_url}/oauth2/token"
    settings.JDCLOUD_OAUTH_USERINFO_URL = f"{sandbox_url}/oauth2/userinfo"
    make_brand(master_id="63d1f0a3-0b2b-4da3-a35f-007ae0672a10", name="测试品牌商")
    return Client(HTTP_HOST="127.0.0.1")


def oauth_login(portal: Client, next_url: str | None):
    """The whole joint login as a browser does it; the portal's last answer."""
    query = {"next": next_url} if next_url is not None else {}
    authorize = portal.get("/accounts/jdcloud/login/", query)["Location"]
    stored = portal.session.get(NEXT_SESSION_KEY)
    assert stored is not None and not stored.startswith("//"), stored
    parts = urlsplit(authorize)
    approved = httpx.post(
        f"{parts.scheme}://{parts.netloc}{parts.path}?{parts.query}", data={"pin": "demo_brand_pin"}
    )
    back = urlsplit(approved.headers["location"])
    return portal.get(back.path, parse_qs(back.query))


def test_the_jdcloud_logins_next(portal):
    def attempt(payload):
        portal.logout()
        return oauth_login(portal, payload)

    run("127.0.0.1", {"127.0.0.1"}, attempt)
