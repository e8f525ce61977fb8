"""Crowd and instance services against the sandbox: local twin first, JD second."""

from datetime import timedelta

import pytest
from django_scopes import scopes_disabled

from crowds import services
from crowds.models import Crowd, CrowdInstance, InstanceOrigin, InstanceStatus, SyncState, Tag
from crowds.tasks import resume_overdue_polls
from portal.integrations.jdcloud import types as jd
from portal.integrations.jdcloud.factory import jdcloud_client
from tests.crowds.sandboxed import PUBLIC_CONDITION

pytestmark = pytest.mark.django_db


def generated(brand, control, condition=PUBLIC_CONDITION, name="人群"):
    crowd = services.crowd_create(brand=brand, name=name, condition=condition)
    instance = services.instance_create(crowd=crowd)
    control.post("/clock/advance", json={"seconds": 61})
    services.instance_poll(instance_id=instance.pk)
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.GENERATED
    return instance


def test_the_catalog_is_stored_and_refreshed(jd_brand):
    with scopes_disabled():
        assert Tag.objects.filter(active=True).count() >= 40
        assert Tag.objects.get(tag="TAG_020").enums == ["已婚", "未婚", "未知"]
        Tag.objects.create(tag="TAG_GONE", table_cd="001", tag_type="1")
        result = services.tag_catalog_refresh()
        assert result["retired"] == 1
        assert not Tag.objects.get(tag="TAG_GONE").active


def test_create_saves_locally_then_at_jd(jd_brand):
    crowd = services.crowd_create(brand=jd_brand, name="已婚青年", condition=PUBLIC_CONDITION)

    assert crowd.sync_state == SyncState.SYNCED and len(crowd.search_id) == 32
    assert crowd.package_type == 1  # derived: every tag is public
    remote = jdcloud_client().crowd_info(search_id=crowd.search_id)
    assert remote.crowd_name == "已婚青年"


def test_an_invalid_condition_saves_nothing_and_names_the_path(jd_brand):
    bad = {
        "bool": {
            "must": [{"bool": {"group": "001", "must": [{"term": {"TAG_503": {"value": 1}}}]}}]
        }
    }

    with pytest.raises(services.CrowdInputError) as raised:
        services.crowd_create(brand=jd_brand, name="x", condition=bad)

    assert any("TAG_503" in v.path or "TAG_503" in v.message for v in raised.value.violations)
    assert not Crowd.objects.exists()


def test_package_type_must_agree_with_the_tags(jd_brand):
    with pytest.raises(services.CrowdInputError) as raised:
        services.crowd_create(brand=jd_brand, name="x", condition=PUBLIC_CONDITION, package_type=2)
    assert raised.value.violations[0].path == "package_type"


def test_a_jd_failure_during_create_leaves_a_retryable_local_crowd(jd_brand, control):
    control.post(
        "/faults",
        json={"path": "/crowd/create/v2", "kind": "http_error", "status": 502, "times": 1},
    )

    crowd = services.crowd_create(brand=jd_brand, name="稍后再试", condition=PUBLIC_CONDITION)

    assert crowd.pk and crowd.sync_state == SyncState.FAILED and crowd.search_id == ""
    assert "502" in crowd.sync_error
    retried = services.crowd_sync(crowd=crowd)
    assert retried.sync_state == SyncState.SYNCED and retried.search_id


def test_a_jd_rejection_keeps_jds_message(jd_brand, control):
    control.post(
        "/faults",
        json={"path": "/crowd/create/v2", "kind": "code", "code": "500", "msg": "系统繁忙"},
    )
    crowd = services.crowd_create(brand=jd_brand, name="x", condition=PUBLIC_CONDITION)
    assert crowd.sync_error == "系统繁忙"


def test_edit_and_delete(jd_brand, control):
    crowd = services.crowd_create(brand=jd_brand, name="a", condition=PUBLIC_CONDITION)
    services.crowd_update(crowd=crowd, description="新描述")
    assert jdcloud_client().crowd_info(search_id=crowd.search_id).crowd_desc == "新描述"

    control.post(
        "/faults", json={"path": "/crowd/del", "kind": "http_error", "status": 500, "times": 1}
    )
    with pytest.raises(services.RemoteRejected):
        services.crowd_delete(crowd=crowd)
    assert Crowd.objects.filter(pk=crowd.pk).exists()

    services.crowd_delete(crowd=Crowd.objects.get(pk=crowd.pk))
    assert not Crowd.objects.filter(pk=crowd.pk).exists()


