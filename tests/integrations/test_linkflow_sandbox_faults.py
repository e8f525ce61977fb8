"""Outages between the client and the running sandbox (`/_control/faults`): a read is tried
three times (the suite's stamina test mode: the configured attempts, no waiting), a write
once, since Linkflow may have acted on a request whose answer was lost. The journal shows
each attempt."""

import httpx
import pytest
from django.conf import settings

from portal.integrations.linkflow.errors import LinkflowRejected, LinkflowTransportError
from tests.integrations.linkflow_sandboxed import LinkflowSandbox, has, sandbox_client

OK = (200, None)
ATTEMPTS = 3


@pytest.fixture
def lf(control) -> LinkflowSandbox:
    return LinkflowSandbox.reset(control)


@pytest.fixture
def impatient(lf):
    """The client with a 0.3 s timeout, for faults that hold the answer back."""
    http = httpx.Client(base_url=settings.LINKFLOW_API_BASE_URL, timeout=0.3)
    yield sandbox_client(http=http)
    http.close()


def test_a_5xx_on_a_read_is_retried_until_it_succeeds(lf):
    lf.fault("/open/groups", "http_error", status=502, times=2)

    groups = lf.client.groups()

    assert [g["name"] for g in groups][:1] == ["618潜在客户"]
    assert lf.answers("/open/groups") == [(502, None), (502, None), OK]


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "http_error", "status": 503},  # a proxy's error page
        {"kind": "http_error", "status": 429},  # throttled
        {"kind": "code", "status": 500, "code": "500", "msg": "系统繁忙"},  # no B-code
    ],
    ids=["503-page", "429-page", "500-without-b-code"],
)
def test_a_read_that_keeps_failing_is_tried_three_times(lf, fault):
    lf.fault("/open/report/{reportId}", **fault)

    with pytest.raises(LinkflowTransportError):
        lf.client.report(report_id=404)

    assert len(lf.answers("/open/report/{reportId}")) == ATTEMPTS
    assert {status for status, _ in lf.answers("/open/report/{reportId}")} == {fault["status"]}


def test_a_timeout_on_a_read_is_retried(lf, impatient):
    lf.fault("/open/contacts/cursor", "timeout", latency_ms=1000, times=2)

    page = impatient.contacts_cursor(last_max_id=0, size=3)

    assert page == [lf.contact(n).as_json() for n in range(3)]
    # the two abandoned requests are journaled when the sandbox has finished them
    assert len(lf.wait_for_journal("/open/contacts/cursor", ATTEMPTS)) == ATTEMPTS


def test_a_read_that_keeps_timing_out_is_tried_three_times(lf, impatient):
    lf.fault("/open/groups/{groupId}/contacts", "timeout", latency_ms=1000)

    with pytest.raises(LinkflowTransportError, match="timeout"):
        impatient.group_members(group_id=100)

    assert len(lf.wait_for_journal("/open/groups/{groupId}/contacts", ATTEMPTS)) == ATTEMPTS


def test_a_lookup_sent_as_post_is_retried_like_a_read(lf):
    wanted = lf.find_contact(has("mobilePhone"))
    lf.fault("/open/contacts/identities", "http_error", status=504, times=2)

    found = lf.client.contact_identities_lookup(
        id_type="mobilePhone", id_value=wanted.first("mobilePhone")
    )

    assert found["contactId"] == wanted.id
    assert lf.answers("/open/contacts/identities") == [(504, None), (504, None), OK]


def test_a_5xx_on_a_write_is_not_retried(lf):
    lf.fault("/open/groups", "http_error", status=503)

    with pytest.raises(LinkflowTransportError):
        lf.client.group_create(name="不重试")

    assert lf.answers("/open/groups", "POST") == [(503, None)]


def test_a_timeout_on_a_write_is_not_retried(lf, impatient):
    lf.fault("/open/groups", "timeout", latency_ms=1000, times=3)

    with pytest.raises(LinkflowTransportError, match="timeout"):
        impatient.group_create(name="答复丢失")

    # The sandbox drops a write whose client has gone before it reads the body, so the
    # journal never shows it; the fault's countdown counts the requests that arrived.
    (fault,) = lf.control.get("/faults").json()["faults"]
    assert fault["times"] == 3 - 1


def test_a_b_code_with_http_500_on_a_read_is_a_refusal_not_an_outage(lf):
    lf.fault("/open/groups", "code", status=500, code="B00010", msg="参数不合法")

    with pytest.raises(LinkflowRejected) as refused:
        lf.client.groups()

    assert (refused.value.code, refused.value.message) == ("B00010", "参数不合法")
    assert lf.answers("/open/groups") == [(500, "B00010")]


def test_a_write_after_an_outage_succeeds_once_the_fault_is_gone(lf):
    lf.fault("/open/shorturl", "http_error", status=502, times=1)

    with pytest.raises(LinkflowTransportError):
        lf.client.short_url(url="https://shop.example.com")
    short = lf.client.short_url(url="https://shop.example.com")

    assert [link["shorturl"] for link in lf.get("shorturls")["shorturls"]] == [short]
    assert lf.answers("/open/shorturl") == [(502, None), OK]
