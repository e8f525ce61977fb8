"""The Linkflow client against the running sandbox over real HTTP: contacts, identities,
channels and groups, each answer compared with what the sandbox holds (its seeded
workspace, rebuilt in this process from the same seed and reset time).

The other client methods are in `test_linkflow_sandbox_*.py` beside this file; the last
test here checks that every public method of the client has its test."""

import importlib
import inspect
import logging
from datetime import UTC, timedelta

import pytest

from portal.integrations.linkflow.auth import TokenCache
from portal.integrations.linkflow.client import LinkflowClient
from portal.integrations.linkflow.errors import LinkflowRejected
from portal.integrations.linkflow.factory import linkflow_client
from portal.models import IntegrationCall
from sandbox.linkflow.population import ANONYMOUS_EVERY
from tests.integrations.linkflow_sandboxed import LinkflowSandbox, has, sandbox_client


@pytest.fixture
def lf(control) -> LinkflowSandbox:
    return LinkflowSandbox.reset(control)


def members_json(lf: LinkflowSandbox, group, after: int, size: int) -> list[dict]:
    """`GET /open/groups/{groupId}/contacts` as the sandbox builds it from its model."""
    return [
        member.as_json(lf.model.brief(member.contact_id), group.id)
        for member in group.members_after(after, size)
    ]


# -- token ------------------------------------------------------------------------------


def test_token_answers_the_sandbox_token_with_its_expiration(lf):
    token = lf.client.token()

    assert token.token and token.expires_at == (lf.now + timedelta(hours=2)).timestamp()
    assert lf.answers("/token") == [(200, None)]


@pytest.mark.django_db
def test_the_portal_factory_client_logs_each_call(lf):
    client = linkflow_client(app_key="sandbox-linkflow-key", app_secret="sandbox-linkflow-secret")

    assert [g["name"] for g in client.groups(name="618")] == ["618潜在客户"]
    logged = IntegrationCall.objects.filter(system="linkflow", endpoint="/open/groups")
    assert logged.filter(ok=True, http_status=200).exists()


def test_a_wrong_app_secret_is_refused_with_401(lf):
    client = sandbox_client(app_secret="not-the-secret")

    with pytest.raises(LinkflowRejected) as raised:
        client.groups()

    assert (raised.value.http_status, raised.value.code) == (401, "401")
    assert lf.answers("/token") == [(401, "401")]
    assert lf.journal("/open/groups") == []  # never called without a token


def test_a_wrong_app_secret_does_not_reuse_a_token_cached_for_the_right_one(lf):
    cache = TokenCache()  # one per process in the portal: every brand's clients share it
    sandbox_client(cache=cache).groups()

    with pytest.raises(LinkflowRejected):
        sandbox_client(cache=cache, app_secret="not-the-secret").groups()


# -- contacts ---------------------------------------------------------------------------


def test_contacts_answers_a_page_of_the_population(lf):
    page = lf.client.contacts(page=1, size=20)

    assert page == [lf.contact(n).as_json() for n in range(20, 40)]


def test_contacts_of_a_group_are_its_members_in_id_order(lf):
    group = lf.group("618潜在客户")

    page = lf.client.contacts(group_id=group.id, size=50)

    member_ids = [i for i in lf.model.contact_ids() if group.has(i)]
    assert [c["id"] for c in page] == member_ids[:50]
    assert page[0] == lf.model.contact(member_ids[0]).as_json()


def test_contacts_search_finds_a_contact_by_phone(lf):
    wanted = lf.find_contact(has("mobilePhone"), skip=3)

    found = lf.client.contacts(search=wanted.first("mobilePhone"))

    assert found == [wanted.as_json()]


def test_contacts_cursor_answers_the_contacts_after_the_last_id(lf):
    after = lf.contact(9).id

    page = lf.client.contacts_cursor(last_max_id=after, size=5)

    assert page == [lf.contact(n).as_json() for n in range(10, 15)]


def test_iter_contacts_walks_every_contact_by_the_cursor(lf):
    walked = list(lf.client.iter_contacts(size=300))

    assert walked == [c.as_json() for c in lf.model.contacts_after(0)]
    # 300 + 300 + 300 + a short page of 100: the end
    assert len(lf.journal("/open/contacts/cursor")) == 4


def test_iter_contacts_asks_for_a_page_only_when_the_previous_one_is_consumed(lf):
    walk = lf.client.iter_contacts(size=100)

    first = [next(walk) for _ in range(100)]

    assert [c["id"] for c in first] == [lf.contact(n).id for n in range(100)]
    assert len(lf.journal("/open/contacts/cursor")) == 1
    next(walk)
    assert len(lf.journal("/open/contacts/cursor")) == 2


