import pytest

pytestmark = pytest.mark.browser


def test_an_administrator_logs_into_the_admin_in_a_real_browser(
    live_server, page, screenshot, admin_user
):
    page.goto(f"{live_server.url}/admin/")
    assert "/admin/login/" in page.url

    page.fill("#id_username", "admin")
    page.fill("#id_password", "password")
    page.click("input[type=submit]")

    page.wait_for_selector("#site-name")
    assert page.url == f"{live_server.url}/admin/"
    assert page.locator("#site-name").inner_text() == "品牌营销门户管理"
    assert page.get_by_role("link", name="接口调用日志").is_visible()
    shot = screenshot("admin-index")
    assert shot.stat().st_size > 10_000


def test_a_brand_user_sees_the_workspace_and_switches_language(
    live_server, page, screenshot, brand, make_brand_user, client
):
    client.force_login(make_brand_user(brand).user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page.goto(f"{live_server.url}/")

    nav = page.locator("nav.mainnav")
    assert nav.inner_text().split() == ["人群", "营销活动", "报表", "Linkflow", "CDP", "设置"]
    screenshot("workspace-zh")

    page.select_option("#language-select", "en")
    page.wait_for_selector("html[lang=en]")
    assert nav.inner_text().split() == [
        "Crowds",
        "Campaigns",
        "Reports",
        "Linkflow",
        "CDP",
        "Settings",
    ]
    screenshot("workspace-en")
