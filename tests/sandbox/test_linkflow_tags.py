"""Linkflow tags: metadata, folders, file upload (overwrite / append), calculation on the
sandbox clock, export tasks and their files, batch values, contacts' values; dimension
tables."""

from __future__ import annotations

import pytest

from sandbox.linkflow.population import FIRST_CONTACT_ID
from tests.sandbox.linkflow_client import Linkflow, assert_error

LIST_FIELDS = {
    "tagId",
    "tagKey",
    "tagName",
    "dataType",
    "tagType",
    "status",
    "folderId",
    "dateCreated",
    "lastUpdated",
    "lastCalculateTime",
}
NEW_TAG = {
    "tagName": "VIP客户",
    "tagKey": "tag_vip_2026",
    "dataType": "text",
    "tagType": "UPLOAD",
    "identityType": "mobilePhone",
}


@pytest.fixture
def lf(client) -> Linkflow:
    return Linkflow.connect(client)


@pytest.fixture
def phones(lf) -> list[str]:
    contacts = lf.ok("GET", "/open/contacts/cursor", params={"lastMaxId": 0, "size": 4})
    return [c["mobilePhone"] for c in contacts]


def tags_of(lf: Linkflow, phone: str) -> dict[str, str]:
    found = lf.ok("POST", "/open/contacts/tags", json={"id": phone, "type": "mobilePhone"})
    return {t["tagKey"]: t["value"] for t in found}


def upload(lf: Linkflow, key: str, text: str, operate: str = "overwrite"):
    return lf.call(
        "POST",
        f"/v1/tags/tagkeys/{key}/upload/file/operates/{operate}",
        files={"file": ("values.csv", text.encode(), "text/csv")},
    )


def calculate(lf: Linkflow, advance, key: str) -> None:
    assert lf.call("POST", f"/v1/tags/tagkeys/{key}/calculate").status_code == 200
    advance(30)


# -- metadata -------------------------------------------------------------------------
def test_tag_list_pages_and_size_limit(lf):
    first = lf.ok("GET", "/v1/tags", params={"page": 0, "size": 3})
    second = lf.ok("GET", "/v1/tags", params={"page": 1, "size": 3})
    everything = lf.ok("GET", "/v1/tags", params={"page": 0, "size": 200})

    assert [t["tagId"] for t in first + second] == [1, 2, 3, 4, 5, 6]
    assert set(first[0]) == LIST_FIELDS and first[0]["tagKey"] == "tag_yhxb"
    assert {t["tagType"] for t in everything} >= {"UPLOAD", "RULE_LAYER", "RFM"}
    assert_error(lf.call("GET", "/v1/tags", params={"page": 0, "size": 201}), 500, "B00010")
    assert_error(lf.call("GET", "/v1/tags", params={"size": 5}), 500, "B00002")


def test_folders_form_a_tree_the_tags_point_into(lf):
    folders = lf.ok("GET", "/open/folders")
    ids = {f["id"] for f in folders}
    assert all(
        f["domain"] == "TAG" and (f["parentId"] == 0 or f["parentId"] in ids) for f in folders
    )
    assert any(f["parentId"] != 0 for f in folders)
    tags = lf.ok("GET", "/v1/tags", params={"page": 0, "size": 200})
    assert {t["folderId"] for t in tags} <= ids


def test_create_a_tag(lf):
    created = lf.ok("POST", "/v1/tags", json=NEW_TAG)
    assert set(created) == {
        "tagId",
        "tagKey",
        "tagName",
        "dataType",
        "status",
        "dateCreated",
        "lastUpdated",
    }
    assert created["status"] == "ACTIVE" and created["dateCreated"] == "2026-01-05 10:00:00"
    listed = lf.ok("GET", "/v1/tags", params={"page": 0, "size": 200})[-1]
    assert (listed["tagKey"], listed["tagType"], listed["lastCalculateTime"]) == (
        "tag_vip_2026",
        "UPLOAD",
        None,
    )
    assert_error(lf.call("POST", "/v1/tags", json=NEW_TAG), 500, "B01151")
    external = {**NEW_TAG, "tagKey": "tag_ext", "identityType": "externalId", "channelId": "63"}
    assert lf.call("POST", "/v1/tags", json=external).status_code == 200


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"tagKey": None}, "B00002"),
        ({"tagName": ""}, "B00002"),
        ({"dataType": None}, "B00002"),
        ({"identityType": None}, "B00002"),
        ({"tagKey": "ccc"}, "B01157"),
        ({"tagKey": "tag_Upper"}, "B01157"),
        ({"tagKey": "tag-dash"}, "B01157"),
        ({"dataType": "json"}, "B00010"),
        ({"tagType": "SQL"}, "B00010"),
        ({"identityType": "qq"}, "B00010"),
        ({"identityType": "externalId"}, "B00002"),
        ({"identityType": "externalId", "channelId": "999"}, "B00159"),
        ({"tagKey": "tag_yhxb"}, "B01151"),
    ],
)
def test_tag_creation_refusals(lf, change, code):
    assert_error(lf.call("POST", "/v1/tags", json={**NEW_TAG, **change}), 500, code)


