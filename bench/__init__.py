"""Support of the benchmarks of issue 10 (`manage.py bench_*`): throwaway production-like
environments, the processes they run, and what only a benchmark serves (a bare view, a
faster-polling broker). Nothing here is imported by the portal itself."""
