"""A `/crowd/create/v2` whose answer was lost: JD made the crowd, the portal never heard.
The retry finds it at JD and adopts it rather than making a second one (a remote orphan).

The sandbox holds a request under a `timeout` fault past the portal's timeout, then
carries it out, as a real gateway does."""

from __future__ import annotations

import time

import pytest
from django_scopes import scopes_disabled

from crowds import services
from crowds.models import Crowd, SyncState
from portal.integrations.jdcloud.factory import jdcloud_client
from portal.models import IntegrationCall
from tests.crowds.sandboxed import PUBLIC_CONDITION, SANDBOX_MASTER_ID

pytestmark = pytest.mark.django_db

HOLD_MS = 1500
UNMARRIED = {
    "bool": {
        "must": [{"bool": {"group": "001", "must": [{"term": {"TAG_020": {"value": "未婚"}}}]}}]
    }
}


@pytest.fixture(autouse=True)
def short_timeouts(settings):
    settings.JDCLOUD_TIMEOUT_SECONDS = 1.0


def lose_next_create(control) -> None:
    """The next `/crowd/create/v2` is carried out, but after the portal gave up on it."""
    control.post(
        "/faults",
        json={"path": "/crowd/create/v2", "kind": "timeout", "latency_ms": HOLD_MS, "times": 1},
    ).raise_for_status()


def created_with_lost_answer(brand, control, name: str, **fields) -> Crowd:
    lose_next_create(control)
    crowd = services.crowd_create(brand=brand, name=name, condition=PUBLIC_CONDITION, **fields)
    assert crowd.sync_state == SyncState.FAILED and not crowd.search_id
    time.sleep(HOLD_MS / 1000 + 0.3)  # JD finishes what it held
    return crowd


def at_jd(name: str) -> list[str]:
    listed = jdcloud_client().crowd_list(master_id=SANDBOX_MASTER_ID, page_size=100).result
    return [c.search_id for c in listed if c.crowd_name == name]


def calls(endpoint: str) -> int:
    with scopes_disabled():
        return IntegrationCall.objects.filter(endpoint=endpoint).count()


def test_a_create_whose_answer_was_lost_is_adopted_on_retry_not_sent_again(jd_brand, control):
    crowd = created_with_lost_answer(jd_brand, control, "超时人群")
    assert calls("/crowd/list") == 0  # a first create does not look
    (made_by_jd,) = at_jd("超时人群")

    crowd = services.crowd_sync(crowd=crowd)

    assert crowd.sync_state == SyncState.SYNCED and crowd.search_id == made_by_jd
    assert at_jd("超时人群") == [made_by_jd]
    assert calls("/crowd/create/v2") == 1 and crowd.create_attempts == 1
    assert Crowd.objects.get(pk=crowd.pk).search_id == made_by_jd


def test_a_crowd_the_portal_already_knows_is_not_adopted(jd_brand, control):
    known = services.crowd_create(brand=jd_brand, name="同名人群", condition=PUBLIC_CONDITION)
    crowd = created_with_lost_answer(jd_brand, control, "同名人群")

    crowd = services.crowd_sync(crowd=crowd)

    assert crowd.sync_state == SyncState.SYNCED
    assert crowd.search_id and crowd.search_id != known.search_id
    assert sorted(at_jd("同名人群")) == sorted([known.search_id, crowd.search_id])


def test_a_crowd_of_the_same_name_but_another_condition_is_not_adopted(jd_brand, control):
    other = jdcloud_client().crowd_create_v2(
        master_id=SANDBOX_MASTER_ID,
        crowd_name="同名人群",
        crowd_desc="别人建的",
        condition=UNMARRIED,
        package_type=1,
    )
    crowd = created_with_lost_answer(jd_brand, control, "同名人群")

    crowd = services.crowd_sync(crowd=crowd)

    assert crowd.search_id and crowd.search_id != other
    assert len(at_jd("同名人群")) == 2  # the other one, and ours: made once


def test_the_lost_crowd_is_found_on_a_later_page_of_the_list(jd_brand, control, monkeypatch):
    monkeypatch.setattr(services, "LOST_CREATE_PAGE_SIZE", 2)
    client = jdcloud_client()
    for index in range(3):  # listed before ours: their names contain ours
        client.crowd_create_v2(
            master_id=SANDBOX_MASTER_ID,
            crowd_name=f"分页人群{index}",
            crowd_desc="d",
            condition=PUBLIC_CONDITION,
            package_type=1,
        )
    crowd = created_with_lost_answer(jd_brand, control, "分页人群")
    (made_by_jd,) = at_jd("分页人群")
    listed, created = calls("/crowd/list"), calls("/crowd/create/v2")

    crowd = services.crowd_sync(crowd=crowd)

    assert crowd.search_id == made_by_jd
    assert calls("/crowd/list") - listed == 2  # ours is the fourth: on page 2 of 2
    assert calls("/crowd/create/v2") == created


def test_a_retry_that_cannot_look_at_jd_sends_nothing_and_says_why(jd_brand, control):
    crowd = created_with_lost_answer(jd_brand, control, "查不到")
    control.post(
        "/faults",
        json={"path": "/crowd/list", "kind": "code", "code": "500", "msg": "系统繁忙", "times": 1},
    ).raise_for_status()

    crowd = services.crowd_sync(crowd=crowd)

    assert crowd.sync_state == SyncState.FAILED and crowd.sync_error == "系统繁忙"
    assert not crowd.search_id and calls("/crowd/create/v2") == 1
    crowd = services.crowd_sync(crowd=crowd)
    assert crowd.sync_state == SyncState.SYNCED and at_jd("查不到") == [crowd.search_id]


def test_an_adopted_crowd_takes_the_description_edited_since(jd_brand, control):
    crowd = created_with_lost_answer(jd_brand, control, "改过描述", description="旧描述")

    crowd = services.crowd_update(crowd=crowd, description="新描述")

    assert crowd.sync_state == SyncState.SYNCED and at_jd("改过描述") == [crowd.search_id]
    assert jdcloud_client().crowd_info(search_id=crowd.search_id).crowd_desc == "新描述"


def test_a_create_refused_by_jd_is_sent_again_after_one_look(jd_brand, control):
    """JD answered no: nothing was made, so the retry, having looked, creates."""
    control.post(
        "/faults",
        json={"path": "/crowd/create/v2", "kind": "code", "code": "500", "msg": "系统繁忙"},
    ).raise_for_status()
    crowd = services.crowd_create(brand=jd_brand, name="被拒", condition=PUBLIC_CONDITION)
    assert crowd.sync_state == SyncState.FAILED
    control.delete("/faults").raise_for_status()

    crowd = services.crowd_sync(crowd=crowd)

    assert crowd.sync_state == SyncState.SYNCED and at_jd("被拒") == [crowd.search_id]
    assert crowd.create_attempts == 2
