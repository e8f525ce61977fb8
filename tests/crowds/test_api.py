"""The crowds REST API: spec field names, brand scope, errors with paths."""

import pytest
from django_scopes import scope

from crowds import services
from crowds.models import Crowd, CrowdInstance, InstanceStatus
from tests.crowds.sandboxed import PUBLIC_CONDITION

pytestmark = pytest.mark.django_db

BUILDER = {
    "relation": "must",
    "blocks": [
        {
            "group": "001",
            "relation": "must",
            "items": [
                {"tag": "TAG_020", "op": "eq", "value": "已婚"},
                {"tag": "TAG_021", "op": "in", "values": ["16-25岁", "46-55岁"]},
            ],
        }
    ],
}


@pytest.fixture
def api(client, jd_brand, make_brand_user):
    client.force_login(make_brand_user(jd_brand).user)
    return client


def test_tags_are_listed_by_group(api):
    tags = api.get("/api/v1/tags/", {"table_cd": "001"}).json()
    assert tags and {t["table_cd"] for t in tags} == {"001"}
    assert api.get("/api/v1/tags/TAG_020/").json()["enums"] == ["已婚", "未婚", "未知"]


def test_compile_builder_gives_dsl_sentence_and_package_type(api):
    answer = api.post(
        "/api/v1/conditions/compile/", {"builder": BUILDER}, content_type="application/json"
    ).json()

    assert answer["errors"] == []
    assert answer["condition"] == PUBLIC_CONDITION
    assert answer["description"] == "已婚 且 (16-25岁 或 46-55岁)"
    assert answer["package_type"] == 1
    back = api.post(
        "/api/v1/conditions/compile/",
        {"condition": PUBLIC_CONDITION},
        content_type="application/json",
    )
    assert back.json()["builder"]["blocks"][0]["group"] == "001"


def test_compile_reports_errors_with_builder_paths(api):
    bad = {
        **BUILDER,
        "blocks": [{**BUILDER["blocks"][0], "items": [{"tag": "TAG_503", "op": "eq", "value": 1}]}],
    }
    answer = api.post(
        "/api/v1/conditions/compile/", {"builder": bad}, content_type="application/json"
    ).json()
    assert answer["condition"] is None
    assert answer["errors"] and all(e["path"].startswith("builder.") for e in answer["errors"])


def test_crowd_crud_and_instantiate(api, control):
    created = api.post(
        "/api/v1/crowds/",
        {"crowd_name": "已婚青年", "crowd_desc": "d", "condition": PUBLIC_CONDITION},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["search_id"] and body["sync_state"] == "synced" and body["package_type"] == 1
    assert body["description_text"] == "已婚 且 (16-25岁 或 46-55岁)"
    crowd_id = body["id"]

    listed = api.get("/api/v1/crowds/", {"crowd_name": "青年"}).json()
    assert [c["id"] for c in listed["results"]] == [crowd_id]
    patched = api.patch(
        f"/api/v1/crowds/{crowd_id}/", {"crowd_desc": "新"}, content_type="application/json"
    )
    assert patched.json()["crowd_desc"] == "新"

    instance = api.post(f"/api/v1/crowds/{crowd_id}/instantiate/").json()
    assert (
        instance["status"] == "0"
        and instance["package_id"]
        and instance["search_id"] == body["search_id"]
    )
    control.post("/clock/advance", json={"seconds": 61})
    services.instance_poll(instance_id=instance["id"])
    detail = api.get(f"/api/v1/instances/{instance['id']}/").json()
    assert detail["status"] == "2" and detail["package_size"] > 0

    split = api.post(
        f"/api/v1/instances/{instance['id']}/split/",
        {"type": "0", "ratio": [{"name": "A", "value": 0.5}, {"name": "B", "value": 0.5}]},
        content_type="application/json",
    )
    assert split.status_code == 201
    assert [p["name"] for p in split.json()] == ["A|0.5", "B|0.5"]

    saved = api.post(
        f"/api/v1/instances/{instance['id']}/save-as/",
        {"crowd_name": "另存"},
        content_type="application/json",
    )
    assert saved.status_code == 201 and saved.json()["crowd_type"] == 3

    assert api.delete(f"/api/v1/crowds/{crowd_id}/").status_code == 204


def test_invalid_condition_answers_400_with_paths_and_saves_nothing(api):
    bad = {"bool": {"must": [{"bool": {"must": [{"term": {"TAG_020": {"value": "已婚"}}}]}}]}}
    response = api.post(
        "/api/v1/crowds/", {"crowd_name": "x", "condition": bad}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"].startswith("condition.bool.must[0]")
    with scope(brand=None):
        assert not Crowd.objects.exists()


def test_split_sum_above_one_is_refused(api, control, jd_brand):
    crowd = services.crowd_create(brand=jd_brand, name="a", condition=PUBLIC_CONDITION)
    instance = services.instance_create(crowd=crowd)
    control.post("/clock/advance", json={"seconds": 61})
    services.instance_poll(instance_id=instance.pk)

    response = api.post(
        f"/api/v1/instances/{instance.pk}/split/",
        {"type": "0", "ratio": [{"name": "A", "value": 0.6}, {"name": "B", "value": 0.6}]},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "ratio"


def test_calc_and_filter_through_the_api(api, control, jd_brand):
    ids = []
    for name in ("a", "b"):
        crowd = services.crowd_create(brand=jd_brand, name=name, condition=PUBLIC_CONDITION)
        ids.append(services.instance_create(crowd=crowd).pk)
    control.post("/clock/advance", json={"seconds": 61})
    for pk in ids:
        services.instance_poll(instance_id=pk)

    calc = api.post(
        "/api/v1/instances/calc/",
        {"operation": "intersection", "packages": ids, "crowd_name": "交集"},
        content_type="application/json",
    )
    assert calc.status_code == 201, calc.content
    assert sorted(calc.json()["parents"]) == sorted(ids)
    assert (
        api.post(
            f"/api/v1/instances/{ids[0]}/filter/",
            {"filter_types": [9]},
            content_type="application/json",
        ).status_code
        == 400
    )


def test_another_brands_objects_are_404_like_missing_ones(api, jd_brand, other_brand):
    with scope(brand=other_brand):
        theirs = Crowd.objects.create(brand=other_brand, name="别家", condition=PUBLIC_CONDITION)
        their_instance = CrowdInstance.objects.create(
            brand=other_brand, origin="init", status=InstanceStatus.GENERATED, package_id="p-other"
        )
    for url in (f"/api/v1/crowds/{theirs.pk}/", f"/api/v1/instances/{their_instance.pk}/"):
        foreign = api.get(url)
        missing = api.get(
            url.replace(str(theirs.pk if "crowds" in url else their_instance.pk), "999999")
        )
        assert foreign.status_code == missing.status_code == 404
    assert api.post(f"/api/v1/crowds/{theirs.pk}/instantiate/").status_code == 404
    assert api.delete(f"/api/v1/crowds/{theirs.pk}/").status_code == 404
    calc = api.post(
        "/api/v1/instances/calc/",
        {
            "operation": "union",
            "packages": [their_instance.pk, their_instance.pk],
            "crowd_name": "x",
        },
        content_type="application/json",
    )
    assert calc.status_code == 400
    assert api.get("/api/v1/crowds/").json()["count"] == 0
