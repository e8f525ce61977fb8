"""Settings of the fault suite's Celery workers: the portal's own, with the openId package
files under the folder the suite gives (`FAULTS_OPENID_ROOT`), which the portal's settings
do not read from the environment. The test process points its settings at the same folder,
so that a package built by a worker is read by the test, and no run meets the files of
another."""

import os

from portal.settings import *  # noqa: F403

OPENID_PACKAGE_ROOT = os.environ["FAULTS_OPENID_ROOT"]
