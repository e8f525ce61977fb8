"""Linkflow CDP state: apps and their workspaces, access tokens, short links, timings.

Every App Key owns a workspace (a Linkflow tenant) with its own contacts, groups, tags,
orders, reports, messages and dimension tables; a token opens only its app's workspace.
The apps of `SANDBOX_LINKFLOW_APPS` (`SandboxSettings.linkflow_apps`, default
`sandbox-linkflow-key:sandbox-linkflow-secret`) exist after every reset; the control API
registers more until the next reset. The first workspace's ids are the ones the tests
know (contacts from 700000000000001, groups from 100); the k-th (from 0) adds
k x 10^10 to contact ids and k x 10000 to group ids, so ids never collide across tenants.

`SandboxState.reset` builds this anew from its seed: the same seed gives the same
contacts, groups, orders, tokens and short codes. Times come from the sandbox clock
(China time, "yyyy-MM-dd HH:mm:ss").
"""

from __future__ import annotations

import base64
import hashlib
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sandbox.clock import format_datetime
from sandbox.linkflow.groups import Group, SeededMembers
from sandbox.linkflow.orders import FIRST_ORDER_ID, OrderBook
from sandbox.linkflow.population import (
    ANONYMOUS_EVERY,
    BUILTIN_TYPES,
    FIRST_CONTACT_ID,
    MAX_CONTACTS,
    MEMBER_NO,
    Contact,
    Identity,
    Population,
    canonical_type,
)
from sandbox.linkflow.reports import DASHBOARDS, REPORTS, WORKSPACE_ID_STEP, ReportBuilder
from sandbox.linkflow.tags import ExportTask, Folder, Tag, seeded_folders, seeded_tags
from sandbox.settings import DEFAULT_LINKFLOW_APPS

DEFAULT_APPS = DEFAULT_LINKFLOW_APPS

TOKEN_LIFETIME = timedelta(hours=2)
CONTACT_COUNT = 1000  # the default population
GROUP_LIMIT = 200
WORKSPACE_CONTACT_STEP = 10_000_000_000
WORKSPACE_GROUP_STEP = 10_000
FIRST_MEMBER_ID = 1_000_000
FIRST_EXPORT_TASK_ID = 19_723_653_547_885

DEFAULT_CONFIG = {
    "token_ttl_seconds": TOKEN_LIFETIME.total_seconds(),
    "report_seconds": 6.0,
    "tag_calculation_seconds": 30.0,
    "tag_calculation_failure_rate": 0.0,
    "tag_export_seconds": 9.0,
    "tag_export_failure_rate": 0.0,
    "upload_limit_bytes": 100.0 * 1024 * 1024,  # spec: 文件大小限制在100M内
    "tag_quota": 50.0,
    "group_quota": float(GROUP_LIMIT),
}
# Per workspace; changing one re-seeds that workspace.
DEFAULT_SIZES = {"contacts": CONTACT_COUNT, "big_group_members": CONTACT_COUNT, "orders": 200}

# The first workspace's WeChat channel (its appId shows in `openIds`).
CHANNEL_ID = "wx5a39a02868a39999"
CHANNEL_NAME = "Linkflow沙箱公众号"
WORKWECHAT_CORP_ID = "ww0b8772cfc1ed757c"
UDC_CHANNEL_KEY = "udc_12SyQfFmg"

# (name, type, members: a number, or "big" for `big_group_members`)
SEEDED_GROUPS = [
    ("618潜在客户", "static", 120),
    ("最近7天活跃客户", "dynamic", 80),
    ("关注用户", "static", 700),
    ("全量会员", "static", "big"),
]
# (alias, primary key column or None)
DIMENSIONS = [("dim_product", "id"), ("dim_store", "storeId"), ("dim_campaign", None)]


@dataclass
class Channel:
    """Spec "根据联系人查询渠道账号" (`channel`): `id` is the numeric id, `channel_id` the
    WeChat appId, WeCom corp id or custom channel key."""

    id: int
    channel_id: str
    channel_type: str
    name: str
    tenant_id: int
    created_at: datetime

    def as_json(self) -> dict:
        return {
            "dateCreated": format_datetime(self.created_at),
            "lastUpdated": format_datetime(self.created_at),
            "ver": 1,
            "id": self.id,
            "channelId": self.channel_id,
            "channelType": self.channel_type,
            "name": self.name,
            "status": "ACTIVE",
            "propertyVersion": "0",
            "tenantId": self.tenant_id,
            "orgId": "1",
        }


