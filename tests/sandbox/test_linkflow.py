"""The Linkflow side of the sandbox: token, contacts, groups, messages."""

from __future__ import annotations

import pytest

from sandbox.linkflow.state import CONTACT_COUNT, FIRST_CONTACT_ID

KEY, SECRET = "sandbox-linkflow-key", "sandbox-linkflow-secret"
BASE = "/linkflow"


@pytest.fixture
def token(client) -> str:
    response = client.get(
        f"{BASE}/token", headers={"X-OpenApi-Key": KEY, "X-OpenApi-Secret": SECRET}
    )
    assert response.status_code == 200, response.text
    return response.json()["token"]


@pytest.fixture
def lf(client, token):
    headers = {"X-OpenApi-Token": token}

    def call(method: str, path: str, **kwargs):
        return client.request(method, f"{BASE}{path}", headers=headers, **kwargs)

    return call


def assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert response.json()["message"]


# -- token ----------------------------------------------------------------------------
def test_token_issued_with_china_time_expiration(client):
    response = client.get(
        f"{BASE}/token", headers={"X-OpenApi-Key": KEY, "X-OpenApi-Secret": SECRET}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token"]
    assert body["expiration"] == "2026-01-05 12:00:00"  # START 10:00 CST + 2 hours


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-OpenApi-Key": KEY}, {"X-OpenApi-Key": KEY, "X-OpenApi-Secret": "wrong"}],
)
def test_token_refused(client, headers):
    assert_error(client.get(f"{BASE}/token", headers=headers), 401, "401")


def test_apps_from_environment(monkeypatch):
    from starlette.testclient import TestClient

    from sandbox.app import create_app

    monkeypatch.setenv("SANDBOX_LINKFLOW_APPS", "k1:s1,k2:s2")
    client = TestClient(create_app())
    ok = client.get(f"{BASE}/token", headers={"X-OpenApi-Key": "k2", "X-OpenApi-Secret": "s2"})
    assert ok.status_code == 200
    bad = client.get(f"{BASE}/token", headers={"X-OpenApi-Key": KEY, "X-OpenApi-Secret": SECRET})
    assert bad.status_code == 401


def test_token_required_and_expires(client, token, advance):
    assert_error(client.get(f"{BASE}/open/contacts"), 401, "401")
    bad = client.get(f"{BASE}/open/contacts", headers={"X-OpenApi-Token": "nope"})
    assert_error(bad, 401, "401")
    good = client.get(f"{BASE}/open/groups", headers={"X-OpenApi-Token": token})
    assert good.status_code == 200
    advance(2 * 3600)
    late = client.get(f"{BASE}/open/groups", headers={"X-OpenApi-Token": token})
    assert_error(late, 401, "401")


def test_reset_forgets_tokens(client, token):
    client.post("/_control/reset", json={"seed": 42, "clock": "manual"})
    assert_error(client.get(f"{BASE}/open/groups", headers={"X-OpenApi-Token": token}), 401, "401")


# -- contacts -------------------------------------------------------------------------
def test_contacts_page(lf):
    first = lf("GET", "/open/contacts", params={"page": 0, "size": 10}).json()
    assert len(first) == 10
    assert first[0]["id"] == FIRST_CONTACT_ID
    for name in ("name", "mobilePhone", "email", "gender", "props", "utm", "isAnonymous"):
        assert name in first[0]
    second = lf("GET", "/open/contacts", params={"page": 1, "size": 10}).json()
    assert second[0]["id"] == FIRST_CONTACT_ID + 10
    assert len(lf("GET", "/open/contacts").json()) == 200


def test_contacts_deterministic_per_seed(client, lf):
    before = lf("GET", "/open/contacts", params={"size": 5}).json()
    client.post("/_control/reset", json={"seed": 42, "clock": "manual"})
    token = client.get(
        f"{BASE}/token", headers={"X-OpenApi-Key": KEY, "X-OpenApi-Secret": SECRET}
    ).json()["token"]
    headers = {"X-OpenApi-Token": token}
    after = client.get(f"{BASE}/open/contacts", params={"size": 5}, headers=headers).json()
    assert [c["name"] for c in before] == [c["name"] for c in after]
    assert [c["mobilePhone"] for c in before] == [c["mobilePhone"] for c in after]


def test_contacts_search_and_group(lf):
    contact = lf("GET", "/open/contacts", params={"size": 1}).json()[0]
    found = lf("GET", "/open/contacts", params={"search": contact["mobilePhone"]}).json()
    assert contact["id"] in [c["id"] for c in found]
    group = lf("GET", "/open/groups", params={"name": "618"}).json()[0]
    members = lf("GET", "/open/contacts", params={"groupId": group["id"], "size": 500}).json()
    assert len(members) == 120
    assert_error(lf("GET", "/open/contacts", params={"groupId": 1}), 404, "B00008")


