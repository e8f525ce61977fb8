"""Lazy iteration with flat memory: the client walks 100,000 contacts (by the `lastMaxId`
cursor) and 100,000 members of one group (by the `memberId` cursor) of the running sandbox
over real HTTP, holding one page at a time. Memory is measured with tracemalloc (this
process only; the sandbox is another one); time is not asserted (see `manage.py
bench_linkflow` for the figures)."""

import tracemalloc
from collections.abc import Iterable

import pytest

from tests.integrations.linkflow_sandboxed import LinkflowSandbox

POPULATION = 100_000
# The walk's time is the sandbox generating contacts; pages of 1000 are no faster here, and
# hold five times the memory (below).
CONTACTS_PAGE = 200  # the spec's default
MEMBERS_PAGE = 500  # the spec's maximum (查询群组联系人: size 最大值 500)
# 100,000 decoded contacts take some 400 MB, a page of 200 under 1 MB. A walk holds one
# page, plus the last responses until the cyclic GC frees them (httpx 0.28 ties each
# response to its stream in a reference cycle, encode/httpx#3733): about 4 MB measured.
PEAK_LIMIT_BYTES = 8 * 1024 * 1024


@pytest.fixture
def lf(control) -> LinkflowSandbox:
    return LinkflowSandbox.reset(control)


def walk(rows: Iterable[dict], key) -> tuple[int, int, int]:
    """Count `rows`, checking that `key(row)` only grows (no row twice, none skipped
    back), without keeping any; answers (count, first key, last key)."""
    count, first, last = 0, None, 0
    for row in rows:
        value = key(row)
        assert value > last
        first = value if first is None else first
        count, last = count + 1, value
    return count, first, last


def traced(rows: Iterable[dict], key) -> tuple[tuple[int, int, int], int]:
    """`walk(rows, key)` and the peak of memory allocated meanwhile, in bytes."""
    tracemalloc.start()
    try:
        walked = walk(rows, key)
        return walked, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_walking_100000_contacts_and_group_members_keeps_memory_flat(lf):
    lf.configure(contacts=POPULATION, big_group_members=POPULATION)
    (group,) = lf.client.groups(name="全量会员")
    first_id = lf.model.first_id

    contacts, contacts_peak = traced(
        lf.client.iter_contacts(size=CONTACTS_PAGE), key=lambda contact: contact["id"]
    )
    members, members_peak = traced(
        lf.client.iter_group_members(group_id=group["id"], size=MEMBERS_PAGE),
        key=lambda member: member["memberId"],
    )

    assert contacts == (POPULATION, first_id, first_id + POPULATION - 1)
    assert members[0] == POPULATION
    assert len(lf.journal("/open/contacts/cursor")) == POPULATION // CONTACTS_PAGE + 1
    assert len(lf.journal("/open/groups/{groupId}/contacts")) == POPULATION // MEMBERS_PAGE + 1
    assert contacts_peak < PEAK_LIMIT_BYTES, f"contacts walk peaked at {contacts_peak:,} bytes"
    assert members_peak < PEAK_LIMIT_BYTES, f"members walk peaked at {members_peak:,} bytes"
