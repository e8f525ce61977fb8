"""A workspace's contacts, generated on demand from (seed, App Key, index): nothing is
built up front, so 100,000 contacts cost nothing until asked for, and a client walking
them all pays only for the pages it reads.

Contact `n` (0-based) has id `first_id + n`. Its fields come from a 32-byte keyed hash of
`n`; its identities (spec "身份识别") embed `serial(n)`, an invertible permutation of
`n`, so an identity can be traced back to its contact without any index:

    mobilePhone               1 + two digits + serial (8 digits)       13912345678
    email                     name + serial + @domain                  lin.01234567@example.com
    idCard                    region + birth date + sequence + check   (birth date and sequence
                                                                        encode their own serial)
    wechat.openId             o + workspace prefix + filler + serial   28 characters
    wechat.unionId            oIx9 + filler + serial                   28 characters
    workwechat.externalUserId wm + filler + serial                     32 characters
    memberNo (custom type)    VIP + serial                             VIP01234567

About 70 % have a WeChat openId, 60 % an email, 30 % an ID card, 20 % a WeCom external
user id, half a member number; every 50th contact is anonymous (a WeChat follower with
only an openId). Edits (messages, unbinding) are kept by the workspace as full contacts
that shadow the generated ones.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sandbox.clock import format_datetime

FIRST_CONTACT_ID = 700_000_000_000_001
MAX_CONTACTS = 10_000_000

SERIAL_MODULUS = 100_000_000  # 8 digits
SERIAL_FACTOR = 61_803_399  # coprime with 10^8
ID_CARD_MODULUS = 20_000 * 1000  # 20,000 birth days x 1000 sequence numbers
ID_CARD_FACTOR = 69_621  # coprime with 2 x 10^7
ID_CARD_EPOCH = date(1960, 1, 1)
ANONYMOUS_EVERY = 50
CODE_MODULUS = 62**5
CODE_SHIFT = 271_828_182
CODE_KINDS = {"wechat.openId": 1, "wechat.unionId": 2, "workwechat.externalUserId": 3}
MEMBER_SHIFT = 57_721_566

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
BASE62 = ALPHABET[:62]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊洋艳勇军杰娟涛明超秀霞平刚桂英华玉兰"
CITIES = [
    ("上海", "上海", "200000", "310101"),
    ("江苏", "南京", "210000", "320102"),
    ("浙江", "杭州", "310000", "330102"),
    ("广东", "深圳", "518000", "440303"),
    ("北京", "北京", "100000", "110101"),
    ("四川", "成都", "610000", "510104"),
    ("湖北", "武汉", "430000", "420102"),
    ("江苏", "苏州", "215000", "320505"),
]
PHONE_PREFIXES = ["30", "33", "35", "36", "37", "38", "39", "50", "58", "77", "86", "89"]
EMAIL_NAMES = ["lin", "wang", "zhang", "chen", "liu", "amy", "leo", "mia", "tony", "yue"]
EMAIL_DOMAINS = ["example.com", "example.cn", "mail.example.com", "example.net"]
UTM_SOURCES = [None, "jd", "wechat", "douyin", "offline"]

# Spec "解绑用户身份": the built-in identity types; anything else is a custom type.
BUILTIN_TYPES = (
    "mobilePhone",
    "email",
    "idCard",
    "wechat.openId",
    "wechat.unionId",
    "wxa.openId",
    "workwechat.externalUserId",
    "externalId",
)
# The spec's own examples also write "phone", "mobile" and "idcard".
TYPE_ALIASES = {name.lower(): name for name in BUILTIN_TYPES} | {
    "phone": "mobilePhone",
    "mobile": "mobilePhone",
}
MEMBER_NO = "memberNo"


def canonical_type(name: str) -> str:
    return TYPE_ALIASES.get(name.strip().lower(), name.strip())


@dataclass(slots=True)
class Identity:
    type: str
    value: str
    created_at: datetime

    def as_json(self) -> dict:
        return {
            "id": self.value,
            "type": self.type,
            "dateCreated": format_datetime(self.created_at),
        }


@dataclass(slots=True)
class Contact:
    id: int
    name: str | None
    gender: str
    state: str | None
    city: str | None
    created_at: datetime
    updated_at: datetime
    identities: list[Identity] = field(default_factory=list)
    props: dict = field(default_factory=dict)
    utm: dict = field(default_factory=dict)
    nickname: str | None = None
    birthday: date | None = None
    postal_code: str | None = None
    is_anonymous: bool = False

    def first(self, identity_type: str) -> str | None:
        return next((i.value for i in self.identities if i.type == identity_type), None)

    def has_identity(self, identity_type: str, value: str) -> bool:
        return any(i.type == identity_type and i.value == value for i in self.identities)

    def as_json(self) -> dict:
        """Spec "获取联系人列表": every profile field, null when unknown."""
        first: dict[str, str] = {}
        for identity in self.identities:
            first.setdefault(identity.type, identity.value)
        utm = self.utm
        return {
            "anonymousId": first.get("wechat.openId") if self.is_anonymous else None,
            "name": self.name,
            "nickname": self.nickname,
            "gender": self.gender,
            "dateOfBirthday": f"{self.birthday.isoformat()} 00:00:00" if self.birthday else None,
            "avatar": None,
            "mobilePhone": first.get("mobilePhone"),
            "homePhone": None,
            "email": first.get("email"),
            "country": "中国" if self.state else None,
            "state": self.state,
            "street": None,
            "city": self.city,
            "postalCode": self.postal_code,
            "comments": None,
            "userName": None,
            "title": None,
            "website": None,
            "company": None,
            "industry": None,
            "department": None,
            "idCard": first.get("idCard"),
            "utm": {
                "source": utm.get("source"),
                "campaign": utm.get("campaign"),
                "medium": utm.get("medium"),
                "content": utm.get("content"),
                "term": utm.get("term"),
            },
            "props": dict(self.props),
            "isAnonymous": self.is_anonymous,
            "id": self.id,
            "dateCreated": format_datetime(self.created_at),
            "lastUpdated": format_datetime(self.updated_at),
        }

    def as_bulk_json(self, open_id_channel: tuple[str, str] | None) -> dict:
        """Spec "批量获取联系人详情"; `open_id_channel` (appId, name) adds `openIds`."""
        body = {"ver": None, "profilePhoto": None, **self.as_json()}
        if open_id_channel is not None:
            app_id, app_name = open_id_channel
            body["openIds"] = [
                {"channelId": app_id, "channelName": app_name, "openId": i.value}
                for i in self.identities
                if i.type == "wechat.openId"
            ]
        return body

    def brief(self) -> dict:
        return {
            "mobilePhone": self.first("mobilePhone"),
            "name": self.name,
            "id": self.id,
            "email": self.first("email"),
        }


def _base62(number: int, width: int) -> str:
    chars = []
    for _ in range(width):
        number, rest = divmod(number, 62)
        chars.append(BASE62[rest])
    return "".join(reversed(chars))


def _from_base62(text: str) -> int | None:
    number = 0
    for char in text:
        position = BASE62.find(char)
        if position < 0:
            return None
        number = number * 62 + position
    return number


def _fill_table(twist: int) -> bytes:
    return bytes(ord(ALPHABET[(b * (2 * twist + 1) + twist) % 64]) for b in range(256))


FILL_TABLES = {twist: _fill_table(twist) for twist in (1, 11, 23)}


def _filler(digest: bytes, twist: int, width: int) -> str:
    """`width` characters from the digest; another `twist` gives an unrelated string."""
    text = digest.translate(FILL_TABLES[twist])
    start = twist % len(digest)
    return (text[start:] + text)[:width].decode("ascii")


def _code(serial: int, kind: int) -> str:
    """Five base-62 characters for a serial; each kind of identity shifts it differently,
    so that one contact's openId and unionId do not end alike."""
    return _base62((serial + kind * CODE_SHIFT) % CODE_MODULUS, 5)


