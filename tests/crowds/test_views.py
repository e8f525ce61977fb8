"""The crowds pages: every page renders for the brand, another brand's ids are a 404,
errors show in place, read-only previews get no write buttons, and the pages drive the
services against the sandbox (builder → JD, instantiate → poll → split / calc)."""

from __future__ import annotations

import json
import re
from urllib.parse import urlencode

import pytest
from django_scopes import scope, scopes_disabled

from crowds import services
from crowds.models import Crowd, CrowdInstance, InstanceOrigin, InstanceStatus, SyncState, Tag
from portal.integrations.jdcloud.factory import jdcloud_client
from tests.brands.isv import signed
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
        },
        {
            "group": "003",
            "relation": "must",
            "items": [{"tag": "TAG_102", "op": "in", "values": ["金卡会员", "黑卡会员"]}],
        },
    ],
    "exclude": [],
}


def json_script(response, element_id: str):
    """The value a page embedded with `json_script`."""
    match = re.search(
        rf'<script id="{element_id}" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    assert match, f"no json_script #{element_id}"
    return json.loads(match.group(1))


def has_id(response, element_id: str) -> bool:
    return f'id="{element_id}"' in response.content.decode()


@pytest.fixture
def catalog():
    """A few rows of JD's catalog, enough to describe and check conditions offline."""
    with scopes_disabled():
        Tag.objects.create(
            tag="TAG_020", instruction="婚姻状况", table_cd="001", tag_type="1",
            enums=["已婚", "未婚", "未知"],
        )  # fmt: skip
        Tag.objects.create(
            tag="TAG_021", instruction="年龄段", table_cd="001", tag_type="1",
            enums=["15岁及以下", "16-25岁", "26-35岁", "36-45岁", "46-55岁", "56岁及以上"],
        )  # fmt: skip
        Tag.objects.create(
            tag="TAG_102", instruction="店铺会员等级", table_cd="003", tag_type="0",
            enums=["普通会员", "银卡会员", "金卡会员", "黑卡会员"],
        )  # fmt: skip
        Tag.objects.create(tag="TAG_316", instruction="店铺会员积分", table_cd="003", tag_type="0")


def make_crowd(brand, name="已婚青年", **fields) -> Crowd:
    values = {
        "brand": brand,
        "name": name,
        "condition": PUBLIC_CONDITION,
        "search_id": f"s-{brand.pk}-{name}",
        "sync_state": SyncState.SYNCED,
    }
    values.update(fields)
    with scopes_disabled():
        return Crowd.objects.create(**values)


def make_instance(crowd, name="包", parents=(), **fields) -> CrowdInstance:
    values = {
        "brand": crowd.brand,
        "crowd": crowd,
        "name": name,
        "origin": InstanceOrigin.INIT,
        "package_id": f"p-{crowd.pk}-{name}",
        "status": InstanceStatus.GENERATED,
        "package_size": 12345,
        "package_type": 1,
    }
    values.update(fields)
    with scopes_disabled():
        instance = CrowdInstance.objects.create(**values)
        instance.parents.add(*parents)
    return instance


@pytest.fixture
def crowd(brand, catalog):
    return make_crowd(brand)


@pytest.fixture
def instance(crowd):
    return make_instance(crowd)


@pytest.fixture
def foreign(other_brand):
    """Another brand's crowd and instance: ids the brand must not reach."""
    crowd = make_crowd(other_brand, name="别人的人群")
    return crowd, make_instance(crowd, name="别人的包")


# --- Pages render, only the brand's rows --------------------------------------------------


def test_every_page_renders_for_the_brand(brand_client, crowd, instance):
    urls = [
        "/crowds/",
        "/crowds/new/",
        f"/crowds/{crowd.pk}/",
        f"/crowds/{crowd.pk}/edit/",
        "/crowds/instances/",
        f"/crowds/instances/{instance.pk}/",
        "/crowds/instances/calc/",
        "/crowds/tags/",
    ]
    for url in urls:
        response = brand_client.get(url)
        assert response.status_code == 200, url
        assert "/static/crowds/crowds." in response.content.decode(), url


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/crowds/{crowd}/"),
        ("get", "/crowds/{crowd}/edit/"),
        ("post", "/crowds/{crowd}/edit/"),
        ("post", "/crowds/{crowd}/sync/"),
        ("post", "/crowds/{crowd}/delete/"),
        ("post", "/crowds/{crowd}/instantiate/"),
        ("get", "/crowds/instances/{instance}/"),
        ("post", "/crowds/instances/{instance}/split/"),
        ("post", "/crowds/instances/{instance}/filter/"),
        ("post", "/crowds/instances/{instance}/save-as/"),
        ("post", "/crowds/instances/{instance}/repoll/"),
    ],
)
def test_another_brands_ids_look_exactly_like_missing_ones(
    brand_client, foreign, crowd, method, path
):
    other_crowd, other_instance = foreign
    theirs = path.format(crowd=other_crowd.pk, instance=other_instance.pk)
    missing = path.format(crowd=999_999, instance=999_999)

    answers = [getattr(brand_client, method)(url) for url in (theirs, missing)]

    assert [a.status_code for a in answers] == [404, 404]
    with scopes_disabled():
        assert Crowd.objects.filter(pk=other_crowd.pk, sync_state=SyncState.SYNCED).exists()


