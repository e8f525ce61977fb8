"""A split of a sandbox package: one half reached by SMS, the other held out."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from campaigns.services import reach as reach_services
from crowds import services as crowd_services
from crowds.models import CrowdInstance
from reports import services
from tests.crowds.sandboxed import PUBLIC_CONDITION


@dataclass
class Split:
    parent: CrowdInstance
    reached: CrowdInstance
    held_out: CrowdInstance


@pytest.fixture
def reached_split(jd_brand, control) -> Split:
    crowd = crowd_services.crowd_create(brand=jd_brand, name="已婚", condition=PUBLIC_CONDITION)
    instance = crowd_services.instance_create(crowd=crowd)
    control.post("/clock/advance", json={"seconds": 61})
    instance = crowd_services.instance_poll(instance_id=instance.pk)
    reached, held_out = crowd_services.instance_split(
        instance=instance,
        parts=[crowd_services.SplitPart("触达组", 0.05), crowd_services.SplitPart("对照组", 0.05)],
        split_type="0",
    )
    reach_services.reach_send(
        brand=jd_brand,
        instance=reached,
        request=reach_services.ReachRequest(
            reach_type="SMSPUBLIC",
            template_id="4370",
            template_params={"shop": "店", "product": "品", "discount": "8", "url": "3.cn/a"},
        ),
    )
    services.report_create(brand=jd_brand, package_id=held_out.package_id)
    return Split(instance, reached, held_out)
