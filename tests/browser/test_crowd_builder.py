"""A brand user builds a two-group condition in the browser, sees it in words, saves it,
generates a package and watches the page follow the package until it is generated."""

import re

import httpx
import pytest
from django_scopes import scope, scopes_disabled
from playwright.sync_api import expect

from crowds import services
from crowds.models import Crowd, CrowdInstance, InstanceStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SANDBOX_MASTER_ID = "63d1f0a3-0b2b-4da3-a35f-007ae0672a10"


@pytest.fixture
def control(sandbox_url, settings):
    """The sandbox on a manual clock, the portal pointed at it, JD's tag catalog loaded."""
    settings.JDCLOUD_API_BASE_URL = f"{sandbox_url}/jdcloud"
    client = httpx.Client(base_url=f"{sandbox_url}/_control", timeout=10)
    client.post("/reset", json={"seed": 7, "clock": "manual"}).raise_for_status()
    client.post("/config", json={"instance_generation_seconds": 60}).raise_for_status()
    with scopes_disabled():
        services.tag_catalog_refresh()
    yield client
    client.close()


@pytest.fixture
def logged_in(live_server, page, client, make_brand, make_brand_user):
    """The sandbox's brand and a browser logged in as its user."""
    brand = make_brand(master_id=SANDBOX_MASTER_ID, name="测试品牌商")
    client.force_login(make_brand_user(brand).user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    return brand


def rule(page, path: str):
    return page.locator(f'[data-path="{path}"]')


def test_build_save_generate_and_watch_the_package_in_the_browser(
    live_server, page, screenshot, control, logged_in
):
    brand = logged_in
    page.goto(f"{live_server.url}/crowds/new/")
    expect(page.locator("#builder")).to_have_attribute("data-ready", "true")
    page.fill("#id_name", "已婚青年金卡会员")
    page.fill("#id_description", "婚姻、年龄段与店铺会员等级")

    # Group 001: 婚姻状况 = 已婚 and 年龄段 in [16-25岁, 46-55岁]
    page.click("#add-block")
    rule(page, "builder.blocks[0].group").select_option("001")
    rule(page, "builder.blocks[0].items[0].tag").select_option("TAG_020")
    rule(page, "builder.blocks[0].items[0].value").select_option("已婚")
    page.locator('[data-path="builder.blocks[0]"] > .cb-actions .cb-add-rule').click()
    rule(page, "builder.blocks[0].items[1].tag").select_option("TAG_021")
    rule(page, "builder.blocks[0].items[1].op").select_option("in")
    ages = rule(page, "builder.blocks[0].items[1].values")
    ages.get_by_label("16-25岁").check()
    ages.get_by_label("46-55岁").check()
    expect(page.locator("#preview-sentence")).to_have_text("已婚 且 (16-25岁 或 46-55岁)")
    expect(page.locator("#preview-package-type")).to_have_attribute("data-package-type", "1")

    # Group 003 (private domain): 店铺会员等级 is one of […]; an empty choice is an error
    # shown on that very rule until a value is picked.
    page.click("#add-block")
    rule(page, "builder.blocks[1].group").select_option("003")
    rule(page, "builder.blocks[1].items[0].tag").select_option("TAG_102")
    rule(page, "builder.blocks[1].items[0].op").select_option("in")
    error = page.locator('[data-path="builder.blocks[1].items[0]"] > .errors .cb-error')
    expect(error).to_have_count(1)
    expect(rule(page, "builder.blocks[1].items[0].values")).to_have_class(re.compile("invalid"))
    expect(page.locator("#preview-state")).to_have_attribute("data-state", "invalid")
    screenshot("crowd-builder-error")
    rule(page, "builder.blocks[1].items[0].values").get_by_label("金卡会员").check()
    rule(page, "builder.blocks[1].items[0].values").get_by_label("黑卡会员").check()
    expect(error).to_have_count(0)
    expect(page.locator("#preview-state")).to_have_attribute("data-state", "valid")
    expect(page.locator("#preview-sentence")).to_contain_text("已婚 且 (16-25岁 或 46-55岁)")
    expect(page.locator("#preview-sentence")).to_contain_text("金卡会员 或 黑卡会员")
    expect(page.locator("#preview-package-type")).to_have_attribute("data-package-type", "2")
    page.locator("#preview-dsl-details > summary").click()
    expect(page.locator("#preview-dsl")).to_contain_text('"group": "003"')
    page.evaluate("window.scrollTo(0, 0)")  # the preview is sticky: show it beside the top
    screenshot("crowd-builder")

    page.click("#save-crowd")
    page.wait_for_url(re.compile(r"/crowds/\d+/$"))
    with scopes_disabled():
        crowd = Crowd.objects.get(brand=brand)
    assert crowd.sync_state == "synced" and crowd.package_type == 2
    expect(page.locator("#crowd-sentence")).to_contain_text("已婚 且 (16-25岁 或 46-55岁)")
    expect(page.locator("#crowd-search-id")).to_have_text(crowd.search_id)
    screenshot("crowd-detail")

    page.click("#instantiate-crowd")
    page.wait_for_url(re.compile(r"/crowds/instances/\d+/$"))
    with scopes_disabled():
        instance = CrowdInstance.objects.get(crowd=crowd)
    panel = page.locator("#instance")
    status = page.locator('.status-panel [data-field="status"]')
    expect(status).to_have_attribute("data-status", InstanceStatus.GENERATING)
    expect(panel).to_have_attribute("data-live", "on")
    expect(page.locator("#instance-actions")).to_be_hidden()
    # The page asks the portal (never JD) at 1 s, 2 s, 4 s …: wait for its first answer.
    expect(panel).to_have_attribute("data-browser-polls", re.compile(r"[1-9]"))
    screenshot("instance-generating")

    # JD finishes; the poll task (no worker runs in tests) learns it; the page follows.
    control.post("/clock/advance", json={"seconds": 61}).raise_for_status()
    with scope(brand=brand):
        polled = services.instance_poll(instance_id=instance.pk)
    assert polled.status == InstanceStatus.GENERATED

    expect(status).to_have_attribute("data-status", InstanceStatus.GENERATED, timeout=30_000)
    expect(panel).to_have_attribute("data-live", "done")
    expect(page.locator("#instance-size")).to_have_text(str(polled.package_size))
    expect(page.locator("#instance-actions")).to_be_visible()
    expect(page.locator("#split-limit")).to_have_text("1")
    page.locator("#split-form input[name=split_type][value='1']").check()
    expect(page.locator("#split-limit")).not_to_have_text("1")
    screenshot("instance-generated")


def test_split_shows_the_lineage_and_the_catalog_filters_in_the_browser(
    live_server, page, screenshot, control, logged_in
):
    brand = logged_in
    with scope(brand=brand):
        crowd = services.crowd_create(
            brand=brand,
            name="已婚",
            condition={
                "bool": {
                    "must": [
                        {
                            "bool": {
                                "group": "001",
                                "must": [{"term": {"TAG_020": {"value": "已婚"}}}],
                            }
                        }
                    ]
                }
            },
        )
        instance = services.instance_create(crowd=crowd)
        control.post("/clock/advance", json={"seconds": 61}).raise_for_status()
        services.instance_poll(instance_id=instance.pk)

    page.goto(f"{live_server.url}/crowds/instances/{instance.pk}/")
    rows = page.locator("#split-rows .split-row")
    rows.nth(0).locator("input[name=part_name]").fill("触达组")
    rows.nth(0).locator("input[name=part_value]").fill("0.7")
    rows.nth(1).locator("input[name=part_name]").fill("对照组")
    rows.nth(1).locator("input[name=part_value]").fill("0.5")
    expect(page.locator("#split-sum")).to_have_text("1.2")
    expect(page.locator("#split-sum-line")).to_have_class(re.compile("over"))
    rows.nth(0).locator("input[name=part_value]").fill("0.5")
    expect(page.locator("#split-sum-line")).not_to_have_class(re.compile("over"))
    page.locator("#split-form button[type=submit]").click()

    expect(page.locator("#lineage .node")).to_have_count(3)
    expect(page.locator("#lineage .edge")).to_have_count(2)
    expect(page.locator("#lineage .node.current")).to_have_attribute(
        "data-node-id", str(instance.pk)
    )
    screenshot("instance-lineage")
    page.locator("#lineage .node:not(.current)").first.click()
    page.wait_for_url(re.compile(r"/crowds/instances/\d+/$"))
    expect(page.locator("#lineage .node")).to_have_count(2)
    expect(page.locator("#lineage .node").first).to_have_attribute("data-node-id", str(instance.pk))

    page.goto(f"{live_server.url}/crowds/")
    expect(page.locator(f'[data-crowd-id="{crowd.pk}"]')).to_be_visible()
    screenshot("crowd-list")

    page.goto(f"{live_server.url}/crowds/tags/")
    page.fill("#tag-search", "会员等级")
    expect(page.locator('.tag-row[data-tag="TAG_102"]')).to_be_visible()
    expect(page.locator('.tag-row[data-tag="TAG_020"]')).to_be_hidden()
    expect(page.locator('.tag-group[data-group="008"]')).to_be_hidden()
    screenshot("tag-catalog")

    page.goto(f"{live_server.url}/crowds/instances/")
    expect(page.locator(".instance-table tbody tr")).to_have_count(3)
    screenshot("instance-list")

    page.goto(f"{live_server.url}/crowds/instances/calc/")
    expect(page.locator("#calc-exclude")).to_be_hidden()
    page.locator("input[name=operation][value=difference]").check()
    expect(page.locator("#calc-exclude")).to_be_visible()
    screenshot("instance-calc")
