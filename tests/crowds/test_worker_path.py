"""The whole crowd path with a real Celery worker polling the sandbox:
create → instantiate → polled to 2 → calc → split → filter, sizes consistent."""

import time

import httpx
import pytest
from django_scopes import scope, scopes_disabled

from crowds import services
from crowds.models import CrowdInstance, InstanceStatus
from portal.integrations.jdcloud import types as jd
from portal.integrations.jdcloud.factory import jdcloud_client
from tests.crowds.sandboxed import PUBLIC_CONDITION, SANDBOX_MASTER_ID
from tests.processes import empty_broker, start_process, worker_database_url

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(sandbox_url, settings):
    """A real `celery -A portal worker` sharing the test database and the sandbox."""
    database_url = worker_database_url()
    settings.JDCLOUD_API_BASE_URL = f"{sandbox_url}/jdcloud"
    control = httpx.Client(base_url=f"{sandbox_url}/_control", timeout=10)
    control.post("/reset", json={"seed": 11, "clock": "real"}).raise_for_status()
    control.post("/config", json={"instance_generation_seconds": 1.5}).raise_for_status()
    empty_broker()
    process = start_process(
        ["-m", "celery", "-A", "portal", "worker", "--pool=solo", "--loglevel=INFO"],
        name="celery-worker-crowds",
        env={
            "DATABASE_URL": database_url,
            "JDCLOUD_API_BASE_URL": f"{sandbox_url}/jdcloud",
            "CROWD_POLL_INITIAL_SECONDS": "0.5",
            "CROWD_POLL_MAX_SECONDS": "1",
        },
    )
    yield control
    process.terminate()
    process.wait(timeout=20)
    control.close()


def wait_final(*instances, timeout=45.0):
    deadline = time.monotonic() + timeout
    ids = [i.pk for i in instances]
    while time.monotonic() < deadline:
        rows = list(CrowdInstance.objects.filter(pk__in=ids))
        if all(row.is_final for row in rows):
            return {row.pk: row for row in rows}
        time.sleep(0.2)
    pytest.fail(f"instances {ids} not final after {timeout}s: {[(r.pk, r.status) for r in rows]}")


def test_create_instantiate_poll_calc_split_filter(worker, make_brand):
    brand = make_brand(master_id=SANDBOX_MASTER_ID, name="测试品牌商")
    with scopes_disabled():
        services.tag_catalog_refresh()
    with scope(brand=brand):
        married = services.crowd_create(brand=brand, name="已婚", condition=PUBLIC_CONDITION)
        women = services.crowd_create(
            brand=brand,
            name="女性",
            condition={
                "bool": {
                    "must": [
                        {"bool": {"group": "001", "must": [{"term": {"TAG_002": {"value": "女"}}}]}}
                    ]
                }
            },
        )
        a = services.instance_create(crowd=married)
        b = services.instance_create(crowd=women)
        final = wait_final(a, b)
        a, b = final[a.pk], final[b.pk]
        assert a.status == b.status == InstanceStatus.GENERATED
        assert a.poll_count >= 1 and a.package_size > 0

        union = services.instance_calc(
            brand=brand, operation="union", instances=[a, b], name="并集"
        )
        union = wait_final(union)[union.pk]
        assert union.status == InstanceStatus.GENERATED
        assert (
            max(a.package_size, b.package_size)
            <= union.package_size
            <= a.package_size + b.package_size
        )

        parts = services.instance_split(
            instance=union,
            parts=[services.SplitPart("触达组", 0.2), services.SplitPart("对照组", 0.2)],
            split_type=jd.SplitType.RATIO,
        )
        assert sum(p.package_size for p in parts) <= union.package_size

        template = jdcloud_client().sms_templates(master_id=brand.master_id, type=1)[0]
        jdcloud_client().crowd_instance_reach(
            package_id=parts[0].package_id,
            reach=jd.SmsPublicReach(
                template_id=template.template_id,
                template_params=dict.fromkeys(template.template_params, "x"),
            ),
        )
        delivered = services.instance_filter(instance=parts[0], filter_types=[4])
        delivered = wait_final(*delivered)
        for child in delivered.values():
            assert child.status == InstanceStatus.GENERATED
            assert child.package_size <= parts[0].package_size
        assert CrowdInstance.objects.count() == 2 + 1 + 2 + len(delivered)
