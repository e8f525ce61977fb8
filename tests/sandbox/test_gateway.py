"""The JD Cloud gateway in front of /jdcloud: signatures, replay, routing, journal."""

import uuid

import pytest

from portal.integrations.jdcloud.signing import JDCLOUD2, JDCLOUD3, Credentials
from tests.sandbox.conftest import DEMO
from tests.sandbox.jd_client import BASE_URL, env_credentials


def assert_gateway_401(response, fragment: str) -> None:
    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"requestId", "error"}
    assert len(body["requestId"]) == 32
    assert body["error"]["code"] == 401
    assert body["error"]["status"] == "UNAUTHENTICATED"
    assert fragment in body["error"]["message"]


@pytest.mark.parametrize("algorithm", [JDCLOUD2, JDCLOUD3])
def test_both_signing_algorithms_are_accepted(jd, algorithm):
    response = jd.request(
        "POST", "/master/verify", body={"master_pin": "jiangkun"}, algorithm=algorithm
    )

    assert response.status_code == 200
    assert response.json()["data"] == {"valid": "1", "master_id": DEMO}


def test_a_wrong_secret_is_rejected_with_the_gateway_body(jd):
    wrong = Credentials(env_credentials().access_key, "not-the-secret")

    response = jd.request("GET", "/tag/list/v2", credentials=wrong)

    assert_gateway_401(response, "signature does not match")


def test_an_unknown_access_key_is_rejected(jd):
    response = jd.request("GET", "/tag/list/v2", credentials=Credentials("someone-else", "x"))

    assert_gateway_401(response, "unknown access key")


def test_an_unsigned_request_is_rejected(client):
    response = client.get(f"{BASE_URL}/tag/list/v2")

    assert_gateway_401(response, "missing Authorization")


def test_a_replayed_nonce_is_rejected(jd):
    nonce = str(uuid.uuid4())
    first = jd.request("GET", "/sms/balance", params={"master_id": DEMO}, nonce=nonce)
    replay = jd.request("GET", "/sms/balance", params={"master_id": DEMO}, nonce=nonce)

    assert first.status_code == 200
    assert_gateway_401(replay, "already used")


def test_a_body_changed_after_signing_is_rejected(jd, client):
    signed = jd.request("POST", "/master/verify", body={"master_pin": "jiangkun"})
    assert signed.status_code == 200
    request = signed.request
    tampered = client.request(
        "POST",
        str(request.url),
        content=b'{"master_pin":"other_brand_pin"}',
        headers={**dict(request.headers), "x-jdcloud-nonce": str(uuid.uuid4())},
    )

    assert tampered.status_code == 401


def test_query_parameters_are_covered_by_the_signature(jd, client):
    signed = jd.request("GET", "/sms/balance", params={"master_id": DEMO})
    headers = {**dict(signed.request.headers)}
    moved = client.get(f"{BASE_URL}/sms/balance?master_id=someone", headers=headers)

    assert moved.status_code == 401


def test_unknown_paths_and_methods_get_gateway_errors(jd):
    missing = jd.request("GET", "/no/such/api")
    wrong_method = jd.request("GET", "/crowd/list")

    assert missing.status_code == 404
    assert missing.json()["error"]["status"] == "NOT_FOUND"
    assert wrong_method.status_code == 405


def test_every_request_lands_in_the_journal(jd, client):
    jd.request("GET", "/tag/list/v2")
    jd.request("GET", "/tag/list/v2", credentials=Credentials("nobody", "x"))
    jd.request("POST", "/crowd/list", body={"master_id": "nobody"})

    tags = client.get("/_control/requests", params={"path": "/tag/list/v2"}).json()["requests"]
    everything = client.get("/_control/requests").json()["requests"]

    assert [(r["method"], r["status"], r["code"]) for r in tags] == [
        ("GET", 200, "0"),
        ("GET", 401, None),
    ]
    assert everything[-1]["path"] == "/crowd/list"
    assert everything[-1]["code"] == "404"
    assert client.delete("/_control/requests").json() == {"requests": []}


SPEC_ENDPOINTS = """
POST /master/verify; GET /tag/list/v2; POST /crowd/create/v2; POST /crowd/edit/v2;
POST /crowd/del; POST /crowd/info; POST /crowd/list; POST /crowd/init;
GET /crowd/instance/status/8197a201-cff3-4251-99bc-0c0f67205316; POST /crowd/instance/saveas;
POST /crowd/instance/calc; POST /crowd/instance/split; POST /crowd/instance/filter;
POST /crowd/instance/reach; POST /shorturl/create; POST /sms/templates; GET /sms/signature;
GET /sms/balance; GET /sms/recharge; GET /sms/consume; POST /sms/result; POST /activity/create;
POST /report/create; POST /report; POST /report/pull; GET /activity/wx/getAllTemplate;
GET /activity/wx/batchGetNews; POST /activity/wx/create; GET /activity/wx/activityInfo;
POST /activity/wx/reject; GET /activity/wx/convertUrl; GET /activity/wx/weChatInfo;
GET /notice/list; GET /system/status
"""


@pytest.mark.parametrize(
    ("method", "path"),
    [tuple(item.split()) for item in SPEC_ENDPOINTS.replace("\n", " ").split(";")],
)
def test_every_spec_endpoint_is_served_with_its_method(jd, method, path):
    response = jd.request(method, path, body={} if method == "POST" else None)

    assert response.status_code == 200
    body = response.json()
    assert "error" not in body
    assert {"code", "result"} & set(body)
