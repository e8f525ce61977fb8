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
def test_outages_are_transport_errors_and_reads_are_tried_three_times(client, failure):
    token_route("t1")
    if isinstance(failure, httpx.Response):
        route = respx.get(f"{BASE}/open/groups").mock(return_value=failure)
    else:
        route = respx.get(f"{BASE}/open/groups").mock(side_effect=failure)
    with pytest.raises(LinkflowTransportError):
        client._call("GET", "/open/groups")
    assert route.call_count == 3


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


@respx.mock
def test_a_read_that_fails_once_succeeds_on_the_next_attempt(client):
    token_route("t1")
    route = respx.get(f"{BASE}/open/folders").mock(
        side_effect=[httpx.ConnectError("refused"), httpx.Response(200, json=[{"id": 175}])]
    )
    assert client.tag_folders() == [{"id": 175}]
    assert route.call_count == 2


@respx.mock
@pytest.mark.parametrize(
    "write",
    [
        lambda c: c.group_create(name="g"),
        lambda c: c.group_delete(group_id=3),
        lambda c: c.short_url(url="https://shop.example/x"),
    ],
)
def test_writes_are_never_retried(client, write):
    token_route("t1")
    route = respx.route(host="linkflow.example.test", path__regex=r"^/(open|v1)/").mock(
        side_effect=httpx.ReadTimeout("slow")
    )
    with pytest.raises(LinkflowTransportError):
        write(client)
    assert route.call_count == 1


@respx.mock
def test_the_post_lookups_are_retried_like_reads(client):
    token_route("t1")
    route = respx.post(f"{BASE}/open/contacts/tags").mock(
        side_effect=[httpx.Response(503), httpx.Response(200, json=[{"tagId": 1}])]
    )
    assert client.contact_tag_values(id_type="phone", id_value="13888888888") == [{"tagId": 1}]
    assert route.call_count == 2


@respx.mock
def test_429_without_a_b_code_is_retryable(client):
    token_route("t1")
    respx.get(f"{BASE}/open/groups").mock(return_value=httpx.Response(429, text="slow down"))
    with pytest.raises(LinkflowTransportError) as raised:
        client.groups()
    assert raised.value.retryable


@respx.mock
def test_the_b_underscore_spelling_is_the_same_code(client):
    token_route("t1")
    respx.delete(f"{BASE}/v1/tags/tagkeys/tag_gone").mock(
        return_value=httpx.Response(500, json={"code": "B_01162", "message": "标签不存在"})
    )
    with pytest.raises(LinkflowRejected) as raised:
        client.tag_delete(tag_key="tag_gone")
    assert (raised.value.code, raised.value.message) == ("B01162", "标签不存在")
    assert raised.value.endpoint == "/v1/tags/tagkeys/{tagKey}"


@respx.mock
def test_a_refusal_without_message_is_described_from_the_spec(client):
    token_route("t1")
    respx.get(f"{BASE}/open/orders").mock(return_value=httpx.Response(500, json={"code": "B00093"}))
    with pytest.raises(LinkflowRejected) as raised:
        client.orders_after(last_max_id=0)
    assert (raised.value.code, raised.value.message) == ("B00093", "超过最大页数")
    assert not raised.value.retryable


@pytest.mark.django_db
@respx.mock
def test_retried_reads_are_logged_once_per_attempt(settings):
    from portal.integrations.linkflow.factory import linkflow_client
    from portal.models import IntegrationCall

    settings.LINKFLOW_API_BASE_URL = BASE
    respx.get(f"{BASE}/token").mock(
        return_value=httpx.Response(200, json={"token": "tok-retry", "expiration": EXPIRES})
    )
    respx.get(f"{BASE}/open/report/9").mock(
        side_effect=[httpx.Response(502), httpx.Response(200, json={"status": 1})]
    )

    assert linkflow_client(app_key="k-retry", app_secret="s-retry").report(report_id=9) == {
        "status": 1
    }

    rows = list(
        IntegrationCall.objects.filter(endpoint="/open/report/{reportId}")
        .order_by("id")
        .values_list("attempt", "ok", "http_status")
    )
    assert rows == [(1, False, 502), (2, True, 200)]


@pytest.mark.django_db
@respx.mock
def test_an_upload_is_logged_by_name_and_size_never_content(settings):
    from portal.integrations.linkflow.factory import linkflow_client
    from portal.models import IntegrationCall

    settings.LINKFLOW_API_BASE_URL = BASE
    respx.get(f"{BASE}/token").mock(
        return_value=httpx.Response(200, json={"token": "tok-up", "expiration": EXPIRES})
    )
    respx.post(f"{BASE}/v1/tags/tagkeys/tag_vip/upload/file/operates/append").mock(
        return_value=httpx.Response(200, json={"tagKey": "tag_vip", "fileName": "vip.csv"})
    )
    content = b"13888888888,VIP-MARKER\n"

    linkflow_client(app_key="k-up", app_secret="s-up").tag_upload(
        tag_key="tag_vip", operate="append", file=content, filename="vip.csv"
    )

    row = IntegrationCall.objects.get(endpoint__contains="/upload/file/")
    assert row.request_body == {"file": {"name": "vip.csv", "size": len(content)}}
    assert "VIP-MARKER" not in str(row.request_body) + row.error