def test_the_tag_quota(client, lf):
    client.post("/_control/linkflow", json={"tag_quota": 12})  # 11 are seeded
    assert lf.call("POST", "/v1/tags", json=NEW_TAG).status_code == 200
    assert_error(lf.call("POST", "/v1/tags", json={**NEW_TAG, "tagKey": "tag_more"}), 500, "B00037")


def test_delete_a_tag(lf):
    lf.ok("POST", "/v1/tags", json=NEW_TAG)
    assert lf.call("DELETE", "/v1/tags/tagkeys/tag_vip_2026").status_code == 200
    assert "tag_vip_2026" not in [
        t["tagKey"] for t in lf.ok("GET", "/v1/tags", params={"page": 0, "size": 200})
    ]
    assert_error(lf.call("DELETE", "/v1/tags/tagkeys/tag_vip_2026"), 500, "B_01162")


# -- upload and calculation -----------------------------------------------------------
def test_uploads_take_effect_when_calculated_overwrite_replaces_append_adds(lf, phones, advance):
    lf.ok("POST", "/v1/tags", json=NEW_TAG)
    answer = upload(
        lf, "tag_vip_2026", f"id,value\r\n{phones[0]},金卡\r\n{phones[1]},银卡\r\n13000000000,x\r\n"
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["tagKey"] == "tag_vip_2026" and body["fileName"] == "tag_vip_2026_file1"
    assert body["ossUrl"].startswith("http://testserver/linkflow/oss/1/tag/upload/tmp/20260105/")
    assert "tag_vip_2026" not in tags_of(lf, phones[0])  # not calculated yet

    calculate(lf, advance, "tag_vip_2026")
    assert tags_of(lf, phones[0])["tag_vip_2026"] == "金卡"
    assert tags_of(lf, phones[1])["tag_vip_2026"] == "银卡"
    listed = next(
        t
        for t in lf.ok("GET", "/v1/tags", params={"page": 0, "size": 200})
        if t["tagKey"] == "tag_vip_2026"
    )
    assert listed["lastCalculateTime"] == "2026-01-05 10:00:30"

    assert upload(lf, "tag_vip_2026", f"{phones[2]},普卡\n", "append").status_code == 200
    calculate(lf, advance, "tag_vip_2026")
    assert [("tag_vip_2026" in tags_of(lf, p)) for p in phones] == [True, True, True, False]

    assert upload(lf, "tag_vip_2026", f"{phones[3]}\n", "overwrite").status_code == 200
    calculate(lf, advance, "tag_vip_2026")
    assert [("tag_vip_2026" in tags_of(lf, p)) for p in phones] == [False, False, False, True]
    assert tags_of(lf, phones[3])["tag_vip_2026"] == "1"  # no value column

    state = lf.client.get("/_control/linkflow/tags").json()["tags"]
    mine = next(t for t in state if t["tagKey"] == "tag_vip_2026")
    assert mine["calculateStatus"] == "FINISH" and mine["values"] == 1
    assert [f["rows"] for f in mine["files"]] == [1]


def test_upload_refusals(client, lf, phones):
    assert_error(upload(lf, "tag_nope", "x\n"), 500, "B01162")
    assert_error(upload(lf, "tag_878", "x\n", "merge"), 500, "B00010")
    no_file = lf.call(
        "POST", "/v1/tags/tagkeys/tag_878/upload/file/operates/append", data={"x": "1"}
    )
    assert_error(no_file, 500, "B00010")
    assert_error(upload(lf, "tag_yhxb", f"{phones[0]},男\n"), 500, "B00010")  # not an UPLOAD tag
    client.post("/_control/linkflow", json={"upload_limit_bytes": 16})
    assert_error(upload(lf, "tag_878", f"{phones[0]},活跃\n{phones[1]},活跃\n"), 500, "B01163")


def test_calculation_states(client, lf, advance):
    assert lf.call("POST", "/v1/tags/tagkeys/tag_878/calculate").status_code == 200
    assert_error(lf.call("POST", "/v1/tags/tagkeys/tag_878/calculate"), 500, "B01152")
    advance(29)
    assert_error(lf.call("POST", "/v1/tags/tagkeys/tag_878/calculate"), 500, "B01152")
    advance(1)
    client.post("/_control/linkflow", json={"tag_calculation_failure_rate": 1})
    assert lf.call("POST", "/v1/tags/tagkeys/tag_878/calculate").status_code == 200
    advance(30)
    status = {
        t["tagKey"]: t["calculateStatus"]
        for t in client.get("/_control/linkflow/tags").json()["tags"]
    }
    assert status["tag_878"] == "CALC_ERROR"
    assert lf.call("POST", "/v1/tags/tagkeys/tag_878/calculate").status_code == 200  # may retry

    assert_error(lf.call("POST", "/v1/tags/tagkeys/tag_s11_2023/calculate"), 500, "B01165")
    assert_error(lf.call("POST", "/v1/tags/tagkeys/tag_nope/calculate"), 500, "B01162")


# -- export ---------------------------------------------------------------------------
def test_an_export_task_moves_through_its_states_to_a_file(lf, advance):
    started = lf.ok(
        "POST", "/v1/tags/tagkeys/tag_yhxb/export", json={"identityType": "mobilePhone"}
    )
    assert started["tagKey"] == "tag_yhxb" and started["status"] == "INITIAL"
    task = f"/v1/tags/tagkeys/export/{started['taskId']}"

    states = [lf.ok("GET", task)]
    advance(3)
    states.append(lf.ok("GET", task))
    advance(6)
    states.append(lf.ok("GET", task))

    assert [s["status"] for s in states] == ["INITIAL", "RUNNING", "FINISH"]
    assert [s["fileUrl"] for s in states[:2]] == ["", ""] and states[2]["errorMsg"] == ""
    url = states[2]["fileUrl"]
    assert url.startswith(f"http://testserver/linkflow/files/tag-export/{started['taskId']}/")
    lines = lf.client.get(url.removeprefix("http://testserver")).text.splitlines()
    assert lines[0] == "mobilePhone,tag_yhxb"
    assert len(lines) > 500 and all(line.split(",")[1] in ("男", "女") for line in lines[1:])
    wrong = url.removeprefix("http://testserver").replace(".csv", "0.csv")
    assert lf.client.get(wrong).status_code == 404


def test_an_export_can_be_made_to_fail(client, lf, advance):
    client.post("/_control/linkflow", json={"tag_export_failure_rate": 1, "tag_export_seconds": 0})
    started = lf.ok("POST", "/v1/tags/tagkeys/tag_878/export", json={"identityType": "phone"})
    status = lf.ok("GET", f"/v1/tags/tagkeys/export/{started['taskId']}")
    assert status["status"] == "ERROR" and status["errorMsg"] and status["fileUrl"] == ""


@pytest.mark.parametrize(
    ("key", "body", "code"),
    [
        ("tag_nope", {"identityType": "mobilePhone"}, "B01162"),
        ("tag_878", {}, "B00002"),
        ("tag_878", {"identityType": "qq"}, "B00010"),
        ("tag_878", {"identityType": "externalId"}, "B00002"),
        ("tag_878", {"identityType": "externalId", "channelId": "111"}, "B00159"),
    ],
)
def test_export_refusals(lf, key, body, code):
    assert_error(lf.call("POST", f"/v1/tags/tagkeys/{key}/export", json=body), 500, code)


def test_an_unknown_export_task(lf):
    assert_error(lf.call("GET", "/v1/tags/tagkeys/export/123"), 404, "B00008")


# -- values ---------------------------------------------------------------------------
def test_batch_values_set_and_delete_upload_tags_only(lf, phones):
    identity = {"id": phones[0], "type": "mobilePhone"}
    actions = [
        {"tagId": 8, "value": "高活跃", "action": "set"},  # tag_878, UPLOAD
        {"tagId": 9, "value": "true", "action": "set"},  # tag_gjz, UPLOAD boolean
        {"tagId": 1, "value": "男", "action": "set"},  # tag_yhxb, computed: left alone
    ]
    before = tags_of(lf, phones[0])["tag_yhxb"]
    assert (
        lf.call(
            "POST", "/v1/tags/value", json={"identity": identity, "actions": actions}
        ).status_code
        == 200
    )
    values = tags_of(lf, phones[0])
    assert (values["tag_878"], values["tag_gjz"], values["tag_yhxb"]) == ("高活跃", "true", before)

    delete = {"identity": identity, "actions": [{"tagId": 8, "action": "delete"}]}
    assert lf.call("POST", "/v1/tags/value", json=delete).status_code == 200
    assert "tag_878" not in tags_of(lf, phones[0])


def test_batch_value_refusals(lf, phones):
    identity = {"id": phones[0], "type": "mobilePhone"}
    many = [{"tagId": 8, "value": "x", "action": "set"}] * 101
    assert_error(
        lf.call("POST", "/v1/tags/value", json={"identity": identity, "actions": many}),
        400,
        "B00031",
    )
    nobody = {"identity": {"id": "13000000000", "type": "mobilePhone"}, "actions": many[:1]}
    assert_error(lf.call("POST", "/v1/tags/value", json=nobody), 400, "B01376")
    not_boolean = [{"tagId": 9, "value": "maybe", "action": "set"}]
    body = {"identity": identity, "actions": not_boolean}
    assert_error(lf.call("POST", "/v1/tags/value", json=body), 500, "B00010")
    assert_error(lf.call("POST", "/v1/tags/value", json={"identity": identity}), 500, "B00002")


def test_a_contacts_tag_values(lf, phones):
    values = lf.ok("POST", "/open/contacts/tags", json={"id": phones[0], "type": "phone"})
    assert values[0] == {
        "tagId": 1,
        "tagName": "性别",
        "tagKey": "tag_yhxb",
        "value": values[0]["value"],
    }
    assert {v["tagKey"] for v in values} >= {"tag_hydj", "tag_rfm", "tag_smzq"}
    unknown = {"id": "13000000000", "type": "mobilePhone"}
    assert_error(lf.call("POST", "/open/contacts/tags", json=unknown), 400, "B01376")
    assert_error(lf.call("POST", "/open/contacts/tags", json={}), 500, "B00002")
    anonymous = lf.ok("GET", f"/open/contacts/{FIRST_CONTACT_ID + 49}/identities")[0]
    follower = lf.ok(
        "POST", "/open/contacts/tags", json={"id": anonymous["id"], "type": anonymous["type"]}
    )
    assert "tag_rfm" not in {v["tagKey"] for v in follower}


# -- dimension tables -----------------------------------------------------------------
def test_dimension_rows_are_upserted_by_primary_key(client, lf):
    rows = [
        {"id": "1", "color": "红色"},
        {"id": "2", "color": "红色"},
        {"id": "3", "color": "红色"},
    ]
    assert lf.call("POST", "/open/dim/dim_product/data", json=rows).status_code == 200
    assert (
        lf.call(
            "POST", "/open/dim/dim_product/data", json=[{"id": "2", "color": "蓝色"}]
        ).status_code
        == 200
    )
    tables = client.get("/_control/linkflow/dimensions").json()["dimensions"]
    product = next(t for t in tables if t["alias"] == "dim_product")
    assert [r["color"] for r in product["rows"]] == ["红色", "蓝色", "红色"]


@pytest.mark.parametrize(
    ("alias", "rows", "code"),
    [
        ("dim_nope", [{"id": "1"}], "B00043"),
        ("dim_campaign", [{"id": "1"}], "B01201"),
        ("dim_store", [{"id": "1"}], "B01205"),
        ("dim_product", [{"id": str(n)} for n in range(1001)], "B01206"),
        ("dim_product", {"id": "1"}, "B00010"),
    ],
)
def test_dimension_upload_refusals(lf, alias, rows, code):
    assert_error(lf.call("POST", f"/open/dim/{alias}/data", json=rows), 500, code)
