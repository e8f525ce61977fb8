"""JD Cloud API-gateway request signatures, byte-for-byte what JD's Python SDKs produce.

Two algorithms share one shape (an AWS SigV4 derivative):

- `JDCLOUD2-HMAC-SHA256`: the algorithm on JD Cloud's "authorization rules" page, used by
  `jdcloud-sdk-core` 1.3.x and by the API-gateway SDK core (`jdcloud-apim-sdk-core`
  SimpleClient) that JD builds per-ISV SDKs on. The default.
- `JDCLOUD3-HMAC-SHA256`: the current `jdcloud-sdk` (core 1.2.9+).

    canonical request = METHOD \\n path \\n sorted query \\n canonical headers \\n
                        signed header names \\n sha256(body)
    string to sign    = ALGORITHM \\n date \\n scope \\n sha256(canonical request)
    scope             = yyyymmdd/region/service/jdcloudN_request
    key               = HMAC chain over "JDCLOUDN"+SK, yyyymmdd, region, service,
                        "jdcloudN_request"

Every header present when signing is signed (names lower-cased, values stripped) except
User-Agent and Authorization. The date (`x-jdcloud-date`) and nonce (`x-jdcloud-nonce`)
are set before signing, so they are signed, as JD's documentation requires. We implement
the signer (standard library only) instead of depending on `jdcloud-sdk` (113 MB,
13,553 files, one with a SyntaxError); `shared/vectors/jdcloud_gateway_signing.json`
pins it to the SDKs' output.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, unquote, urlsplit

JDCLOUD2 = "JDCLOUD2-HMAC-SHA256"
JDCLOUD3 = "JDCLOUD3-HMAC-SHA256"
ALGORITHMS = {
    JDCLOUD2: ("JDCLOUD2", "jdcloud2_request"),
    JDCLOUD3: ("JDCLOUD3", "jdcloud3_request"),
}

HEADER_DATE = "x-jdcloud-date"
HEADER_NONCE = "x-jdcloud-nonce"
HEADER_CONTENT_SHA256 = "x-jdcloud-content-sha256"
_UNSIGNED = {"user-agent", "authorization"}


@dataclass(frozen=True)
class Credentials:
    access_key: str
    secret_key: str

    def __repr__(self) -> str:  # never print the secret
        return f"Credentials(access_key={self.access_key!r}, secret_key='***')"


@dataclass(frozen=True)
class Signature:
    """The headers to send, and the intermediate strings (for diagnosing a mismatch)."""

    headers: dict[str, str]
    canonical_request: str
    string_to_sign: str
    signature: str


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def _canonical_query(query: str) -> str:
    """Parameters sorted by name, names and values percent-encoded (RFC 3986 unreserved)."""
    if not query:
        return ""
    pairs = []
    for part in query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        pairs.append(
            (
                quote(unquote(name.replace("+", " ")), safe="-_.~"),
                quote(unquote(value.replace("+", " ")), safe="-_.~"),
            )
        )
    return "&".join(f"{name}={value}" for name, value in sorted(pairs))


def _canonical_path(path: str) -> str:
    return quote(unquote(path or "/"), safe="/-_.~")


def _host(url_host: str, port: int | None, scheme: str) -> str:
    default = {"http": 80, "https": 443}.get(scheme)
    return url_host if port in (None, default) else f"{url_host}:{port}"


def sign(
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    credentials: Credentials,
    service: str,
    region: str,
    algorithm: str = JDCLOUD2,
    now: datetime | None = None,
    nonce: str | None = None,
    sign_date_and_nonce: bool = True,
) -> Signature:
    """Sign one request. `headers` are those that will be sent (Host is derived from the
    URL); the result's `headers` adds date, nonce, content hash and Authorization.

    `sign_date_and_nonce=False` reproduces `jdcloud-sdk`'s client path, which adds the
    date and nonce only after signing; the gateway accepts both forms."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown JD Cloud signing algorithm {algorithm!r}")
    secret_prefix, terminator = ALGORITHMS[algorithm]
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    date_time = moment.strftime("%Y%m%dT%H%M%SZ")
    date = moment.strftime("%Y%m%d")

    parts = urlsplit(url)
    out = {k: v for k, v in headers.items() if k.lower() not in (HEADER_DATE, HEADER_NONCE)}
    stamp = {HEADER_DATE: date_time, HEADER_NONCE: nonce or str(uuid.uuid4())}
    if sign_date_and_nonce:
        out.update(stamp)

    signable = {k.lower(): " ".join(str(v).split()) for k, v in out.items()}
    signable = {k: v for k, v in signable.items() if k not in _UNSIGNED}
    signable["host"] = _host(parts.hostname or "", parts.port, parts.scheme)
    names = sorted(signable)
    canonical_headers = "".join(f"{name}:{signable[name]}\n" for name in names)
    signed_headers = ";".join(names)
    payload_hash = sha256_hex(body)

    canonical_request = "\n".join(
        [
            method.upper(),
            _canonical_path(parts.path),
            _canonical_query(parts.query),
            canonical_headers,
            signed_headers,
            payload_hash,
        ]
    )
    scope = f"{date}/{region}/{service}/{terminator}"
    string_to_sign = "\n".join(
        [algorithm, date_time, scope, sha256_hex(canonical_request.encode("utf-8"))]
    )
    key = (secret_prefix + credentials.secret_key).encode("utf-8")
    for part in (date, region, service, terminator):
        key = _hmac(key, part)
    signature = hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()

    out.update(stamp)
    out[HEADER_CONTENT_SHA256] = payload_hash
    out["Authorization"] = (
        f"{algorithm} Credential={credentials.access_key}/{scope}, "
        f"SignedHeaders={signed_headers}, Signature={signature}"
    )
    out[algorithm] = algorithm  # the SDKs send this header too (unsigned)
    return Signature(out, canonical_request, string_to_sign, signature)