def test_contacts_page_limit(lf):
    assert_error(lf("GET", "/open/contacts", params={"page": 50, "size": 201}), 420, "B00030")
    assert lf("GET", "/open/contacts", params={"page": 50, "size": 200}).status_code == 200
    assert_error(lf("GET", "/open/contacts", params={"page": "x"}), 500, "B00010")


def test_contacts_cursor(lf):
    first = lf("GET", "/open/contacts/cursor", params={"lastMaxId": 0, "size": 300}).json()
    assert len(first) == 300
    rest = lf("GET", "/open/contacts/cursor", params={"lastMaxId": first[-1]["id"], "size": 1000})
    assert len(rest.json()) == CONTACT_COUNT - 300
    assert_error(lf("GET", "/open/contacts/cursor"), 500, "B00002")


def test_contacts_bulk(lf):
    ids = lf("GET", "/open/contacts_bulk/ids", params={"page": 0, "size": 5}).json()
    assert ids == list(range(FIRST_CONTACT_ID, FIRST_CONTACT_ID + 5))
    assert_error(
        lf("GET", "/open/contacts_bulk/ids", params={"page": 2, "size": 5001}), 420, "B00030"
    )
    none = lf(
        "GET",
        "/open/contacts_bulk/ids",
        params={"page": 0, "size": 5, "maxUpdateTime": "2000-01-01"},
    )
    assert none.json() == []
    details = lf(
        "GET", "/open/contacts_bulk", params={"ids": ",".join(map(str, ids)), "needOpenId": "1"}
    ).json()
    assert [c["id"] for c in details] == ids
    assert all("openIds" in c for c in details)


def test_contact_identities_and_lookup(lf):
    contact = lf("GET", "/open/contacts", params={"size": 1}).json()[0]
    identities = lf("GET", f"/open/contacts/{contact['id']}/identities").json()
    assert {"id": contact["mobilePhone"], "type": "mobilePhone"} in [
        {"id": i["id"], "type": i["type"]} for i in identities
    ]
    found = lf(
        "GET", "/open/identity/contact", params={"id": contact["mobilePhone"], "idType": "mobile"}
    )
    assert found.json() == contact["id"]
    assert_error(lf("GET", "/open/contacts/1/identities"), 404, "B00008")
    assert_error(lf("GET", "/open/identity/contact"), 500, "B00010")


def test_contact_groups(lf):
    group = lf("GET", "/open/groups", params={"name": "618"}).json()[0]
    member = lf("GET", f"/open/groups/{group['id']}/contacts", params={"size": 1}).json()[0]
    groups = lf("GET", f"/open/contacts/{member['contact']['id']}/groups").json()
    assert group["id"] in [g["id"] for g in groups]
    assert_error(lf("GET", "/open/contacts/1/groups"), 404, "B00008")


# -- groups ---------------------------------------------------------------------------
def test_groups_query(lf):
    groups = lf("GET", "/open/groups").json()
    assert {g["groupType"] for g in groups} == {"static", "dynamic"}
    assert set(groups[0]) == {"lastUpdated", "groupType", "dateCreated", "name", "id"}
    assert len(lf("GET", "/open/groups", params={"groupType": "dynamic"}).json()) == 1
    one = lf("GET", "/open/groups", params={"id": groups[0]["id"]}).json()
    assert one == [groups[0]]


def test_group_create_rename_delete(lf):
    body = {"name": "双11vip客户", "groupType": "static", "ext1": "wxapp", "ext2": "tag1"}
    created = lf("POST", "/open/groups", json=body)
    assert created.status_code == 200
    group = created.json()
    assert group["name"] == "双11vip客户" and group["groupType"] == "static"
    assert lf("GET", "/open/groups", params={"ext1": "wxapp"}).json() == [group]
    assert_error(lf("POST", "/open/groups", json=body), 400, "B00001")
    assert_error(lf("POST", "/open/groups", json={}), 500, "B00002")

    renamed = lf("POST", f"/open/groups/{group['id']}", json={"name": "双12vip客户"})
    assert renamed.status_code == 200
    assert lf("GET", "/open/groups", params={"id": group["id"]}).json()[0]["name"] == "双12vip客户"
    assert_error(
        lf("POST", f"/open/groups/{group['id']}", json={"name": "关注用户"}), 420, "B01102"
    )
    assert_error(lf("POST", "/open/groups/999999", json={"name": "x"}), 404, "B00008")

    assert lf("DELETE", f"/open/groups/{group['id']}").status_code == 200
    assert_error(lf("DELETE", f"/open/groups/{group['id']}"), 404, "B00008")