def test_contacts_bulk_ids_answers_named_contacts_by_default(lf):
    ids = lf.client.contacts_bulk_ids(page=1, size=100)

    named = [i for i in lf.model.contact_ids() if not lf.model.is_anonymous(i)]
    assert ids == named[100:200]


@pytest.mark.parametrize(("anonymous", "every"), [(-1, 1), (1, ANONYMOUS_EVERY)])
def test_contacts_bulk_ids_answers_everyone_or_the_anonymous(lf, anonymous, every):
    ids = lf.client.contacts_bulk_ids(page=0, size=1000, anonymous=anonymous)

    first = lf.model.first_id + (every - 1)
    assert ids == list(range(first, lf.model.first_id + 1000, every))


def test_contacts_bulk_ids_filters_by_update_time(lf):
    low = lf.now - timedelta(days=200)
    high = lf.now - timedelta(days=100)

    # An aware datetime is sent as China time, whatever its zone.
    ids = lf.client.contacts_bulk_ids(
        page=0, size=1000, min_update_time=low.astimezone(UTC), max_update_time=high
    )

    expected = [
        i
        for i in lf.model.contact_ids()
        if not lf.model.is_anonymous(i) and low <= lf.model.updated_at(i) <= high
    ]
    assert ids == expected and 50 < len(ids) < 500


def test_iter_contact_ids_walks_pages_until_a_short_one(lf):
    ids = list(lf.client.iter_contact_ids(size=300, anonymous=-1))

    assert ids == list(lf.model.contact_ids())
    assert len(lf.journal("/open/contacts_bulk/ids")) == 4


def test_iter_contact_ids_stops_at_the_end_of_the_documented_window(lf, caplog):
    lf.configure(contacts=20_000)

    with caplog.at_level(logging.WARNING, logger="portal.integrations.linkflow.iterators"):
        ids = list(lf.client.iter_contact_ids(size=5000, anonymous=-1))

    # pages 0, 1 and 2 (page x size <= 10000): 15,000 ids, the rest out of reach
    assert ids == list(range(lf.model.first_id, lf.model.first_id + 15_000))
    assert [e["status"] for e in lf.journal("/open/contacts_bulk/ids")] == [200, 200, 200]
    assert "end of the documented window" in caplog.text


def test_contacts_bulk_answers_details_with_open_ids(lf):
    ids = [lf.contact(n).id for n in range(40, 50)]
    wechat = (lf.model.wechat.channel_id, lf.model.wechat.name)

    with_open_ids = lf.client.contacts_bulk(ids=ids, need_open_id=True)
    without = lf.client.contacts_bulk(ids=ids[:3])

    assert with_open_ids == [lf.model.contact(i).as_bulk_json(wechat) for i in ids]
    assert any(c["openIds"] for c in with_open_ids)
    assert without == [lf.model.contact(i).as_bulk_json(None) for i in ids[:3]]
    assert "openIds" not in without[0]


def test_iter_contacts_bulk_sends_the_ids_a_hundred_at_a_time(lf):
    ids = (lf.contact(n).id for n in range(250))  # a generator: consumed as needed

    details = list(lf.client.iter_contacts_bulk(ids=ids, need_open_id=True))

    assert [c["id"] for c in details] == [lf.contact(n).id for n in range(250)]
    assert len(lf.journal("/open/contacts_bulk")) == 3  # 100 + 100 + 50


# -- identities and channels ------------------------------------------------------------


def test_identity_contact_finds_the_contact_of_an_identity(lf):
    wanted = lf.find_contact(has("idCard"))

    assert lf.client.identity_contact(id_type="idCard", id_value=wanted.first("idCard")) == (
        wanted.id
    )
    assert lf.client.identity_contact(id_type="mobilePhone", id_value="10000000000") is None


def test_identities_lookup_answers_the_contact_and_its_identities(lf):
    wanted = lf.find_contact(has("mobilePhone", "email", "wechat.openId"))
    phone = wanted.first("mobilePhone")

    everything = lf.client.contact_identities_lookup(id_type="mobilePhone", id_value=phone)
    emails = lf.client.contact_identities_lookup(
        id_type="mobilePhone", id_value=phone, identity_types=["email"]
    )

    assert everything == {
        "contactId": wanted.id,
        "identities": [i.as_json() for i in wanted.identities],
    }
    assert emails["identities"] == [i.as_json() for i in wanted.identities if i.type == "email"]


def test_contact_identities_answers_every_identity_of_a_contact(lf):
    wanted = lf.find_contact(has("mobilePhone", "idCard", "workwechat.externalUserId"))

    identities = lf.client.contact_identities(contact_id=wanted.id)

    assert identities == [i.as_json() for i in wanted.identities]
    assert {"mobilePhone", "idCard", "workwechat.externalUserId"} <= {i["type"] for i in identities}


