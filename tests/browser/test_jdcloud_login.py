"""A brand user logs in through the sandbox's JD Cloud OAuth page, in a real browser."""

import httpx
import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_MASTER_ID = "63d1f0a3-0b2b-4da3-a35f-007ae0672a10"


def test_login_through_jd_cloud_lands_in_the_chinese_workspace(
    live_server, page, screenshot, sandbox_url, settings, make_brand
):
    httpx.post(f"{sandbox_url}/_control/reset", json={"seed": 1}).raise_for_status()
    settings.JDCLOUD_API_BASE_URL = f"{sandbox_url}/jdcloud"
    settings.JDCLOUD_OAUTH_AUTHORIZE_URL = f"{sandbox_url}/oauth2/authorize"
    settings.JDCLOUD_OAUTH_TOKEN_URL = f"{sandbox_url}/oauth2/token"
    settings.JDCLOUD_OAUTH_USERINFO_URL = f"{sandbox_url}/oauth2/userinfo"
    make_brand(master_id=DEMO_MASTER_ID, name="测试品牌商")

    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url
    page.get_by_role("button", name="使用京东云账号登录").click()

    page.wait_for_url(f"{sandbox_url}/oauth2/authorize*")
    screenshot("sandbox-oauth-authorize")
    page.get_by_role("button", name="demo_brand_pin").click()

    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.locator("h1").inner_text() == "欢迎,测试品牌商"
    assert page.locator("nav.mainnav").inner_text().split() == [
        "人群",
        "营销活动",
        "报表",
        "Linkflow",
        "CDP",
        "设置",
    ]
    screenshot("workspace-after-jdcloud-login")