@dataclass
class DimensionTable:
    alias: str
    primary_key: str | None
    rows: dict[str, dict] = field(default_factory=dict)  # by primary key value


@dataclass
class ShortLink:
    code: str
    app_key: str
    url: str
    utm: dict[str, str]
    contact_id: int | None
    created_at: datetime
    clicks: list[dict] = field(default_factory=list)

    def target(self) -> str:
        """The original URL with the `utm_*` parameters added (existing ones kept)."""
        parts = urlsplit(self.url)
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
        present = {k for k, _ in query}
        query += [(f"utm_{k}", v) for k, v in self.utm.items() if v and f"utm_{k}" not in present]
        return urlunsplit(parts._replace(query=urlencode(query)))

    def as_json(self, base: str) -> dict:
        return {
            "code": self.code,
            "shorturl": f"{base}/s/{self.code}",
            "app_key": self.app_key,
            "url": self.url,
            "utm": self.utm,
            "contactId": self.contact_id,
            "target": self.target(),
            "created_at": self.created_at.isoformat(),
            "clicks": len(self.clicks),
            "click_log": list(self.clicks),
        }


class Workspace:
    """One App Key's Linkflow tenant."""

    def __init__(
        self, *, index: int, app_key: str, seed: int, born: datetime, sizes: dict[str, int]
    ) -> None:
        self.index, self.app_key, self.born = index, app_key, born
        self.sizes = dict(sizes)
        self.salt = f"{seed}/{app_key}"
        self.tenant_id = index + 1
        self.first_id = FIRST_CONTACT_ID + index * WORKSPACE_CONTACT_STEP
        self.population = Population(
            salt=self.salt, size=sizes["contacts"], first_id=self.first_id, born=born
        )
        self.edited: dict[int, Contact] = {}  # generated contacts changed since
        self.extras: dict[int, Contact] = {}  # created by messages, in id order
        self.bound: dict[tuple[str, str], int] = {}  # identities bound by messages
        self.identity_types = set(BUILTIN_TYPES) | {MEMBER_NO}
        self.next_contact_id = self.first_id + sizes["contacts"]
        self.messages: list[dict] = []
        self.seen_requests: set[str] = set()
        self.seen_messages: set[str] = set()
        self._seed_channels()
        self._seed_groups()
        self.folders: dict[int, Folder] = seeded_folders(born)
        self.tags: dict[str, Tag] = seeded_tags(born)
        self.next_tag_id = len(self.tags) + 1
        self.exports: dict[int, ExportTask] = {}
        self.next_task_id = FIRST_EXPORT_TASK_ID + index * 1_000_000
        self.dimensions = {alias: DimensionTable(alias, key) for alias, key in DIMENSIONS}
        self.orders = OrderBook(self.tenant_id, first_id=FIRST_ORDER_ID + index * 10**9)
        self.orders.seed(
            count=sizes["orders"],
            salt=self.salt,
            pick_contact=self._buyer,
            channel_id=self.udc.id,
            now=born,
        )
        offset = index * WORKSPACE_ID_STEP
        self.reports = {report.id + offset: report for report in REPORTS}
        self.dashboards = {
            dashboard_id + offset: (name, tuple(r + offset for r in ids))
            for dashboard_id, name, ids in DASHBOARDS
        }
        self.report_builder = ReportBuilder(self.salt)
        self.report_asked: dict[int, datetime] = {}

    # -- seed --------------------------------------------------------------------------
    def _seed_channels(self) -> None:
        k, created = self.index, self.born - timedelta(days=400)
        digest = hashlib.sha256(self.salt.encode()).hexdigest()
        wechat_app = CHANNEL_ID if k == 0 else f"wx{digest[:16]}"
        corp = WORKWECHAT_CORP_ID if k == 0 else f"ww{digest[16:32]}"

        def channel(number: int, channel_id: str, channel_type: str, name: str) -> Channel:
            return Channel(
                number + k * 1000, channel_id, channel_type, name, self.tenant_id, created
            )

        self.wechat = channel(140_879_002_099_713, wechat_app, "WECHAT", CHANNEL_NAME)
        self.workwechat = channel(140_926_029_029_409, corp, "WORKWECHAT_PRO", "沙箱企业微信")
        self.udc = channel(63, UDC_CHANNEL_KEY, "UDC", "自定义渠道")
        self.youzan = channel(64, "youzan_sandbox", "YOUZAN", "有赞商城")
        self.channels = [self.wechat, self.workwechat, self.udc, self.youzan]
        self.next_channel_number = 70 + k * 1000
        self.qrcodes = [
            {
                "dateCreated": format_datetime(created + timedelta(days=n * 20)),
                "lastUpdated": format_datetime(created + timedelta(days=n * 20 + 1)),
                "id": n + 2,
                "configId": hashlib.md5(
                    f"{self.salt}/qr/{n}".encode(), usedforsecurity=False
                ).hexdigest(),
                "qrCode": f"https://wework.qpic.cn/wwpic/{8350 + n}_sandbox_{n}/0",
                "tenantId": self.tenant_id,
                "channelId": self.workwechat.id,
                "utm": {"source": source, "campaign": campaign, "term": term},
                "contactWay": {"remark": remark, "type": "SINGLE"},
                "isSetWelcomeMessage": welcome is not None,
                **({"workWechatWelcomeMessageId": welcome} if welcome is not None else {}),
            }
            for n, (source, campaign, term, remark, welcome) in enumerate(
                [
                    ("新建来源", "新建活动", "新建关键字", "添加单人", 17),
                    ("", "", "", "门店导购", None),
                    ("jd", "618", "qr", "618活动", None),
                    ("", "", "", "测试二维码欢迎语", 10),
                ]
            )
        ]

    def channel_for_key(self, key: str, channel_type: str) -> Channel:
        """The channel a message names (`channelKey`); an unknown key is a new custom one."""
        for channel in self.channels:
            if channel.channel_id == key:
                return channel
        channel = Channel(
            self.next_channel_number, key, channel_type, key, self.tenant_id, self.born
        )
        self.next_channel_number += 1
        self.channels.append(channel)
        return channel

    def channel_by_number(self, number: str | int | None) -> Channel | None:
        return next((c for c in self.channels if str(c.id) == str(number)), None)

    def _seed_groups(self) -> None:
        self.groups: dict[int, Group] = {}
        self.next_group_id = 100 + self.index * WORKSPACE_GROUP_STEP
        next_member = FIRST_MEMBER_ID
        created = self.born - timedelta(days=10)
        for salt, (name, group_type, count) in enumerate(SEEDED_GROUPS, start=1):
            count = self.sizes["big_group_members"] if count == "big" else count
            group = self.new_group(name, group_type, created)
            group.seeded = SeededMembers.spread(
                count=count,
                population=self.population.size,
                salt=salt,
                first_contact_id=self.first_id,
                first_member_id=next_member,
                created_at=created,
            )
            next_member += group.seeded.count
        self.next_member_id = next_member

    def _buyer(self, number: int) -> int | None:
        size = self.population.size
        if size == 0:
            return None
        n = number % size
        if n % ANONYMOUS_EVERY == ANONYMOUS_EVERY - 1:
            n -= 1  # anonymous followers do not buy
        return self.first_id + n

    # -- contacts ----------------------------------------------------------------------
    def contact(self, contact_id: int) -> Contact | None:
        found = self.edited.get(contact_id) or self.extras.get(contact_id)
        if found is not None:
            return found
        n = self.population.index_of(contact_id)
        return None if n is None else self.population.contact(n)

    def brief(self, contact_id: int) -> dict | None:
        """`contact(id).brief()`, cheaply for generated contacts (group member lists)."""
        found = self.edited.get(contact_id) or self.extras.get(contact_id)
        if found is not None:
            return found.brief()
        n = self.population.index_of(contact_id)
        return None if n is None else self.population.brief(n)

    def editable(self, contact_id: int) -> Contact | None:
        """The contact, kept from now on so that changes to it last."""
        contact = self.contact(contact_id)
        if contact is not None and contact_id not in self.extras:
            self.edited[contact_id] = contact
        return contact

    def exists(self, contact_id: int) -> bool:
        return contact_id in self.extras or self.population.index_of(contact_id) is not None

    def is_anonymous(self, contact_id: int) -> bool:
        found = self.edited.get(contact_id) or self.extras.get(contact_id)
        if found is not None:
            return found.is_anonymous
        n = contact_id - self.first_id
        return n % ANONYMOUS_EVERY == ANONYMOUS_EVERY - 1

    def contact_count(self) -> int:
        return self.population.size + len(self.extras)

    def contacts_after(self, last_id: int) -> Iterator[Contact]:
        """Contacts with id > `last_id`, in id order, generated as they are read."""
        start = max(0, last_id - self.first_id + 1)
        for n in range(start, self.population.size):
            contact_id = self.first_id + n
            yield self.edited.get(contact_id) or self.population.contact(n)
        for contact_id, contact in self.extras.items():
            if contact_id > last_id:
                yield contact

    def updated_at(self, contact_id: int) -> datetime:
        found = self.edited.get(contact_id) or self.extras.get(contact_id)
        if found is not None:
            return found.updated_at
        return self.population.updated_at(contact_id - self.first_id)

    def contact_ids(self) -> Iterator[int]:
        yield from range(self.first_id, self.first_id + self.population.size)
        yield from self.extras

    def find_by_identity(self, identity_type: str, value: str) -> Contact | None:
        identity_type = canonical_type(identity_type)
        contact_id = self.bound.get((identity_type, value))
        if contact_id is not None:
            contact = self.contact(contact_id)
            if contact is not None and contact.has_identity(identity_type, value):
                return contact
        n = self.population.index_for_identity(identity_type, value)
        if n is not None:
            contact = self.contact(self.first_id + n)
            if contact is not None and contact.has_identity(identity_type, value):
                return contact
        return None

    def new_contact(self, now: datetime) -> Contact:
        contact = Contact(
            id=self.next_contact_id,
            name=None,
            gender="unknown",
            state=None,
            city=None,
            created_at=now,
            updated_at=now,
        )
        self.extras[contact.id] = contact
        self.next_contact_id += 1
        return contact

    def bind(self, contact: Contact, identity_type: str, value: str, now: datetime) -> None:
        """Give an (editable) contact an identity; a custom type becomes known."""
        identity_type = canonical_type(identity_type)
        if not contact.has_identity(identity_type, value):
            contact.identities.append(Identity(identity_type, value, now))
        self.bound[(identity_type, value)] = contact.id
        self.identity_types.add(identity_type)

    def replace_identity(
        self, contact: Contact, identity_type: str, value: str, now: datetime
    ) -> None:
        """A profile field (mobilePhone, email, idCard) set by a contact message."""
        for identity in contact.identities:
            if identity.type == identity_type:
                self.bound.pop((identity_type, identity.value), None)
                identity.value = value
                self.bound[(identity_type, value)] = contact.id
                return
        self.bind(contact, identity_type, value, now)

    def unbind(self, contact: Contact, identity_type: str, value: str) -> None:
        contact.identities = [
            i for i in contact.identities if not (i.type == identity_type and i.value == value)
        ]
        self.bound.pop((identity_type, value), None)

    # -- groups ------------------------------------------------------------------------
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

    def group_by_name(self, name: str) -> Group | None:
        return next((g for g in self.groups.values() if g.name == name), None)

    def add_member(self, group: Group, contact_id: int, now: datetime) -> None:
        if group.add(contact_id, self.next_member_id, now):
            self.next_member_id += 1

    # -- tags --------------------------------------------------------------------------
    def tag_by_id(self, tag_id: object) -> Tag | None:
        return next((t for t in self.tags.values() if str(t.tag_id) == str(tag_id)), None)

    def settle(self, now: datetime) -> None:
        for tag in self.tags.values():
            tag.settle(now)

    # -- reports -----------------------------------------------------------------------
    def report_body(self, report_id: int, now: datetime, wait_seconds: float) -> dict | None:
        """None for an unknown report; status 0 until `wait_seconds` after the first ask."""
        report = self.reports.get(report_id)
        if report is None:
            return None
        asked = self.report_asked.setdefault(report_id, now)
        if now < asked + timedelta(seconds=wait_seconds):
            return {"status": 0, "reportName": report.name}
        return self.report_builder.body(report, today=now.date(), contacts=self.contact_count())

    # -- control -----------------------------------------------------------------------
    def summary(self) -> dict:
        return {
            "app_key": self.app_key,
            "tenant_id": self.tenant_id,
            "first_contact_id": self.first_id,
            "contacts": self.contact_count(),
            "sizes": dict(self.sizes),
            "groups": len(self.groups),
            "tags": len(self.tags),
            "orders": len(self.orders.orders),
            "messages": len(self.messages),
            "export_tasks": len(self.exports),
        }


