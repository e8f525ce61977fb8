"""Tag metadata, folders, tag values, calculation and export tasks (spec "标签").

Seeded tags of the computed kinds (RULE_LAYER, RFM, EVENT_INDICATOR, ...) derive their
value from the contact (`derive`), so they cost nothing for 100,000 contacts. UPLOAD tags
hold explicit values: set one contact at a time (`POST /v1/tags/value`, at once) or from
uploaded files, which take effect when a calculation finishes: the tag's values are then
rebuilt from its files (overwrite keeps only the last file, append keeps them all, later
rows win), replacing values set one at a time.

A calculation runs `tag_calculation_seconds` of sandbox time (CALCULATING, then FINISH,
or CALC_ERROR at `tag_calculation_failure_rate`). An export task is INITIAL for the first
third of `tag_export_seconds`, RUNNING until it ends, then FINISH with a `fileUrl` (or
ERROR at `tag_export_failure_rate`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sandbox.clock import format_datetime
from sandbox.linkflow.population import Contact

DATA_TYPES = ("text", "number", "array", "datetime", "boolean")
ACTIVE, INACTIVE = "ACTIVE", "INACTIVE"
# Spec "发起计算用户标签值任务": only these may be (re)calculated; INITIAL = never calculated.
CALCULABLE = ("INITIAL", "FINISH", "ERROR", "CALC_ERROR")


@dataclass
class Folder:
    id: int
    name: str
    parent_id: int
    created_at: datetime

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "domain": "TAG",
            "parentId": self.parent_id,
            "dateCreated": format_datetime(self.created_at),
            "lastUpdated": format_datetime(self.created_at),
        }


@dataclass
class UploadedFile:
    file_name: str
    oss_url: str
    rows: list[tuple[int, str]]  # (contact id, value), identities resolved at upload
    unmatched: int
    size: int
    uploaded_at: datetime

    def as_json(self) -> dict:
        return {
            "fileName": self.file_name,
            "ossUrl": self.oss_url,
            "rows": len(self.rows),
            "unmatched": self.unmatched,
            "size": self.size,
            "uploadedAt": format_datetime(self.uploaded_at),
        }


@dataclass
class Tag:
    tag_id: int
    tag_key: str
    tag_name: str
    data_type: str
    tag_type: str
    created_at: datetime
    updated_at: datetime
    folder_id: int | None = None
    status: str = ACTIVE
    identity_type: str | None = None
    channel_id: str | None = None
    derive: str | None = None  # a key of DERIVATIONS for computed tags
    values: dict[int, str] = field(default_factory=dict)  # UPLOAD tags, by contact id
    files: list[UploadedFile] = field(default_factory=list)
    calc_status: str = "INITIAL"
    calc_ready_at: datetime | None = None
    calc_fails: bool = False
    last_calculated_at: datetime | None = None

    def settle(self, now: datetime) -> None:
        """Finish a calculation whose time has come."""
        if self.calc_status != "CALCULATING" or now < self.calc_ready_at:
            return
        self.last_calculated_at = self.calc_ready_at
        if self.calc_fails:
            self.calc_status = "CALC_ERROR"
            return
        self.calc_status = "FINISH"
        if self.tag_type == "UPLOAD":
            self.values = {cid: value for f in self.files for cid, value in f.rows}

    def value_for(self, contact: Contact) -> str | None:
        if self.derive is not None:
            return DERIVATIONS[self.derive](contact)
        return self.values.get(contact.id)

    def as_json(self) -> dict:
        """Spec "获取用户标签元数据列表"."""
        return {
            "tagId": self.tag_id,
            "tagKey": self.tag_key,
            "tagName": self.tag_name,
            "dataType": self.data_type,
            "tagType": self.tag_type,
            "status": self.status,
            "folderId": self.folder_id,
            "dateCreated": format_datetime(self.created_at),
            "lastUpdated": format_datetime(self.updated_at),
            "lastCalculateTime": (
                format_datetime(self.last_calculated_at) if self.last_calculated_at else None
            ),
        }

    def as_created_json(self) -> dict:
        """Spec "创建用户标签元数据": the answer has no tagType nor folder."""
        listed = self.as_json()
        keys = ("tagId", "tagKey", "tagName", "dataType", "status", "dateCreated", "lastUpdated")
        return {key: listed[key] for key in keys}

    def control_json(self) -> dict:
        return self.as_json() | {
            "identityType": self.identity_type,
            "channelId": self.channel_id,
            "calculateStatus": self.calc_status,
            "values": None if self.derive else len(self.values),
            "files": [f.as_json() for f in self.files],
        }


@dataclass
class ExportTask:
    task_id: int
    tag_key: str
    identity_type: str
    channel_id: str | None
    created_at: datetime
    ready_at: datetime
    fails: bool
    secret: str  # in the file's address, so that it cannot be guessed

    def status(self, now: datetime) -> str:
        if now >= self.ready_at:
            return "ERROR" if self.fails else "FINISH"
        third = (self.ready_at - self.created_at) / 3
        return "INITIAL" if now < self.created_at + third else "RUNNING"

    def file_path(self) -> str:
        return f"/files/tag-export/{self.task_id}/{self.secret}.csv"


# -- computed tags ----------------------------------------------------------------------
def _pick(contact: Contact, salt: str, modulus: int) -> int:
    digest = hashlib.blake2b(f"{contact.id}/{salt}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % modulus


def _gender(contact: Contact) -> str | None:
    return {"male": "男", "female": "女"}.get(contact.gender)


LEVELS = ["普通会员", "银卡会员", "金卡会员", "铂金会员", "钻石会员"]
RFM = [
    "重要价值客户",
    "重要发展客户",
    "重要保持客户",
    "重要挽留客户",
    "一般价值客户",
    "一般发展客户",
    "一般保持客户",
    "一般挽留客户",
]
INTERESTS = ["美妆", "母婴", "数码", "家电", "食品", "运动", "图书"]
LIFECYCLE = ["新客", "成长期", "成熟期", "沉睡期", "流失期"]


def _level(contact: Contact) -> str | None:
    level = contact.props.get("level")
    return LEVELS[(level - 1) % 5] if isinstance(level, int) and level > 0 else None


def _rfm(contact: Contact) -> str | None:
    return None if contact.is_anonymous else RFM[_pick(contact, "rfm", len(RFM))]


def _spend(contact: Contact) -> str | None:
    if contact.is_anonymous or _pick(contact, "buyer", 10) < 4:
        return None
    return f"{_pick(contact, 'spend', 2_000_000) / 100:.2f}"


def _first_purchase(contact: Contact) -> str | None:
    if contact.is_anonymous or _pick(contact, "buyer", 10) < 4:
        return None
    return format_datetime(contact.created_at + timedelta(days=_pick(contact, "first", 30)))


def _interests(contact: Contact) -> str | None:
    count = _pick(contact, "interest-count", 4)
    if count == 0:
        return None
    first = _pick(contact, "interest", len(INTERESTS))
    return ",".join(INTERESTS[(first + 2 * k) % len(INTERESTS)] for k in range(count))


def _lifecycle(contact: Contact) -> str | None:
    return LIFECYCLE[_pick(contact, "life", len(LIFECYCLE))]


DERIVATIONS: dict[str, Callable[[Contact], str | None]] = {
    "gender": _gender,
    "level": _level,
    "rfm": _rfm,
    "spend": _spend,
    "first_purchase": _first_purchase,
    "interests": _interests,
    "lifecycle": _lifecycle,
}

# (id, name, parent id)
FOLDERS = [
    (174, "基础属性", 0),
    (175, "人口属性", 174),
    (176, "消费偏好", 0),
    (177, "导入标签", 0),
    (178, "会员运营", 0),
]
# (key, name, data type, tag type, folder, derivation or upload identity type, status)
SEEDED_TAGS = [
    ("tag_yhxb", "性别", "text", "RULE_LAYER", 175, "gender", ACTIVE),
    ("tag_hydj", "会员等级", "text", "RULE_LAYER", 178, "level", ACTIVE),
    ("tag_rfm", "RFM分层", "text", "RFM", 176, "rfm", ACTIVE),
    ("tag_xfje", "近一年消费金额", "number", "EVENT_INDICATOR", 176, "spend", ACTIVE),
    ("tag_scgm", "首次购买时间", "datetime", "FIRST_LAST_TIME", 176, "first_purchase", ACTIVE),
    ("tag_xqph", "兴趣偏好", "array", "ORDER_PROPERTY_PREFERENCES", 176, "interests", ACTIVE),
    ("tag_smzq", "生命周期", "text", "LIFE_CYCLE", 178, "lifecycle", ACTIVE),
    ("tag_878", "用户活跃度", "text", "UPLOAD", 177, "mobilePhone", ACTIVE),
    ("tag_gjz", "高价值客户", "boolean", "UPLOAD", 177, "mobilePhone", ACTIVE),
    ("tag_gzhfs", "公众号粉丝", "boolean", "UPLOAD", 177, "wechat.openId", ACTIVE),
    ("tag_s11_2023", "2023双11人群", "text", "UPLOAD", 177, "mobilePhone", INACTIVE),
]


def seeded_folders(now: datetime) -> dict[int, Folder]:
    created = now - timedelta(days=120)
    return {fid: Folder(fid, name, parent, created) for fid, name, parent in FOLDERS}


def seeded_tags(now: datetime) -> dict[str, Tag]:
    tags = {}
    for tag_id, (key, name, data_type, tag_type, folder, source, status) in enumerate(
        SEEDED_TAGS, start=1
    ):
        upload = tag_type == "UPLOAD"
        created = now - timedelta(days=90 - tag_id)
        tags[key] = Tag(
            tag_id=tag_id,
            tag_key=key,
            tag_name=name,
            data_type=data_type,
            tag_type=tag_type,
            created_at=created,
            updated_at=created,
            folder_id=folder,
            status=status,
            identity_type=source if upload else None,
            derive=None if upload else source,
            calc_status="FINISH",
            last_calculated_at=now - timedelta(hours=tag_id),
        )
    return tags


def valid_value(data_type: str, value: str) -> bool:
    """Spec "创建用户标签元数据": text, number, array, datetime, boolean."""
    if data_type == "number":
        try:
            float(value)
        except ValueError:
            return False
    elif data_type == "boolean":
        return value.lower() in ("true", "false", "1", "0")
    elif data_type == "datetime":
        for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
            try:
                datetime.strptime(value, pattern)
                return True
            except ValueError:
                continue
        return False
    return True