def test_contact_identity_unbind_detaches_an_identity(lf):
    wanted = lf.find_contact(has("mobilePhone", "wechat.openId"))
    open_id = wanted.first("wechat.openId")

    lf.client.contact_identity_unbind(
        contact_id=wanted.id, identities=[{"id": open_id, "type": "wechat.openId"}]
    )

    left = lf.client.contact_identities(contact_id=wanted.id)
    assert [i["id"] for i in left] == [i.value for i in wanted.identities if i.value != open_id]
    assert lf.client.identity_contact(id_type="wechat.openId", id_value=open_id) is None


def test_channel_identities_answers_the_wechat_and_wecom_accounts(lf):
    wanted = lf.find_contact(has("wechat.openId", "workwechat.externalUserId"))

    accounts = lf.client.channel_identities(contact_id=wanted.id)

    assert [(a["contactId"], a["channel"]["channelId"]) for a in accounts] == [
        (wanted.id, lf.model.wechat.channel_id),
        (wanted.id, lf.model.workwechat.channel_id),
    ]
    assert accounts[1]["externalId"] == wanted.first("workwechat.externalUserId")
    assert accounts[0]["channelId"] == lf.model.wechat.id


def test_workwechat_qrcodes_answers_the_channels_contact_me_codes(lf):
    codes = lf.client.workwechat_qrcodes(channel_id=lf.model.workwechat.channel_id)

    assert codes == lf.model.qrcodes and len(codes) == 4


# -- groups -----------------------------------------------------------------------------


def test_groups_lists_and_filters_the_seeded_groups(lf):
    every = lf.client.groups()
    seeded = sorted(lf.model.groups.values(), key=lambda g: g.id)

    assert every == [g.as_json() for g in seeded]
    assert lf.client.groups(name="618") == [lf.group("618潜在客户").as_json()]
    assert lf.client.groups(group_type="dynamic") == [lf.group("最近7天活跃客户").as_json()]
    assert lf.client.groups(id=seeded[2].id) == [seeded[2].as_json()]


def test_group_create_rename_delete(lf):
    created = lf.client.group_create(name="门户测试组", ext1="wx-app", ext2="wx-tag-7")

    assert created["name"] == "门户测试组" and created["groupType"] == "static"
    assert lf.client.groups(ext1="wx-app", ext2="wx-tag-7") == [created]

    lf.advance(60)
    lf.client.group_rename(group_id=created["id"], name="门户测试组2")
    (renamed,) = lf.client.groups(id=created["id"])
    assert renamed["name"] == "门户测试组2" and renamed["lastUpdated"] > created["lastUpdated"]

    lf.client.group_delete(group_id=created["id"])
    assert lf.client.groups(id=created["id"]) == []


def test_contact_groups_answers_the_groups_holding_a_contact(lf):
    big, followers = lf.group("全量会员"), lf.group("关注用户")
    wanted = lf.find_contact(lambda c: big.has(c.id) and followers.has(c.id))
    holding = sorted((g for g in lf.model.groups.values() if g.has(wanted.id)), key=lambda g: g.id)

    assert lf.client.contact_groups(contact_id=wanted.id) == [g.as_json() for g in holding]
    assert lf.client.contact_groups(contact_id=wanted.id, group_type="dynamic") == [
        g.as_json() for g in holding if g.group_type == "dynamic"
    ]


def test_group_members_answers_members_after_a_member_id(lf):
    group = lf.group("618潜在客户")

    first = lf.client.group_members(group_id=group.id, size=50)
    second = lf.client.group_members(group_id=group.id, member_id=first[-1]["memberId"], size=50)

    assert first == members_json(lf, group, 0, 50)
    assert second == members_json(lf, group, first[-1]["memberId"], 50)
    assert len({m["contact"]["id"] for m in first + second}) == 100


def test_iter_group_members_walks_a_group_by_the_member_id_cursor(lf):
    group = lf.group("618潜在客户")  # 120 members

    walked = list(lf.client.iter_group_members(group_id=group.id, size=50))

    assert walked == members_json(lf, group, 0, 500)
    assert len(walked) == 120
    assert len(lf.journal("/open/groups/{groupId}/contacts")) == 3  # 50 + 50 + 20


def test_group_members_add_and_remove(lf):
    created = lf.client.group_create(name="加减成员")
    ids = [lf.contact(n).id for n in (3, 5, 8)]
    unknown = lf.model.first_id - 1

    added = lf.client.group_members_add(group_id=created["id"], contact_ids=[*ids, unknown])
    members = lf.client.group_members(group_id=created["id"])
    removed = lf.client.group_members_remove(group_id=created["id"], contact_ids=[ids[0], unknown])
    left = lf.client.group_members(group_id=created["id"])

    assert (added["success"], added["failure"]) == (ids, [unknown])
    assert added["group"]["id"] == created["id"]
    assert [m["contact"] for m in members] == [lf.model.brief(i) for i in ids]
    assert (removed["success"], removed["failure"]) == ([ids[0]], [unknown])
    assert [m["contact"]["id"] for m in left] == ids[1:]


