"""All of the sandbox's state: one object per process, in memory, reset on demand.

`SandboxState` holds the clock, the seeded random streams, the tunable config, the fault
list, the request journal, JD Cloud's data (brands, crowds, instances, reaches,
activities, WeChat activities, notices, OAuth grants) and Linkflow's (`linkflow`, see
`sandbox.linkflow.state`). Handlers take `state.lock` around every read-modify-write;
nothing inside the lock awaits, so the event loop never blocks.

Determinism: ids come from `rng_ids` (seeded), outcomes from `rng_outcomes`, fault
decisions from `rng_faults`, each its own stream so that injecting a fault never shifts
the ids a test expects. Sizes are pure functions of conditions (see `population`).
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from sandbox.catalog import SMS_TEMPLATES, news_items
from sandbox.clock import Clock, format_datetime
from sandbox.linkflow import PREFIX as LINKFLOW_PREFIX
from sandbox.linkflow.state import LinkflowState
from sandbox.population import Extent
from sandbox.settings import SandboxSettings

DEFAULT_CONFIG = {
    "instance_generation_seconds": 20.0,
    "instance_failure_rate": 0.0,
    "clock_speed": 1.0,
    "wechat_step_seconds": 30.0,
    "wechat_failure_rate": 0.05,
}
JOURNAL_LIMIT = 10_000
NONCE_WINDOW_SECONDS = 15 * 60

DEMO_BRAND_ID = "63d1f0a3-0b2b-4da3-a35f-007ae0672a10"
OTHER_BRAND_ID = "ac33ff50-a8fe-46db-86be-b62bdb8de7bb"

# Instance status (spec "获取人群对象实例详情"): 0 generating, 1 failed, 2 generated.
GENERATING, FAILED, GENERATED = "0", "1", "2"


@dataclass
class LedgerEntry:
    """A recharge (`order_id`) or a consumption (`consume_id`, `direction`)."""

    entry_id: str
    number: int
    type: int  # 1 public, 2 private
    created_at: datetime
    direction: int = 1  # consumption only: 1 consume, 2 refund

    def as_recharge(self) -> dict:
        return {
            "order_id": self.entry_id,
            "number": self.number,
            "type": self.type,
            "status": 1,
            "create_time": format_datetime(self.created_at),
        }

    def as_consume(self) -> dict:
        return {
            "consume_id": self.entry_id,
            "number": self.number,
            "type": self.type,
            "direction": self.direction,
            "create_time": format_datetime(self.created_at),
        }


@dataclass
class Brand:
    master_id: str
    name: str
    shop_id: str
    pins: list[str]
    public_balance: int = 0
    private_balance: int = 0
    desc: str = ""
    shop_type: str = "1"
    user_type: str = "1"
    expire_time: int = 0  # epoch seconds
    status: int = 1
    signatures: list[dict] = field(default_factory=list)
    recharges: list[LedgerEntry] = field(default_factory=list)
    consumptions: list[LedgerEntry] = field(default_factory=list)
    wechat: dict = field(default_factory=dict)
    news: list[dict] = field(default_factory=list)


@dataclass
class Crowd:
    search_id: str
    master_id: str
    crowd_type: int
    condition: str
    crowd_name: str | None
    crowd_desc: str | None
    package_type: int
    created_at: datetime
    data_type: str = "1"

    def as_json(self) -> dict:
        return {
            "search_id": self.search_id,
            "data_type": self.data_type,
            "crowd_type": self.crowd_type,
            "condition": self.condition,
            "crowd_name": self.crowd_name,
            "crowd_desc": self.crowd_desc,
            "master_id": self.master_id,
            "package_type": self.package_type,
        }


@dataclass
class Reach:
    type: str
    params: dict
    text: str
    segments: int
    cost: int
    created_at: datetime
    sent_at: datetime


@dataclass
class Instance:
    package_id: str
    search_id: str
    master_id: str
    crowd_type: int
    package_type: int
    name: str | None
    created_at: datetime
    ready_at: datetime
    fails: bool
    size: int
    extent: Extent
    parents: list[str] = field(default_factory=list)
    reach: Reach | None = None
    report_from: datetime | None = None  # registered for reports (spec "创建人群营销报表")

    def status(self, now: datetime) -> str:
        if now < self.ready_at:
            return GENERATING
        return FAILED if self.fails else GENERATED

    def visible_size(self, now: datetime) -> int:
        return self.size if self.status(now) == GENERATED else 0


@dataclass
class Activity:
    """`/activity/create`: awaits JD's review, answered by `/JDCloud/activity/update`."""

    master_id: str
    activity_id: str
    activity_name: str
    activity_desc: str | None
    preview_url: str | None
    start_type: str
    start_type_remark: str | None
    activity_reach_type: str
    submitted_at: datetime
    review: str = "pending"  # pending / approved / rejected
    audit_remark: str = ""
    auditor: str = ""


