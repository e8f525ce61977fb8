"""Campaign tests talk to the sandbox: its brand, reset on a manual clock."""

from __future__ import annotations

import httpx
import pytest
from django_scopes import scope, scopes_disabled

from crowds import services as crowd_services
from crowds.models import InstanceStatus
from tests.crowds.sandboxed import PUBLIC_CONDITION, SANDBOX_MASTER_ID


@pytest.fixture
def control(sandbox_url, settings):
    settings.JDCLOUD_API_BASE_URL = f"{sandbox_url}/jdcloud"
    client = httpx.Client(base_url=f"{sandbox_url}/_control", timeout=10)
    client.post("/reset", json={"seed": 7, "clock": "manual"}).raise_for_status()
    client.post("/config", json={"instance_generation_seconds": 60}).raise_for_status()
    yield client
    client.delete("/faults")
    client.close()


@pytest.fixture
def jd_brand(make_brand, control):
    brand = make_brand(master_id=SANDBOX_MASTER_ID, name="测试品牌商")
    with scopes_disabled():
        crowd_services.tag_catalog_refresh()
    with scope(brand=brand):
        yield brand


@pytest.fixture
def package(jd_brand, control):
    """A generated package of the sandbox brand: a 5 % split, small enough for the
    sandbox's SMS balance."""
    crowd = crowd_services.crowd_create(brand=jd_brand, name="已婚", condition=PUBLIC_CONDITION)
    instance = crowd_services.instance_create(crowd=crowd)
    control.post("/clock/advance", json={"seconds": 61})
    instance = crowd_services.instance_poll(instance_id=instance.pk)
    assert instance.status == InstanceStatus.GENERATED
    (part,) = crowd_services.instance_split(
        instance=instance, parts=[crowd_services.SplitPart("样本", 0.05)], split_type="0"
    )
    return part