def _serial_of_code(code: str, kind: int) -> int | None:
    number = _from_base62(code)
    return None if number is None else (number - kind * CODE_SHIFT) % CODE_MODULUS


def id_card_check_digit(first17: str) -> str:
    """GB 11643-1999 (ISO 7064 MOD 11-2)."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(d) * w for d, w in zip(first17, weights, strict=True))
    return "10X98765432"[total % 11]


class Population:
    """`size` contacts with ids `first_id ...`, created before `born` (the reset time)."""

    def __init__(self, *, salt: str, size: int, first_id: int, born: datetime) -> None:
        if not 0 <= size <= MAX_CONTACTS:
            raise ValueError(f"contacts must be between 0 and {MAX_CONTACTS}")
        self.key = hashlib.blake2b(salt.encode(), digest_size=32).digest()
        self.size, self.first_id, self.born = size, first_id, born
        mix = hashlib.sha256(self.key).digest()
        self.serial_offset = int.from_bytes(mix[:8], "big") % SERIAL_MODULUS
        self.id_card_offset = int.from_bytes(mix[8:16], "big") % ID_CARD_MODULUS
        self.open_id_prefix = _filler(mix, 1, 5)
        self._serial_inverse = pow(SERIAL_FACTOR, -1, SERIAL_MODULUS)
        self._id_card_inverse = pow(ID_CARD_FACTOR, -1, ID_CARD_MODULUS)

    # -- indexes -----------------------------------------------------------------------
    def index_of(self, contact_id: int) -> int | None:
        n = contact_id - self.first_id
        return n if 0 <= n < self.size else None

    def digest(self, n: int) -> bytes:
        return hashlib.blake2b(n.to_bytes(8, "big"), digest_size=32, key=self.key).digest()

    def serial(self, n: int) -> int:
        return (n * SERIAL_FACTOR + self.serial_offset) % SERIAL_MODULUS

    def _index_of_serial(self, serial: int) -> int | None:
        n = ((serial - self.serial_offset) * self._serial_inverse) % SERIAL_MODULUS
        return n if n < self.size else None

    # -- dates -------------------------------------------------------------------------
    def created_at(self, n: int, d: bytes | None = None) -> datetime:
        d = d or self.digest(n)
        days = 30 + int.from_bytes(d[6:9], "big") % 690
        return self.born - timedelta(days=days, seconds=int.from_bytes(d[9:12], "big") % 86400)

    def updated_at(self, n: int, d: bytes | None = None, created: datetime | None = None):
        d = d or self.digest(n)
        created = created or self.created_at(n, d)
        later = timedelta(days=d[12] % 30, seconds=int.from_bytes(d[13:16], "big") % 86400)
        return min(created + later, self.born)

    # -- contacts ----------------------------------------------------------------------
    @staticmethod
    def _name(d: bytes) -> str:
        given = GIVEN[d[2] % len(GIVEN)] + (GIVEN[d[3] % len(GIVEN)] if d[4] % 2 else "")
        return SURNAMES[d[1] % len(SURNAMES)] + given

    @staticmethod
    def _phone(d: bytes, serial: int) -> str:
        return f"1{PHONE_PREFIXES[d[27] % len(PHONE_PREFIXES)]}{serial:08d}"

    @staticmethod
    def _email(d: bytes, serial: int) -> str | None:
        if d[16] % 10 >= 6:
            return None
        return (
            f"{EMAIL_NAMES[d[17] % len(EMAIL_NAMES)]}.{serial:08d}@{EMAIL_DOMAINS[d[17] // 16 % 4]}"
        )

    def brief(self, n: int) -> dict:
        """`Contact.brief()` of contact `n`, without generating the rest of it."""
        if n % ANONYMOUS_EVERY == ANONYMOUS_EVERY - 1:
            return {"mobilePhone": None, "name": None, "id": self.first_id + n, "email": None}
        d, serial = self.digest(n), self.serial(n)
        return {
            "mobilePhone": self._phone(d, serial),
            "name": self._name(d),
            "id": self.first_id + n,
            "email": self._email(d, serial),
        }

    def contact(self, n: int) -> Contact:
        d = self.digest(n)
        created = self.created_at(n, d)
        serial = self.serial(n)
        anonymous = n % ANONYMOUS_EVERY == ANONYMOUS_EVERY - 1
        state, city, postal, region = CITIES[d[5] % len(CITIES)]
        identities = []

        def add(identity_type: str, value: str) -> None:
            identities.append(Identity(identity_type, value, created))

        birthday = None
        if not anonymous:
            add("mobilePhone", self._phone(d, serial))
            email = self._email(d, serial)
            if email is not None:
                add("email", email)
            if d[18] % 10 < 3:
                card = (n * ID_CARD_FACTOR + self.id_card_offset) % ID_CARD_MODULUS
                birthday = ID_CARD_EPOCH + timedelta(days=card // 1000)
                first17 = f"{region}{birthday.isoformat().replace('-', '')}{card % 1000:03d}"
                add("idCard", first17 + id_card_check_digit(first17))
            elif d[28] % 2:
                birthday = ID_CARD_EPOCH + timedelta(days=int.from_bytes(d[29:31], "big") % 18000)
        if anonymous or d[20] % 10 < 7:
            add("wechat.openId", f"o{self.open_id_prefix}{_filler(d, 1, 17)}{_code(serial, 1)}")
            if not anonymous and d[21] % 10 < 8:
                add("wechat.unionId", f"oIx9{_filler(d, 11, 19)}{_code(serial, 2)}")
        if not anonymous and d[22] % 10 < 2:
            add("workwechat.externalUserId", f"wm{_filler(d, 23, 25)}{_code(serial, 3)}")
        if not anonymous and d[23] % 2:
            add(MEMBER_NO, f"VIP{(serial + MEMBER_SHIFT) % SERIAL_MODULUS:08d}")

        if anonymous:
            name, gender = None, "unknown"
        else:
            name = self._name(d)
            gender = "male" if d[0] % 20 < 9 else "female" if d[0] % 20 < 18 else "unknown"
        source = UTM_SOURCES[d[31] % len(UTM_SOURCES)]
        return Contact(
            id=self.first_id + n,
            name=name,
            nickname="微信用户" if anonymous else name,
            gender=gender,
            state=None if anonymous else state,
            city=None if anonymous else city,
            postal_code=None if anonymous else postal,
            created_at=created,
            updated_at=self.updated_at(n, d, created),
            identities=identities,
            props={} if anonymous else {"level": 1 + d[24] % 5, "points": d[25] * 80 + d[26]},
            utm={"source": source, "medium": "organic"} if source else {},
            birthday=birthday,
            is_anonymous=anonymous,
        )

    def index_for_identity(self, identity_type: str, value: str) -> int | None:
        """The contact whose generated identity this could be (the caller checks it)."""
        serial: int | None = None
        if identity_type == "mobilePhone" and len(value) == 11 and value.isdigit():
            serial = int(value[3:])
        elif identity_type == "email" and "@" in value:
            local = value.split("@", 1)[0]
            tail = local.rsplit(".", 1)[-1]
            serial = int(tail) if len(tail) == 8 and tail.isdigit() else None
        elif identity_type == MEMBER_NO and value.startswith("VIP") and value[3:].isdigit():
            serial = (int(value[3:]) - MEMBER_SHIFT) % SERIAL_MODULUS
        elif identity_type in CODE_KINDS and len(value) > 5:
            serial = _serial_of_code(value[-5:], CODE_KINDS[identity_type])
        elif identity_type == "idCard" and len(value) == 18 and value[:17].isdigit():
            return self._index_of_id_card(value)
        if serial is None or serial >= SERIAL_MODULUS:
            return None
        return self._index_of_serial(serial)

    def _index_of_id_card(self, value: str) -> int | None:
        try:
            birthday = datetime.strptime(value[6:14], "%Y%m%d").date()
        except ValueError:
            return None
        card = (birthday - ID_CARD_EPOCH).days * 1000 + int(value[14:17])
        if not 0 <= card < ID_CARD_MODULUS:
            return None
        n = ((card - self.id_card_offset) * self._id_card_inverse) % ID_CARD_MODULUS
        return n if n < self.size else None