@dataclass
class WechatActivity:
    activity_id: int
    master_id: str
    fields: dict  # what the ISV sent, normalised (spec "创建微信活动")
    created_at: datetime
    launch_at: datetime
    step_seconds: float
    fails: bool
    pre_num: int
    act_ratio: float
    rejected_at: datetime | None = None
    remark: str = ""


@dataclass
class Fault:
    fault_id: int
    path: str
    kind: str
    rate: float = 1.0
    times: int | None = None
    latency_ms: int | None = None
    status: int = 500
    code: str = "500"
    msg: str = "系统繁忙"

    def matches(self, path: str) -> bool:
        """Exact; "*" (every JD Cloud path, not Linkflow's); a prefix ending on a path
        segment ("/crowd/instance/status", "/linkflow"); or a template whose `{name}`
        segments match any one segment ("/linkflow/open/report/{reportId}")."""
        if self.path == "*":
            return not path.startswith(LINKFLOW_PREFIX + "/")
        if self.path == path or path.startswith(self.path.rstrip("/") + "/"):
            return True
        if "{" not in self.path:
            return False
        pattern, actual = self.path.strip("/").split("/"), path.strip("/").split("/")
        return len(pattern) == len(actual) and all(
            want == got or (want.startswith("{") and want.endswith("}"))
            for want, got in zip(pattern, actual, strict=True)
        )

    def as_json(self) -> dict:
        return asdict(self)