def test_the_lists_show_only_the_brands_rows(brand_client, crowd, instance, foreign):
    crowds = brand_client.get("/crowds/").content.decode()
    assert f'data-crowd-id="{crowd.pk}"' in crowds
    assert "别人的人群" not in crowds

    packages = brand_client.get("/crowds/instances/").content.decode()
    assert f'data-instance-id="{instance.pk}"' in packages
    assert "别人的包" not in packages

    calc = brand_client.get("/crowds/instances/calc/").content.decode()
    assert f'value="{instance.pk}"' in calc
    assert f'value="{foreign[1].pk}"' not in calc


def test_calc_refuses_another_brands_package_as_missing(brand_client, instance, foreign):
    response = brand_client.post(
        "/crowds/instances/calc/",
        {"operation": "union", "packages": [instance.pk, foreign[1].pk], "name": "偷看"},
    )

    assert response.status_code == 400
    assert 'class="errors"' in response.content.decode()
    with scopes_disabled():
        assert not CrowdInstance.objects.filter(name="偷看").exists()


def test_list_pages_stay_within_ten_queries(
    brand_client, brand, catalog, django_assert_max_num_queries
):
    for index in range(30):
        crowd = make_crowd(brand, name=f"人群{index}")
        make_instance(crowd, name=f"包{index}", status=InstanceStatus.GENERATING)
    for url in ("/crowds/", "/crowds/instances/", "/crowds/instances/calc/", "/crowds/tags/"):
        with django_assert_max_num_queries(10):
            assert brand_client.get(url).status_code == 200


def test_the_crowd_list_searches_by_name_and_filters_by_package_type(brand_client, brand):
    public = make_crowd(brand, name="已婚青年", package_type=1)
    private = make_crowd(brand, name="金卡会员", package_type=2)

    by_name = brand_client.get("/crowds/", {"q": "金卡"}).content.decode()
    assert f'data-crowd-id="{private.pk}"' in by_name
    assert f'data-crowd-id="{public.pk}"' not in by_name

    by_type = brand_client.get("/crowds/", {"package_type": "1"}).content.decode()
    assert f'data-crowd-id="{public.pk}"' in by_type
    assert f'data-crowd-id="{private.pk}"' not in by_type


def test_the_crowd_list_is_paginated_by_fifty(brand_client, brand):
    for index in range(51):
        make_crowd(brand, name=f"人群{index:02d}")

    first = brand_client.get("/crowds/").content.decode()
    second = brand_client.get("/crowds/", {"page": 2}).content.decode()

    assert first.count("data-crowd-id=") == 50
    assert second.count("data-crowd-id=") == 1
    assert 'rel="next"' in first and 'rel="prev"' in second


