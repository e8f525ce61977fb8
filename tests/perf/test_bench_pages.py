"""The page benchmark runs end to end on a few rows and leaves nothing behind (its timings
are printed, not checked)."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django_scopes import scopes_disabled

from brands.models import Brand
from crowds.models import Crowd, Tag
from portal.management.commands.bench_pages import MASTER_PREFIX


@pytest.mark.django_db
def test_bench_pages_prints_queries_and_times_beside_the_limit_and_rolls_back():
    out = io.StringIO()

    call_command("bench_pages", rows=60, repeat=1, only="crowds:", stdout=out, stderr=io.StringIO())

    lines = out.getvalue().splitlines()
    assert "10 and 60 rows per brand" in lines[0] and "DEBUG off" in lines[0]
    assert lines[1].split()[:5] == ["page", "queries@10", "queries@60", "limit", "rows"]
    rows = {line.split()[0]: line.split() for line in lines[2:] if line.startswith("crowds:")}
    assert set(rows) == {"crowds:list", "crowds:instances", "crowds:detail", "crowds:tags",
                         "crowds:calc"}  # fmt: skip
    page, small, large, _le, limit, shown, per_page, *_times, verdict = rows["crowds:list"]
    assert small == large and int(large) <= int(limit) == 10
    assert (shown, per_page, verdict) == ("50", "50", "ok")
    assert lines[-1].startswith("5 of 5 pages")
    # Everything it wrote is gone.
    assert not Brand.objects.filter(master_id__startswith=MASTER_PREFIX).exists()
    with scopes_disabled():
        assert not Crowd.objects.exists() and not Tag.objects.exists()


def test_bench_pages_refuses_what_it_cannot_measure():
    with pytest.raises(CommandError, match="more than 10"):
        call_command("bench_pages", rows=10)
    with pytest.raises(CommandError, match="no list page"):
        call_command("bench_pages", only="nowhere:")