def test_group_members_cursor(lf):
    group = lf("GET", "/open/groups", params={"name": "关注用户"}).json()[0]
    first = lf("GET", f"/open/groups/{group['id']}/contacts").json()
    assert len(first) == 500
    assert set(first[0]) == {
        "lastUpdated",
        "dateCreated",
        "contact",
        "contactGroupId",
        "version",
        "memberId",
    }
    assert set(first[0]["contact"]) == {"mobilePhone", "name", "id", "email"}
    rest = lf(
        "GET", f"/open/groups/{group['id']}/contacts", params={"memberId": first[-1]["memberId"]}
    ).json()
    assert len(rest) == 200
    assert rest[0]["memberId"] > first[-1]["memberId"]
    over = lf("GET", f"/open/groups/{group['id']}/contacts", params={"size": 501})
    assert_error(over, 400, "B00031")
    assert_error(lf("GET", "/open/groups/999999/contacts"), 404, "B00008")


def test_group_add_remove_members(lf):
    group = lf("POST", "/open/groups", json={"name": "新组"}).json()
    ids = [FIRST_CONTACT_ID, FIRST_CONTACT_ID + 1, 1]
    added = lf("POST", f"/open/groups/{group['id']}/contacts", json=ids).json()
    assert added["success"] == ids[:2] and added["failure"] == [1]
    assert added["group"]["id"] == group["id"]
    members = lf("GET", f"/open/groups/{group['id']}/contacts").json()
    assert [m["contact"]["id"] for m in members] == ids[:2]
    removed = lf("DELETE", f"/open/groups/{group['id']}/contacts", json=ids[:1]).json()
    assert removed["success"] == ids[:1] and removed["failure"] == []
    assert len(lf("GET", f"/open/groups/{group['id']}/contacts").json()) == 1
    assert_error(lf("POST", "/open/groups/999999/contacts", json=ids), 404, "B00008")
    assert_error(lf("DELETE", "/open/groups/999999/contacts", json=ids), 404, "B00008")
    too_many = list(range(FIRST_CONTACT_ID, FIRST_CONTACT_ID + 501))
    assert_error(lf("POST", f"/open/groups/{group['id']}/contacts", json=too_many), 400, "B00031")


# -- messages -------------------------------------------------------------------------
def message_body(**overrides) -> dict:
    body = {
        "request_id": "r-1",
        "channelKey": "udc_12SyQfFmg",
        "channelType": "UDC",
        "identities": [{"id": "321100199012203412", "type": "idCard"}],
        "messages": [
            {
                "message_id": "m-1",
                "domain": "contact",
                "action": "set",
                "ts": 1663146117310,
                "data": {"name": "contactName", "email": "new@example.com", "props": {"k": 1}},
            },
            {
                "message_id": "m-2",
                "domain": "event",
                "action": "track",
                "ts": 1667295883115,
                "data": {"event": "WECHAT_WXA__HIDE", "eventDate": 1663146117310, "props": {}},
            },
        ],
    }
    body.update(overrides)
    return body


def test_messages_create_contact(lf):
    assert lf("POST", "/open/messages", json=message_body()).status_code == 200
    found = lf(
        "GET", "/open/identity/contact", params={"id": "321100199012203412", "idType": "idCard"}
    )
    contact_id = found.json()
    assert contact_id > FIRST_CONTACT_ID + CONTACT_COUNT - 1
    contact = lf("GET", "/open/contacts_bulk", params={"ids": str(contact_id)}).json()[0]
    assert contact["name"] == "contactName" and contact["props"] == {"k": 1}
    # the same identity again updates that contact
    again = message_body(messages=[message_body()["messages"][0] | {"data": {"name": "改名"}}])
    assert lf("POST", "/open/messages", json=again).status_code == 200
    contact = lf("GET", "/open/contacts_bulk", params={"ids": str(contact_id)}).json()[0]
    assert contact["name"] == "改名"


@pytest.mark.parametrize(
    "overrides",
    [
        {"channelType": "SMS"},
        {"channelKey": ""},
        {"identities": []},
        {"messages": []},
        {"messages": [{"domain": "contact", "action": "track", "ts": 1, "data": {}}]},
        {"messages": [{"domain": "event", "action": "set", "ts": 1, "data": {"event": "e"}}]},
        {"messages": [{"domain": "order", "action": "set", "ts": 1, "data": {}}]},
        {"messages": [{"domain": "event", "action": "track", "ts": 1, "data": {}}]},
    ],
)
def test_messages_invalid(lf, overrides):
    assert_error(lf("POST", "/open/messages", json=message_body(**overrides)), 500, "B00010")