class LinkflowState:
    def __init__(self, *, seed: int, born: datetime, apps: dict[str, str]):
        self.seed, self.born = seed, born
        self.config = dict(DEFAULT_CONFIG)
        self.apps = dict(apps)
        self.rng_tokens = random.Random(f"{seed}/linkflow/tokens")  # noqa: S311 - determinism
        self.rng_codes = random.Random(f"{seed}/linkflow/codes")  # noqa: S311 - determinism
        self.rng_outcomes = random.Random(f"{seed}/linkflow/outcomes")  # noqa: S311
        self.tokens: dict[str, tuple[str, datetime]] = {}  # token -> (app key, expiry)
        self.short_links: dict[str, ShortLink] = {}
        self.workspaces: dict[str, Workspace] = {}
        for key in self.apps:
            self._build(key, dict(DEFAULT_SIZES))

    def _build(self, app_key: str, sizes: dict[str, int]) -> Workspace:
        old = self.workspaces.get(app_key)
        index = old.index if old is not None else len(self.workspaces)
        workspace = Workspace(
            index=index, app_key=app_key, seed=self.seed, born=self.born, sizes=sizes
        )
        self.workspaces[app_key] = workspace
        return workspace

    # -- apps and sizes ----------------------------------------------------------------
    def register_app(self, key: str, secret: str, sizes: dict[str, int]) -> Workspace:
        if key in self.apps:
            raise ValueError(f"app {key!r} already exists")
        self.check_sizes(sizes)
        self.apps[key] = secret
        return self._build(key, DEFAULT_SIZES | sizes)

    @staticmethod
    def check_sizes(sizes: dict) -> None:
        for name, value in sizes.items():
            if name not in DEFAULT_SIZES:
                raise ValueError(f"unknown size {name!r}")
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be an integer >= 0")
        if sizes.get("contacts", 0) > MAX_CONTACTS:
            raise ValueError(f"contacts must be at most {MAX_CONTACTS}")

    def resize(self, app_key: str, sizes: dict[str, int]) -> Workspace:
        """Re-seed one workspace with other sizes (its tokens stay valid)."""
        self.check_sizes(sizes)
        return self._build(app_key, self.workspaces[app_key].sizes | sizes)

    def set_config(self, values: dict) -> dict:
        for name, value in values.items():
            if name not in DEFAULT_CONFIG:
                raise ValueError(f"unknown config key {name!r}")
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"{name} must be a number >= 0")
            if name.endswith("_rate") and value > 1:
                raise ValueError(f"{name} must be between 0 and 1")
        self.config.update({name: float(value) for name, value in values.items()})
        return dict(self.config)

    # -- tokens ------------------------------------------------------------------------
    def issue_token(self, app_key: str, now: datetime) -> tuple[str, datetime]:
        serial = uuid.UUID(int=self.rng_tokens.getrandbits(128), version=4)
        token = base64.b64encode(f"{len(self.tokens) + 1}-{serial}".encode()).decode()
        expires = (now + timedelta(seconds=self.config["token_ttl_seconds"])).replace(microsecond=0)
        self.tokens[token] = (app_key, expires)
        return token, expires

    def workspace_for_token(self, token: str | None, now: datetime) -> Workspace | None:
        app_key, expires = self.tokens.get(token or "", (None, None))
        if app_key is None or now >= expires:
            return None
        return self.workspaces.get(app_key)

    # -- short links -------------------------------------------------------------------
    def new_short_link(
        self,
        *,
        app_key: str,
        url: str,
        utm: dict[str, str],
        contact_id: int | None,
        now: datetime,
    ) -> ShortLink:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        length = 8 if contact_id is not None else 6  # as the spec's two examples
        while True:
            code = "".join(self.rng_codes.choices(alphabet, k=length))
            if code not in self.short_links:
                break
        link = ShortLink(code, app_key, url, utm, contact_id, now)
        self.short_links[code] = link
        return link

    def summary(self) -> dict:
        return {
            "config": dict(self.config),
            "apps": [workspace.summary() for workspace in self.workspaces.values()],
            "tokens": len(self.tokens),
            "short_links": len(self.short_links),
        }
