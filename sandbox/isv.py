"""The sandbox acting as JD Cloud towards the portal's ISV endpoints (spec "【ISV提供】").

Token (spec "ISV提供接口通用申明 / Token校验"): every parameter except `token`, empty
values (None or "") dropped, names sorted, `k=v` joined with `&` over the plain values
(the spec's example: "不需要进行请求地址 encode"), `&key=<ISV key>` appended, MD5 hex in
lower case. JSON bodies render values as: strings as they are, integers in decimal,
booleans `true` / `false`, nested objects and arrays as compact JSON.

Used by the home page's buttons and by `python -m sandbox isv <command>`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlencode

import httpx

from sandbox.clock import CST
from sandbox.settings import SandboxSettings
from sandbox.state import DEMO_BRAND_ID, SandboxState

TIMEOUT_SECONDS = 10.0


def render_value(value: object) -> str | None:
    """A parameter's text in the token string; None for the empty values it drops."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def token_string(params: Mapping[str, object], key: str) -> str:
    rendered = {name: render_value(value) for name, value in params.items() if name != "token"}
    pairs = [f"{name}={text}" for name, text in sorted(rendered.items()) if text is not None]
    return "&".join([*pairs, f"key={key}"])


def isv_token(params: Mapping[str, object], key: str) -> str:
    # MD5 is what the ECRM spec prescribes for the ISV token; this is JD's side of it.
    return hashlib.md5(token_string(params, key).encode("utf-8")).hexdigest()  # noqa: S324  # nosec B324


@dataclass
class IsvRequest:
    method: str
    url: str
    body: dict | None = None
    query: dict = field(default_factory=dict)

    @property
    def full_url(self) -> str:
        return f"{self.url}?{urlencode(self.query)}" if self.query else self.url

    def content(self) -> bytes | None:
        if self.body is None:
            return None
        return json.dumps(self.body, ensure_ascii=False).encode("utf-8")

    def describe(self) -> str:
        lines = [f"{self.method} {self.full_url}"]
        if self.body is not None:
            lines.append(json.dumps(self.body, ensure_ascii=False, indent=2))
        return "\n".join(lines)


def _signed(settings: SandboxSettings, path: str, body: dict) -> IsvRequest:
    body = {**body, "token": isv_token(body, settings.isv_key)}
    return IsvRequest("POST", f"{settings.portal_url}{path}", body=body)


def push_brand_request(
    settings: SandboxSettings,
    *,
    master_id: str,
    master_name: str,
    master_desc: str,
    shop_id: str,
    shop_type: str = "1",
    user_type: str = "1",
    expire_time: int,
    status: int = 1,
) -> IsvRequest:
    """Spec "创建品牌商账号【ISV提供】": POST /JDCloud/master/sync."""
    return _signed(
        settings,
        "/JDCloud/master/sync",
        {
            "master_id": master_id,
            "master_name": master_name,
            "master_desc": master_desc,
            "shop_id": shop_id,
            "shop_type": shop_type,
            "user_type": user_type,
            "expire_time": int(expire_time),
            "status": int(status),
        },
    )


def edit_brand_request(
    settings: SandboxSettings, *, master_id: str, expire_time: int, status: int
) -> IsvRequest:
    """Spec "更新品牌商账号【ISV提供】": POST /JDCloud/master/edit."""
    body = {"master_id": master_id, "expire_time": int(expire_time), "status": int(status)}
    return _signed(settings, "/JDCloud/master/edit", body)


def review_activity_request(
    settings: SandboxSettings,
    *,
    activity_id: str,
    approve_status: str,
    audit_remark: str,
    auditor: str,
    master_id: str,
) -> IsvRequest:
    """Spec "通知ISV活动审核结果【ISV提供】": POST /JDCloud/activity/update."""
    if approve_status not in ("1", "2"):
        raise ValueError("approve_status must be '1' (approved) or '2' (rejected)")
    body = {
        "activity_id": activity_id,
        "approve_status": approve_status,
        "audit_remark": audit_remark,
        "auditor": auditor,
        "master_id": master_id,
    }
    return _signed(settings, "/JDCloud/activity/update", body)


def preview_link(settings: SandboxSettings, *, master_id: str, preview_url: str) -> str:
    """Spec "免登跳转活动详情【ISV提供】": the URL JD sends a brand's browser to."""
    query = {"master_id": master_id, "preview_url": preview_url}
    query["token"] = isv_token(query, settings.isv_key)
    return IsvRequest("GET", f"{settings.portal_url}/JDCloud/master/verify", query=query).full_url


