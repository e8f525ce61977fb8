"""The control API: reset and determinism, clock, config, faults, brands."""

import time

from starlette.testclient import TestClient

from sandbox.app import create_app
from tests.sandbox.conftest import DEMO, START, tag_condition
from tests.sandbox.jd_client import JdClient, expect_error


def scenario(seed: int) -> list:
    """A few calls on a fresh app; returns the ids and sizes JD Cloud answered."""
    client = TestClient(create_app())
    client.post("/_control/reset", json={"seed": seed, "clock": "manual", "start": START})
    jd = JdClient(client)
    out = []
    for value in ("TAG_001_01", "TAG_001_02"):
        search_id = jd.ok_post(
            "/crowd/create/v2",
            {
                "data_type": "1",
                "crowd_name": "n",
                "crowd_desc": "d",
                "master_id": DEMO,
                "crowd_type": "1",
                "package_type": 1,
                "condition": tag_condition(value),
            },
        )["search_id"]
        package_id = jd.ok_post("/crowd/init", {"search_id": search_id})["package_id"]
        client.post("/_control/clock/advance", json={"seconds": 20})
        size = jd.ok_get(f"/crowd/instance/status/{package_id}")["package_size"]
        out.append((search_id, package_id, size))
    return out


def test_the_same_seed_gives_the_same_ids_and_sizes():
    first, again, other = scenario(7), scenario(7), scenario(8)

    assert first == again
    assert [row[:2] for row in first] != [row[:2] for row in other]
    assert [row[2] for row in first] == [row[2] for row in other]  # sizes follow conditions


def test_reset_restores_the_seeded_state(client, jd, make_package):
    make_package()
    client.post("/_control/faults", json={"path": "*", "kind": "latency", "latency_ms": 1})
    client.post("/_control/brands", json={"master_id": DEMO, "public_balance": 1})

    summary = client.post("/_control/reset", json={"seed": 1}).json()

    assert (summary["crowds"], summary["instances"], summary["faults"]) == (0, 0, 0)
    assert summary["journal"] == 0 and summary["clock"]["mode"] == "real"
    assert jd.ok_get("/sms/balance", master_id=DEMO)["public_balance"] == 65282


def test_the_manual_clock_moves_only_when_told(client):
    before = client.get("/_control/clock").json()
    after = client.post("/_control/clock/advance", json={"seconds": 90}).json()

    assert before["now"] == "2026-01-05T10:00:00+08:00" and before["mode"] == "manual"
    assert after["now_text"] == "2026-01-05 10:01:30"
    assert client.post("/_control/clock/advance", json={}).status_code == 400


def test_a_real_clock_can_run_faster(client):
    client.post("/_control/reset", json={"clock": "real", "start": START})
    client.post("/_control/config", json={"clock_speed": 1000})
    time.sleep(0.05)

    assert client.get("/_control/clock").json()["epoch"] - 1767578400 >= 40


def test_config_rejects_unknown_keys_and_bad_values(client):
    assert client.post("/_control/config", json={"nope": 1}).status_code == 400
    assert client.post("/_control/config", json={"instance_failure_rate": 2}).status_code == 400
    assert client.get("/_control/config").json()["instance_generation_seconds"] == 20


def test_http_error_faults_answer_like_a_proxy(client, jd):
    client.post(
        "/_control/faults", json={"path": "/crowd/list", "kind": "http_error", "status": 502}
    )

    faulted = jd.request("POST", "/crowd/list", body={"master_id": DEMO})
    unaffected = jd.request("GET", "/tag/list/v2")

    assert faulted.status_code == 502
    assert "502 Bad Gateway" in faulted.text and faulted.headers["content-type"].startswith(
        "text/html"
    )
    assert unaffected.status_code == 200
    journal = client.get("/_control/requests", params={"path": "/crowd/list"}).json()["requests"]
    assert journal[-1]["status"] == 502


def test_code_faults_for_the_next_n_requests(client, jd):
    client.post(
        "/_control/faults",
        json={"path": "/crowd/list", "kind": "code", "code": "500", "msg": "系统繁忙", "times": 2},
    )

    answers = [jd.post("/crowd/list", {"master_id": DEMO}) for _ in range(3)]

    expect_error(answers[0], "500", "系统繁忙")
    expect_error(answers[1], "500", "系统繁忙")
    assert answers[2]["code"] == 0
    assert client.get("/_control/faults").json() == {"faults": []}


def test_latency_faults_delay_and_templated_paths_match_by_prefix(client, jd, make_package):
    package_id = make_package()
    client.post(
        "/_control/faults",
        json={"path": "/crowd/instance/status", "kind": "latency", "latency_ms": 150},
    )

    started = time.monotonic()
    status = jd.get(f"/crowd/instance/status/{package_id}")
    elapsed = time.monotonic() - started
    quick_start = time.monotonic()
    jd.get("/tag/list/v2")

    assert status["code"] == 0
    assert elapsed >= 0.15
    assert time.monotonic() - quick_start < 0.15


def test_timeout_faults_sleep_then_answer(client, jd):
    client.post(
        "/_control/faults", json={"path": "*", "kind": "timeout", "latency_ms": 50, "times": 1}
    )

    started = time.monotonic()
    answer = jd.get("/notice/list")

    assert time.monotonic() - started >= 0.05
    assert answer["code"] == 0


def test_fault_rates_are_decided_by_the_seeded_stream(client, jd):
    def pattern() -> list[int]:
        client.post("/_control/reset", json={"seed": 3, "clock": "manual", "start": START})
        client.post("/_control/faults", json={"path": "*", "kind": "http_error", "rate": 0.5})
        return [jd.request("GET", "/notice/list").status_code for _ in range(12)]

    first, again = pattern(), pattern()

    assert first == again
    assert {200, 500} == set(first)


def test_faults_are_validated_and_cleared(client):
    assert client.post("/_control/faults", json={"path": "x", "kind": "code"}).status_code == 400
    assert client.post("/_control/faults", json={"path": "/a", "kind": "boom"}).status_code == 400
    assert (
        client.post(
            "/_control/faults", json={"path": "/a", "kind": "http_error", "status": 302}
        ).status_code
        == 400
    )
    client.post("/_control/faults", json={"path": "/jdcloud/crowd/list", "kind": "code"})

    assert client.get("/_control/faults").json()["faults"][0]["path"] == "/crowd/list"
    assert client.delete("/_control/faults").json() == {"faults": []}


def test_brands_can_be_added_with_pins_and_balances(client, jd):
    brand = {
        "master_id": "b-1",
        "name": "新品牌",
        "shop_id": "10000999",
        "pins": ["new_pin"],
        "public_balance": 10,
        "private_balance": 20,
    }

    created = client.post("/_control/brands", json=brand).json()
    verified = jd.ok_post("/master/verify", {"master_pin": "new_pin"})
    taken = client.post("/_control/brands", json={**brand, "master_id": "b-2"})

    assert created["signatures"][0]["signature_name"] == "【新品牌】"
    assert verified == {"valid": "1", "master_id": "b-1"}
    assert jd.ok_get("/sms/balance", master_id="b-1") == {
        "public_balance": 10,
        "private_balance": 20,
    }
    assert taken.status_code == 400
    assert client.get("/_control/state").json()["brands"] == 3
