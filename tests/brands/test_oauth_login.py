"""The JD Cloud OAuth 2.0 joint login, round trip against the sandbox over real HTTP."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.test import Client
from django.utils import timezone
from django_scopes import scopes_disabled

from brands.models import Brand, BrandUser

pytestmark = pytest.mark.django_db

DEMO_MASTER_ID = "63d1f0a3-0b2b-4da3-a35f-007ae0672a10"


@pytest.fixture
def portal(settings, sandbox_url):
    """A browser-like client on a loopback host (the sandbox accepts loopback redirect
    URIs), with the portal pointed at the sandbox."""
    httpx.post(f"{sandbox_url}/_control/reset", json={"seed": 1}).raise_for_status()
    settings.JDCLOUD_API_BASE_URL = f"{sandbox_url}/jdcloud"
    settings.JDCLOUD_OAUTH_AUTHORIZE_URL = f"{sandbox_url}/oauth2/authorize"
    settings.JDCLOUD_OAUTH_TOKEN_URL = f"{sandbox_url}/oauth2/token"
    settings.JDCLOUD_OAUTH_USERINFO_URL = f"{sandbox_url}/oauth2/userinfo"
    return Client(HTTP_HOST="127.0.0.1")


@pytest.fixture
def demo_brand(make_brand):
    return make_brand(master_id=DEMO_MASTER_ID, name="测试品牌商")


def start(portal, next_url=None):
    response = portal.get("/accounts/jdcloud/login/", {"next": next_url} if next_url else {})
    assert response.status_code == 302
    return response["Location"]


def approve(authorize_url: str, pin: str) -> str:
    """Pick `pin` on the sandbox's authorize page; returns where JD Cloud sends the browser."""
    parts = urlsplit(authorize_url)
    answer = httpx.post(
        f"{parts.scheme}://{parts.netloc}{parts.path}?{parts.query}", data={"pin": pin}
    )
    assert answer.status_code in (302, 303), answer.text[:300]
    return answer.headers["location"]


def finish(portal, callback_url: str):
    parts = urlsplit(callback_url)
    return portal.get(parts.path, parse_qs(parts.query))


def test_authorize_request_carries_state_and_pkce(portal):
    query = parse_qs(urlsplit(start(portal)).query)

    assert query["response_type"] == ["code"]
    assert query["client_id"] == ["test-client"]
    assert query["state"][0]
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert query["redirect_uri"] == ["http://127.0.0.1/accounts/jdcloud/callback/"]


@pytest.mark.parametrize("auth_method", ["client_secret_basic", "client_secret_post"])
def test_round_trip_logs_the_pin_into_its_brand(portal, demo_brand, settings, auth_method):
    settings.JDCLOUD_OAUTH_TOKEN_AUTH_METHOD = auth_method
    before = portal.session.session_key

    response = finish(portal, approve(start(portal, next_url="/settings/"), "demo_brand_pin"))

    assert response.status_code == 302 and response["Location"] == "/settings/"
    assert portal.session.session_key != before
    with scopes_disabled():
        brand_user = BrandUser.objects.get(pin="demo_brand_pin")
    assert brand_user.brand == demo_brand
    page = portal.get("/")
    assert page.status_code == 200 and "欢迎,测试品牌商" in page.content.decode()


def test_second_login_reuses_the_brand_user(portal, demo_brand):
    finish(portal, approve(start(portal), "demo_brand_pin"))
    portal.logout()
    finish(portal, approve(start(portal), "demo_brand_pin"))
    with scopes_disabled():
        assert BrandUser.objects.filter(pin="demo_brand_pin").count() == 1


def test_a_state_mismatch_is_refused(portal, demo_brand):
    callback = approve(start(portal), "demo_brand_pin")
    forged = callback.replace("state=", "state=forged")

    response = finish(portal, forged)

    assert response.status_code == 403
    assert "登录失败" in response.content.decode()
    assert "_auth_user_id" not in portal.session


def test_a_callback_from_another_browser_is_refused(portal, demo_brand):
    callback = approve(start(portal), "demo_brand_pin")
    stranger = Client(HTTP_HOST="127.0.0.1")

    assert finish(stranger, callback).status_code == 403
    assert "_auth_user_id" not in stranger.session


def test_a_pin_that_is_not_a_brand_is_refused(portal, demo_brand):
    response = finish(portal, approve(start(portal), "somebody_else"))

    assert response.status_code == 403
    assert "不是本门户的品牌商" in response.content.decode()
    assert "_auth_user_id" not in portal.session


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"status": Brand.Status.FROZEN}, "已被京东云冻结"),
        ({"expire_time": timezone.now() - timedelta(days=1)}, "到期"),
    ],
    ids=["frozen", "expired"],
)
def test_a_frozen_or_expired_brand_is_refused(portal, demo_brand, fields, reason):
    Brand.objects.filter(pk=demo_brand.pk).update(**fields)

    response = finish(portal, approve(start(portal), "demo_brand_pin"))

    assert response.status_code == 403
    assert reason in response.content.decode()
    assert "_auth_user_id" not in portal.session


def test_a_brand_not_yet_synced_is_explained(portal):
    response = finish(portal, approve(start(portal), "demo_brand_pin"))
    assert response.status_code == 403
    assert "尚未同步" in response.content.decode()


def test_the_login_page_has_the_one_jd_cloud_button(client):
    page = client.get("/accounts/login/").content.decode()
    assert "使用京东云账号登录" in page
    assert 'action="/accounts/jdcloud/login/"' in page
