"""The fault suite of issue 9: the user paths against the sandbox with 30 % of JD Cloud and
Linkflow calls failing and a real worker, a worker killed with SIGKILL mid-poll, and the
sandbox restarted mid-run. What it counts (tests/faults/figures.py) is printed at the end."""

from __future__ import annotations

import pytest
from django_scopes import scopes_disabled

from crowds import services as crowd_services
from tests.crowds.sandboxed import SANDBOX_MASTER_ID
from tests.faults.figures import lines
from tests.faults.scenario import CHANNEL_ID, LINKFLOW_KEY, LINKFLOW_SECRET


def pytest_terminal_summary(terminalreporter):
    summary = lines(details=True)
    if summary:
        terminalreporter.write_sep("=", "fault suite: figures")
        for line in summary:
            terminalreporter.write_line(line)


@pytest.fixture(scope="module")
def openid_root(tmp_path_factory):
    """Where the module's workers and the test process keep openId package files."""
    return tmp_path_factory.mktemp("openid")


@pytest.fixture
def connected_brand(make_brand):
    """`connected_brand()`: the sandbox's JD brand, connected to its Linkflow workspace and
    official account, with the tag catalog loaded. Call it once the settings point at the
    sandbox, before any fault is on."""

    def make():
        brand = make_brand(
            master_id=SANDBOX_MASTER_ID,
            name="测试品牌商",
            linkflow_app_key=LINKFLOW_KEY,
            linkflow_app_secret=LINKFLOW_SECRET,
            linkflow_channel_key="udc_portal",
            wechat_app_id=CHANNEL_ID,
        )
        with scopes_disabled():
            crowd_services.tag_catalog_refresh()
        return brand

    return make
