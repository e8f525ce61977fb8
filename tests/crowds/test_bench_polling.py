"""The workload of `manage.py bench_polling` (the run needs a worker, Redis and minutes;
it is a benchmark, not a test): generation times from the stated distribution, the same
every run."""

import statistics

import pytest

from crowds.management.commands.bench_polling import generation_times


def test_generation_times_follow_the_stated_lognormal_and_repeat():
    times = generation_times(distribution="lognormal", count=20_000, mean=60, cv=0.1, seed=1)

    assert statistics.fmean(times) == pytest.approx(60, rel=0.01)
    assert statistics.pstdev(times) == pytest.approx(6, rel=0.03)
    assert min(times) > 0
    again = generation_times(distribution="lognormal", count=20_000, mean=60, cv=0.1, seed=1)
    assert times == again


def test_the_exponential_workload_has_the_same_mean_and_the_spread_of_its_mean():
    times = generation_times(distribution="exponential", count=20_000, mean=60, cv=0.1, seed=1)

    assert statistics.fmean(times) == pytest.approx(60, rel=0.03)
    assert statistics.pstdev(times) == pytest.approx(60, rel=0.05)
