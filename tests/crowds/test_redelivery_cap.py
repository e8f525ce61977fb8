"""A poll or an openId build whose worker keeps dying is given up after
CELERY_MAX_REDELIVERIES, visibly, and the user's retry starts afresh.

A delivery "dies" here by raising a BaseException from inside JD's or Linkflow's answer
(what a SIGKILL looks like to the row: the call was made, nothing after it ran). The real
thing, with worker processes killed mid-call, is tests/faults/test_worker_killed.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django_scopes import scope

from brands.linkflow import linkflow_for
from crowds import openid, openid_tasks, services, tasks
from crowds.linkflow_models import OpenIdPackage
from crowds.models import CrowdInstance, InstanceStatus
from portal.integrations.jdcloud.client import JDCloudClient
from portal.integrations.linkflow.client import LinkflowClient
from tests.conftest import SANDBOX_LINKFLOW_KEY, SANDBOX_LINKFLOW_SECRET
from tests.crowds.sandboxed import PUBLIC_CONDITION, SANDBOX_MASTER_ID

pytestmark = pytest.mark.django_db


class WorkerKilled(BaseException):
    """Nothing in the portal catches it, as nothing runs after a SIGKILL."""


@pytest.fixture
def sent(monkeypatch):
    """The polls the sweeper sends again (kwargs), instead of the broker."""
    messages = []
    monkeypatch.setattr(tasks.poll_instance, "delay", lambda **kwargs: messages.append(kwargs))
    return messages


@pytest.fixture
def generating(jd_brand, control):
    crowd = services.crowd_create(brand=jd_brand, name="反复被杀", condition=PUBLIC_CONDITION)
    instance = services.instance_create(crowd=crowd)
    assert instance.status == InstanceStatus.GENERATING
    return instance


def status_calls(control, instance: CrowdInstance) -> int:
    path = f"/crowd/instance/status/{instance.package_id}"
    return len(control.get("/requests", params={"path": path}).json()["requests"])


def die_inside_the_poll(instance: CrowdInstance, monkeypatch) -> None:
    """One delivery of the due poll, killed once JD has answered the status call."""
    real = JDCloudClient.crowd_instance_status

    def answered_then_killed(self, **kwargs):
        real(self, **kwargs)
        raise WorkerKilled()

    CrowdInstance.objects.filter(pk=instance.pk).update(next_poll_at=instance.created_at)
    with monkeypatch.context() as patched:
        patched.setattr(JDCloudClient, "crowd_instance_status", answered_then_killed)
        with pytest.raises(WorkerKilled):
            tasks.poll_instance(instance_id=instance.pk, brand_id=instance.brand_id)


def overdue(instance: CrowdInstance) -> None:
    CrowdInstance.objects.filter(pk=instance.pk).update(
        next_poll_at=instance.created_at - timedelta(hours=1)
    )


def test_a_poll_that_died_stays_counted_and_one_that_finishes_clears_the_count(
    generating, control, monkeypatch, sent
):
    die_inside_the_poll(generating, monkeypatch)
    generating.refresh_from_db()
    assert (generating.poll_deliveries, generating.poll_count) == (1, 0)
    assert status_calls(control, generating) == 1

    tasks.poll_instance(instance_id=generating.pk, brand_id=generating.brand_id)

    generating.refresh_from_db()
    assert (generating.poll_deliveries, generating.poll_count) == (0, 1)
    assert not generating.stuck


def test_the_sweeper_resends_a_dying_poll_up_to_the_cap_then_flags_it_stuck_saying_why(
    generating, control, monkeypatch, sent, settings
):
    settings.CELERY_MAX_REDELIVERIES = 2
    for _redelivery in range(2):
        die_inside_the_poll(generating, monkeypatch)
        overdue(generating)
        assert tasks.resume_overdue_polls() == 1
    die_inside_the_poll(generating, monkeypatch)  # the first delivery and two more died
    overdue(generating)

    assert tasks.resume_overdue_polls() == 0

    generating.refresh_from_db()
    assert len(sent) == 2
    assert generating.stuck and generating.status == InstanceStatus.GENERATING
    assert "3" in generating.error and generating.next_poll_at is None
    assert tasks.resume_overdue_polls() == 0  # stays given up
    assert status_calls(control, generating) == 3


def test_a_delivery_handed_back_after_the_cap_gives_up_without_asking_jd(
    generating, control, monkeypatch, settings
):
    """Celery itself hands back the message of a worker lost mid-task
    (`task_reject_on_worker_lost`): without the sweeper, the count stops that loop too."""
    settings.CELERY_MAX_REDELIVERIES = 0
    die_inside_the_poll(generating, monkeypatch)
    asked = status_calls(control, generating)

    result = tasks.poll_instance(instance_id=generating.pk, brand_id=generating.brand_id)

    generating.refresh_from_db()
    assert result == InstanceStatus.GENERATING and generating.stuck and generating.error
    assert status_calls(control, generating) == asked


def test_polling_again_forgives_the_deaths_and_clears_the_reason(
    generating, control, monkeypatch, sent, settings
):
    settings.CELERY_MAX_REDELIVERIES = 0
    die_inside_the_poll(generating, monkeypatch)
    overdue(generating)
    assert tasks.resume_overdue_polls() == 0
    generating.refresh_from_db()
    assert generating.stuck

    repolled = services.instance_repoll(instance=generating)

    assert (repolled.stuck, repolled.poll_deliveries, repolled.error) == (False, 0, "")
    polled = services.instance_poll(instance_id=generating.pk)
    assert polled.poll_count == 1 and not polled.stuck and polled.next_poll_at


def test_the_cap_counts_deaths_in_a_row_not_over_the_life_of_the_poll(
    generating, control, monkeypatch, sent, settings
):
    settings.CELERY_MAX_REDELIVERIES = 1
    for _ in range(3):
        die_inside_the_poll(generating, monkeypatch)
        overdue(generating)
        assert tasks.resume_overdue_polls() == 1
        CrowdInstance.objects.filter(pk=generating.pk).update(next_poll_at=generating.created_at)
        services.instance_poll(instance_id=generating.pk)  # the redelivery finished

    generating.refresh_from_db()
    assert not generating.stuck and generating.poll_count == 3


# --- WeChat openId package builds (crowds.openid_tasks) ------------------------------------


@pytest.fixture
def building(make_brand, control, settings, tmp_path):
    """A package of the sandbox's 120-member group, building, its first slice not run."""
    settings.OPENID_PACKAGE_ROOT = tmp_path / "openid"
    brand = make_brand(
        master_id=SANDBOX_MASTER_ID,
        name="测试品牌商",
        linkflow_app_key=SANDBOX_LINKFLOW_KEY,
        linkflow_app_secret=SANDBOX_LINKFLOW_SECRET,
        wechat_app_id="wx5a39a02868a39999",
    )
    with scope(brand=brand):
        groups = linkflow_for(brand).groups(name="618潜在客户")
        (group,) = [g for g in groups if g["name"] == "618潜在客户"]
        yield openid.openid_package_create(brand=brand, group_id=group["id"])


