"""Faults and the request journal for `/linkflow`, with the same `/_control/faults` and
`/_control/requests` as the JD Cloud side."""

from __future__ import annotations

import time

import pytest

from tests.sandbox.jd_client import JdClient
from tests.sandbox.linkflow_client import Linkflow, assert_error

REPORT = "/linkflow/open/report/{reportId}"


@pytest.fixture
def lf(client) -> Linkflow:
    return Linkflow.connect(client)


def test_an_http_error_on_a_templated_endpoint(client, lf):
    added = client.post(
        "/_control/faults",
        json={"path": "linkflow:/open/report/{reportId}", "kind": "http_error", "status": 502},
    )
    assert added.json()["faults"][0]["path"] == REPORT

    faulted = lf.call("GET", "/open/report/413")
    assert faulted.status_code == 502 and "502 Bad Gateway" in faulted.text
    assert faulted.headers["content-type"].startswith("text/html")
    assert lf.call("GET", "/open/dashboard/21/summary").status_code == 200
    assert lf.call("GET", "/open/report/404/extra").status_code == 404  # not this endpoint

    journal = client.get("/_control/requests", params={"endpoint": REPORT}).json()["requests"]
    assert [(e["path"], e["status"]) for e in journal] == [("/linkflow/open/report/413", 502)]


def test_a_code_fault_for_the_next_call_answers_linkflows_error_body(client, lf):
    client.post(
        "/_control/faults",
        json={
            "path": "/linkflow/open/groups",
            "kind": "code",
            "code": "B00010",
            "msg": "参数不合法",
            "times": 1,
        },
    )
    assert_error(lf.call("GET", "/open/groups"), 500, "B00010")
    assert lf.call("GET", "/open/groups").status_code == 200
    assert client.get("/_control/faults").json() == {"faults": []}
    codes = [
        e["code"]
        for e in client.get("/_control/requests", params={"path": "/linkflow/open/groups"}).json()[
            "requests"
        ]
    ]
    assert codes == ["B00010", None]


def test_a_code_fault_can_choose_its_http_status(client, lf):
    client.post(
        "/_control/faults",
        json={
            "path": "/linkflow/open/shorturl/distribute",
            "kind": "code",
            "status": 420,
            "code": "B00008",
        },
    )
    body = {"url": "https://x.cn", "utm": {"term": "1"}}
    assert_error(lf.call("POST", "/open/shorturl/distribute", json=body), 420, "B00008")


def test_a_prefix_fault_delays_every_linkflow_call_and_no_jd_call(client, lf):
    client.post(
        "/_control/faults", json={"path": "/linkflow", "kind": "latency", "latency_ms": 120}
    )
    started = time.monotonic()
    assert lf.call("GET", "/open/folders").status_code == 200
    assert time.monotonic() - started >= 0.12
    jd_started = time.monotonic()
    assert JdClient(client).get("/notice/list")["code"] == 0
    assert time.monotonic() - jd_started < 0.12


def test_a_star_fault_is_for_jd_cloud_only(client, lf):
    client.post("/_control/faults", json={"path": "*", "kind": "http_error", "status": 503})
    assert lf.call("GET", "/open/groups").status_code == 200
    assert JdClient(client).request("GET", "/notice/list").status_code == 503


def test_the_token_endpoint_can_fail_too(client):
    client.post(
        "/_control/faults", json={"path": "/linkflow/token", "kind": "http_error", "times": 1}
    )
    refused = client.get(
        "/linkflow/token",
        headers={
            "X-OpenApi-Key": "sandbox-linkflow-key",
            "X-OpenApi-Secret": "sandbox-linkflow-secret",
        },
    )
    assert refused.status_code == 500
    assert Linkflow.connect(client).token


def test_the_journal_records_every_linkflow_call_with_its_app(client, lf):
    client.delete("/_control/requests")
    lf.call("GET", "/open/groups")
    client.get("/linkflow/open/groups", headers={"X-OpenApi-Token": "expired"})
    lf.call("GET", "/open/contacts/1/identities")
    lf.call("POST", "/open/messages", content=b"{not json")

    journal = client.get("/_control/requests").json()["requests"]
    assert [(e["method"], e["path"], e["status"], e["code"], e["app"]) for e in journal] == [
        ("GET", "/linkflow/open/groups", 200, None, "sandbox-linkflow-key"),
        ("GET", "/linkflow/open/groups", 401, "401", None),
        ("GET", "/linkflow/open/contacts/1/identities", 404, "B00008", "sandbox-linkflow-key"),
        ("POST", "/linkflow/open/messages", 500, "B00010", "sandbox-linkflow-key"),
    ]
    assert journal[2]["endpoint"] == "/linkflow/open/contacts/{id}/identities"
    assert journal[0]["time"] == "2026-01-05T10:00:00+08:00"


def test_a_bad_body_without_a_token_is_a_401(client):
    answer = client.post("/linkflow/open/messages", content=b"{not json")
    assert_error(answer, 401, "401")


def test_fault_paths_are_checked(client):
    assert (
        client.post("/_control/faults", json={"path": "linkflow", "kind": "code"}).status_code
        == 400
    )
    added = client.post("/_control/faults", json={"path": "/linkflow/open/groups", "kind": "code"})
    assert added.json()["faults"][0]["path"] == "/linkflow/open/groups"  # kept, not stripped