def test_a_failed_crowd_shows_jds_error_and_a_retry_button(brand_client, brand):
    failed = make_crowd(
        brand, name="没同步", search_id="", sync_state="failed", sync_error="系统繁忙"
    )

    listing = brand_client.get("/crowds/").content.decode()
    page = brand_client.get(f"/crowds/{failed.pk}/")

    assert "系统繁忙" in listing and f'action="/crowds/{failed.pk}/sync/"' in listing
    assert has_id(page, "sync-failure") and has_id(page, "retry-sync")
    assert "系统繁忙" in page.content.decode()


def test_the_crowd_page_shows_the_condition_in_words_and_its_packages(
    brand_client, crowd, instance
):
    page = brand_client.get(f"/crowds/{crowd.pk}/").content.decode()

    assert "已婚 且 (16-25岁 或 46-55岁)" in page
    dsl = page.split('id="crowd-dsl">')[1].split("</pre>")[0]
    assert "TAG_021" in dsl and "\n" in dsl  # the DSL, pretty-printed
    assert f'data-instance-id="{instance.pk}"' in page


def test_a_generating_package_is_polled_from_the_portal_api(brand_client, crowd):
    generating = make_instance(crowd, name="生成中", status=InstanceStatus.GENERATING)

    page = brand_client.get(f"/crowds/instances/{generating.pk}/").content.decode()

    assert f'data-instance-poll="/api/v1/instances/{generating.pk}/"' in page
    assert 'id="instance-actions" data-show-when="generated" hidden' in page
    assert "/static/crowds/instance_status." in page


def test_a_stuck_package_offers_poll_again(brand_client, crowd):
    stuck = make_instance(crowd, name="卡住", status=InstanceStatus.GENERATING, stuck=True)

    page = brand_client.get(f"/crowds/instances/{stuck.pk}/")

    assert has_id(page, "repoll")
    assert 'data-show-when="stuck" hidden' not in page.content.decode()


def test_the_lineage_graph_links_ancestors_and_descendants(brand_client, crowd):
    first = make_instance(crowd, name="甲")
    second = make_instance(crowd, name="乙")
    union = make_instance(crowd, name="并集", origin=InstanceOrigin.CALC, parents=[first, second])
    part = make_instance(crowd, name="抽取", origin=InstanceOrigin.SPLIT, parents=[union])

    page = brand_client.get(f"/crowds/instances/{union.pk}/").content.decode()

    for node in (first, second, union, part):
        assert f'href="/crowds/instances/{node.pk}/" class="node' in page
    assert f'class="node current" data-node-id="{union.pk}"' in page
    for parent, child in ((first, union), (second, union), (union, part)):
        assert f'data-parent="{parent.pk}" data-child="{child.pk}"' in page


def test_the_tag_catalog_groups_tags_with_their_values(brand_client, catalog):
    page = brand_client.get("/crowds/tags/").content.decode()

    assert 'data-group="001"' in page and 'data-group="003"' in page
    assert 'data-tag="TAG_020"' in page and "已婚" in page
    assert 'data-tag-type="0"' in page


# --- The builder page ---------------------------------------------------------------------


def test_the_builder_page_embeds_the_catalog_and_labels(brand_client, catalog):
    response = brand_client.get("/crowds/new/")

    groups = json_script(response, "tag-catalog")["groups"]
    assert [g["table_cd"] for g in groups] == ["001", "003"]
    tag = next(t for t in groups[0]["tags"] if t["tag"] == "TAG_020")
    assert tag == {
        "tag": "TAG_020",
        "instruction": "婚姻状况",
        "tag_type": "1",
        "enums": ["已婚", "未婚", "未知"],
    }
    assert json_script(response, "builder-initial")["blocks"] == []
    assert set(json_script(response, "builder-labels")["ops"]) >= {"eq", "in", "between"}


def test_an_invalid_builder_is_shown_in_place_and_nothing_is_lost(brand_client, catalog):
    broken = {
        "relation": "must",
        "blocks": [
            {
                "group": "001",
                "relation": "must",
                "items": [
                    {"tag": "TAG_020", "op": "eq", "value": "已婚"},
                    {"tag": "TAG_102", "op": "in", "values": ["金卡会员"]},  # group 003's tag
                    {"tag": "TAG_021", "op": "in", "values": []},
                ],
            }
        ],
    }

    response = brand_client.post(
        "/crowds/new/",
        {"name": "错误的人群", "description": "说明", "builder": json.dumps(broken)},
    )

    assert response.status_code == 400
    errors = json_script(response, "builder-initial-errors")
    assert any(e["path"].startswith("builder.blocks[0].items[2]") for e in errors)
    assert json_script(response, "builder-initial") == broken
    page = response.content.decode()
    assert 'value="错误的人群"' in page and ">说明</textarea>" in page
    assert not Crowd.objects.exists()