def test_import_brings_in_crowds_that_exist_only_at_jd(jd_brand):
    client = jdcloud_client()
    for index in range(3):
        client.crowd_create_v2(
            master_id=jd_brand.master_id,
            crowd_name=f"JD侧人群{index}",
            crowd_desc="d",
            condition=PUBLIC_CONDITION,
            package_type=1,
        )
    services.crowd_create(brand=jd_brand, name="本地", condition=PUBLIC_CONDITION)

    assert services.crowd_import(brand=jd_brand, page_size=2) == 3
    assert services.crowd_import(brand=jd_brand) == 0
    assert Crowd.objects.count() == 4


def test_instance_polling_is_idempotent_and_applies_the_final_status_once(jd_brand, control):
    crowd = services.crowd_create(brand=jd_brand, name="a", condition=PUBLIC_CONDITION)
    instance = services.instance_create(crowd=crowd)
    assert instance.status == InstanceStatus.GENERATING and instance.package_id

    first = services.instance_poll(instance_id=instance.pk)
    assert first.status == InstanceStatus.GENERATING and first.poll_count == 1
    # A duplicate arriving before the next poll is due does nothing (no JD call).
    again = services.instance_poll(instance_id=instance.pk)
    assert again.poll_count == 1

    control.post("/clock/advance", json={"seconds": 61})
    CrowdInstance.objects.filter(pk=instance.pk).update(next_poll_at=None)
    done = services.instance_poll(instance_id=instance.pk)
    assert done.status == InstanceStatus.GENERATED and done.package_size > 0
    assert services.instance_poll(instance_id=instance.pk).poll_count == done.poll_count


def test_the_poll_schedule_looks_when_jd_should_be_done_then_densely_then_wider(settings):
    settings.CROWD_POLL_FIRST_SECONDS = 63
    settings.CROWD_POLL_INITIAL_SECONDS = 4
    settings.CROWD_POLL_MAX_SECONDS = 90
    looks, elapsed = [], 0.0
    for _ in range(12):
        elapsed += services.poll_delay_seconds(elapsed=elapsed)
        looks.append(elapsed)

    assert looks[:7] == [63, 67, 71, 75, 81, 90, 103.5]
    assert looks[-1] - looks[-2] == 90  # the tail: never more than MAX apart
    # A look made early (a re-poll, a derived package) waits for the first look's time;
    # one inside the first look's jitter counts as the first look.
    assert services.poll_delay_seconds(elapsed=10) == 53
    assert services.poll_delay_seconds(elapsed=61.8) == 4
    assert services.poll_delay_seconds(elapsed=0, jitter=1.02) == pytest.approx(64.26)
    # No wait exceeds MAX, the first one included (a worker test runs on MAX = 1 s).
    settings.CROWD_POLL_MAX_SECONDS = 1
    assert services.poll_delay_seconds(elapsed=0) == 1


def test_a_poll_chain_starts_by_booking_the_first_look_when_jd_should_be_done(
    jd_brand, control, monkeypatch, django_capture_on_commit_callbacks
):
    from crowds import tasks

    sent = []
    monkeypatch.setattr(tasks.poll_instance, "delay", lambda **kwargs: sent.append(kwargs))
    monkeypatch.setattr(tasks.poll_instance, "apply_async", lambda **kwargs: sent.append(kwargs))
    crowd = services.crowd_create(brand=jd_brand, name="a", condition=PUBLIC_CONDITION)
    with django_capture_on_commit_callbacks(execute=True):
        instance = services.instance_create(crowd=crowd)
    assert sent == [{"instance_id": instance.pk, "brand_id": jd_brand.pk, "first_look": True}]

    tasks.poll_instance(**sent[0])  # the chain's first task: books, asks nothing
    tasks.poll_instance(**sent[0])  # the same message again: books nothing more

    instance.refresh_from_db()
    assert instance.poll_count == 0
    wait = (instance.next_poll_at - instance.created_at).total_seconds()
    assert 63 * 0.98 <= wait <= 63 * 1.02
    assert sent[1:] == [
        {
            "kwargs": {"instance_id": instance.pk, "brand_id": jd_brand.pk},
            "eta": instance.next_poll_at,
        }
    ]
    assert not control.get(
        "/requests", params={"path": f"/crowd/instance/status/{instance.package_id}"}
    ).json()["requests"]

    # A package made from a generated one is there at once: its first task asks at once.
    control.post("/clock/advance", json={"seconds": 61})
    CrowdInstance.objects.filter(pk=instance.pk).update(next_poll_at=None)  # the booked time
    generated = services.instance_poll(instance_id=instance.pk)
    with django_capture_on_commit_callbacks(execute=True):
        services.instance_save_as(instance=generated, name="另存")
    copy = CrowdInstance.objects.get(origin=InstanceOrigin.SAVE_AS)
    assert tasks.poll_instance(**sent[-1]) == InstanceStatus.GENERATED
    copy.refresh_from_db()
    assert copy.poll_count == 1


