"""The sandbox (JD Cloud and Linkflow both) killed and started again on the same port while
the worker polls a Linkflow report and the tag catalog is refreshed.

A restarted sandbox forgets everything (its state is in memory): Linkflow's tokens, which
report was asked when. The paths chosen survive that, as they would a real restart at JD
Cloud or Linkflow: the tag catalog is read whole each time, a report is asked again, and a
token Linkflow no longer knows is renewed on its 401. (A crowd package being generated
would not survive: the sandbox would not know it any more.) Calls during the outage fail as
transport errors, each in the call log, and what the user sees says Linkflow cannot be
reached; once the sandbox is back everything completes."""

from __future__ import annotations

import time

import httpx
import pytest
from django_scopes import scope, scopes_disabled

from crowds import services as crowd_services
from crowds.models import Tag
from portal.integrations.jdcloud.errors import JDCloudTransportError
from portal.models import IntegrationCall
from reports.cdp import services as cdp_services
from reports.cdp.models import LinkflowReport, LinkflowReportStatus
from tests.faults.figures import Ledger, count
from tests.faults.scenario import sandbox_control, wait_for
from tests.faults.workers import Worker, empty_broker, portal_settings, worker_env
from tests.processes import free_port, start_process, wait_for_http

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

PART = "sandbox restarted mid-run"
REPORT_ID = 411
OUTAGE_SECONDS = 2.0  # after the worker's first failed poll is on the row


class Sandbox:
    """A sandbox process of this test's own, on a fixed port, that can be killed and
    started again there."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None

    def start(self) -> None:
        self.process = start_process(
            ["-m", "sandbox", "--port", str(self.port)], name="faults-sandbox"
        )
        wait_for_http(f"{self.url}/health", self.process)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def configure(sandbox: Sandbox) -> httpx.Client:
    """The sandbox as the suite wants it, and reports computed for 3 s after the first ask."""
    control = sandbox_control(sandbox.url, seed=50)
    control.post("/linkflow", json={"report_seconds": 3}).raise_for_status()
    return control


@pytest.fixture
def restartable(settings, openid_root, connected_brand):
    sandbox = Sandbox()
    sandbox.start()
    portal_settings(settings, sandbox_url=sandbox.url, openid_root=openid_root)
    control = configure(sandbox)
    empty_broker()
    worker = Worker(
        "faults-worker-restart", worker_env(sandbox_url=sandbox.url, openid_root=openid_root)
    ).start()
    yield sandbox, control, connected_brand()
    worker.stop()
    control.close()
    sandbox.stop()


def transport_errors(system: str, endpoint: str) -> int:
    with scopes_disabled():
        return IntegrationCall.objects.filter(
            system=system, endpoint=endpoint, ok=False, http_status__isnull=True
        ).count()


def test_a_sandbox_restart_mid_poll_is_survived(restartable):
    sandbox, control, brand = restartable
    ledger = Ledger(PART)
    with scope(brand=brand):
        report = cdp_services.linkflow_report_open(brand=brand, report_id=REPORT_ID)
        wait_for(
            "the report computing at Linkflow",
            lambda: (
                LinkflowReport.objects.get(pk=report.pk).status == LinkflowReportStatus.COMPUTING
            ),
            30,
        )

        sandbox.kill()
        shown = wait_for(
            "the outage shown on the report",
            lambda: LinkflowReport.objects.get(pk=report.pk).error,
            30,
        )
        with scopes_disabled(), pytest.raises(JDCloudTransportError) as refused:
            crowd_services.tag_catalog_refresh()
        ledger.failed("tag catalog: refresh during the outage", str(refused.value))
        assert refused.value.retryable
        time.sleep(OUTAGE_SECONDS)
        sandbox.start()
        configure(sandbox)

        with scopes_disabled():
            crowd_services.tag_catalog_refresh()
            assert Tag.objects.filter(active=True).count() >= 40
        ledger.retried("tag catalog: refresh during the outage")

        def final():
            row = LinkflowReport.objects.get(pk=report.pk)
            return None if row.in_flight else row

        report = wait_for("the report after the restart", final, 60)
        action = "Linkflow report: polled across the restart (worker)"
        if report.status == LinkflowReportStatus.READY:
            ledger.done(action)
        else:  # the worker's retries ran out during the outage: shown, refreshed by hand
            ledger.failed(action, report.error)
            cdp_services.linkflow_report_open(brand=brand, report_id=REPORT_ID, refresh=True)
            report = wait_for("the report refreshed", final, 60)
            ledger.retried(action, done=report.status == LinkflowReportStatus.READY)

    assert "Linkflow" in shown
    assert report.status == LinkflowReportStatus.READY and report.body["status"] == 1
    assert report.error == ""
    with scopes_disabled():
        assert LinkflowReport.objects.count() == 1
    outage_calls = transport_errors("linkflow", "/open/report/{reportId}") + transport_errors(
        "jdcloud", "/tag/list/v2"
    )
    assert transport_errors("linkflow", "/open/report/{reportId}") >= 1
    assert transport_errors("jdcloud", "/tag/list/v2") >= 1
    # The token the workers held died with the sandbox: renewed on Linkflow's 401.
    with scopes_disabled():
        renewed = IntegrationCall.objects.filter(
            system="linkflow", endpoint="/open/report/{reportId}", http_status=401
        ).count()
    assert renewed >= 1
    assert not ledger.unresolved()
    count(PART, duplicated=0, sandbox_restarts=1, calls_during_outage=outage_calls)