def test_a_wrong_group_tag_is_reported_on_its_rule(brand_client, catalog):
    wrong = {
        "relation": "must",
        "blocks": [
            {
                "group": "001",
                "relation": "must",
                "items": [{"tag": "TAG_316", "op": "gt", "value": 5}],
            }
        ],
    }

    response = brand_client.post("/crowds/new/", {"name": "x", "builder": json.dumps(wrong)})

    assert response.status_code == 400
    paths = [e["path"] for e in json_script(response, "builder-initial-errors")]
    assert paths and all(p.startswith("builder.blocks[0]") for p in paths)


def test_a_missing_name_keeps_the_condition(brand_client, catalog):
    response = brand_client.post("/crowds/new/", {"name": "", "builder": json.dumps(BUILDER)})

    assert response.status_code == 400
    assert 'id="name-errors"' in response.content.decode()
    assert json_script(response, "builder-initial") == BUILDER
    assert not Crowd.objects.exists()


def test_an_unreadable_builder_is_refused(brand_client, catalog):
    response = brand_client.post("/crowds/new/", {"name": "x", "builder": "{not json"})

    assert response.status_code == 400
    assert json_script(response, "builder-initial")["blocks"] == []
    assert not Crowd.objects.exists()


def test_editing_loads_the_crowds_condition_into_the_builder(brand_client, crowd):
    response = brand_client.get(f"/crowds/{crowd.pk}/edit/")

    tree = json_script(response, "builder-initial")
    assert tree["relation"] == "must"
    assert tree["blocks"][0]["group"] == "001"
    assert tree["blocks"][0]["items"][1] == {
        "tag": "TAG_021",
        "op": "in",
        "values": ["16-25岁", "46-55岁"],
    }
    assert f'value="{crowd.name}"' in response.content.decode()


# --- Read-only previews -------------------------------------------------------------------


@pytest.fixture
def preview_client(client, brand):
    """A browser that followed JD's free-login link: the brand, read-only."""
    params = signed({"master_id": brand.master_id, "preview_url": "/crowds/"})
    response = client.get("/JDCloud/master/verify?" + urlencode(params))
    assert response.status_code == 302
    return client


def test_a_preview_session_sees_the_pages_without_write_buttons(preview_client, crowd, instance):
    listing = preview_client.get("/crowds/")
    assert listing.status_code == 200 and f'data-crowd-id="{crowd.pk}"' in listing.content.decode()
    assert not has_id(listing, "new-crowd") and not has_id(listing, "import-crowds")

    detail = preview_client.get(f"/crowds/{crowd.pk}/")
    assert detail.status_code == 200
    for button in ("edit-crowd", "delete-crowd", "instantiate-crowd", "crowd-actions"):
        assert not has_id(detail, button), button

    package = preview_client.get(f"/crowds/instances/{instance.pk}/")
    assert package.status_code == 200
    for form in ("split-form", "filter-form", "save-as-form"):
        assert not has_id(package, form), form
    assert preview_client.get("/crowds/tags/").status_code == 200
    assert preview_client.get("/crowds/instances/").status_code == 200


def test_a_preview_session_cannot_open_the_forms_or_post(preview_client, crowd, instance):
    assert preview_client.get("/crowds/new/").status_code == 403
    assert preview_client.get(f"/crowds/{crowd.pk}/edit/").status_code == 403
    assert preview_client.get("/crowds/instances/calc/").status_code == 403
    assert preview_client.post(f"/crowds/{crowd.pk}/delete/").status_code == 403
    assert preview_client.post("/crowds/import/").status_code == 403
    with scopes_disabled():
        assert Crowd.objects.filter(pk=crowd.pk).exists()