def test_a_poll_turned_away_as_early_does_not_start_a_second_chain(jd_brand, control, monkeypatch):
    from crowds import tasks

    sent = []
    monkeypatch.setattr(tasks.poll_instance, "apply_async", lambda **kwargs: sent.append(kwargs))
    crowd = services.crowd_create(brand=jd_brand, name="a", condition=PUBLIC_CONDITION)
    instance = services.instance_create(crowd=crowd)

    tasks.poll_instance(instance_id=instance.pk, brand_id=jd_brand.pk)  # asks JD, books next
    tasks.poll_instance(instance_id=instance.pk, brand_id=jd_brand.pk)  # a duplicate: early

    instance.refresh_from_db()
    assert instance.poll_count == 1
    assert [message["eta"] for message in sent] == [instance.next_poll_at]


def test_a_failed_generation_is_recorded(jd_brand, control):
    control.post("/config", json={"instance_failure_rate": 1.0})
    crowd = services.crowd_create(brand=jd_brand, name="a", condition=PUBLIC_CONDITION)
    instance = services.instance_create(crowd=crowd)
    control.post("/clock/advance", json={"seconds": 61})

    done = services.instance_poll(instance_id=instance.pk)

    assert done.status == InstanceStatus.FAILED and done.error


def test_an_instance_beyond_the_bound_is_flagged_stuck_and_can_be_repolled(jd_brand, settings):
    crowd = services.crowd_create(brand=jd_brand, name="a", condition=PUBLIC_CONDITION)
    instance = services.instance_create(crowd=crowd)
    settings.CROWD_POLL_GIVE_UP_SECONDS = -1

    stuck = services.instance_poll(instance_id=instance.pk)
    assert stuck.stuck and stuck.status == InstanceStatus.GENERATING

    settings.CROWD_POLL_GIVE_UP_SECONDS = 3600
    repolled = services.instance_repoll(instance=stuck)
    assert not repolled.stuck
    assert services.instance_poll(instance_id=instance.pk).poll_count == stuck.poll_count + 1


def test_lost_poll_chains_are_resumed(jd_brand, settings, monkeypatch):
    crowd = services.crowd_create(brand=jd_brand, name="a", condition=PUBLIC_CONDITION)
    instance = services.instance_create(crowd=crowd)
    CrowdInstance.objects.filter(pk=instance.pk).update(
        next_poll_at=instance.created_at - timedelta(hours=1)
    )
    sent = []
    from crowds import tasks

    monkeypatch.setattr(tasks.poll_instance, "delay", lambda **kwargs: sent.append(kwargs))

    assert resume_overdue_polls() == 1
    assert sent == [{"instance_id": instance.pk, "brand_id": jd_brand.pk}]