class SandboxState:
    def __init__(self, settings: SandboxSettings):
        self.settings = settings
        self.lock = asyncio.Lock()
        self.reset()

    # -- reset and seed --------------------------------------------------------------
    def reset(self, seed: int = 0, clock: str = "real", start: datetime | None = None) -> None:
        self.seed = seed
        self.clock = Clock(clock, start)
        self.rng_ids = random.Random(f"{seed}/ids")  # noqa: S311 - determinism
        self.rng_outcomes = random.Random(f"{seed}/outcomes")  # noqa: S311 - determinism
        self.rng_faults = random.Random(f"{seed}/faults")  # noqa: S311 - determinism
        self.config = dict(DEFAULT_CONFIG)
        self.faults: list[Fault] = []
        self.next_fault_id = 1
        self.journal: list[dict] = []
        self.nonces: dict[str, float] = {}
        self.system_up = True
        self.brands: dict[str, Brand] = {}
        self.crowds: dict[str, Crowd] = {}
        self.instances: dict[str, Instance] = {}
        self.activities: dict[tuple[str, str], Activity] = {}
        self.wechat_activities: dict[int, WechatActivity] = {}
        self.next_wechat_id = 2800
        self.short_urls: dict[str, str] = {}
        self.report_pulls: list[dict] = []
        self.notices: list[dict] = []
        self.oauth_codes: dict[str, dict] = {}
        self.oauth_tokens: dict[str, dict] = {}
        self.oauth_refresh_tokens: dict[str, dict] = {}
        self._seed_data()
        self.linkflow = LinkflowState(
            seed=seed, born=self.now(), apps=dict(self.settings.linkflow_apps)
        )

    def _seed_data(self) -> None:
        now = self.now()
        expire = int((now + timedelta(days=365)).timestamp())
        demo = self.upsert_brand(
            master_id=DEMO_BRAND_ID,
            name="测试品牌商",
            shop_id="10000087",
            pins=["demo_brand_pin", "jiangkun"],
            public_balance=65282,
            private_balance=97097,
        )
        demo.expire_time = expire
        demo.signatures = [  # the spec's example signatures
            {"signature_id": "1c5466bb7e685bb2edb5d5854d6e5953", "signature_name": "【测试签名】"},
            {"signature_id": "13e", "signature_name": "【戴森测试】"},
        ]
        demo.wechat = {
            "appId": "wx488592b4b17a80a9",
            "appName": "测试品牌商服务号",
            "pinFollowerNum": 1288,
            "notPinFollowerNum": 163,
            "allFollowerNum": 1451,
        }
        demo.news = news_items(DEMO_BRAND_ID, 23, now - timedelta(hours=2))
        demo.recharges = [  # the spec's examples, plus one recent
            LedgerEntry("1c5466bb7e685bb2edb5d5854d6e5953", 1000, 2, now - timedelta(days=60)),
            LedgerEntry("12312312", 2, 1, now - timedelta(days=54)),
            LedgerEntry(self.new_hex_id(), 50000, 1, now - timedelta(days=7)),
        ]
        demo.consumptions = [
            LedgerEntry("1c5466bb7e685bb2edb5d5854d6e5953", 50, 1, now - timedelta(days=59)),
            LedgerEntry("5a1777175642ae3bc73e9a1cec14d784", 8, 2, now - timedelta(days=46)),
        ]
        other = self.upsert_brand(
            master_id=OTHER_BRAND_ID,
            name="别家品牌",
            shop_id="10000032",
            pins=["other_brand_pin"],
            public_balance=1000,
            private_balance=500,
        )
        other.expire_time = expire
        other.wechat = {  # the spec's example account
            "appId": "wx5a3e0c2d9b7f1e64",
            "appName": "耘野农夫",
            "pinFollowerNum": 0,
            "notPinFollowerNum": 163,
            "allFollowerNum": 163,
        }
        other.news = news_items(OTHER_BRAND_ID, 3, now - timedelta(days=1))
        self.notices = [
            self.make_notice(
                title="系统升级公告",
                content="系统升级,请稍后登录",
                notice_type="SYS_UPGRADE",
                start_time=now - timedelta(days=10, hours=2),
                end_time=now - timedelta(days=10),
                expire_time=now - timedelta(days=9),
            ),
            self.make_notice(
                title="系统升级公告",
                content="自动化营销平台将于升级期间暂停服务,请提前安排营销活动",
                notice_type="SYS_UPGRADE",
                start_time=(now + timedelta(days=3)).replace(hour=0, minute=0, second=0),
                end_time=(now + timedelta(days=3)).replace(hour=2, minute=0, second=0),
                expire_time=None,
            ),
        ]

    # -- time, ids, config -----------------------------------------------------------
    def now(self) -> datetime:
        return self.clock.now()

    def new_hex_id(self) -> str:
        """32 hex characters: search_id, consume_id, order_id (spec examples)."""
        return f"{self.rng_ids.getrandbits(128):032x}"

    def new_uuid(self) -> str:
        """A uuid4 from the seeded stream: package_id, notice_code."""
        return str(uuid.UUID(int=self.rng_ids.getrandbits(128), version=4))

    def set_config(self, values: dict) -> dict:
        for name, value in values.items():
            if name not in DEFAULT_CONFIG:
                raise ValueError(f"unknown config key {name!r}")
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"{name} must be a number >= 0")
            if name.endswith("_rate") and value > 1:
                raise ValueError(f"{name} must be between 0 and 1")
        for name, value in values.items():
            self.config[name] = float(value)
            if name == "clock_speed":
                self.clock.set_speed(float(value))
        return dict(self.config)

    # -- brands ----------------------------------------------------------------------
    def upsert_brand(
        self,
        *,
        master_id: str,
        name: str,
        shop_id: str,
        pins: list[str],
        public_balance: int | None = None,
        private_balance: int | None = None,
    ) -> Brand:
        brand = self.brands.get(master_id)
        if brand is None:
            digest = hashlib.md5(master_id.encode(), usedforsecurity=False).hexdigest()  # an id
            brand = Brand(
                master_id=master_id,
                name=name,
                shop_id=shop_id,
                pins=list(pins),
                desc=name,
                expire_time=int((self.now() + timedelta(days=365)).timestamp()),
                signatures=[{"signature_id": digest, "signature_name": f"【{name}】"}],
                wechat={
                    "appId": f"wx{digest[:16]}",
                    "appName": f"{name}服务号",
                    "pinFollowerNum": 500,
                    "notPinFollowerNum": 120,
                    "allFollowerNum": 620,
                },
            )
            brand.news = news_items(master_id, 5, self.now() - timedelta(days=1))
            self.brands[master_id] = brand
        brand.name, brand.shop_id, brand.pins = name, shop_id, list(pins)
        if public_balance is not None:
            brand.public_balance = int(public_balance)
        if private_balance is not None:
            brand.private_balance = int(private_balance)
        return brand

    def brand_for_pin(self, pin: str) -> Brand | None:
        return next((brand for brand in self.brands.values() if pin in brand.pins), None)

    def pin_directory(self) -> list[tuple[str, Brand]]:
        return [(pin, brand) for brand in self.brands.values() for pin in brand.pins]

    # -- crowds and instances --------------------------------------------------------
    def new_crowd(
        self,
        *,
        master_id: str,
        crowd_type: int,
        condition: str,
        crowd_name: str | None,
        crowd_desc: str | None,
        package_type: int,
        data_type: str = "1",
    ) -> Crowd:
        crowd = Crowd(
            search_id=self.new_hex_id(),
            master_id=master_id,
            crowd_type=crowd_type,
            condition=condition,
            crowd_name=crowd_name,
            crowd_desc=crowd_desc,
            package_type=package_type,
            created_at=self.now(),
            data_type=data_type,
        )
        self.crowds[crowd.search_id] = crowd
        return crowd

    def new_instance(
        self,
        crowd: Crowd,
        *,
        size: int,
        extent: Extent | None = None,
        immediate: bool = False,
        parents: list[str] | None = None,
        name: str | None = None,
    ) -> Instance:
        """`immediate`: derived packages (save-as, split, filter) are generated at once;
        otherwise the instance generates for `instance_generation_seconds` and fails at
        `instance_failure_rate` (decided now, by the seeded stream)."""
        now = self.now()
        package_id = self.new_uuid()
        if immediate:
            ready_at, fails = now, False
        else:
            ready_at = now + timedelta(seconds=self.config["instance_generation_seconds"])
            fails = self.rng_outcomes.random() < self.config["instance_failure_rate"]
        instance = Instance(
            package_id=package_id,
            search_id=crowd.search_id,
            master_id=crowd.master_id,
            crowd_type=crowd.crowd_type,
            package_type=crowd.package_type,
            name=name or crowd.crowd_name,
            created_at=now,
            ready_at=ready_at,
            fails=fails,
            size=0 if fails else size,
            extent=extent or Extent(root=package_id, root_size=size),
            parents=list(parents or []),
        )
        self.instances[package_id] = instance
        return instance

    # -- SMS catalog -----------------------------------------------------------------
    @staticmethod
    def sms_template(domain: int, template_id: str) -> dict | None:
        return next((t for t in SMS_TEMPLATES[domain] if t["template_id"] == template_id), None)

    # -- notices ---------------------------------------------------------------------
    def make_notice(
        self,
        *,
        title: str,
        content: str,
        notice_type: str,
        start_time: datetime | None,
        end_time: datetime | None,
        expire_time: datetime | None,
    ) -> dict:
        return {
            "notice_code": self.new_uuid(),
            "title": title,
            "content": content,
            "notice_type": notice_type,
            "start_time": start_time,
            "end_time": end_time,
            "expire_time": expire_time,
        }

    # -- journal and nonces ----------------------------------------------------------
    def record(
        self,
        *,
        method: str,
        path: str,
        status: int,
        code: str | None,
        endpoint: str | None = None,
        app: str | None = None,
    ) -> None:
        """JD Cloud paths are recorded without `/jdcloud`; Linkflow's keep `/linkflow` and
        add the route template (`endpoint`) and the App Key (`app`)."""
        entry = {
            "method": method,
            "path": path,
            "status": status,
            "code": code,
            "time": self.now().isoformat(),
        }
        if endpoint is not None:
            entry |= {"endpoint": endpoint, "app": app}
        self.journal.append(entry)
        del self.journal[:-JOURNAL_LIMIT]

    def use_nonce(self, nonce: str, at: float) -> bool:
        """False when the nonce was seen in the last 15 minutes (replay)."""
        for old, seen in list(self.nonces.items()):
            if at - seen > NONCE_WINDOW_SECONDS:
                del self.nonces[old]
        if nonce in self.nonces:
            return False
        self.nonces[nonce] = at
        return True

    # -- faults ----------------------------------------------------------------------
    def add_fault(self, **spec) -> Fault:
        fault = Fault(fault_id=self.next_fault_id, **spec)
        self.next_fault_id += 1
        self.faults.append(fault)
        return fault

    def triggered_faults(self, path: str) -> list[Fault]:
        """The faults this request suffers; `times` counts matching requests."""
        out = []
        for fault in list(self.faults):
            if not fault.matches(path):
                continue
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
            if self.rng_faults.random() < fault.rate:
                out.append(fault)
        return out

    # -- summary ---------------------------------------------------------------------
    def summary(self) -> dict:
        now = self.now()
        statuses = {GENERATING: 0, FAILED: 0, GENERATED: 0}
        for instance in self.instances.values():
            statuses[instance.status(now)] += 1
        return {
            "seed": self.seed,
            "clock": self.clock.describe(),
            "config": dict(self.config),
            "system": "up" if self.system_up else "down",
            "brands": len(self.brands),
            "crowds": len(self.crowds),
            "instances": len(self.instances),
            "instances_by_status": {
                "generating": statuses[GENERATING],
                "failed": statuses[FAILED],
                "generated": statuses[GENERATED],
            },
            "reaches": sum(1 for i in self.instances.values() if i.reach),
            "activities": len(self.activities),
            "activities_pending_review": sum(
                1 for a in self.activities.values() if a.review == "pending"
            ),
            "wechat_activities": len(self.wechat_activities),
            "notices": len(self.notices),
            "faults": len(self.faults),
            "journal": len(self.journal),
            "oauth_tokens": len(self.oauth_tokens),
            "linkflow": self.linkflow.summary(),
        }
