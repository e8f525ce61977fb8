"""Tags, tag folders, tag values and dimension tables (spec "标签", "维度表").

Upload files are UTF-8 text, one row per line: `identity[,value]` (the identity of the
tag's `identityType`; without a value a boolean tag gets "true", any other "1"); a first
row `id,value` (or naming the identity type) is a header. Rows whose identity is unknown
or whose value does not fit the tag's data type are counted as unmatched and skipped.

Export files (`fileUrl` of a finished export task) are served by the sandbox at
`/linkflow/files/tag-export/{taskId}/{secret}.csv` without a token, like a signed OSS
address: a header row `{identityType},{tagKey}`, then one row per contact that has both
the identity and a value of the tag, at download time.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from starlette.responses import PlainTextResponse, Response

from sandbox.linkflow.endpoint import (
    Call,
    LinkflowError,
    Upload,
    done,
    invalid,
    not_found,
    ok,
    required,
)
from sandbox.linkflow.population import canonical_type
from sandbox.linkflow.state import Workspace
from sandbox.linkflow.tags import (
    ACTIVE,
    CALCULABLE,
    DATA_TYPES,
    ExportTask,
    Tag,
    UploadedFile,
    valid_value,
)

TAG_KEY = re.compile(r"^tag_[a-z0-9_]+$")
MAX_TAG_PAGE = 200
MAX_VALUE_ACTIONS = 100
MAX_DIMENSION_ROWS = 1000
OPERATES = ("overwrite", "append")


def _tag(call: Call, *, code: str = "B01162") -> Tag:
    tag = call.workspace.tags.get(call.path("tagKey"))
    if tag is None:
        raise LinkflowError(500, code, f"标签不存在: {call.path('tagKey')}")
    return tag


def _identity_type(ws: Workspace, body: dict) -> tuple[str, str | None]:
    """`identityType` (+ `channelId` for externalId), as tag creation and export take them."""
    if not body.get("identityType"):
        raise required("identityType")
    identity_type = canonical_type(str(body["identityType"]))
    if identity_type not in ws.identity_types:
        raise invalid(f"参数不合法: identityType {identity_type}")
    channel_id = body.get("channelId")
    if identity_type == "externalId":
        if channel_id in (None, ""):
            raise required("channelId")
        if ws.channel_by_number(channel_id) is None:
            raise LinkflowError(500, "B00159", f"channelId不存在: {channel_id}")
    return identity_type, None if channel_id in (None, "") else str(channel_id)


# -- metadata -------------------------------------------------------------------------
def create_tag(call: Call) -> Response:
    ws, body = call.workspace, call.json_object()
    for name in ("tagKey", "tagName", "dataType", "tagType", "identityType"):
        if body.get(name) in (None, ""):
            raise required(name)
    key = str(body["tagKey"])
    if not TAG_KEY.match(key):
        raise LinkflowError(500, "B01157", "key不符合tag_开头,只包含:小写字母、数字、下划线")
    if body["dataType"] not in DATA_TYPES:
        raise invalid("参数不合法: dataType")
    if body["tagType"] != "UPLOAD":
        raise invalid("参数不合法: tagType 只支持UPLOAD")
    identity_type, channel_id = _identity_type(ws, body)
    if key in ws.tags:
        raise LinkflowError(500, "B01151", "标签已经存在")
    if len(ws.tags) >= call.config["tag_quota"]:
        raise LinkflowError(500, "B00037", "标签超过配额数")
    tag = Tag(
        tag_id=ws.next_tag_id,
        tag_key=key,
        tag_name=str(body["tagName"]),
        data_type=body["dataType"],
        tag_type="UPLOAD",
        created_at=call.now,
        updated_at=call.now,
        identity_type=identity_type,
        channel_id=channel_id,
    )
    ws.next_tag_id += 1
    ws.tags[key] = tag
    return ok(tag.as_created_json())


def delete_tag(call: Call) -> Response:
    # Spec "删除用户标签元数据" spells this one code with an underscore.
    tag = _tag(call, code="B_01162")
    del call.workspace.tags[tag.tag_key]
    return done()


def list_tags(call: Call) -> Response:
    page = call.int_query("page")
    size = call.int_query("size", low=1)
    if size > MAX_TAG_PAGE:
        raise invalid(f"参数不合法: size 最大{MAX_TAG_PAGE}")
    tags = sorted(call.workspace.tags.values(), key=lambda t: t.tag_id)
    return ok([t.as_json() for t in tags[page * size : (page + 1) * size]])


def folders(call: Call) -> Response:
    return ok([f.as_json() for f in sorted(call.workspace.folders.values(), key=lambda f: f.id)])


# -- values ---------------------------------------------------------------------------
def upload_file(call: Call) -> Response:
    ws, tag = call.workspace, _tag(call)
    operate = call.path("operate")
    if operate not in OPERATES:
        raise invalid("参数不合法: operate 只支持overwrite或append")
    upload = call.body.get("file") if isinstance(call.body, dict) else None
    if not isinstance(upload, Upload):
        raise invalid("参数不合法: file")
    if len(upload.content) > call.config["upload_limit_bytes"]:
        raise LinkflowError(500, "B01163", "文件大小超过100M")
    if tag.tag_type != "UPLOAD":
        raise invalid("参数不合法: 只有导入标签可以上传文件")
    try:
        text = upload.content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise invalid("参数不合法: 文件必须是UTF-8文本") from exc
    rows, unmatched = _rows(ws, tag, text)
    number = len(tag.files) + 1 if operate == "append" else 1
    digest = hashlib.sha256(f"{ws.salt}/{tag.tag_key}/{call.now}/{number}".encode()).hexdigest()
    uploaded = UploadedFile(
        file_name=f"{tag.tag_key}_file{number}",
        oss_url=(
            f"{call.base_url}/oss/{ws.tenant_id}/tag/upload/tmp/"
            f"{call.now:%Y%m%d}/{digest[:32]}/{digest[32:]}"
        ),
        rows=rows,
        unmatched=unmatched,
        size=len(upload.content),
        uploaded_at=call.now,
    )
    tag.files = [*tag.files, uploaded] if operate == "append" else [uploaded]
    tag.updated_at = call.now
    return ok({"tagKey": tag.tag_key, "fileName": uploaded.file_name, "ossUrl": uploaded.oss_url})


def _rows(ws: Workspace, tag: Tag, text: str) -> tuple[list[tuple[int, str]], int]:
    default = "true" if tag.data_type == "boolean" else "1"
    headers = {"id", "identity", "身份", (tag.identity_type or "").lower()}
    rows, unmatched = [], 0
    for number, line in enumerate(text.splitlines()):
        if not line.strip():
            continue
        identity, _, value = (part.strip() for part in line.partition(","))
        if number == 0 and identity.lower() in headers:
            continue
        value = value or default
        contact = ws.find_by_identity(tag.identity_type or "", identity)
        if contact is None or not valid_value(tag.data_type, value):
            unmatched += 1
            continue
        rows.append((contact.id, value))
    return rows, unmatched


def calculate(call: Call) -> Response:
    tag = _tag(call)
    if tag.status != ACTIVE:
        raise LinkflowError(500, "B01165", "标签不是启用状态不可以进行重新计算")
    if tag.calc_status not in CALCULABLE:
        raise LinkflowError(
            500, "B01152", "任务计算状态不对,只有FINISH, ERROR, CALC_ERROR允许重新计算"
        )
    rng = call.linkflow.rng_outcomes
    tag.calc_status = "CALCULATING"
    tag.calc_fails = rng.random() < call.config["tag_calculation_failure_rate"]
    tag.calc_ready_at = call.now + timedelta(seconds=call.config["tag_calculation_seconds"])
    tag.settle(call.now)
    return done()


def export(call: Call) -> Response:
    ws, tag = call.workspace, _tag(call)
    body = call.body if isinstance(call.body, dict) else {}
    identity_type, channel_id = _identity_type(ws, body)
    linkflow = call.linkflow
    task = ExportTask(
        task_id=ws.next_task_id,
        tag_key=tag.tag_key,
        identity_type=identity_type,
        channel_id=channel_id,
        created_at=call.now,
        ready_at=call.now + timedelta(seconds=call.config["tag_export_seconds"]),
        fails=linkflow.rng_outcomes.random() < call.config["tag_export_failure_rate"],
        secret=f"{linkflow.rng_codes.getrandbits(64):016x}",
    )
    ws.next_task_id += 1
    ws.exports[task.task_id] = task
    return ok({"tagKey": tag.tag_key, "taskId": task.task_id, "status": "INITIAL"})


def export_status(call: Call) -> Response:
    task = call.workspace.exports.get(call.path_int("taskId"))
    if task is None:
        raise not_found("task", call.path("taskId"))
    status = task.status(call.now)
    return ok(
        {
            "taskId": task.task_id,
            "status": status,
            "errorMsg": "标签文件生成失败" if status == "ERROR" else "",
            "fileUrl": call.base_url + task.file_path() if status == "FINISH" else "",
        }
    )


def export_file(call: Call) -> Response:
    """The file of a finished export task (no token: the address is the secret)."""
    task_id, secret = call.path_int("taskId"), call.path("secret")
    for ws in call.linkflow.workspaces.values():
        task = ws.exports.get(task_id)
        if task is not None and task.secret == secret and task.status(call.now) == "FINISH":
            tag = ws.tags.get(task.tag_key)
            lines = [f"{task.identity_type},{task.tag_key}"]
            if tag is not None:
                contacts = (
                    ws.contacts_after(0)
                    if tag.derive
                    else filter(None, map(ws.contact, list(tag.values)))
                )
                for contact in contacts:
                    value = tag.value_for(contact)
                    identity = contact.first(task.identity_type)
                    if value is not None and identity is not None:
                        lines.append(f"{identity},{value}")
            return PlainTextResponse("\n".join(lines) + "\n", media_type="text/csv")
    return PlainTextResponse("Not Found", status_code=404)


def set_values(call: Call) -> Response:
    """`POST /v1/tags/value`: set or delete one contact's values of UPLOAD tags; other
    tags, and unknown or disabled ones, are left alone ("其他标签类型不处理")."""
    ws, body = call.workspace, call.json_object()
    if body.get("identity") is None:
        raise required("identity")
    actions = body.get("actions")
    if not isinstance(actions, list) or not actions:
        raise required("actions")
    if len(actions) > MAX_VALUE_ACTIONS:
        raise LinkflowError(400, "B00031", f"列表超过最大数量{MAX_VALUE_ACTIONS}")
    identity = body["identity"]
    if not isinstance(identity, dict) or not identity.get("id") or not identity.get("type"):
        raise required("identity")
    contact = ws.find_by_identity(str(identity["type"]), str(identity["id"]))
    if contact is None:
        raise LinkflowError(400, "B01376", "身份不存在")
    plan = []
    for action in actions:
        if not isinstance(action, dict) or action.get("tagId") in (None, ""):
            raise required("actions.tagId")
        if action.get("action") not in ("set", "delete"):
            raise invalid("参数不合法: action 只支持set或delete")
        tag = ws.tag_by_id(action["tagId"])
        if tag is None or tag.tag_type != "UPLOAD" or tag.status != ACTIVE:
            continue
        value = action.get("value")
        if action["action"] == "set":
            if value in (None, ""):
                raise required("actions.value")
            if not valid_value(tag.data_type, str(value)):
                raise invalid(f"参数不合法: {tag.tag_key} 的值 {value}")
        plan.append((tag, action["action"], str(value)))
    for tag, action, value in plan:
        if action == "set":
            tag.values[contact.id] = value
        else:
            tag.values.pop(contact.id, None)
    return done()


def contact_tags(call: Call) -> Response:
    """`POST /open/contacts/tags`: the values of every active tag the contact has."""
    ws, body = call.workspace, call.json_object()
    if not body.get("id") or not body.get("type"):
        raise required("id/type")
    contact = ws.find_by_identity(str(body["type"]), str(body["id"]))
    if contact is None:
        raise LinkflowError(400, "B01376", "身份不存在")
    out = []
    for tag in sorted(ws.tags.values(), key=lambda t: t.tag_id):
        value = tag.value_for(contact) if tag.status == ACTIVE else None
        if value is not None:
            out.append(
                {
                    "tagId": tag.tag_id,
                    "tagName": tag.tag_name,
                    "tagKey": tag.tag_key,
                    "value": value,
                }
            )
    return ok(out)


# -- dimension tables -----------------------------------------------------------------
def dimension_data(call: Call) -> Response:
    """`POST /open/dim/{dimensionId}/data`: rows upserted by the table's primary key."""
    table = call.workspace.dimensions.get(call.path("dimensionId"))
    if table is None:
        raise LinkflowError(500, "B00043", "维度表不存在")
    rows = call.body
    if not isinstance(rows, list):
        raise invalid("参数不合法: 请求体必须是数组")
    if not rows:
        raise required("data")
    if len(rows) > MAX_DIMENSION_ROWS:
        raise LinkflowError(500, "B01206", f"上传数量超过限制{MAX_DIMENSION_ROWS}")
    if table.primary_key is None:
        raise LinkflowError(500, "B01201", "维度表无主键")
    key = table.primary_key
    if not all(isinstance(row, dict) and row.get(key) not in (None, "") for row in rows):
        raise LinkflowError(500, "B01205", f"数据结点不包含主键列: {key}")
    for row in rows:
        table.rows[str(row[key])] = dict(row)
    return done()
