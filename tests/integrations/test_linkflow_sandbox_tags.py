"""The Linkflow client's tag methods (spec: 标签) and dimension data (spec: 维度表) against
the running sandbox over real HTTP: metadata, folders, uploads that take effect when a
calculation finishes, exports that take sandbox time, single values."""

import io

import httpx
import pytest

from portal.integrations.linkflow.errors import (
    LinkflowTagExportFailed,
    LinkflowTagExportTimeout,
)
from sandbox.linkflow.tags import ACTIVE
from tests.integrations.linkflow_sandboxed import LinkflowSandbox, has

EXPORT_STATUS = "/v1/tags/tagkeys/export/{taskId}"


@pytest.fixture
def lf(control) -> LinkflowSandbox:
    return LinkflowSandbox.reset(control)


def by_id(lf: LinkflowSandbox) -> list:
    return sorted(lf.model.tags.values(), key=lambda t: t.tag_id)


def tag_values_of(lf: LinkflowSandbox, contact) -> list[dict]:
    """`POST /open/contacts/tags` as the sandbox computes it from its model."""
    return [
        {"tagId": t.tag_id, "tagName": t.tag_name, "tagKey": t.tag_key, "value": value}
        for t in by_id(lf)
        if t.status == ACTIVE and (value := t.value_for(contact)) is not None
    ]


def test_tags_answers_a_page_of_tag_metadata(lf):
    assert lf.client.tags(page=1, size=4) == [t.as_json() for t in by_id(lf)[4:8]]


def test_iter_tags_walks_every_tag(lf):
    walked = list(lf.client.iter_tags(size=4))

    assert walked == [t.as_json() for t in by_id(lf)]
    assert len(lf.journal("/v1/tags", "GET")) == 3  # 4 + 4 + 3


def test_tag_folders_answers_the_folders(lf):
    folders = lf.client.tag_folders()

    assert folders == [f.as_json() for f in sorted(lf.model.folders.values(), key=lambda f: f.id)]
    assert {f["parentId"] for f in folders} == {0, 174}


def test_tag_create_then_delete(lf):
    created = lf.client.tag_create(
        tag_key="tag_vip_2025", tag_name="2025贵宾", data_type="text", identity_type="mobilePhone"
    )
    external = lf.client.tag_create(
        tag_key="tag_ext_1",
        tag_name="外部ID标签",
        data_type="number",
        identity_type="externalId",
        channel_id=lf.model.udc.id,
    )

    assert created == {
        "tagId": len(lf.model.tags) + 1,
        "tagKey": "tag_vip_2025",
        "tagName": "2025贵宾",
        "dataType": "text",
        "status": "ACTIVE",
        "dateCreated": created["dateCreated"],
        "lastUpdated": created["dateCreated"],
    }
    held = lf.tag("tag_vip_2025")
    assert (held["tagType"], held["identityType"], held["channelId"]) == (
        "UPLOAD",
        "mobilePhone",
        None,
    )
    assert lf.tag("tag_ext_1")["channelId"] == str(lf.model.udc.id)
    assert external["dataType"] == "number"

    lf.client.tag_delete(tag_key="tag_vip_2025")

    assert lf.tag("tag_vip_2025") is None
    assert "tag_vip_2025" not in [t["tagKey"] for t in lf.client.iter_tags()]


