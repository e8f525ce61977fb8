"""Free login (`GET /JDCloud/master/verify`, spec: 免登跳转活动详情) and its redirect matrix."""

import time
from urllib.parse import urlencode

import pytest

from brands.middleware import PREVIEW_SESSION_KEY
from brands.models import Brand
from tests.brands.isv import signed

pytestmark = pytest.mark.django_db


def free_login_url(params: dict) -> str:
    return "/JDCloud/master/verify?" + urlencode(params)


def follow_link(client, brand, preview_url, **extra):
    params = signed({"master_id": brand.master_id, "preview_url": preview_url})
    return client.get(free_login_url(params), **extra)


def test_a_valid_link_opens_a_preview_session_and_redirects(client, brand):
    response = follow_link(client, brand, "/settings/")

    assert response.status_code == 302
    assert response["Location"] == "/settings/"
    page = client.get("/settings/")
    assert page.status_code == 200
    assert brand.name in page.content.decode()
    assert "只读预览" in page.content.decode()


def test_the_preview_session_cannot_change_anything(client, brand):
    follow_link(client, brand, "/")

    response = client.post("/settings/", {"name": "x"})

    assert response.status_code == 403
    assert "只读" in response.content.decode()


def test_the_preview_session_is_not_an_api_login(client, brand):
    follow_link(client, brand, "/")
    assert client.get("/api/v1/brand/").status_code == 403


def test_the_preview_session_expires(client, brand, settings, monkeypatch):
    settings.PREVIEW_SESSION_SECONDS = 60
    follow_link(client, brand, "/")
    assert client.get("/").status_code == 200

    later = time.time() + 61
    monkeypatch.setattr(time, "time", lambda: later)

    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert PREVIEW_SESSION_KEY not in client.session


def test_following_a_link_replaces_a_logged_in_session(brand_client, brand, other_brand):
    old_key = brand_client.session.session_key
    follow_link(brand_client, other_brand, "/")

    assert brand_client.session.session_key != old_key
    assert other_brand.name in brand_client.get("/settings/").content.decode()


@pytest.mark.parametrize(
    "preview_url",
    [
        "https://evil.com/",
        "//evil.com",
        "///evil.com",
        "https:evil.com",
        "http:/evil.com",
        "/\\evil.com",
        "\\\\evil.com",
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "https://testserver@evil.com/",
        "https://evil.com\\@testserver/",
        "http://testserver.evil.com/",
        "https://evil.com/%2F%2Ftestserver",
        "%2F%2Fevil.com",
        "/%09/evil.com",
        "\t//evil.com",
        "ftp://testserver/",
        "https://tëstserver/",
    ],
)
def test_an_open_redirect_is_refused_and_opens_no_session(client, brand, preview_url):
    response = follow_link(client, brand, preview_url)

    assert response.status_code in (403, 302)
    if response.status_code == 302:  # only ever to our own host, as a relative path
        assert response["Location"].startswith("/") and not response["Location"].startswith("//")
    else:
        assert "预览" in response.content.decode()
        assert PREVIEW_SESSION_KEY not in client.session


def test_a_host_listed_in_preview_allowed_hosts_is_accepted(client, brand, settings):
    settings.PREVIEW_ALLOWED_HOSTS = ["preview.partner.example"]
    response = follow_link(client, brand, "http://preview.partner.example/act/1")
    assert response.status_code == 302
    assert response["Location"] == "http://preview.partner.example/act/1"


def test_a_wrong_token_opens_nothing(client, brand):
    params = signed({"master_id": brand.master_id, "preview_url": "/"})
    params["preview_url"] = "/settings/"
    response = client.get(free_login_url(params))

    assert response.status_code == 403
    assert PREVIEW_SESSION_KEY not in client.session
    assert client.get("/settings/").status_code == 302


def test_a_frozen_or_unknown_brand_opens_nothing(client, make_brand):
    frozen = make_brand(status=Brand.Status.FROZEN)
    assert follow_link(client, frozen, "/").status_code == 403
    params = signed({"master_id": "unknown", "preview_url": "/"})
    assert client.get(free_login_url(params)).status_code == 403
    assert PREVIEW_SESSION_KEY not in client.session
