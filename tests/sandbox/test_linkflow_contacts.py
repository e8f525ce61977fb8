"""Linkflow contacts: the generated population, identities of every type, channel
identities, WeCom QR codes, identity queries and unbinding, and a 100,000-contact walk."""

from __future__ import annotations

import pytest

from sandbox.linkflow.population import FIRST_CONTACT_ID
from sandbox.linkflow.state import CHANNEL_ID, CHANNEL_NAME, WORKWECHAT_CORP_ID
from tests.sandbox.linkflow_client import Linkflow, assert_error

ALL_TYPES = {
    "mobilePhone",
    "email",
    "idCard",
    "wechat.openId",
    "wechat.unionId",
    "workwechat.externalUserId",
    "memberNo",
}


@pytest.fixture
def lf(client) -> Linkflow:
    return Linkflow.connect(client)


def first_contacts(lf: Linkflow, size: int = 100) -> list[dict]:
    return lf.ok("GET", "/open/contacts/cursor", params={"lastMaxId": 0, "size": size})


def identities_of(lf: Linkflow, contact_id: int) -> list[dict]:
    return lf.ok("GET", f"/open/contacts/{contact_id}/identities")


def contact_with(lf: Linkflow, *types: str) -> tuple[dict, list[dict]]:
    for contact in first_contacts(lf):
        identities = identities_of(lf, contact["id"])
        if set(types) <= {i["type"] for i in identities}:
            return contact, identities
    raise AssertionError(f"no contact with {types}")


def test_every_identity_finds_its_contact(lf):
    seen = set()
    for contact in first_contacts(lf, 60):
        for identity in identities_of(lf, contact["id"]):
            seen.add(identity["type"])
            found = lf.ok(
                "GET",
                "/open/identity/contact",
                params={"id": identity["id"], "idType": identity["type"]},
            )
            assert found == contact["id"], identity
    assert seen == ALL_TYPES
    assert (
        lf.ok("GET", "/open/identity/contact", params={"id": "13000000000", "idType": "phone"})
        is None
    )


def test_profile_fields_match_the_identities(lf):
    contact, identities = contact_with(lf, "mobilePhone", "idCard")
    by_type = {i["type"]: i["id"] for i in identities}
    assert contact["mobilePhone"] == by_type["mobilePhone"]
    assert contact["idCard"] == by_type["idCard"]
    card = by_type["idCard"]
    assert contact["dateOfBirthday"] == f"{card[6:10]}-{card[10:12]}-{card[12:14]} 00:00:00"
    assert len(card) == 18 and all(i["dateCreated"] == contact["dateCreated"] for i in identities)


def test_the_same_seed_gives_the_same_people_and_another_seed_others(client, lf):
    before = first_contacts(lf, 20)
    client.post(
        "/_control/reset",
        json={"seed": 42, "clock": "manual", "start": "2026-01-05T10:00:00+08:00"},
    )
    again = first_contacts(Linkflow.connect(client), 20)
    client.post(
        "/_control/reset",
        json={"seed": 43, "clock": "manual", "start": "2026-01-05T10:00:00+08:00"},
    )
    other = first_contacts(Linkflow.connect(client), 20)

    assert before == again
    assert [c["id"] for c in other] == [c["id"] for c in before]
    assert [c["mobilePhone"] for c in other] != [c["mobilePhone"] for c in before]


def test_anonymous_contacts_are_wechat_followers(lf):
    ids = lf.ok("GET", "/open/contacts_bulk/ids", params={"page": 0, "size": 100, "anonymous": 1})
    assert ids == [FIRST_CONTACT_ID + 49 + 50 * k for k in range(20)]  # every 50th of 1000
    details = lf.ok(
        "GET", "/open/contacts_bulk", params={"ids": ",".join(map(str, ids)), "needOpenId": "1"}
    )
    for contact in details:
        assert contact["isAnonymous"] and contact["mobilePhone"] is None
        assert contact["anonymousId"] == contact["openIds"][0]["openId"]
    everyone = lf.ok(
        "GET", "/open/contacts_bulk/ids", params={"page": 0, "size": 100, "anonymous": -1}
    )
    named = lf.ok("GET", "/open/contacts_bulk/ids", params={"page": 0, "size": 100})
    assert everyone == list(range(FIRST_CONTACT_ID, FIRST_CONTACT_ID + 100))
    assert len(named) == 100 and not set(named) & set(ids)
    assert_error(
        lf.call("GET", "/open/contacts_bulk/ids", params={"page": 0, "size": 5, "anonymous": 2}),
        500,
        "B00010",
    )


