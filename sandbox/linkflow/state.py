"""Linkflow CDP state: apps, access tokens, a seeded contact population, groups, messages.

Kept apart from `SandboxState`; `for_request` re-seeds it from `SandboxState.seed`
whenever the sandbox has been reset (`/_control/reset` replaces `rng_ids`), so the same
seed always gives the same contacts and groups. Times come from the sandbox clock
(China time, "yyyy-MM-dd HH:mm:ss").
"""

from __future__ import annotations

import base64
import os
import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sandbox.clock import format_datetime

DEFAULT_APPS = "sandbox-linkflow-key:sandbox-linkflow-secret"
TOKEN_LIFETIME = timedelta(hours=2)
CONTACT_COUNT = 1000
FIRST_CONTACT_ID = 700_000_000_000_001
GROUP_LIMIT = 200

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛"]
CITIES = [("上海", "上海"), ("江苏", "南京"), ("浙江", "杭州"), ("广东", "深圳"), ("北京", "北京")]
TAGS = ["VIP", "新客", "复购", "高价值", "沉睡", "母婴", "美妆", "数码"]
CHANNEL_ID = "wx5a39a02868a39999"
CHANNEL_NAME = "Linkflow沙箱公众号"


def parse_apps(text: str | None) -> dict[str, str]:
    apps: dict[str, str] = {}
    for pair in (text or DEFAULT_APPS).split(","):
        key, sep, secret = pair.strip().partition(":")
        if key and sep and secret:
            apps[key] = secret
    return apps


@dataclass
class Contact:
    id: int
    name: str
    gender: str
    mobile_phone: str | None
    email: str | None
    state: str
    city: str
    open_id: str | None
    union_id: str | None
    tags: list[str]
    props: dict
    created_at: datetime
    updated_at: datetime
    is_anonymous: bool = False
    id_card: str | None = None

    def as_json(self) -> dict:
        return {
            "anonymousId": None,
            "name": self.name,
            "nickname": None,
            "gender": self.gender,
            "dateOfBirthday": None,
            "avatar": None,
            "mobilePhone": self.mobile_phone,
            "homePhone": None,
            "email": self.email,
            "country": "中国",
            "state": self.state,
            "street": None,
            "city": self.city,
            "postalCode": None,
            "comments": None,
            "userName": None,
            "title": None,
            "website": None,
            "company": None,
            "industry": None,
            "department": None,
            "idCard": self.id_card,
            "utm": {
                "source": None,
                "campaign": None,
                "medium": None,
                "content": None,
                "term": None,
            },
            "props": dict(self.props),
            "isAnonymous": self.is_anonymous,
            "id": self.id,
            "dateCreated": format_datetime(self.created_at),
            "lastUpdated": format_datetime(self.updated_at),
        }

    def as_bulk_json(self, need_open_id: bool) -> dict:
        body = {"ver": None, "profilePhoto": None, **self.as_json()}
        if need_open_id:
            body["openIds"] = (
                [{"channelId": CHANNEL_ID, "channelName": CHANNEL_NAME, "openId": self.open_id}]
                if self.open_id
                else []
            )
        return body

    def brief(self) -> dict:
        return {
            "mobilePhone": self.mobile_phone,
            "name": self.name,
            "id": self.id,
            "email": self.email,
        }

    def identities(self) -> list[dict]:
        created = format_datetime(self.created_at)
        pairs = [
            ("mobile", self.mobile_phone),
            ("email", self.email),
            ("idCard", self.id_card),
            ("wechat.openId", self.open_id),
            ("wechat.unionId", self.union_id),
        ]
        return [{"id": v, "type": t, "dateCreated": created} for t, v in pairs if v]


@dataclass
class Member:
    member_id: int
    contact_id: int
    created_at: datetime


@dataclass
class Group:
    id: int
    name: str
    group_type: str
    created_at: datetime
    updated_at: datetime
    ext1: str | None = None
    ext2: str | None = None
    members: dict[int, Member] = field(default_factory=dict)  # by contact id

    def as_json(self) -> dict:
        return {
            "lastUpdated": format_datetime(self.updated_at),
            "groupType": self.group_type,
            "dateCreated": format_datetime(self.created_at),
            "name": self.name,
            "id": self.id,
        }


