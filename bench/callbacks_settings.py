"""Settings of `manage.py bench_callbacks`'s server: the portal's production settings, with
one URL more (`bench.callbacks_urls`: a bare JSON view) to compare the callback with.
Only that benchmark names this module (DJANGO_SETTINGS_MODULE); production never does."""

from portal.settings import *  # noqa: F403

ROOT_URLCONF = "bench.callbacks_urls"