def test_tag_upload_overwrite_replaces_the_files_and_append_adds_one(lf, tmp_path):
    lf.client.tag_create(
        tag_key="tag_grade", tag_name="等级", data_type="text", identity_type="mobilePhone"
    )
    first, second, third = (lf.find_contact(has("mobilePhone"), skip=n) for n in range(3))
    phone = {c.id: c.first("mobilePhone") for c in (first, second, third)}

    uploaded = lf.client.tag_upload(
        tag_key="tag_grade",
        operate="overwrite",
        file=f"id,value\n{phone[first.id]},金\n{phone[second.id]},银\n13000000000,铜\n".encode(),
    )
    path = tmp_path / "grades.csv"
    path.write_text(f"{phone[third.id]},铜\n", encoding="utf-8")
    appended = lf.client.tag_upload(tag_key="tag_grade", operate="append", file=path)

    assert uploaded["tagKey"] == "tag_grade" and uploaded["fileName"] == "tag_grade_file1"
    assert appended["fileName"] == "tag_grade_file2" and appended["ossUrl"] != uploaded["ossUrl"]
    held = lf.tag("tag_grade")
    assert [(f["rows"], f["unmatched"]) for f in held["files"]] == [(2, 1), (1, 0)]
    assert held["values"] == 0  # files take effect when a calculation finishes

    lf.client.tag_calculate(tag_key="tag_grade")
    assert lf.tag("tag_grade")["calculateStatus"] == "CALCULATING"
    lf.advance(30)
    assert lf.tag("tag_grade")["values"] == 3
    values = lf.client.contact_tag_values(id_type="mobilePhone", id_value=phone[second.id])
    assert {"tagKey": "tag_grade", "value": "银"}.items() <= values[-1].items()

    # a file object, overwriting: only its rows remain after the next calculation
    replaced = lf.client.tag_upload(
        tag_key="tag_grade",
        operate="overwrite",
        file=io.BytesIO(f"{phone[third.id]},钻石\n".encode()),
        filename="diamond.csv",
    )
    lf.client.tag_calculate(tag_key="tag_grade")
    lf.advance(30)

    held = lf.tag("tag_grade")
    assert replaced["fileName"] == "tag_grade_file1" and len(held["files"]) == 1
    assert (held["calculateStatus"], held["values"]) == ("FINISH", 1)
    values = lf.client.contact_tag_values(id_type="mobilePhone", id_value=phone[third.id])
    assert values[-1]["value"] == "钻石"
    gone = lf.client.contact_tag_values(id_type="mobilePhone", id_value=phone[first.id])
    assert "tag_grade" not in [v["tagKey"] for v in gone]


def test_tag_export_status_answers_the_task_state(lf):
    started = lf.client.tag_export(tag_key="tag_yhxb", identity_type="mobilePhone")

    assert started == {"tagKey": "tag_yhxb", "taskId": started["taskId"], "status": "INITIAL"}
    assert lf.client.tag_export_status(task_id=started["taskId"]) == {
        "taskId": started["taskId"],
        "status": "INITIAL",
        "errorMsg": "",
        "fileUrl": "",
    }
    lf.advance(4)
    assert lf.client.tag_export_status(task_id=started["taskId"])["status"] == "RUNNING"


def test_tag_export_wait_polls_until_the_file_is_ready(lf):
    task = lf.client.tag_export(tag_key="tag_yhxb", identity_type="mobilePhone")["taskId"]
    seen = []

    def sleep(seconds):  # the sandbox's time passes instead of ours
        seen.append(seconds)
        lf.advance(2)

    finished = lf.client.tag_export_wait(task_id=task, interval=0.01, sleep=sleep)

    # INITIAL at 0 and 2 s, RUNNING at 4, 6 and 8 s, FINISH at 10 s (the export takes 9 s)
    assert finished["status"] == "FINISH" and finished["errorMsg"] == ""
    assert len(lf.journal(EXPORT_STATUS)) == 6 and seen == [0.01] * 5
    rows = httpx.get(finished["fileUrl"]).text.splitlines()
    genders = {"male": "男", "female": "女"}
    expected = [
        f"{c.first('mobilePhone')},{genders[c.gender]}"
        for c in lf.model.contacts_after(0)
        if c.first("mobilePhone") and c.gender in genders
    ]
    assert rows == ["mobilePhone,tag_yhxb", *expected] and len(expected) > 800