@dataclass(frozen=True)
class ParsedAuthorization:
    algorithm: str
    access_key: str
    date: str
    region: str
    service: str
    signed_headers: list[str]
    signature: str


def parse_authorization(value: str) -> ParsedAuthorization:
    """Split an Authorization header; raises ValueError when it is not JD's shape."""
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm not in ALGORITHMS:
        raise ValueError("unknown algorithm")
    fields = {}
    for item in rest.split(","):
        name, _, field_value = item.strip().partition("=")
        fields[name] = field_value
    try:
        access_key, date, region, service, _terminator = fields["Credential"].split("/")
        return ParsedAuthorization(
            algorithm=algorithm,
            access_key=access_key,
            date=date,
            region=region,
            service=service,
            signed_headers=fields["SignedHeaders"].split(";"),
            signature=fields["Signature"],
        )
    except (KeyError, ValueError) as exc:
        raise ValueError("malformed Authorization header") from exc


def verify(
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    secret_for: Mapping[str, str],
) -> ParsedAuthorization:
    """Check a received request as the gateway would. Returns the parsed Authorization;
    raises ValueError naming what is wrong."""
    lowered = {k.lower(): v for k, v in headers.items()}
    auth = parse_authorization(lowered.get("authorization", ""))
    secret = secret_for.get(auth.access_key)
    if secret is None:
        raise ValueError("unknown access key")
    date_time = lowered.get(HEADER_DATE)
    if not date_time:
        raise ValueError("missing x-jdcloud-date")
    signed = {k: v for k, v in headers.items() if k.lower() in auth.signed_headers}
    moment = datetime.strptime(date_time, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    expected = sign(
        method=method,
        url=url,
        headers=signed,
        body=body,
        credentials=Credentials(auth.access_key, secret),
        service=auth.service,
        region=auth.region,
        algorithm=auth.algorithm,
        now=moment,
        nonce=lowered.get(HEADER_NONCE, ""),
        sign_date_and_nonce=HEADER_DATE in auth.signed_headers,
    )
    if not hmac.compare_digest(expected.signature, auth.signature):
        raise ValueError("signature does not match")
    return auth