def test_bulk_details_carry_openids_as_the_spec_shows(lf):
    contact, identities = contact_with(lf, "wechat.openId", "mobilePhone")
    with_ids = lf.ok(
        "GET", "/open/contacts_bulk", params={"ids": contact["id"], "needOpenId": "1"}
    )[0]
    without = lf.ok("GET", "/open/contacts_bulk", params={"ids": contact["id"]})[0]

    open_id = next(i["id"] for i in identities if i["type"] == "wechat.openId")
    assert with_ids["openIds"] == [
        {"channelId": CHANNEL_ID, "channelName": CHANNEL_NAME, "openId": open_id}
    ]
    assert "openIds" not in without
    assert with_ids["ver"] is None and "profilePhoto" in with_ids
    assert {
        k: v for k, v in with_ids.items() if k not in ("openIds", "ver", "profilePhoto")
    } == contact


def test_bulk_updated_time_window(lf):
    ids = lf.ok("GET", "/open/contacts_bulk/ids", params={"page": 0, "size": 1000})
    recent = lf.ok(
        "GET",
        "/open/contacts_bulk/ids",
        params={"page": 0, "size": 1000, "minUpdateTime": "2025-06-01"},
    )
    older = lf.ok(
        "GET",
        "/open/contacts_bulk/ids",
        params={"page": 0, "size": 1000, "maxUpdateTime": "2025-05-31 23:59:59"},
    )
    assert recent and older and sorted(recent + older) == ids
    details = lf.ok("GET", "/open/contacts_bulk", params={"ids": ",".join(map(str, recent[:100]))})
    assert all(c["lastUpdated"] >= "2025-06-01" for c in details)
    assert_error(
        lf.call(
            "GET", "/open/contacts_bulk/ids", params={"page": 0, "size": 5, "minUpdateTime": "x"}
        ),
        500,
        "B00010",
    )


def test_channel_identities_of_wechat_and_wecom(lf):
    contact, identities = contact_with(lf, "wechat.openId", "workwechat.externalUserId")
    entries = lf.ok("GET", f"/open/contacts/{contact['id']}/channel_identities")

    by_type = {e["channel"]["channelType"]: e for e in entries}
    assert set(by_type) == {"WECHAT", "WORKWECHAT_PRO"}
    wecom = by_type["WORKWECHAT_PRO"]
    external = next(i["id"] for i in identities if i["type"] == "workwechat.externalUserId")
    assert wecom["externalId"] == external and wecom["contactId"] == contact["id"]
    assert wecom["channelId"] == wecom["channel"]["id"]
    assert wecom["channel"]["channelId"] == WORKWECHAT_CORP_ID
    assert set(wecom["channel"]) == {
        "dateCreated",
        "lastUpdated",
        "ver",
        "id",
        "channelId",
        "channelType",
        "name",
        "status",
        "propertyVersion",
        "tenantId",
        "orgId",
    }
    assert "externalId" not in by_type["WECHAT"]  # as in the spec's example
    assert_error(lf.call("GET", "/open/contacts/1/channel_identities"), 404, "B00008")


def test_wecom_contact_me_qr_codes(lf):
    codes = lf.ok("GET", f"/open/workwechat/{WORKWECHAT_CORP_ID}/qrcodes")
    assert len(codes) == 4
    assert {"configId", "qrCode", "utm", "contactWay", "isSetWelcomeMessage"} <= set(codes[0])
    assert [c["isSetWelcomeMessage"] for c in codes] == [
        "workWechatWelcomeMessageId" in c for c in codes
    ]
    assert_error(lf.call("GET", f"/open/workwechat/{CHANNEL_ID}/qrcodes"), 500, "B00022")
    assert_error(lf.call("GET", "/open/workwechat/ww_nope/qrcodes"), 500, "B00022")


def test_all_identities_of_a_contact_by_one_of_them(lf):
    contact, identities = contact_with(lf, "mobilePhone", "idCard")
    body = {
        "identity": {"id": contact["mobilePhone"], "type": "phone"},
        "identityTypes": ["idcard"],
    }
    answer = lf.ok("POST", "/open/contacts/identities", json=body)
    assert answer["contactId"] == contact["id"]
    assert [i["type"] for i in answer["identities"]] == ["idCard"]

    everything = lf.ok("POST", "/open/contacts/identities", json={"identity": body["identity"]})
    assert everything["identities"] == identities
    unknown = {"identity": {"id": "13000000000", "type": "mobilePhone"}}
    assert_error(lf.call("POST", "/open/contacts/identities", json=unknown), 400, "B01376")
    assert_error(lf.call("POST", "/open/contacts/identities", json={}), 500, "B00002")


def test_unbinding_an_identity(lf):
    contact, identities = contact_with(lf, "mobilePhone", "wechat.openId")
    open_id = next(i["id"] for i in identities if i["type"] == "wechat.openId")
    body = {"contactId": contact["id"], "identities": [{"id": open_id, "type": "wechat.openId"}]}

    assert lf.call("DELETE", "/open/contacts/identities/unbind", json=body).status_code == 200
    assert open_id not in [i["id"] for i in identities_of(lf, contact["id"])]
    assert (
        lf.ok("GET", "/open/identity/contact", params={"id": open_id, "idType": "wechat.openId"})
        is None
    )
    assert_error(lf.call("DELETE", "/open/contacts/identities/unbind", json=body), 500, "B01405")