# --- Against the sandbox ------------------------------------------------------------------


@pytest.fixture
def jd_client(client, jd_brand, make_brand_user):
    """A user of the sandbox's brand, logged in, with JD's catalog loaded."""
    client.force_login(make_brand_user(jd_brand).user)
    return client


def test_saving_the_builder_creates_the_crowd_at_jd(jd_client, jd_brand):
    response = jd_client.post(
        "/crowds/new/",
        {"name": "已婚青年金卡", "description": "两组条件", "builder": json.dumps(BUILDER)},
    )

    crowd = Crowd.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/crowds/{crowd.pk}/"
    assert crowd.sync_state == SyncState.SYNCED and crowd.search_id
    assert crowd.package_type == 2  # TAG_102 is a private-domain tag
    assert crowd.created_by is not None
    page = jd_client.get(response["Location"]).content.decode()
    assert "已婚 且 (16-25岁 或 46-55岁)" in page
    assert crowd.search_id in page
    assert 'class="messages"' in page


def test_a_jd_failure_on_save_keeps_the_crowd_and_offers_a_retry(jd_client, control):
    control.post(
        "/faults",
        json={"path": "/crowd/create/v2", "kind": "code", "code": "500", "msg": "系统繁忙"},
    )

    response = jd_client.post("/crowds/new/", {"name": "稍后", "builder": json.dumps(BUILDER)})

    crowd = Crowd.objects.get()
    assert response["Location"] == f"/crowds/{crowd.pk}/"
    page = jd_client.get(response["Location"])
    assert has_id(page, "sync-failure") and "系统繁忙" in page.content.decode()

    control.delete("/faults")
    retried = jd_client.post(f"/crowds/{crowd.pk}/sync/")
    assert retried.status_code == 302
    crowd.refresh_from_db()
    assert crowd.sync_state == SyncState.SYNCED and crowd.search_id


def test_editing_a_crowd_sends_the_change_to_jd(jd_client, jd_brand):
    crowd = services.crowd_create(brand=jd_brand, name="旧名", condition=PUBLIC_CONDITION)
    tree = json_script(jd_client.get(f"/crowds/{crowd.pk}/edit/"), "builder-initial")
    tree["blocks"][0]["items"][0]["value"] = "未婚"

    response = jd_client.post(
        f"/crowds/{crowd.pk}/edit/", {"name": "新名", "builder": json.dumps(tree)}
    )

    assert response.status_code == 302
    crowd.refresh_from_db()
    assert crowd.name == "新名" and crowd.sync_state == SyncState.SYNCED
    remote = jdcloud_client().crowd_info(search_id=crowd.search_id)
    assert remote.crowd_name == "新名" and "未婚" in json.dumps(
        remote.condition, ensure_ascii=False
    )


def test_import_brings_in_jds_crowds_and_says_how_many(jd_client, jd_brand):
    for index in range(2):
        jdcloud_client().crowd_create_v2(
            master_id=jd_brand.master_id,
            crowd_name=f"JD侧人群{index}",
            crowd_desc="d",
            condition=PUBLIC_CONDITION,
            package_type=1,
        )

    response = jd_client.post("/crowds/import/", follow=True)

    assert Crowd.objects.count() == 2
    page = response.content.decode()
    messages = page.split('<ul class="messages">')[1].split("</ul>")[0]
    assert 'class="success"' in messages and "2" in messages
    assert "JD侧人群0" in page and "JD侧人群1" in page


def test_delete_at_jd_then_locally_or_keep_it_and_say_why(jd_client, jd_brand, control):
    crowd = services.crowd_create(brand=jd_brand, name="要删", condition=PUBLIC_CONDITION)
    control.post("/faults", json={"path": "/crowd/del", "kind": "http_error", "status": 500})

    kept = jd_client.post(f"/crowds/{crowd.pk}/delete/", follow=True)
    assert Crowd.objects.filter(pk=crowd.pk).exists()
    assert 'class="error"' in kept.content.decode()

    control.delete("/faults")
    gone = jd_client.post(f"/crowds/{crowd.pk}/delete/")
    assert gone["Location"] == "/crowds/"
    assert not Crowd.objects.filter(pk=crowd.pk).exists()


