"""Campaign tests reach packages of the sandbox's brand (fixtures `control`, `jd_brand`
in tests/conftest.py)."""

from __future__ import annotations

import pytest

from crowds import services as crowd_services
from crowds.models import InstanceStatus
from tests.crowds.sandboxed import PUBLIC_CONDITION


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