def test_tag_export_wait_raises_when_the_export_fails(lf):
    lf.configure(tag_export_failure_rate=1)
    task = lf.client.tag_export(tag_key="tag_rfm", identity_type="wechat.openId")["taskId"]

    with pytest.raises(LinkflowTagExportFailed) as failed:
        lf.client.tag_export_wait(task_id=task, interval=5, sleep=lf.advance)

    assert (failed.value.task_id, failed.value.status) == (task, "ERROR")
    assert failed.value.error_msg == "标签文件生成失败"


def test_tag_export_wait_gives_up_after_its_timeout(lf):
    task = lf.client.tag_export(tag_key="tag_rfm", identity_type="mobilePhone")["taskId"]

    with pytest.raises(LinkflowTagExportTimeout) as waited:
        lf.client.tag_export_wait(task_id=task, interval=1, timeout=3, sleep=lambda s: None)

    assert (waited.value.status, waited.value.waited) == ("INITIAL", 3)
    assert len(lf.journal(EXPORT_STATUS)) == 4  # at 0, 1, 2 and 3 s of our time


def test_tag_values_set_and_delete_a_contacts_values(lf):
    wanted = lf.find_contact(has("mobilePhone", "email"))
    email = wanted.first("email")
    high_value, activity = lf.model.tags["tag_gjz"], lf.model.tags["tag_878"]

    lf.client.tag_values(
        id_type="email",
        id_value=email,
        actions=[
            {"tagId": high_value.tag_id, "action": "set", "value": "true"},
            {"tagId": activity.tag_id, "action": "set", "value": ["高", "活跃"]},
            {"tagId": lf.model.tags["tag_rfm"].tag_id, "action": "set", "value": "x"},
        ],
    )
    after_set = lf.client.contact_tag_values(id_type="email", id_value=email)
    lf.client.tag_values(
        id_type="email", id_value=email, actions=[{"tagId": activity.tag_id, "action": "delete"}]
    )
    after_delete = lf.client.contact_tag_values(id_type="email", id_value=email)

    uploads = {v["tagKey"]: v["value"] for v in after_set if v["tagKey"] in ("tag_gjz", "tag_878")}
    assert uploads == {"tag_gjz": "true", "tag_878": "高,活跃"}
    # only UPLOAD tags change (spec: 其他标签类型不处理): the computed RFM tag keeps its value
    rfm = lf.model.tags["tag_rfm"].value_for(wanted)
    assert {"tagKey": "tag_rfm", "value": rfm}.items() <= next(
        v for v in after_set if v["tagKey"] == "tag_rfm"
    ).items()
    assert [v["tagKey"] for v in after_delete if v["tagKey"] in ("tag_gjz", "tag_878")] == [
        "tag_gjz"
    ]


def test_contact_tag_values_answers_the_computed_tags(lf):
    wanted = lf.find_contact(has("mobilePhone", "idCard"))

    values = lf.client.contact_tag_values(id_type="idCard", id_value=wanted.first("idCard"))

    assert values == tag_values_of(lf, wanted)
    assert {"tag_yhxb", "tag_rfm", "tag_smzq"} <= {v["tagKey"] for v in values}


def test_dimension_data_upserts_rows_by_primary_key(lf):
    lf.client.dimension_data(
        dimension_id="dim_product",
        rows=[{"id": "1", "color": "红色"}, {"id": "2", "color": "蓝色"}],
    )
    lf.client.dimension_data(dimension_id="dim_product", rows=[{"id": "2", "color": "绿色"}])
    lf.client.dimension_data(dimension_id="dim_store", rows=[{"storeId": "S1", "city": "上海"}])

    held = {d["alias"]: d["rows"] for d in lf.get("dimensions")["dimensions"]}
    assert held["dim_product"] == [{"id": "1", "color": "红色"}, {"id": "2", "color": "绿色"}]
    assert held["dim_store"] == [{"storeId": "S1", "city": "上海"}]
    assert held["dim_campaign"] == []