def generate(client, crowd, control) -> CrowdInstance:
    """Instantiate through the page, let the sandbox finish, run the poll as the task would."""
    response = client.post(f"/crowds/{crowd.pk}/instantiate/")
    instance = CrowdInstance.objects.get(crowd=crowd, origin=InstanceOrigin.INIT)
    assert response["Location"] == f"/crowds/instances/{instance.pk}/"
    control.post("/clock/advance", json={"seconds": 61})
    with scope(brand=crowd.brand):
        return services.instance_poll(instance_id=instance.pk)


def test_instantiate_then_split_from_the_instance_page(jd_client, jd_brand, control):
    crowd = services.crowd_create(brand=jd_brand, name="已婚", condition=PUBLIC_CONDITION)
    instance = generate(jd_client, crowd, control)
    assert instance.status == InstanceStatus.GENERATED

    page = jd_client.get(f"/crowds/instances/{instance.pk}/")
    assert has_id(page, "split-form") and 'id="instance-actions" data-show-when' in (
        page.content.decode()
    )
    assert 'data-show-when="generated" hidden' not in page.content.decode()
    assert "data-instance-poll" not in page.content.decode()

    too_much = jd_client.post(
        f"/crowds/instances/{instance.pk}/split/",
        {
            "split_type": "0",
            "part_name": ["触达组", "", "对照组"],
            "part_value": ["0.7", "", "0.5"],
        },
    )
    assert too_much.status_code == 400
    body = too_much.content.decode()
    assert 'value="触达组"' in body and 'value="0.7"' in body  # what was typed stays
    assert 'class="errors"' in body
    assert not instance.children.exists()

    bad_name = jd_client.post(
        f"/crowds/instances/{instance.pk}/split/",
        {"split_type": "0", "part_name": ["", "a|b"], "part_value": ["", "0.2"]},
    )
    assert bad_name.status_code == 400
    assert re.search(r'value="a\|b".*?class="row-errors"', bad_name.content.decode(), re.S)

    done = jd_client.post(
        f"/crowds/instances/{instance.pk}/split/",
        {"split_type": "0", "part_name": ["触达组", "对照组"], "part_value": ["0.5", "0.5"]},
    )
    assert done["Location"] == f"/crowds/instances/{instance.pk}/"
    children = list(instance.children.all())
    assert len(children) == 2
    graph = jd_client.get(f"/crowds/instances/{instance.pk}/").content.decode()
    for child in children:
        assert f'data-parent="{instance.pk}" data-child="{child.pk}"' in graph


def test_calc_and_save_as_from_the_pages(jd_client, jd_brand, control):
    married = generate(
        jd_client,
        services.crowd_create(brand=jd_brand, name="已婚", condition=PUBLIC_CONDITION),
        control,
    )
    female = generate(
        jd_client,
        services.crowd_create(
            brand=jd_brand,
            name="女性",
            condition={
                "bool": {
                    "must": [
                        {"bool": {"group": "001", "must": [{"term": {"TAG_002": {"value": "女"}}}]}}
                    ]
                }
            },
        ),
        control,
    )

    too_few = jd_client.post(
        "/crowds/instances/calc/", {"operation": "union", "packages": [married.pk], "name": "并"}
    )
    assert too_few.status_code == 400

    response = jd_client.post(
        "/crowds/instances/calc/",
        {"operation": "difference", "packages": [married.pk], "exclude": [female.pk], "name": "差"},
    )
    made = CrowdInstance.objects.get(origin=InstanceOrigin.CALC)
    assert response["Location"] == f"/crowds/instances/{made.pk}/"
    assert set(made.parents.all()) == {married, female}

    saved = jd_client.post(
        f"/crowds/instances/{married.pk}/save-as/", {"name": "", "description": "x"}
    )
    assert saved.status_code == 400 and 'id="save-as-name"' in saved.content.decode()
    saved = jd_client.post(f"/crowds/instances/{married.pk}/save-as/", {"name": "另存的人群"})
    copy = Crowd.objects.get(name="另存的人群")
    assert saved["Location"] == f"/crowds/{copy.pk}/"
