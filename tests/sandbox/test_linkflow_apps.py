"""Linkflow apps, tokens and the control API: expiry on the sandbox clock, a workspace per
App Key (tenancy), sizes and timings."""

from __future__ import annotations

import pytest

from sandbox.linkflow.population import FIRST_CONTACT_ID
from tests.sandbox.linkflow_client import BASE, KEY, SECRET, Linkflow, assert_error


@pytest.fixture
def lf(client) -> Linkflow:
    return Linkflow.connect(client)


def test_token_lifetime_is_configurable_and_runs_on_the_sandbox_clock(client, advance):
    assert client.post("/_control/linkflow", json={"token_ttl_seconds": 60}).status_code == 200
    answer = client.get(f"{BASE}/token", headers={"X-OpenApi-Key": KEY, "X-OpenApi-Secret": SECRET})
    assert answer.json()["expiration"] == "2026-01-05 10:01:00"  # START + 60 s, China time
    lf = Linkflow(client, answer.json()["token"])

    advance(59)
    assert lf.call("GET", "/open/groups").status_code == 200
    advance(1)
    assert_error(lf.call("GET", "/open/groups"), 401, "401")


def test_a_new_token_works_beside_the_old_one(client, lf, advance):
    advance(3600)
    second = Linkflow.connect(client)
    assert second.token != lf.token
    assert lf.call("GET", "/open/groups").status_code == 200
    advance(3600)
    assert lf.call("GET", "/open/groups").status_code == 401
    assert second.call("GET", "/open/groups").status_code == 200


def test_a_registered_app_has_a_workspace_of_its_own(client, lf):
    registered = client.post(
        "/_control/linkflow/apps", json={"key": "brand-b", "secret": "s-b", "contacts": 10}
    )
    assert registered.status_code == 200, registered.text
    other = Linkflow.connect(client, "brand-b", "s-b")

    theirs = other.ok("GET", "/open/contacts", params={"size": 50})
    mine = lf.ok("GET", "/open/contacts", params={"size": 50})
    assert len(theirs) == 10 and len(mine) == 50
    assert not {c["id"] for c in theirs} & {c["id"] for c in mine}
    assert theirs[0]["id"] == FIRST_CONTACT_ID + 10_000_000_000

    their_group = other.ok("POST", "/open/groups", json={"name": "B的组"})
    assert_error(lf.call("GET", f"/open/groups/{their_group['id']}/contacts"), 404, "B00008")
    assert lf.ok("GET", "/open/groups", params={"name": "B的组"}) == []
    assert_error(lf.call("GET", f"/open/contacts/{theirs[0]['id']}/identities"), 404, "B00008")

    body = {
        "channelKey": "udc_b",
        "identities": [{"id": "13900000000", "type": "mobilePhone"}],
        "messages": [{"domain": "event", "action": "track", "ts": 1, "data": {"event": "e"}}],
    }
    assert other.call("POST", "/open/messages", json=body).status_code == 200
    logged = client.get("/_control/linkflow/messages").json()["messages"]
    assert [m["app_key"] for m in logged] == ["brand-b"]
    assert client.get("/_control/linkflow/messages", params={"app_key": KEY}).json() == {
        "messages": []
    }


def test_registering_an_app_is_checked_and_undone_by_a_reset(client):
    assert (
        client.post("/_control/linkflow/apps", json={"key": KEY, "secret": "x"}).status_code == 400
    )
    assert client.post("/_control/linkflow/apps", json={"key": "k"}).status_code == 400
    assert (
        client.post("/_control/linkflow/apps", json={"key": "a:b", "secret": "x"}).status_code
        == 400
    )
    assert (
        client.post("/_control/linkflow/apps", json={"key": "k", "secret": "s"}).status_code == 200
    )
    wrong = client.get(f"{BASE}/token", headers={"X-OpenApi-Key": "k", "X-OpenApi-Secret": "no"})
    assert_error(wrong, 401, "401")

    client.post("/_control/reset", json={"seed": 42, "clock": "manual"})
    gone = client.get(f"{BASE}/token", headers={"X-OpenApi-Key": "k", "X-OpenApi-Secret": "s"})
    assert gone.status_code == 401
    apps = client.get("/_control/linkflow/apps").json()["apps"]
    assert [app["app_key"] for app in apps] == [KEY]


def test_sizes_reseed_a_workspace_and_keep_its_tokens(client, lf):
    resized = client.post(
        "/_control/linkflow", json={"contacts": 30, "big_group_members": 25, "orders": 5}
    )
    assert resized.status_code == 200
    assert resized.json()["apps"][0]["sizes"] == {
        "contacts": 30,
        "big_group_members": 25,
        "orders": 5,
    }
    assert len(lf.ok("GET", "/open/contacts/cursor", params={"lastMaxId": 0, "size": 100})) == 30
    big = lf.ok("GET", "/open/groups", params={"name": "全量会员"})[0]
    assert len(lf.ok("GET", f"/open/groups/{big['id']}/contacts")) == 25
    assert len(lf.ok("GET", "/open/orders", params={"lastMaxId": 0})) == 5
    # a group larger than the population holds everyone once
    follows = lf.ok("GET", "/open/groups", params={"name": "关注用户"})[0]
    members = lf.ok("GET", f"/open/groups/{follows['id']}/contacts")
    assert len({m["contact"]["id"] for m in members}) == len(members) == 30


@pytest.mark.parametrize(
    "body",
    [
        {"nope": 1},
        {"contacts": -1},
        {"contacts": 1.5},
        {"contacts": 20_000_000},
        {"report_seconds": "6"},
        {"tag_export_failure_rate": 2},
        {"contacts": 10, "app_key": "unknown"},
    ],
)
def test_the_control_api_refuses_bad_settings(client, body):
    assert client.post("/_control/linkflow", json=body).status_code == 400
    assert client.get("/_control/linkflow").json()["apps"][0]["sizes"]["contacts"] == 1000


def test_the_state_summary_includes_linkflow(client, lf):
    summary = client.get("/_control/state").json()["linkflow"]
    assert summary["tokens"] == 1
    assert summary["apps"][0]["app_key"] == KEY
    assert summary["config"]["report_seconds"] == 6
