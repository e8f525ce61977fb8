"""Forged calls of the four ISV endpoints (spec: ISV提供接口通用申明 / Token校验), in the
manner of Stripe's webhook test matrix: start from a request JD Cloud could have signed,
change one thing, and check that the portal refuses it, answers without a 5xx and writes
nothing but its call-log row.

The token is `md5(sorted non-empty params & key=<ISV key>)`. It covers neither the path nor
the moment, and it drops empty values, so three kinds of requests get through by design and
are tested as such, not as forgeries: requests that hash the same as a signed one and mean
the same (`EQUIVALENTS`), replays of a signed request (idempotent), and a signed sync body
replayed at /master/edit (the same change the sync made).

Endpoints: POST /JDCloud/master/sync, POST /JDCloud/master/edit, GET /JDCloud/master/verify
(free login) and POST /JDCloud/activity/update.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, urlencode

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django_scopes import scopes_disabled

from brands.middleware import PREVIEW_SESSION_KEY
from brands.models import Brand, BrandUser
from campaigns.models import Activity
from portal.integrations.jdcloud.isv_token import compute_token, render_value, string_to_hash
from portal.models import IntegrationCall
from tests.security.figures import count

pytestmark = pytest.mark.django_db

SUITE = "callback forgeries"
KEY = settings.JDCLOUD_ISV_KEY
VICTIM = "victim-master-0001"
ACTIVITY_ID = "ACT-victim-0001"

# What JD Cloud could sign for each endpoint; every one would change the victim brand (or
# create a brand, or open a preview session) if it were accepted.
BASES: dict[str, tuple[str, str, dict]] = {
    "sync": (
        "POST",
        "/JDCloud/master/sync",
        {
            "master_id": VICTIM,
            "master_name": "改名后的品牌",
            "master_desc": "",
            "shop_id": "10000099",
            "shop_type": "1",
            "user_type": "1",
            "expire_time": 1577807999,
            "status": 0,
        },
    ),
    "sync-new": (
        "POST",
        "/JDCloud/master/sync",
        {
            "master_id": "forged-new-master",
            "master_name": "伪造品牌",
            "master_desc": "伪造",
            "shop_id": "20000001",
            "shop_type": "2",
            "user_type": "1",
            "expire_time": 1893427199,
            "status": 1,
        },
    ),
    "edit": (
        "POST",
        "/JDCloud/master/edit",
        {"master_id": VICTIM, "expire_time": 1577807999, "status": 0},
    ),
    "verify": ("GET", "/JDCloud/master/verify", {"master_id": VICTIM, "preview_url": "/settings/"}),
    "activity": (
        "POST",
        "/JDCloud/activity/update",
        {
            "activity_id": ACTIVITY_ID,
            "approve_status": "1",
            "audit_remark": "同意上线",
            "auditor": "jd_reviewer",
            "master_id": VICTIM,
        },
    ),
}


@dataclass(frozen=True)
class Call:
    endpoint: str
    method: str
    path: str
    query: str = ""
    body: bytes = b""
    content_type: str | None = "application/json"


def token(params: dict, key: str = KEY, **options) -> str:
    return compute_token({k: v for k, v in params.items() if k != "token"}, key, **options)


def signed(params: dict, key: str = KEY) -> dict:
    return {**{k: v for k, v in params.items() if k != "token"}, "token": token(params, key)}


def as_json(params: dict) -> bytes:
    return json.dumps(params, ensure_ascii=False).encode("utf-8")


def as_call(endpoint: str, params: dict, **changes) -> Call:
    """`params` sent the way the endpoint takes them: a JSON body, or the query string."""
    method, path, _base = BASES[endpoint]
    if method == "GET":
        query = urlencode({k: "" if v is None else v for k, v in params.items()})
        return Call(endpoint, method, path, query=query, content_type=None, **changes)
    return Call(endpoint, method, path, body=as_json(params), **changes)


# --- The forgeries ------------------------------------------------------------------------

WRONG_KEYS = {
    "empty": "",
    "another": "AnotherIsvKey0123456789abcdefXYZ",
    "lowercased": KEY.lower(),
    "uppercased": KEY.upper(),
    "one-char-short": KEY[:-1],
    "one-char-long": KEY + "0",
    "padded": f" {KEY} ",
    "spec-example": "isvkey",
    "sandbox-default": "SandboxIsvKey0123456789abcdefABC",
}


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()  # noqa: S324  # nosec B324


def _flip(digest: str, at: int) -> str:
    hexdigits = "0123456789abcdef"
    return digest[:at] + hexdigits[(hexdigits.index(digest[at]) + 1) % 16] + digest[at + 1 :]


def _miscanonicalised(params: dict) -> dict[str, str]:
    """Tokens computed by a forger (or a buggy signer) that gets the canonical string wrong."""
    clean = {k: v for k, v in params.items() if k != "token"}
    canonical = string_to_hash(clean, KEY)
    pairs = canonical.rsplit("&key=", 1)[0]

    def joined(items, sep="&"):
        return sep.join(f"{k}={v}" for k, v in items)

    rendered = [(k, render_value(v)) for k, v in clean.items() if render_value(v) != ""]
    return {
        "unsorted": _md5(joined(rendered) + f"&key={KEY}"),
        "reverse-sorted": _md5(joined(sorted(rendered, reverse=True)) + f"&key={KEY}"),
        "url-encoded-values": _md5(
            joined((k, quote(v, safe="")) for k, v in sorted(rendered)) + f"&key={KEY}"
        ),
        "empty-values-kept": token(params, keep_empty=True),
        "key-first": _md5(f"key={KEY}&" + pairs),
        "key-without-name": _md5(pairs + f"&{KEY}"),
        "key-appended-bare": _md5(pairs + KEY),
        "no-key": _md5(pairs),
        "key-only": _md5(KEY),
        "semicolons": _md5(joined(sorted(rendered), ";") + f";key={KEY}"),
        "names-uppercased": _md5(
            joined((k.upper(), v) for k, v in sorted(rendered)) + f"&key={KEY}"
        ),
        "token-included": _md5(joined(sorted([*rendered, ("token", "")])) + f"&key={KEY}"),
        "sha1": hashlib.sha1(canonical.encode()).hexdigest(),  # noqa: S324  # nosec B324
        "sha256": hashlib.sha256(canonical.encode()).hexdigest(),
        "hmac-md5": hmac.new(KEY.encode(), pairs.encode(), "md5").hexdigest(),
        "base64-digest": base64.b64encode(
            hashlib.md5(canonical.encode()).digest()  # noqa: S324  # nosec B324
        ).decode(),
    }


def _tampered_digests(valid: str) -> dict[str, str]:
    first_letter = next((i for i, c in enumerate(valid) if c.isalpha()), None)
    digests = {
        "first-char-flipped": _flip(valid, 0),
        "middle-char-flipped": _flip(valid, 16),
        "last-char-flipped": _flip(valid, 31),
        "truncated": valid[:-1],
        "extended": valid + "0",
        "doubled": valid * 2,
        "zeros": "0" * 32,
        "reversed": valid[::-1],
        "hex-prefixed": "0x" + valid,
        "inner-space": valid[:16] + " " + valid[16:],
        "nul-appended": valid + "\x00",
        "zero-width-appended": valid + "\u200b",
        "fullwidth-digits": valid.translate({ord(d): 0xFF10 + int(d) for d in "0123456789"}),
    }
    if first_letter is not None:
        changed = "a" if valid[first_letter] != "a" else "b"
        upper = valid.upper()
        # The digest is compared case-insensitively, but a changed letter is a changed digest.
        digests["uppercased-with-a-changed-letter"] = (
            upper[:first_letter] + changed.upper() + upper[first_letter + 1 :]
        )
        digests["fullwidth-letters"] = valid.translate(
            {ord(c): 0xFF41 + ord(c) - ord("a") for c in "abcdef"}
        )
    return digests


def _changed_values(value) -> dict[str, object]:
    text = str(value)
    changes: dict[str, object] = {
        "other": value + 1 if isinstance(value, int) else text + "x",
        "space-before": " " + text,
        "space-after": text + " ",
        "zero-width": text + "\u200b",
    }
    if text.swapcase() != text:
        changes["case-swapped"] = text.swapcase()
    if any(c.isdigit() for c in text):
        changes["fullwidth-digits"] = text.translate(
            {ord(d): 0xFF10 + int(d) for d in "0123456789"}
        )
    if isinstance(value, int):
        changes["float"] = float(value) + 0.5
    return changes


def _boundary_shifts(params: dict) -> dict[str, dict]:
    """Re-partitions of the signed string ("a=1&b=2" as {"a": "1&b=2"}): the token still
    matches, so only the validation of the fields stands in the way."""
    names = [n for n in sorted(params) if render_value(params[n]) != ""]
    shifted = {}
    for first, second in zip(names, names[1:], strict=False):
        a, b = render_value(params[first]), render_value(params[second])
        rest = {k: v for k, v in params.items() if k not in (first, second)}
        shifted[f"value-absorbs-{second}"] = {**rest, first: f"{a}&{second}={b}"}
        shifted[f"name-absorbs-{second}"] = {**rest, f"{first}={a}&{second}": b}
    valid = string_to_hash(params, KEY)
    return {name: p for name, p in shifted.items() if string_to_hash(p, KEY) == valid}


def _transport(endpoint: str, params: dict) -> Iterator[tuple[str, Call]]:
    """Bodies, encodings and content types, around a correctly signed request."""
    method, path, _ = BASES[endpoint]
    good = signed(params)
    text = json.dumps(good, ensure_ascii=False)
    many_fields = "&".join(f"f{n}=1" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    if method == "GET":
        query = urlencode(good)
        yield "too-many-query-fields", Call(endpoint, method, path, query=f"{query}&{many_fields}")
        oversized = {**params, "pad": "x" * 200_000, "token": good["token"]}
        yield "oversized-query", as_call(endpoint, oversized)
        non_utf8 = query.replace("victim", "%FF%FEv")
        yield "non-utf8-query", Call(endpoint, method, path, query=non_utf8)
        yield (
            "nul-in-query",
            Call(endpoint, method, path, query=query.replace("victim", "vic%00tim")),
        )
        for other in ("POST", "PUT", "DELETE"):
            yield f"method-{other}", Call(endpoint, other, path, query=query, content_type=None)
        yield "params-in-a-post-body", Call(endpoint, "POST", path, body=text.encode())
        return
    yield "oversized-signed-65k", as_call(endpoint, signed({**params, "pad": "x" * 65_536}))
    yield "oversized-signed-3m", as_call(endpoint, signed({**params, "pad": "x" * 3_000_000}))
    yield (
        "too-many-query-fields",
        Call(endpoint, method, path, query=many_fields, body=text.encode()),
    )
    if text.encode("gbk", "ignore") != text.encode("utf-8"):
        yield "gbk-body", Call(endpoint, method, path, body=text.encode("gbk"))
    yield "utf16-body", Call(endpoint, method, path, body=text.encode("utf-16"))
    yield (
        "latin1-byte-in-value",
        Call(endpoint, method, path, body=text.encode().replace(VICTIM.encode(), b"victim\xff")),
    )
    yield "utf8-bom", Call(endpoint, method, path, body=b"\xef\xbb\xbf" + text.encode())
    yield (
        "lone-surrogate",
        Call(endpoint, method, path, body=text.replace(VICTIM, "victim\\ud800").encode()),
    )
    yield (
        "nul-escape",
        Call(endpoint, method, path, body=text.replace(VICTIM, "vic\\u0000tim").encode()),
    )
    for label, content_type in {
        "text-plain": "text/plain",
        "form-urlencoded": "application/x-www-form-urlencoded",
        "multipart": "multipart/form-data; boundary=xyz",
        "xml": "application/xml",
        "json-patch": "application/json-patch+json",
        "jsonp": "application/jsonp",
        "text-json": "text/json",
        "missing": None,
    }.items():
        yield (
            f"content-type-{label}",
            Call(endpoint, method, path, body=text.encode(), content_type=content_type),
        )
    yield (
        "form-encoded-params",
        Call(
            endpoint,
            method,
            path,
            body=urlencode(good).encode(),
            content_type="application/x-www-form-urlencoded",
        ),
    )
    for label, raw in {
        "plain-text": b"not json",
        "empty-array": b"[]",
        "array-of-the-signed-object": f"[{text}]".encode(),
        "string": json.dumps(text).encode(),
        "number": b"1",
        "null": b"null",
        "true": b"true",
        "truncated": text[:-1].encode(),
        "trailing-garbage": (text + "}").encode(),
        "two-objects": (text + "\n" + text).encode(),
        "single-quoted": text.replace('"', "'").encode(),
        "with-comment": ("/* c */" + text).encode(),
        "nan-value": text.replace('"status": 0', '"status": NaN')
        .replace('"status": 1', '"status": NaN')
        .replace('"approve_status": "1"', '"approve_status": NaN')
        .encode(),
        "deeply-nested": b"[" * 30_000 + b"]" * 30_000,
        "overflowing-float": text.replace('"token"', '"n": 1e400, "token"').encode(),
        "huge-integer": text.replace('"token"', '"n": ' + "9" * 5000 + ', "token"').encode(),
    }.items():
        yield f"not-a-json-object-{label}", Call(endpoint, method, path, body=raw)
    # Duplicated keys: JD's signer and the portal's parser must not read different values.
    name = next(n for n in params if n not in ("master_id",))
    other_value = _changed_values(params[name])["other"]
    dup_last = text[:-1] + f", {json.dumps(name)}: {json.dumps(other_value, ensure_ascii=False)}}}"
    dup_first = (
        "{" + f"{json.dumps(name)}: {json.dumps(other_value, ensure_ascii=False)}, " + text[1:]
    )
    dup_same = text[:-1] + f", {json.dumps(name)}: {json.dumps(params[name], ensure_ascii=False)}}}"
    dup_token = text[:-1] + f', "token": {json.dumps(good["token"])}}}'
    for label, raw in {
        "duplicate-key-last-wins": dup_last,
        "duplicate-key-first": dup_first,
        "duplicate-key-same-value": dup_same,
        "duplicate-token": dup_token,
    }.items():
        yield label, Call(endpoint, method, path, body=raw.encode())
    yield (
        "param-in-query-and-body",
        Call(endpoint, method, path, query=urlencode({name: params[name]}), body=text.encode()),
    )
    yield (
        "token-in-query-and-body",
        Call(endpoint, method, path, query=urlencode({"token": good["token"]}), body=text.encode()),
    )
    yield "method-GET", Call(endpoint, "GET", path, query=urlencode(good), content_type=None)
    yield "method-PUT", Call(endpoint, "PUT", path, body=text.encode())


def _duplicated_query(endpoint: str, params: dict) -> Iterator[tuple[str, Call]]:
    method, path, _ = BASES[endpoint]
    if method != "GET":
        return
    good = signed(params)
    for name in good:
        pairs = [*good.items(), (name, "other-" + str(good[name]))]
        yield (
            f"duplicate-query-{name}-last",
            Call(endpoint, method, path, query=urlencode(pairs), content_type=None),
        )
        pairs = [(name, "other-" + str(good[name])), *good.items()]
        yield (
            f"duplicate-query-{name}-first",
            Call(endpoint, method, path, query=urlencode(pairs), content_type=None),
        )


def forgeries() -> Iterator[tuple[str, Call]]:
    for endpoint, (method, _path, params) in BASES.items():
        valid = token(params)
        brief = endpoint == "sync-new"  # the same checks as "sync", creating instead of changing

        for label, key in WRONG_KEYS.items():
            yield f"{endpoint}/wrong-key/{label}", as_call(endpoint, signed(params, key))
        for label, digest in {**_tampered_digests(valid), **_miscanonicalised(params)}.items():
            if digest.lower() != valid:
                yield f"{endpoint}/token/{label}", as_call(endpoint, {**params, "token": digest})
        yield f"{endpoint}/token/missing", as_call(endpoint, params)
        yield f"{endpoint}/token/empty", as_call(endpoint, {**params, "token": ""})
        for label, misnamed in {
            "capitalised": "Token",
            "uppercased": "TOKEN",
            "trailing-space": "token ",
            "plural": "tokens",
            "underscored": "_token",
        }.items():
            yield f"{endpoint}/token/named-{label}", as_call(endpoint, {**params, misnamed: valid})
        if method == "POST":
            for label, value in {
                "null": None,
                "number": 0,
                "false": False,
                "array-of-the-valid-token": [valid],
                "object-holding-the-valid-token": {"token": valid},
                "empty-array": [],
            }.items():
                yield f"{endpoint}/token/{label}", as_call(endpoint, {**params, "token": value})
        if brief:
            continue

        for name, value in params.items():
            if value in ("", None):
                continue
            for label, changed in _changed_values(value).items():
                yield (
                    f"{endpoint}/changed/{name}/{label}",
                    as_call(endpoint, {**params, name: changed, "token": valid}),
                )
            yield (
                f"{endpoint}/dropped/{name}",
                as_call(
                    endpoint, {**{k: v for k, v in params.items() if k != name}, "token": valid}
                ),
            )
            # Empty-value tricks: the token leaves empty values out, so blanking a signed
            # value is a change the token must see.
            for label, blank in {
                "empty": "",
                "space": " ",
                "null-text": "null",
                "zero": "0",
            }.items():
                if blank != str(value):
                    yield (
                        f"{endpoint}/blanked/{name}/{label}",
                        as_call(endpoint, {**params, name: blank, "token": valid}),
                    )
            if method == "POST":
                for label, blank in {"null": None, "empty-array": [], "empty-object": {}}.items():
                    yield (
                        f"{endpoint}/blanked/{name}/{label}",
                        as_call(endpoint, {**params, name: blank, "token": valid}),
                    )
            renamed = name[0].upper() + name[1:]
            yield (
                f"{endpoint}/renamed/{name}",
                as_call(
                    endpoint,
                    {
                        **{k: v for k, v in params.items() if k != name},
                        renamed: value,
                        "token": valid,
                    },
                ),
            )
        for label, extra in {
            "extra": {"extra": "1"},
            "sorting-first": {"a": "x"},
            "sorting-last": {"zzz": "x"},
            "named-key": {"key": "isvkey"},
            "empty-name": {"": "x"},
            "name-with-equals": {"master_id=evil": "1"},
        }.items():
            yield (
                f"{endpoint}/added/{label}",
                as_call(endpoint, {**params, **extra, "token": valid}),
            )
        for label, shifted in _boundary_shifts(params).items():
            yield f"{endpoint}/boundary/{label}", as_call(endpoint, {**shifted, "token": valid})
        for label, call in _transport(endpoint, params):
            yield f"{endpoint}/transport/{label}", call
        for label, call in _duplicated_query(endpoint, params):
            yield f"{endpoint}/transport/{label}", call
    # A signed request replayed at another endpoint, where it lacks required fields.
    for source, target in [
        ("edit", "sync"),
        ("verify", "sync"),
        ("verify", "edit"),
        ("verify", "activity"),
        ("edit", "activity"),
        ("sync", "activity"),
        ("activity", "sync"),
        ("activity", "edit"),
    ]:
        method, path, _ = BASES[target]
        body = signed(BASES[source][2])
        yield f"{target}/replayed-from/{source}", as_call(target, body)
    for source in ("sync", "edit", "activity"):
        yield f"verify/replayed-from/{source}", as_call("verify", signed(BASES[source][2]))


FORGERIES = dict(forgeries())
assert len(FORGERIES) == len(list(forgeries())), "forgery names must be unique"


# --- The state they must not change -------------------------------------------------------


@pytest.fixture
def victim(make_brand):
    brand = make_brand(
        master_id=VICTIM,
        name="受害品牌",
        expire_time=datetime(2030, 1, 1, tzinfo=UTC),
        status=Brand.Status.ACTIVE,
    )
    # No password: hashing one would cost more than the request under test.
    user = get_user_model().objects.create(username="victim_pin")
    BrandUser.objects.create(user=user, brand=brand, pin="victim_pin")
    Activity.objects.create(
        brand=brand,
        activity_id=ACTIVITY_ID,
        name="待审核活动",
        start_type=Activity.StartType.SINGLE,
        reach_type=Activity.ReachType.SMS,
        review=Activity.Review.PENDING,
        content_hash="h1",
        submitted_hash="h1",
    )
    return brand


def state(*, ignore: tuple[str, ...] = ()) -> dict:
    """Every row a callback could write, and the number of call-log rows."""

    def rows(queryset):
        return [{k: v for k, v in row.items() if k not in ignore} for row in queryset.values()]

    with scopes_disabled():
        return {
            "brands": rows(Brand.objects.order_by("pk")),
            "brand_users": rows(BrandUser.objects.order_by("pk")),
            "users": rows(get_user_model().objects.order_by("pk")),
            "activities": rows(Activity.objects.order_by("pk")),
            "sessions": sorted(Session.objects.values_list("session_key", flat=True)),
            "calls": IntegrationCall.objects.count(),
        }


def deliver(client, call: Call):
    path = f"{call.path}?{call.query}" if call.query else call.path
    extra = {"CONTENT_TYPE": ""} if call.content_type is None else {}
    return client.generic(
        call.method, path, data=call.body, content_type=call.content_type or "", **extra
    )


def has_preview_session(client) -> bool:
    # Not `client.session`: without a cookie it would create (and save) a session.
    cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
    if cookie is None or not cookie.value:
        return False
    return PREVIEW_SESSION_KEY in SessionStore(cookie.value)


def outcome(client, call: Call, response) -> tuple[bool, bool]:
    """(accepted, internal error) as JD Cloud or a browser would see it."""
    if call.path.endswith("/master/verify"):
        accepted = response.status_code in (301, 302, 303, 307, 308) or has_preview_session(client)
        return accepted, response.status_code >= 500
    try:
        code = response.json().get("code")
    except ValueError:
        return False, response.status_code >= 500
    return code in (0, "0"), response.status_code >= 500 or str(code) == "500"


@pytest.mark.parametrize("name", list(FORGERIES))
def test_a_forged_callback_is_refused_without_a_5xx_and_writes_nothing(client, victim, name):
    call = FORGERIES[name]
    before = state()

    response = deliver(client, call)

    after = state()
    accepted, internal = outcome(client, call, response)
    log_rows = after.pop("calls") - before.pop("calls")
    written = after != before or log_rows != 1
    count(SUITE, tried=1, accepted=accepted, **{"5xx": internal}, written=written)
    count(SUITE, **{f"tried at {call.path}": 1})
    assert not accepted, response.content[:300]
    assert not internal, response.content[:300]
    assert after == before
    assert log_rows == 1
    assert IntegrationCall.objects.order_by("-pk").first().ok is False


def test_the_matrix_is_large_and_covers_every_endpoint():
    per_path = {path: 0 for _m, path, _p in BASES.values()}
    for call in FORGERIES.values():
        per_path[call.path] += 1
    assert len(FORGERIES) >= 200
    assert all(n >= 30 for n in per_path.values()), per_path


# --- What the token cannot tell apart, and replays ------------------------------------------

# Requests that hash like a signed one and mean the same to the handler: accepted, with the
# very effect of the signed request (delivering the signed one afterwards changes nothing).
EQUIVALENTS = {
    "digest-uppercased": lambda e, p: as_call(e, {**p, "token": token(p).upper()}),
    "digest-space-wrapped": lambda e, p: as_call(e, {**p, "token": f" {token(p)} "}),
    "keys-reordered": lambda e, p: as_call(e, dict(reversed(list(signed(p).items())))),
    "empty-param-added": lambda e, p: as_call(e, {**p, "extra": "", "token": token(p)}),
    "params-in-the-query": lambda e, p: Call(
        e, BASES[e][0], BASES[e][1], query=urlencode(signed(p)), content_type=None
    ),
}
# Numbers as strings hash alike ("1" and 1); JD's own examples mix them.
NUMBERS_AS_STRINGS = {
    "numbers-as-strings": lambda e, p: as_call(
        e, {**{k: str(v) if isinstance(v, int) else v for k, v in p.items()}, "token": token(p)}
    ),
}
CHANGING = ("sync", "sync-new", "edit", "activity")
IGNORED_FIELDS = ("updated_at", "last_login")


@pytest.mark.parametrize("variant", [*EQUIVALENTS, *NUMBERS_AS_STRINGS])
@pytest.mark.parametrize("endpoint", CHANGING)
def test_an_equivalent_of_a_signed_request_has_the_signed_requests_effect(
    client, victim, endpoint, variant
):
    method, _path, params = BASES[endpoint]
    build = {**EQUIVALENTS, **NUMBERS_AS_STRINGS}[variant]
    if variant == "params-in-the-query" and any(isinstance(v, int) for v in params.values()):
        params = {k: str(v) if isinstance(v, int) else v for k, v in params.items()}

    first = deliver(client, build(endpoint, params))
    assert first.json()["code"] == 0, first.json()
    after_variant = state(ignore=IGNORED_FIELDS)
    deliver(client, as_call(endpoint, signed(BASES[endpoint][2])))

    assert state(ignore=IGNORED_FIELDS) | {"calls": 0} == after_variant | {"calls": 0}
    count("callback equivalents", tried=1, **{"same effect": 1})


@pytest.mark.parametrize("endpoint", [*CHANGING, "verify"])
def test_a_repeated_valid_callback_is_idempotent(client, victim, endpoint):
    call = as_call(endpoint, signed(BASES[endpoint][2]))

    first = deliver(client, call)
    once = state(ignore=IGNORED_FIELDS)
    for _ in range(2):
        again = deliver(client, call)
        assert again.status_code == first.status_code
        if call.method == "POST":
            assert (
                again.json()
                == first.json()
                == {
                    "code": 0,
                    "msg": "success",
                    "data": {"status": "1"},
                }
            )
    thrice = state(ignore=IGNORED_FIELDS)

    assert thrice.pop("calls") == once.pop("calls") + 2
    if endpoint == "verify":  # one browser, one preview session: each login replaces the last
        assert first.status_code == 302 and has_preview_session(client)
        assert len(thrice.pop("sessions")) == len(once.pop("sessions")) == 1
    assert thrice == once
    count("callback replays", tried=3, **{"same state": 1})


def test_a_sync_body_replayed_at_edit_does_what_the_sync_did(client, victim):
    """The token does not cover the path (spec: Token校验): a signed sync body is also a
    valid edit. It can only set the expiry and status that the sync itself set."""
    body = signed(BASES["sync"][2])
    deliver(client, as_call("sync", body))
    after_sync = state(ignore=IGNORED_FIELDS)

    answer = deliver(client, as_call("edit", body)).json()

    assert answer["code"] == 0
    assert state(ignore=IGNORED_FIELDS) | {"calls": 0} == after_sync | {"calls": 0}


@pytest.mark.parametrize("name", ["sync/transport/duplicate-token", "edit/transport/utf8-bom"])
def test_a_token_in_a_body_that_could_not_be_read_is_masked_in_the_log(client, victim, name):
    call = FORGERIES[name]
    valid = token(BASES[call.endpoint][2])

    deliver(client, call)

    logged = IntegrationCall.objects.order_by("-pk").first()
    assert isinstance(logged.request_body, str)  # the raw body: it could not be parsed
    assert valid not in logged.request_body and '"token": "***"' in logged.request_body