HEADERS = {"Content-Type": "application/json; charset=UTF-8", "User-Agent": "jdcloud-sandbox"}


def send(request: IsvRequest, client: httpx.Client) -> httpx.Response:
    return client.request(
        request.method, request.full_url, content=request.content(), headers=HEADERS
    )


async def send_async(request: IsvRequest, client: httpx.AsyncClient) -> httpx.Response:
    return await client.request(
        request.method, request.full_url, content=request.content(), headers=HEADERS
    )


def describe_response(response: httpx.Response) -> str:
    try:
        text = json.dumps(response.json(), ensure_ascii=False, indent=2)
    except ValueError:
        text = response.text[:2000]
    return f"HTTP {response.status_code}\n{text}"


# -- the command line: python -m sandbox isv <command> -------------------------------


def _parser() -> argparse.ArgumentParser:
    defaults = SandboxState(SandboxSettings()).brands[DEMO_BRAND_ID]
    next_year = int((datetime.now(CST) + timedelta(days=365)).timestamp())
    parser = argparse.ArgumentParser(
        prog="python -m sandbox isv", description="Call the portal's ISV endpoints as JD Cloud."
    )
    parser.add_argument("--portal-url", help="default: env PORTAL_URL or http://127.0.0.1:8000")
    commands = parser.add_subparsers(dest="command", required=True)
    push = commands.add_parser("push-brand", help="POST /JDCloud/master/sync")
    push.add_argument("--master-id", default=defaults.master_id)
    push.add_argument("--name", default=defaults.name)
    push.add_argument("--desc", default=defaults.name)
    push.add_argument("--shop-id", default=defaults.shop_id)
    push.add_argument("--shop-type", default="1", choices=("1", "2"))
    push.add_argument("--user-type", default="1")
    push.add_argument("--expire-time", type=int, default=next_year)
    push.add_argument("--status", type=int, default=1, choices=(0, 1))
    edit = commands.add_parser("edit-brand", help="POST /JDCloud/master/edit")
    edit.add_argument("--master-id", default=defaults.master_id)
    edit.add_argument("--expire-time", type=int, default=next_year)
    edit.add_argument("--status", type=int, default=1, choices=(0, 1))
    review = commands.add_parser("review-activity", help="POST /JDCloud/activity/update")
    review.add_argument("--activity-id", required=True)
    review.add_argument("--approve-status", default="1", choices=("1", "2"))
    review.add_argument("--audit-remark", default="审核通过")
    review.add_argument("--auditor", default="sandbox_auditor")
    review.add_argument("--master-id", default=defaults.master_id)
    preview = commands.add_parser("preview-link", help="print a free-login preview URL")
    preview.add_argument("--master-id", default=defaults.master_id)
    preview.add_argument("--preview-url", help="default: the portal's home page")
    return parser


def build_request(args: argparse.Namespace, settings: SandboxSettings) -> IsvRequest:
    if args.command == "push-brand":
        return push_brand_request(
            settings,
            master_id=args.master_id,
            master_name=args.name,
            master_desc=args.desc,
            shop_id=args.shop_id,
            shop_type=args.shop_type,
            user_type=args.user_type,
            expire_time=args.expire_time,
            status=args.status,
        )
    if args.command == "edit-brand":
        return edit_brand_request(
            settings, master_id=args.master_id, expire_time=args.expire_time, status=args.status
        )
    return review_activity_request(
        settings,
        activity_id=args.activity_id,
        approve_status=args.approve_status,
        audit_remark=args.audit_remark,
        auditor=args.auditor,
        master_id=args.master_id,
    )


def main(argv: list[str], client: httpx.Client | None = None, out=print) -> int:
    args = _parser().parse_args(argv)
    settings = SandboxSettings.from_env()
    if args.portal_url:
        settings = SandboxSettings(
            **{**settings.__dict__, "portal_url": args.portal_url.rstrip("/")}
        )
    if args.command == "preview-link":
        out(
            preview_link(
                settings,
                master_id=args.master_id,
                preview_url=args.preview_url or f"{settings.portal_url}/",
            )
        )
        return 0
    request = build_request(args, settings)
    out(f"--> {request.describe()}")
    owned = client is None
    client = client or httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False)
    try:
        response = send(request, client)
    except httpx.HTTPError as exc:
        out(f"<-- failed: {exc!r}")
        return 2
    finally:
        if owned:
            client.close()
    out(f"<-- {describe_response(response)}")
    return 0 if response.is_success else 1