@pytest.fixture
def builds_sent(monkeypatch):
    messages = []
    build = openid_tasks.build_openid_package
    monkeypatch.setattr(build, "delay", lambda **kwargs: messages.append(kwargs))
    return messages


def die_inside_a_slice(package: OpenIdPackage, monkeypatch) -> None:
    """One delivery of the build, killed once Linkflow has answered the first page."""
    real = LinkflowClient.group_members

    def answered_then_killed(self, **kwargs):
        real(self, **kwargs)
        raise WorkerKilled()

    with monkeypatch.context() as patched:
        patched.setattr(LinkflowClient, "group_members", answered_then_killed)
        with pytest.raises(WorkerKilled):
            openid_tasks.build_openid_package(package_id=package.pk, brand_id=package.brand_id)


def stalled_resumed() -> int:
    """The sweeper, once the dead slice's lease is long gone."""
    with time_machine.travel(timezone.now() + openid.STALE_AFTER + timedelta(minutes=5)):
        return openid_tasks.resume_stalled_openid_builds()


def test_a_build_slice_that_died_stays_counted_and_one_that_finishes_clears_the_count(
    building, monkeypatch
):
    die_inside_a_slice(building, monkeypatch)
    building.refresh_from_db()
    assert (building.build_deliveries, building.status) == (1, OpenIdPackage.Status.BUILDING)

    openid_tasks.build_openid_package(package_id=building.pk, brand_id=building.brand_id)

    building.refresh_from_db()
    assert (building.build_deliveries, building.status) == (0, OpenIdPackage.Status.READY)


def test_the_sweeper_resends_a_dying_build_up_to_the_cap_then_fails_it_saying_why(
    building, monkeypatch, builds_sent, settings
):
    settings.CELERY_MAX_REDELIVERIES = 1
    die_inside_a_slice(building, monkeypatch)
    assert stalled_resumed() == 1  # the one redelivery allowed
    die_inside_a_slice(building, monkeypatch)

    assert stalled_resumed() == 0

    building.refresh_from_db()
    assert len(builds_sent) == 1
    assert building.status == OpenIdPackage.Status.FAILED and "2" in building.error
    assert building.build_deliveries == 0  # "build again" starts afresh
    restarted = openid.openid_package_restart(package=building)
    openid_tasks.build_openid_package(package_id=building.pk, brand_id=building.brand_id)
    restarted.refresh_from_db()
    assert (restarted.status, restarted.attempt) == (OpenIdPackage.Status.READY, 2)


def test_a_build_handed_back_after_the_cap_fails_without_asking_linkflow(
    building, monkeypatch, settings, control
):
    settings.CELERY_MAX_REDELIVERIES = 0
    die_inside_a_slice(building, monkeypatch)
    path = f"/linkflow/open/groups/{building.group_id}/contacts"
    asked = len(control.get("/requests", params={"path": path}).json()["requests"])

    status = openid_tasks.build_openid_package(package_id=building.pk, brand_id=building.brand_id)

    building.refresh_from_db()
    assert status == OpenIdPackage.Status.FAILED == building.status and building.error
    assert len(control.get("/requests", params={"path": path}).json()["requests"]) == asked