@pytest.mark.parametrize(
    ("identity", "status", "code"),
    [
        ({"id": "x", "type": "qq"}, 500, "B01403"),
        ({"id": "x", "type": "email"}, 500, "B01404"),
        ({"id": "x", "type": "idCard"}, 500, "B01404"),
        ({"id": "13000000000", "type": "mobilePhone"}, 500, "B01405"),
    ],
)
def test_unbinding_refusals(lf, identity, status, code):
    contact = first_contacts(lf, 1)[0]
    before = identities_of(lf, contact["id"])
    body = {"contactId": contact["id"], "identities": [identity]}
    assert_error(lf.call("DELETE", "/open/contacts/identities/unbind", json=body), status, code)
    assert identities_of(lf, contact["id"]) == before


def test_unbinding_the_last_identity_or_an_unknown_contact(lf):
    anonymous = FIRST_CONTACT_ID + 49
    (only,) = identities_of(lf, anonymous)
    last = {"contactId": anonymous, "identities": [{"id": only["id"], "type": only["type"]}]}
    assert_error(lf.call("DELETE", "/open/contacts/identities/unbind", json=last), 500, "B01402")
    nobody = {"contactId": 1, "identities": [{"id": "x", "type": "mobilePhone"}]}
    assert_error(lf.call("DELETE", "/open/contacts/identities/unbind", json=nobody), 404, "B00008")
    assert_error(lf.call("DELETE", "/open/contacts/identities/unbind", json={}), 500, "B00002")


def test_a_message_binds_new_identities_to_the_contact_it_finds(lf):
    contact = first_contacts(lf, 1)[0]
    body = {
        "channelKey": "udc_portal",
        "identities": [
            {"id": contact["mobilePhone"], "type": "mobilePhone"},
            {"id": "jd_pin_0001", "type": "jdPin"},
        ],
        "messages": [
            {"domain": "contact", "action": "set", "ts": 1, "data": {"email": "new@example.com"}}
        ],
    }
    assert lf.call("POST", "/open/messages", json=body).status_code == 200

    by_pin = lf.ok("GET", "/open/identity/contact", params={"id": "jd_pin_0001", "idType": "jdPin"})
    assert by_pin == contact["id"]
    updated = lf.ok("GET", "/open/contacts_bulk", params={"ids": contact["id"]})[0]
    assert updated["email"] == "new@example.com" and updated["lastUpdated"] == "2026-01-05 10:00:00"
    custom = {"contactId": contact["id"], "identities": [{"id": "jd_pin_0001", "type": "jdPin"}]}
    assert lf.call("DELETE", "/open/contacts/identities/unbind", json=custom).status_code == 200


def test_contacts_search_by_name_and_exact_identity(lf):
    contact, identities = contact_with(lf, "email")
    email = next(i["id"] for i in identities if i["type"] == "email")
    assert [c["id"] for c in lf.ok("GET", "/open/contacts", params={"search": email})] == [
        contact["id"]
    ]
    surname = contact["name"][0]
    named = lf.ok("GET", "/open/contacts", params={"search": surname, "size": 50})
    assert named and all(surname in c["name"] for c in named)


def test_walking_100000_contacts_and_a_group_of_100000(client, lf):
    """Lazily generated: the walk reads every page without building the population first."""
    sizes = {"contacts": 100_000, "big_group_members": 100_000}
    assert client.post("/_control/linkflow", json=sizes).status_code == 200

    seen, last = 0, 0
    while page := lf.ok("GET", "/open/contacts/cursor", params={"lastMaxId": last, "size": 10_000}):
        assert page[0]["id"] == last + 1 if last else FIRST_CONTACT_ID
        seen, last = seen + len(page), page[-1]["id"]
    assert (seen, last) == (100_000, FIRST_CONTACT_ID + 99_999)

    group = lf.ok("GET", "/open/groups", params={"name": "全量会员"})[0]
    members, after = set(), 0
    while page := lf.ok("GET", f"/open/groups/{group['id']}/contacts", params={"memberId": after}):
        members.update(m["contact"]["id"] for m in page)
        after = page[-1]["memberId"]
    assert len(members) == 100_000
    assert min(members) == FIRST_CONTACT_ID and max(members) == FIRST_CONTACT_ID + 99_999

    tail = lf.ok("GET", "/open/contacts", params={"page": 49, "size": 200, "groupId": group["id"]})
    assert len(tail) == 200
    ids = lf.ok("GET", "/open/contacts_bulk/ids", params={"page": 1, "size": 5000})
    assert len(ids) == 5000