class LinkflowState:
    def __init__(self, apps: dict[str, str] | None = None) -> None:
        self.apps = (
            apps if apps is not None else parse_apps(os.environ.get("SANDBOX_LINKFLOW_APPS"))
        )
        self.generation: object = None
        self.reset(0, datetime.now().astimezone())

    def reset(self, seed: int, now: datetime) -> None:
        self.seed = seed
        self.rng = random.Random(f"{seed}/linkflow")  # noqa: S311 - determinism
        self.tokens: dict[str, datetime] = {}
        self.contacts: dict[int, Contact] = {}
        self.groups: dict[int, Group] = {}
        self.messages: list[dict] = []
        self.next_contact_id = FIRST_CONTACT_ID
        self.next_group_id = 100
        self.next_member_id = 1_000_000
        self._seed_contacts(now)
        self._seed_groups(now)

    # -- seed ------------------------------------------------------------------------
    def _seed_contacts(self, now: datetime) -> None:
        rng = self.rng
        for n in range(CONTACT_COUNT):
            created = now - timedelta(days=rng.randint(30, 720), seconds=rng.randint(0, 86399))
            updated = created + timedelta(days=rng.randint(0, 29), seconds=rng.randint(0, 86399))
            state, city = rng.choice(CITIES)
            has_wechat = rng.random() < 0.7
            contact = Contact(
                id=self.next_contact_id,
                name=rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randint(1, 2))),
                gender=rng.choice(["male", "female", "unknown"]),
                mobile_phone=f"13{rng.randint(0, 9)}{rng.randint(0, 99_999_999):08d}",
                email=f"user{n:04d}@example.com" if rng.random() < 0.6 else None,
                state=state,
                city=city,
                open_id="o" + self._token_chars(27) if has_wechat else None,
                union_id="u" + self._token_chars(27) if has_wechat else None,
                tags=sorted(rng.sample(TAGS, rng.randint(0, 3))),
                props={"level": rng.randint(1, 5), "points": rng.randint(0, 20000)},
                created_at=created,
                updated_at=min(updated, now),
            )
            self.contacts[contact.id] = contact
            self.next_contact_id += 1

    def _seed_groups(self, now: datetime) -> None:
        ids = list(self.contacts)
        for name, group_type, count in [
            ("618潜在客户", "static", 120),
            ("最近7天活跃客户", "dynamic", 80),
            ("关注用户", "static", 700),
        ]:
            group = self.new_group(name, group_type, now - timedelta(days=10))
            for contact_id in sorted(self.rng.sample(ids, count)):
                self.add_member(group, contact_id, group.created_at)

    def _token_chars(self, k: int) -> str:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
        return "".join(self.rng.choices(alphabet, k=k))

    # -- tokens ----------------------------------------------------------------------
    def issue_token(self, now: datetime) -> tuple[str, datetime]:
        raw = f"{len(self.tokens) + 1}-{uuid.UUID(int=self.rng.getrandbits(128), version=4)}"
        token = base64.b64encode(raw.encode()).decode()
        expires = now + TOKEN_LIFETIME
        self.tokens[token] = expires
        return token, expires

    def token_valid(self, token: str | None, now: datetime) -> bool:
        expires = self.tokens.get(token or "")
        return expires is not None and now < expires

    # -- groups ----------------------------------------------------------------------
    def new_group(
        self,
        name: str,
        group_type: str,
        now: datetime,
        ext1: str | None = None,
        ext2: str | None = None,
    ) -> Group:
        group = Group(self.next_group_id, name, group_type, now, now, ext1, ext2)
        self.groups[group.id] = group
        self.next_group_id += 1
        return group

    def add_member(self, group: Group, contact_id: int, now: datetime) -> None:
        if contact_id not in group.members:
            group.members[contact_id] = Member(self.next_member_id, contact_id, now)
            self.next_member_id += 1

    def group_by_name(self, name: str) -> Group | None:
        return next((g for g in self.groups.values() if g.name == name), None)

    # -- contacts --------------------------------------------------------------------
    def find_by_identity(self, id_type: str, value: str) -> Contact | None:
        for contact in self.contacts.values():
            for identity in contact.identities():
                if identity["type"] == id_type and identity["id"] == value:
                    return contact
        return None

    def new_contact(self, now: datetime) -> Contact:
        contact = Contact(
            id=self.next_contact_id,
            name="",
            gender="unknown",
            mobile_phone=None,
            email=None,
            state="",
            city="",
            open_id=None,
            union_id=None,
            tags=[],
            props={},
            created_at=now,
            updated_at=now,
        )
        self.contacts[contact.id] = contact
        self.next_contact_id += 1
        return contact