def test_calc_split_filter_save_as_with_consistent_sizes(jd_brand, control):
    married = generated(jd_brand, control)
    other = generated(
        jd_brand,
        control,
        {
            "bool": {
                "must": [
                    {"bool": {"group": "001", "must": [{"term": {"TAG_002": {"value": "女"}}}]}}
                ]
            }
        },
        name="女性",
    )

    union = services.instance_calc(
        brand=jd_brand, operation="union", instances=[married, other], name="并集"
    )
    intersection = services.instance_calc(
        brand=jd_brand, operation="intersection", instances=[married, other], name="交集"
    )
    difference = services.instance_calc(
        brand=jd_brand, operation="difference", instances=[married], exclude=[other], name="差集"
    )
    control.post("/clock/advance", json={"seconds": 61})
    sizes = {}
    for made in (union, intersection, difference):
        made = services.instance_poll(instance_id=made.pk)
        assert made.status == InstanceStatus.GENERATED, made.error
        assert set(made.parents.all()) == {married, other}
        sizes[made.params["operation"]] = made.package_size
    a, b = married.package_size, other.package_size
    assert max(a, b) <= sizes["union"] <= a + b
    assert sizes["intersection"] <= min(a, b)
    assert sizes["difference"] <= a

    parts = services.instance_split(
        instance=married,
        parts=[services.SplitPart("触达组", 0.5), services.SplitPart("对照组", 0.5)],
        split_type=jd.SplitType.RATIO,
    )
    assert [p.name for p in parts] == ["触达组|0.5", "对照组|0.5"]
    assert sum(p.package_size for p in parts) <= a
    assert all(p.parents.get() == married and p.origin == InstanceOrigin.SPLIT for p in parts)

    template = jdcloud_client().sms_templates(master_id=jd_brand.master_id, type=1)[0]
    jdcloud_client().crowd_instance_reach(
        package_id=parts[0].package_id,
        reach=jd.SmsPublicReach(
            template_id=template.template_id,
            template_params=dict.fromkeys(template.template_params, "x"),
        ),
    )
    filtered = services.instance_filter(instance=parts[0], filter_types=[4, 3])
    control.post("/clock/advance", json={"seconds": 61})
    for child in filtered:
        child = services.instance_poll(instance_id=child.pk)
        assert (
            child.status == InstanceStatus.GENERATED and child.package_size <= parts[0].package_size
        )

    copy = services.instance_save_as(instance=married, name="另存")
    assert copy.search_id and copy.crowd_type == 3


@pytest.mark.parametrize(
    ("parts", "split_type", "path"),
    [
        ([("a", 0.7), ("b", 0.4)], "0", "ratio"),
        ([("a", 0)], "0", "ratio[0].value"),
        ([("a|b", 0.1)], "0", "ratio[0].name"),
        ([("a", 10**9)], "1", "ratio"),
        ([("a", 1.5)], "1", "ratio[0].value"),
    ],
)
def test_split_checks_the_sums_before_calling_jd(jd_brand, control, parts, split_type, path):
    instance = generated(jd_brand, control)
    control.delete("/requests")

    with pytest.raises(services.CrowdInputError) as raised:
        services.instance_split(
            instance=instance,
            parts=[services.SplitPart(n, v) for n, v in parts],
            split_type=split_type,
        )

    assert path in [v.path for v in raised.value.violations]
    assert (
        control.get("/requests", params={"path": "/crowd/instance/split"}).json()["requests"] == []
    )


def test_derived_operations_need_generated_packages(jd_brand):
    crowd = services.crowd_create(brand=jd_brand, name="a", condition=PUBLIC_CONDITION)
    instance = services.instance_create(crowd=crowd)
    with pytest.raises(services.CrowdInputError):
        services.instance_split(
            instance=instance, parts=[services.SplitPart("a", 0.5)], split_type="0"
        )
    with pytest.raises(services.CrowdInputError):
        services.instance_calc(
            brand=jd_brand, operation="union", instances=[instance, instance], name="x"
        )


def test_nothing_is_sent_to_jd_while_it_is_down(jd_brand, control):
    from campaigns.models import SystemState

    crowd = services.crowd_create(brand=jd_brand, name="a", condition=PUBLIC_CONDITION)
    SystemState.objects.create(pk=1, up=False, reason="系统升级公告")
    control.delete("/requests")

    with pytest.raises(services.RemoteRejected, match="系统升级公告"):
        services.instance_create(crowd=crowd)
    later = services.crowd_create(brand=jd_brand, name="b", condition=PUBLIC_CONDITION)

    assert later.sync_state == SyncState.FAILED and "系统升级公告" in later.sync_error
    assert not CrowdInstance.objects.exists()
    assert control.get("/requests").json()["requests"] == []
    SystemState.objects.filter(pk=1).update(up=True)
    assert services.crowd_sync(crowd=later).sync_state == SyncState.SYNCED
