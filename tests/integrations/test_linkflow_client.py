"""Linkflow token handling and error mapping, at the transport level (respx)."""

import threading

import httpx
import pytest
import respx

from portal.integrations.linkflow.auth import TokenCache, parse_expiration
from portal.integrations.linkflow.client import LinkflowClient
from portal.integrations.linkflow.errors import LinkflowRejected, LinkflowTransportError

BASE = "https://linkflow.example.test"
EXPIRES = "2030-01-01 08:00:00"  # China time = 2030-01-01T00:00:00Z


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock(parse_expiration(EXPIRES) - 3600)


@pytest.fixture
def client(clock):
    return LinkflowClient(
        http=httpx.Client(base_url=BASE),
        app_key="key-1",
        app_secret="secret-1",
        cache=TokenCache(clock=clock),
    )


def token_route(*tokens):
    return respx.get(f"{BASE}/token").mock(
        side_effect=[httpx.Response(200, json={"token": t, "expiration": EXPIRES}) for t in tokens]
    )


def test_expiration_is_china_time():
    assert parse_expiration("2030-01-01 08:00:00") == 1893456000.0


@respx.mock
def test_the_token_is_fetched_once_and_sent_with_every_call(client):
    tokens = token_route("t1")
    api = respx.get(f"{BASE}/open/groups").mock(return_value=httpx.Response(200, json=[]))

    client._call("GET", "/open/groups")
    client._call("GET", "/open/groups")

    assert tokens.call_count == 1
    assert tokens.calls.last.request.headers["X-OpenApi-Key"] == "key-1"
    assert tokens.calls.last.request.headers["X-OpenApi-Secret"] == "secret-1"
    assert all(c.request.headers["X-OpenApi-Token"] == "t1" for c in api.calls)


@respx.mock
def test_the_token_is_renewed_shortly_before_it_expires(client, clock):
    tokens = token_route("t1", "t2")
    api = respx.get(f"{BASE}/open/groups").mock(return_value=httpx.Response(200, json=[]))

    client._call("GET", "/open/groups")
    clock.now = parse_expiration(EXPIRES) - 60  # inside the renewal margin
    client._call("GET", "/open/groups")

    assert tokens.call_count == 2
    assert api.calls.last.request.headers["X-OpenApi-Token"] == "t2"


@respx.mock
def test_racing_calls_renew_the_token_once(client):
    tokens = token_route("t1", "t2", "t3")
    respx.get(f"{BASE}/open/groups").mock(return_value=httpx.Response(200, json=[]))
    threads = [
        threading.Thread(target=client._call, args=("GET", "/open/groups")) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert tokens.call_count == 1


@respx.mock
def test_a_401_renews_the_token_and_retries_once(client):
    tokens = token_route("old", "new")
    api = respx.get(f"{BASE}/open/groups").mock(
        side_effect=[
            httpx.Response(401, json={"code": "401", "message": "token expired"}),
            httpx.Response(200, json=[1]),
        ]
    )

    assert client._call("GET", "/open/groups") == [1]
    assert tokens.call_count == 2
    assert [c.request.headers["X-OpenApi-Token"] for c in api.calls] == ["old", "new"]


@respx.mock
def test_a_second_401_is_raised(client):
    token_route("a", "b")
    respx.get(f"{BASE}/open/groups").mock(return_value=httpx.Response(401, text=""))
    with pytest.raises(LinkflowRejected) as raised:
        client._call("GET", "/open/groups")
    assert raised.value.http_status == 401


@respx.mock
def test_b_codes_are_refusals_even_on_http_500(client):
    token_route("t1")
    respx.get(f"{BASE}/open/contacts/7").mock(
        return_value=httpx.Response(
            500, json={"code": "B00008", "message": "No [contact] found with id [7]"}
        )
    )
    with pytest.raises(LinkflowRejected) as raised:
        client._call("GET", "/open/contacts/7", endpoint="/open/contacts/{id}")
    assert (raised.value.code, raised.value.endpoint) == ("B00008", "/open/contacts/{id}")
    assert not raised.value.retryable


@respx.mock
@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(502, text="bad gateway"),
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
    ],
)
def test_outages_are_transport_errors(client, failure):
    token_route("t1")
    respx.get(f"{BASE}/open/groups").mock(side_effect=[failure])
    with pytest.raises(LinkflowTransportError):
        client._call("GET", "/open/groups")


