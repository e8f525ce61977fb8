"""WeChat openId packages from Linkflow groups: the build (streamed, filtered to the brand's
official account, deduplicated, resumable, failing visibly), the signed file JD Cloud
fetches, the pages and API, and a WeChat campaign of pack_type 3 sending `pack_path`."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import httpx
import pytest
import respx
import time_machine
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from brands.linkflow import linkflow_for
from campaigns.models import WechatCampaign, WechatOpenIdAudience
from campaigns.services import wechat as wechat_services
from crowds import openid, openid_tasks
from crowds.linkflow_models import OpenIdPackage
from tests.conftest import SANDBOX_LINKFLOW_KEY, SANDBOX_LINKFLOW_SECRET
from tests.crowds.sandboxed import SANDBOX_MASTER_ID

pytestmark = pytest.mark.django_db

CHANNEL_ID = "wx5a39a02868a39999"  # the sandbox workspace's official account
Status = OpenIdPackage.Status


@pytest.fixture(autouse=True)
def package_root(settings, tmp_path):
    settings.OPENID_PACKAGE_ROOT = tmp_path / "openid"
    settings.PORTAL_BASE_URL = "https://portal.example.test"
    return settings.OPENID_PACKAGE_ROOT


@pytest.fixture
def lf_brand(make_brand, control):
    """The sandbox's JD brand, connected to the sandbox's Linkflow workspace, in scope."""
    brand = make_brand(
        master_id=SANDBOX_MASTER_ID,
        name="测试品牌商",
        linkflow_app_key=SANDBOX_LINKFLOW_KEY,
        linkflow_app_secret=SANDBOX_LINKFLOW_SECRET,
        linkflow_channel_key="udc_portal",
        wechat_app_id=CHANNEL_ID,
    )
    with scope(brand=brand):
        yield brand


def group_id(brand, name: str) -> int:
    (group,) = [g for g in linkflow_for(brand).groups(name=name) if g["name"] == name]
    return group["id"]


def expected_open_ids(brand, group: int) -> list[str]:
    """The group's openIds read another way: each member's identities."""
    client = linkflow_for(brand)
    found = []
    for member in client.iter_group_members(group_id=group):
        for identity in client.contact_identities(contact_id=member["contact"]["id"]):
            if identity["type"] == "wechat.openId":
                found.append(identity["id"])
    return found


def build(package: OpenIdPackage, *, budget: float = 600) -> OpenIdPackage:
    outcome = openid.openid_package_build(package_id=package.pk, budget_seconds=budget)
    return outcome.package


def lines(package: OpenIdPackage) -> list[str]:
    return [open_id for open_id, _end in openid.openid_lines(package)]


def make_package(brand, name="618潜在客户"):
    return openid.openid_package_create(brand=brand, group_id=group_id(brand, name))


# --- Building against the sandbox ------------------------------------------------------------


def test_a_package_holds_the_groups_openids_for_the_brands_account(lf_brand):
    package = make_package(lf_brand)
    assert (package.status, package.group_name, package.wechat_app_id) == (
        Status.BUILDING,
        "618潜在客户",
        CHANNEL_ID,
    )

    package = build(package)

    expected = expected_open_ids(lf_brand, package.group_id)
    assert package.status == Status.READY and package.error == ""
    assert package.members_seen == 120
    assert 0 < package.count == len(expected) < 120  # some contacts have no openId
    assert lines(package) == expected
    assert package.file.name == f"{lf_brand.pk}/{package.pk}-1.txt"
    root = openid.openid_package_root()
    leftovers = sorted(str(p.relative_to(root)) for p in root.rglob("*"))
    assert leftovers == [str(lf_brand.pk), package.file.name]  # working files gone


def test_another_official_account_gets_an_empty_package(lf_brand):
    lf_brand.wechat_app_id = "wx0000000000000000"
    lf_brand.save()

    package = build(make_package(lf_brand))

    assert (package.status, package.count, package.members_seen) == (Status.READY, 0, 120)
    assert lines(package) == []


def test_a_big_group_is_built_in_slices_that_resume_where_they_stopped(lf_brand):
    package = make_package(lf_brand, "全量会员")  # 1000 members: two pages of 500

    first = openid.openid_package_build(package_id=package.pk, budget_seconds=0)
    assert first.more and first.package.status == Status.BUILDING
    assert first.package.members_seen == 500
    second = openid.openid_package_build(package_id=package.pk, budget_seconds=0)
    assert second.more and second.package.members_seen == 1000
    third = openid.openid_package_build(package_id=package.pk, budget_seconds=0)

    assert not third.more and third.package.status == Status.READY
    built = lines(third.package)
    assert built == expected_open_ids(lf_brand, package.group_id)
    assert len(built) == len(set(built)) == third.package.count


def test_an_outage_mid_build_resumes_without_losing_or_repeating(lf_brand, control):
    package = make_package(lf_brand, "全量会员")
    openid.openid_package_build(package_id=package.pk, budget_seconds=0)  # first page
    # Every attempt of the next bulk read fails (the client retries reads 3 times).
    control.post(
        "/faults",
        json={"path": "linkflow:/open/contacts_bulk", "kind": "http_error", "times": 3},
    ).raise_for_status()

    with pytest.raises(openid.LinkflowError):
        openid.openid_package_build(package_id=package.pk)
    package.refresh_from_db()
    assert (package.status, package.members_seen, package.lease_id) == (Status.BUILDING, 500, "")

    package = build(package)

    assert package.status == Status.READY
    assert lines(package) == expected_open_ids(lf_brand, package.group_id)


def test_bytes_a_crash_left_after_the_last_commit_are_dropped(lf_brand):
    package = make_package(lf_brand, "全量会员")
    openid.openid_package_build(package_id=package.pk, budget_seconds=0)
    partial = openid.openid_package_root() / f"{lf_brand.pk}/{package.pk}-1.txt.partial"
    with open(partial, "ab") as half_written:
        half_written.write(b"oHALF_A_PAGE_THAT_WAS_NEVER_COMMITTED\noAND")

    package = build(package)

    assert lines(package) == expected_open_ids(lf_brand, package.group_id)


def test_a_duplicate_run_does_nothing_while_the_lease_is_held(lf_brand, monkeypatch):
    package = make_package(lf_brand)
    OpenIdPackage.objects.filter(pk=package.pk).update(
        lease_id="another-run", lease_until=timezone.now() + timedelta(minutes=5)
    )

    outcome = openid.openid_package_build(package_id=package.pk)

    assert not outcome.more and outcome.package.status == Status.BUILDING
    assert outcome.package.members_seen == 0
    assert openid.openid_packages_stalled() == []
    resumed = []
    monkeypatch.setattr(openid_tasks.build_openid_package, "delay", lambda **kw: resumed.append(kw))
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        assert openid.openid_packages_stalled() == [(package.pk, lf_brand.pk)]
        assert openid_tasks.resume_stalled_openid_builds() == 1
    assert resumed == [{"package_id": package.pk, "brand_id": lf_brand.pk}]


def test_a_deleted_group_fails_the_package_with_linkflows_reason(lf_brand):
    package = make_package(lf_brand)
    linkflow_for(lf_brand).group_delete(group_id=package.group_id)

    status = openid_tasks.build_openid_package(package_id=package.pk, brand_id=lf_brand.pk)

    package.refresh_from_db()
    assert status == Status.FAILED == package.status
    assert "B00008" in package.error
    assert not package.file
    assert list(openid.openid_package_root().rglob("*.partial")) == []
    assert list(openid.openid_package_root().rglob("*.sqlite3")) == []


def test_an_outage_is_retried_then_fails_the_package(lf_brand, control):
    package = make_package(lf_brand)
    control.post(
        "/faults",
        json={"path": "linkflow:/open/groups/{groupId}/contacts", "kind": "http_error"},
    ).raise_for_status()

    result = openid_tasks.build_openid_package.apply(
        kwargs={"package_id": package.pk, "brand_id": lf_brand.pk}
    )

    package.refresh_from_db()
    assert result.result == Status.FAILED == package.status
    assert "/open/groups/{groupId}/contacts" in package.error
    journal = control.get(
        "/requests", params={"path": f"/linkflow/open/groups/{package.group_id}/contacts"}
    ).json()
    # 1 + 5 task runs, each read tried 3 times by the client
    assert len(journal["requests"]) == 18


def test_a_failed_package_is_built_again_as_a_new_attempt(
    lf_brand, django_capture_on_commit_callbacks
):
    package = make_package(lf_brand)
    openid.openid_package_fail(package_id=package.pk, attempt=1, reason="Linkflow down")
    package.refresh_from_db()
    assert openid.openid_package_can_restart(package)

    with django_capture_on_commit_callbacks() as enqueued:
        package = openid.openid_package_restart(package=package)
    package = build(package)

    assert len(enqueued) == 1
    assert (package.status, package.attempt, package.error) == (Status.READY, 2, "")
    assert package.file.name.endswith(f"{package.pk}-2.txt")
    with pytest.raises(openid.OpenIdPackageRefused):
        openid.openid_package_restart(package=package)


def test_creating_needs_the_official_account_and_an_existing_group(lf_brand):
    with pytest.raises(openid.OpenIdPackageRefused) as unknown:
        openid.openid_package_create(brand=lf_brand, group_id=987654)
    lf_brand.wechat_app_id = ""
    with pytest.raises(openid.OpenIdPackageRefused) as no_account:
        openid.openid_package_create(brand=lf_brand, group_id=100)

    assert unknown.value.field == "group_id"
    assert no_account.value.field == "wechat_app_id"
    assert not OpenIdPackage.objects.exists()


def test_creating_enqueues_the_build_after_commit(
    lf_brand, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    monkeypatch.setattr(
        openid_tasks.build_openid_package, "apply_async", lambda **kw: sent.append(kw)
    )

    with django_capture_on_commit_callbacks(execute=True):
        package = make_package(lf_brand)

    assert sent == [
        {"kwargs": {"package_id": package.pk, "brand_id": lf_brand.pk}, "countdown": None}
    ]


# --- Filtering and dedupe, at the transport level ---------------------------------------------

BASE = "https://linkflow.respx.test"


def contact(contact_id: int, *open_ids: tuple[str, str]) -> dict:
    return {
        "id": contact_id,
        "name": f"c{contact_id}",
        "openIds": [{"channelId": c, "channelName": "x", "openId": o} for c, o in open_ids],
    }


@respx.mock
def test_only_the_brands_account_is_kept_and_each_openid_once(make_brand, settings):
    settings.LINKFLOW_API_BASE_URL = BASE
    brand = make_brand(
        linkflow_app_key="respx-openid-key",
        linkflow_app_secret="s",
        wechat_app_id="wxA",
    )
    respx.get(f"{BASE}/token").mock(
        return_value=httpx.Response(200, json={"token": "t", "expiration": "2099-01-01 00:00:00"})
    )
    respx.get(f"{BASE}/open/groups").mock(
        return_value=httpx.Response(200, json=[{"id": 5, "name": "VIP"}])
    )
    members = respx.get(f"{BASE}/open/groups/5/contacts").mock(
        side_effect=[
            httpx.Response(200, json=[{"memberId": m, "contact": {"id": m}} for m in (1, 2, 3, 4)]),
        ]
    )
    bulk = respx.get(f"{BASE}/open/contacts_bulk").mock(
        return_value=httpx.Response(
            200,
            json=[
                contact(1, ("wxA", "oAAA1"), ("wxB", "oBBB1")),
                contact(2, ("wxB", "oBBB2")),
                contact(3, ("wxA", "oAAA1"), ("wxA", "bad id")),  # a repeat, and not an id
                contact(4, ("wxA", "oAAA4")),
            ],
        )
    )
    with scope(brand=brand):
        package = build(openid.openid_package_create(brand=brand, group_id=5))

        assert (package.status, package.count, package.members_seen) == (Status.READY, 2, 4)
        assert lines(package) == ["oAAA1", "oAAA4"]
    assert members.call_count == 1  # a short page ends the walk
    assert bulk.calls.last.request.url.params["needOpenId"] == "1"
    assert bulk.calls.last.request.url.params["ids"] == "1,2,3,4"


# --- The signed file --------------------------------------------------------------------------


@pytest.fixture
def ready_package(lf_brand):
    return build(make_package(lf_brand))


def test_the_file_is_served_by_its_signed_link_without_a_session(client, ready_package):
    url = openid.openid_pack_url(ready_package)

    assert url.startswith("https://portal.example.test/crowds/openid/files/")
    response = client.get(urlsplit(url).path)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    body = b"".join(response.streaming_content).decode()
    assert body.splitlines() == lines(ready_package)


def test_a_wrong_or_expired_link_is_a_404(client, ready_package):
    path = urlsplit(openid.openid_pack_url(ready_package)).path
    tampered = path.replace("/openids.txt", "x/openids.txt")

    assert client.get(tampered).status_code == 404
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        assert client.get(path).status_code == 404
    with time_machine.travel(timezone.now() + timedelta(days=6)):
        assert client.get(path).status_code == 200


def test_a_link_can_live_longer_for_a_late_campaign(client, ready_package):
    until = timezone.now() + timedelta(days=20)
    path = urlsplit(openid.openid_pack_url(ready_package, valid_until=until)).path

    with time_machine.travel(until - timedelta(minutes=1)):
        assert client.get(path).status_code == 200
    with time_machine.travel(until + timedelta(minutes=1)):
        assert client.get(path).status_code == 404


def test_a_link_to_a_package_built_again_stops_working(client, ready_package):
    path = urlsplit(openid.openid_pack_url(ready_package)).path
    OpenIdPackage.objects.filter(pk=ready_package.pk).update(attempt=2)

    assert client.get(path).status_code == 404


# --- A WeChat campaign to the package (pack_type 3) -------------------------------------------

TEMPLATE_ID = "iHxQJL1oep3kb2EVX94-T4zQeVVihfdNGXapx4tS0oU"  # in the sandbox's catalog


def wechat_campaign(brand, **overrides) -> WechatCampaign:
    now = timezone.now()
    fields = {
        "brand": brand,
        "name": "会员日提醒",
        "activity_type": 3,
        "pack_type": 3,
        "template_id": TEMPLATE_ID,
        "template_data": [{"name": "first", "value": "京东云ECRM通知"}],
        "send_time": now,
        "begin_time": now,
        "end_time": now + timedelta(days=1),
    }
    return wechat_services.wechat_campaign_create(**{**fields, **overrides})


def test_a_wechat_campaign_to_the_package_sends_its_signed_pack_path(client, ready_package):
    brand = ready_package.brand

    campaign = wechat_campaign(brand, openid_package=ready_package)

    assert campaign.jd_activity_id and campaign.sync_error == ""
    assert WechatOpenIdAudience.objects.get(campaign=campaign).package == ready_package
    info = wechat_services._client(brand.pk).activity_wx_activity_info(
        master_id=brand.master_id, activity_id=campaign.jd_activity_id
    )
    assert info.pack_type == 3
    assert info.pack_path.startswith("https://portal.example.test/crowds/openid/files/")
    assert info.pack_name == "Linkflow 618潜在客户"
    fetched = client.get(urlsplit(info.pack_path).path)  # what JD would download
    assert b"".join(fetched.streaming_content).decode().splitlines() == lines(ready_package)


@pytest.mark.parametrize("problem", ["missing", "building", "empty", "other_brand", "wrong_type"])
def test_pack_type_3_is_refused_without_a_usable_package(ready_package, make_brand, problem):
    brand = ready_package.brand
    fields = {"openid_package": ready_package}
    if problem == "missing":
        fields = {}
    elif problem == "building":
        OpenIdPackage.objects.filter(pk=ready_package.pk).update(status=Status.BUILDING)
        ready_package.refresh_from_db()
    elif problem == "empty":
        OpenIdPackage.objects.filter(pk=ready_package.pk).update(count=0)
        ready_package.refresh_from_db()
    elif problem == "other_brand":
        with scopes_disabled():
            fields["openid_package"] = OpenIdPackage.objects.create(
                brand=make_brand(),
                group_id=1,
                group_name="x",
                wechat_app_id="wx",
                count=5,
                status=Status.READY,
            )
    elif problem == "wrong_type":
        fields["pack_type"] = 1

    with pytest.raises(wechat_services.WechatInputError) as refused:
        wechat_campaign(brand, **fields)

    assert [v.path for v in refused.value.violations] == ["openid_package"]
    assert not WechatCampaign.objects.exists()


# --- Pages and API ----------------------------------------------------------------------------


@pytest.fixture
def lf_client(client, lf_brand, make_brand_user):
    client.force_login(make_brand_user(lf_brand).user)
    return client


def test_the_list_page_preselects_the_group_of_the_link(lf_client, lf_brand):
    group = group_id(lf_brand, "关注用户")

    page = lf_client.get(f"/crowds/openid/?group={group}")

    assert page.status_code == 200
    assert f'<option value="{group}" selected>' in page.content.decode()
    assert CHANNEL_ID in page.content.decode()


def test_the_page_builds_a_package_and_shows_it(
    lf_client, lf_brand, django_capture_on_commit_callbacks
):
    group = group_id(lf_brand, "618潜在客户")

    with django_capture_on_commit_callbacks() as enqueued:
        response = lf_client.post("/crowds/openid/", {"group_id": group})
    package = OpenIdPackage.objects.get()
    build(package)
    detail = lf_client.get(f"/crowds/openid/{package.pk}/")

    assert response.status_code == 302 and response["Location"] == f"/crowds/openid/{package.pk}/"
    assert len(enqueued) == 1
    assert detail.status_code == 200
    assert f"/campaigns/wechat/new/?openid_package={package.pk}" in detail.content.decode()


def test_the_page_names_a_missing_group(lf_client):
    response = lf_client.post("/crowds/openid/", {"group_id": 987654})

    assert response.status_code == 400
    assert not OpenIdPackage.objects.exists()


def test_the_wechat_form_offers_the_package_from_its_link(lf_client, ready_package, control):
    page = lf_client.get(f"/campaigns/wechat/new/?openid_package={ready_package.pk}")

    html = page.content.decode()
    assert page.status_code == 200
    assert 'name="pack_type" value="3" checked' in html
    assert f'<option value="{ready_package.pk}" selected>' in html


def test_another_brands_package_is_a_404(lf_client, make_brand):
    with scopes_disabled():
        theirs = OpenIdPackage.objects.create(
            brand=make_brand(), group_id=1, group_name="x", wechat_app_id="wx"
        )

    assert lf_client.get(f"/crowds/openid/{theirs.pk}/").status_code == 404
    assert lf_client.get(f"/api/v1/cdp/openid-packages/{theirs.pk}/").status_code == 404
    assert lf_client.post(f"/api/v1/cdp/openid-packages/{theirs.pk}/rebuild/").status_code == 404


def test_api_creates_lists_and_rebuilds(lf_client, lf_brand):
    group = group_id(lf_brand, "618潜在客户")

    created = lf_client.post(
        "/api/v1/cdp/openid-packages/", {"group_id": group}, content_type="application/json"
    )
    package = OpenIdPackage.objects.get()
    busy = lf_client.post(f"/api/v1/cdp/openid-packages/{package.pk}/rebuild/")
    build(package)
    listed = lf_client.get("/api/v1/cdp/openid-packages/")
    shown = lf_client.get(f"/api/v1/cdp/openid-packages/{package.pk}/")

    assert created.status_code == 201
    assert created.json()["status"] == "building" and created.json()["group_id"] == group
    assert busy.status_code == 409
    assert [p["id"] for p in listed.json()["results"]] == [package.pk]
    assert shown.json()["status"] == "ready" and shown.json()["count"] > 0


def test_api_refusals(lf_client, lf_brand):
    missing = lf_client.post(
        "/api/v1/cdp/openid-packages/", {"group_id": 987654}, content_type="application/json"
    )
    bad = lf_client.post(
        "/api/v1/cdp/openid-packages/", {"group_id": "x"}, content_type="application/json"
    )
    lf_brand.linkflow_app_key = ""
    lf_brand.save()
    not_connected = lf_client.post(
        "/api/v1/cdp/openid-packages/", {"group_id": 100}, content_type="application/json"
    )

    assert missing.status_code == 400
    assert missing.json()["errors"][0]["path"] == "group_id"
    assert bad.status_code == 400 and bad.json()["errors"][0]["path"] == "group_id"
    assert not_connected.status_code == 409


def test_the_list_page_says_why_without_linkflow(brand_client, brand):
    page = brand_client.get("/crowds/openid/?group=100")

    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="groups-error"' in html
    assert 'id="wechat-app-id-missing"' in html
    assert 'name="group_id" min="1" value="100"' in html
