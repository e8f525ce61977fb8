"""A brand user connects Linkflow in Settings (the secret is never shown back), tests the
connection, and browses the workspace's groups."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from brands.models import Brand
from tests.conftest import SANDBOX_LINKFLOW_KEY, SANDBOX_LINKFLOW_SECRET

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def logged_in(live_server, page, client, brand, make_brand_user, control):
    client.force_login(make_brand_user(brand).user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    return brand


def test_connect_linkflow_in_settings_then_browse_groups(live_server, page, screenshot, logged_in):
    page.goto(f"{live_server.url}/settings/")
    status = page.get_by_test_id("linkflow-status")
    expect(status).to_contain_text("未连接")

    form = page.get_by_test_id("linkflow-form")
    form.locator('input[name="app_key"]').fill(SANDBOX_LINKFLOW_KEY)
    form.locator('input[name="app_secret"]').fill(SANDBOX_LINKFLOW_SECRET)
    form.locator('input[name="channel_key"]').fill("udc_portal")
    form.get_by_role("button").click()

    expect(page.locator(".messages li.success")).to_be_visible()
    expect(status).to_contain_text("已连接")
    secret_input = page.get_by_test_id("linkflow-form").locator('input[name="app_secret"]')
    expect(secret_input).to_have_value("")  # write-only: never rendered back
    assert SANDBOX_LINKFLOW_SECRET not in page.content()
    screenshot("linkflow-settings-connected")

    page.get_by_role("button", name="测试连接").click()
    expect(page.locator(".messages li.success")).to_contain_text("令牌")

    brand = Brand.objects.get(pk=logged_in.pk)
    assert brand.linkflow_connected and brand.linkflow_check_error == ""

    page.get_by_role("link", name="Linkflow CDP").first.click()
    expect(page.get_by_test_id("cdp-groups")).to_contain_text("618潜在客户")
    screenshot("linkflow-groups")