def test_the_secret_is_never_printed(client):
    assert "secret-1" not in repr(client)


@respx.mock
def test_contacts_and_groups_are_called_with_the_specs_parameters(client):
    token_route("t1")
    contacts = respx.get(f"{BASE}/open/contacts").mock(return_value=httpx.Response(200, json=[]))
    cursor = respx.get(f"{BASE}/open/contacts/cursor").mock(
        return_value=httpx.Response(200, json=[])
    )
    bulk = respx.get(f"{BASE}/open/contacts_bulk").mock(return_value=httpx.Response(200, json=[]))
    create = respx.post(f"{BASE}/open/groups").mock(
        return_value=httpx.Response(200, json={"id": 334, "name": "g", "groupType": "static"})
    )
    members = respx.get(f"{BASE}/open/groups/334/contacts").mock(
        return_value=httpx.Response(200, json=[])
    )
    remove = respx.delete(f"{BASE}/open/groups/334/contacts").mock(
        return_value=httpx.Response(200, json={})
    )

    client.contacts(page=1, size=50, group_id=7)
    client.contacts_cursor(last_max_id=2865, size=200)
    client.contacts_bulk(ids=[1, 3, 5], need_open_id=True)
    assert client.group_create(name="g")["id"] == 334
    client.group_members(group_id=334, member_id=2346, size=500)
    client.group_members_remove(group_id=334, contact_ids=[17760, 17771])

    assert dict(contacts.calls.last.request.url.params) == {
        "page": "1",
        "size": "50",
        "groupId": "7",
    }
    assert dict(cursor.calls.last.request.url.params) == {"lastMaxId": "2865", "size": "200"}
    assert dict(bulk.calls.last.request.url.params) == {"ids": "1,3,5", "needOpenId": "1"}
    assert create.calls.last.request.read() == b'{"name":"g","groupType":"static"}'
    assert dict(members.calls.last.request.url.params) == {"memberId": "2346", "size": "500"}
    assert remove.calls.last.request.read() == b"[17760,17771]"


@respx.mock
def test_documented_limits_are_checked_before_sending(client):
    from portal.integrations.linkflow.errors import LinkflowLimitExceeded

    route = respx.route().mock(return_value=httpx.Response(200, json=[]))
    with pytest.raises(LinkflowLimitExceeded):
        client.contacts_bulk_ids(page=101, size=100)
    with pytest.raises(LinkflowLimitExceeded):
        client.contacts_bulk(ids=list(range(101)))
    with pytest.raises(LinkflowLimitExceeded):
        client.group_members(group_id=1, size=501)
    assert route.call_count == 0


@pytest.mark.django_db
@respx.mock
def test_every_attempt_is_in_the_call_log_with_credentials_masked(settings):
    from portal.integrations.linkflow.factory import linkflow_client
    from portal.models import IntegrationCall

    settings.LINKFLOW_API_BASE_URL = BASE
    respx.get(f"{BASE}/token").mock(
        return_value=httpx.Response(200, json={"token": "tok-secret", "expiration": EXPIRES})
    )
    respx.get(f"{BASE}/open/groups").mock(return_value=httpx.Response(200, json=[{"id": 1}]))

    linkflow_client(app_key="k-log", app_secret="s-log").groups(name="618")

    rows = list(
        IntegrationCall.objects.order_by("id").values("system", "endpoint", "ok", "response_body")
    )
    assert [(r["system"], r["endpoint"], r["ok"]) for r in rows] == [
        ("linkflow", "/token", True),
        ("linkflow", "/open/groups", True),
    ]
    assert rows[0]["response_body"]["token"] == "***"
    assert "s-log" not in str(rows)