# -- every public method has its test ---------------------------------------------------

# The modules of this folder that test the client against the sandbox, and for each public
# method the test there that calls it.
SANDBOX_MODULES = (
    "test_linkflow_client_sandbox",
    "test_linkflow_sandbox_messages",
    "test_linkflow_sandbox_tags",
)
SANDBOX_TESTS = {
    "token": "test_token_answers_the_sandbox_token_with_its_expiration",
    "contacts": "test_contacts_answers_a_page_of_the_population",
    "contacts_cursor": "test_contacts_cursor_answers_the_contacts_after_the_last_id",
    "iter_contacts": "test_iter_contacts_walks_every_contact_by_the_cursor",
    "contacts_bulk_ids": "test_contacts_bulk_ids_answers_named_contacts_by_default",
    "iter_contact_ids": "test_iter_contact_ids_walks_pages_until_a_short_one",
    "contacts_bulk": "test_contacts_bulk_answers_details_with_open_ids",
    "iter_contacts_bulk": "test_iter_contacts_bulk_sends_the_ids_a_hundred_at_a_time",
    "identity_contact": "test_identity_contact_finds_the_contact_of_an_identity",
    "contact_identities_lookup": "test_identities_lookup_answers_the_contact_and_its_identities",
    "contact_identities": "test_contact_identities_answers_every_identity_of_a_contact",
    "contact_identity_unbind": "test_contact_identity_unbind_detaches_an_identity",
    "channel_identities": "test_channel_identities_answers_the_wechat_and_wecom_accounts",
    "workwechat_qrcodes": "test_workwechat_qrcodes_answers_the_channels_contact_me_codes",
    "groups": "test_groups_lists_and_filters_the_seeded_groups",
    "group_create": "test_group_create_rename_delete",
    "group_rename": "test_group_create_rename_delete",
    "group_delete": "test_group_create_rename_delete",
    "contact_groups": "test_contact_groups_answers_the_groups_holding_a_contact",
    "group_members": "test_group_members_answers_members_after_a_member_id",
    "iter_group_members": "test_iter_group_members_walks_a_group_by_the_member_id_cursor",
    "group_members_add": "test_group_members_add_and_remove",
    "group_members_remove": "test_group_members_add_and_remove",
    "messages": "test_messages_create_a_contact_and_track_its_events",
    "order_messages": "test_order_messages_create_then_update_an_order",
    "orders_after": "test_orders_after_answers_the_next_hundred_orders_by_id",
    "orders_page": "test_orders_page_answers_orders_updated_in_the_window",
    "iter_orders": "test_iter_orders_walks_every_order_by_the_cursor",
    "report": "test_report_answers_status_0_then_the_result",
    "dashboard": "test_dashboard_answers_its_name_and_reports",
    "short_url": "test_short_url_tracks_a_link_with_its_utm",
    "short_url_distribute": "test_short_url_distribute_tracks_a_link_per_contact",
    "tag_create": "test_tag_create_then_delete",
    "tag_delete": "test_tag_create_then_delete",
    "tags": "test_tags_answers_a_page_of_tag_metadata",
    "iter_tags": "test_iter_tags_walks_every_tag",
    "tag_folders": "test_tag_folders_answers_the_folders",
    "tag_upload": "test_tag_upload_overwrite_replaces_the_files_and_append_adds_one",
    "tag_calculate": "test_tag_upload_overwrite_replaces_the_files_and_append_adds_one",
    "tag_export": "test_tag_export_wait_polls_until_the_file_is_ready",
    "tag_export_status": "test_tag_export_status_answers_the_task_state",
    "tag_export_wait": "test_tag_export_wait_polls_until_the_file_is_ready",
    "tag_values": "test_tag_values_set_and_delete_a_contacts_values",
    "contact_tag_values": "test_contact_tag_values_answers_the_computed_tags",
    "dimension_data": "test_dimension_data_upserts_rows_by_primary_key",
}


def test_every_public_client_method_has_a_sandbox_test():
    public = {
        name
        for name, member in inspect.getmembers(LinkflowClient, inspect.isfunction)
        if not name.startswith("_")
    }
    assert public == set(SANDBOX_TESTS)
    modules = [importlib.import_module(f"tests.integrations.{m}") for m in SANDBOX_MODULES]
    for test in SANDBOX_TESTS.values():
        assert any(callable(getattr(module, test, None)) for module in modules), test
