"""Linkflow access tokens against the running sandbox over real HTTP (spec: 通过App Key和App
Secret获取Access Token): cached until shortly before they expire, renewed once after a 401,
fetched once however many callers race for one. The sandbox's journal counts the `/token`
requests."""

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest

from portal.integrations.linkflow.auth import RENEW_BEFORE_SECONDS, TokenCache
from portal.integrations.linkflow.errors import LinkflowRejected
from tests.integrations.linkflow_sandboxed import LinkflowSandbox, sandbox_client

TOKEN_TTL = 7200  # the sandbox's default, as Linkflow's
OK, EXPIRED = (200, None), (401, "401")
CALLERS = 8


@pytest.fixture
def lf(control) -> LinkflowSandbox:
    return LinkflowSandbox.reset(control)


def race(call, callers: int = CALLERS) -> list:
    """`call()` from `callers` threads released at the same moment."""
    start = Barrier(callers)

    def one(_):
        start.wait()
        return call()

    with ThreadPoolExecutor(callers) as pool:
        return list(pool.map(one, range(callers)))


def test_the_token_is_fetched_once_and_reused(lf):
    lf.client.groups()
    lf.client.tags()
    lf.client.report(report_id=404)

    assert lf.answers("/token") == [OK]


def test_an_expired_token_is_refused_then_renewed_once(lf):
    before = lf.client.groups()
    lf.advance(TOKEN_TTL)  # the sandbox refuses the token from its expiration on

    after = lf.client.groups()

    assert after == before
    assert lf.answers("/open/groups") == [OK, EXPIRED, OK]
    assert lf.answers("/token") == [OK, OK]


def test_a_second_refusal_after_renewal_is_raised_not_retried_again(lf):
    lf.client.groups()
    lf.configure(token_ttl_seconds=0)  # every token the sandbox hands out is already expired
    lf.advance(TOKEN_TTL)

    with pytest.raises(LinkflowRejected) as raised:
        lf.client.groups()

    assert (raised.value.http_status, raised.value.code) == (401, "401")
    assert lf.answers("/open/groups") == [OK, EXPIRED, EXPIRED]
    assert lf.answers("/token") == [OK, OK]


def test_a_token_is_renewed_shortly_before_it_expires_without_a_refusal(lf):
    client = sandbox_client(cache=TokenCache(clock=lf.epoch))  # our clock follows the sandbox's
    client.groups()

    lf.advance(TOKEN_TTL - RENEW_BEFORE_SECONDS - 1)
    client.groups()
    assert lf.answers("/token") == [OK]

    lf.advance(1)
    client.groups()
    assert lf.answers("/token") == [OK, OK]
    assert lf.answers("/open/groups") == [OK, OK, OK]


def test_concurrent_callers_with_a_fresh_cache_ask_for_one_token(lf):
    lf.fault("/token", "latency", latency_ms=300)  # the first fetch is still running when
    # the others ask

    answers = race(lf.client.groups)

    assert all(answer == answers[0] for answer in answers) and answers[0]
    assert lf.answers("/token") == [OK]
    assert lf.answers("/open/groups") == [OK] * CALLERS


def test_concurrent_callers_after_expiry_renew_the_token_once(lf):
    lf.client.groups()
    lf.advance(TOKEN_TTL)
    lf.fault("/token", "latency", latency_ms=300)

    answers = race(lf.client.groups)

    assert len(answers) == CALLERS and all(answers)
    assert lf.answers("/token") == [OK, OK]
    groups = lf.answers("/open/groups")
    assert groups.count(OK) == 1 + CALLERS
    assert 1 <= groups.count(EXPIRED) <= CALLERS and len(groups) == 1 + CALLERS + groups.count(
        EXPIRED
    )
