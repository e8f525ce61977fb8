"""How every Linkflow route runs: faults, body, token, handler, journal.

1. Faults (`/_control/faults`) whose path matches the request's full path
   (`/linkflow/open/report/404`; a fault path may be a prefix, `/linkflow` for every
   Linkflow route, or a template, `/linkflow/open/report/{reportId}`): latency and
   timeout sleep, `http_error` answers an nginx error page with its status, `code`
   answers HTTP `status` (default 500) with `{"code": code, "message": msg}`.
2. The body: JSON, or multipart/form-data (parsed with the standard library's email
   parser), read before the state lock is taken.
3. `X-OpenApi-Token` picks the workspace; absent, unknown or expired: HTTP 401
   `{"code": "401", "message": ...}`.
4. The handler, under the state lock, answers; a `LinkflowError` becomes the spec's body
   `{"code": "B000xx", "message": ...}` with the HTTP status the spec lists for it.
5. Every request lands in the journal (`/_control/requests`) with its full path, the
   route template as `endpoint` and the App Key as `app`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.parser import BytesParser
from email.policy import HTTP
from typing import TYPE_CHECKING, Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.clock import CST
from sandbox.gateway import LATENCY_DEFAULT_MS, TIMEOUT_DEFAULT_MS, proxy_page
from sandbox.linkflow import PREFIX

if TYPE_CHECKING:
    from sandbox.linkflow.state import LinkflowState, Workspace
    from sandbox.state import Fault, SandboxState

JSON_UTF8 = "application/json;charset=UTF-8"
# Multipart bodies this much larger than the upload limit are refused unread.
MULTIPART_OVERHEAD = 1024 * 1024


class LinkflowError(Exception):
    def __init__(self, status: int, code: str, message: str, *, domain: bool = False) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.domain = status, code, message, domain


def ok(data: Any) -> JSONResponse:
    return JSONResponse(data, media_type=JSON_UTF8)


def done() -> Response:
    """The spec's bare "HTTP/1.1 200 OK"."""
    return Response(status_code=200)


def error(status: int, code: str, message: str, *, domain: bool = False) -> JSONResponse:
    body = {"domain": "linkflow"} if domain else {}
    body |= {"code": code, "message": message}
    return JSONResponse(body, status_code=status, media_type=JSON_UTF8)


def invalid(message: str = "参数不合法") -> LinkflowError:
    return LinkflowError(500, "B00010", message)


def required(name: str) -> LinkflowError:
    return LinkflowError(500, "B00002", f"必填参数为空: {name}")


def not_found(what: str, value: object, *, status: int = 404) -> LinkflowError:
    """Linkflow's own wording (spec "创建分发追踪短链接", the error example)."""
    return LinkflowError(status, "B00008", f"No [{what}] found with id [{value}]")


@dataclass
class Upload:
    filename: str
    content: bytes


@dataclass
class Call:
    request: Request
    linkflow: LinkflowState
    workspace: Workspace  # None only for /token
    body: Any
    now: datetime

    @property
    def config(self) -> dict:
        return self.linkflow.config

    @property
    def base_url(self) -> str:
        """The address the client used for Linkflow, e.g. http://127.0.0.1:8100/linkflow."""
        return str(self.request.base_url).rstrip("/") + PREFIX

    def query(self, name: str) -> str | None:
        value = self.request.query_params.get(name)
        return value if value not in (None, "") else None

    def int_query(self, name: str, default: int | None = None, *, low: int = 0) -> int:
        text = self.query(name)
        if text is None:
            if default is None:
                raise required(name)
            return default
        try:
            value = int(text)
        except ValueError as exc:
            raise invalid(f"参数不合法: {name}") from exc
        if value < low:
            raise invalid(f"参数不合法: {name}")
        return value

    def moment_query(self, name: str) -> datetime | None:
        """A time parameter, "yyyy-MM-dd HH:mm:ss" or "yyyy-MM-dd", China time."""
        text = self.query(name)
        return None if text is None else parse_moment(text, name)

    def path_int(self, name: str) -> int:
        try:
            return int(self.request.path_params[name])
        except ValueError as exc:
            raise invalid(f"参数不合法: {name}") from exc

    def path(self, name: str) -> str:
        return self.request.path_params[name]

    def json_object(self) -> dict:
        if not isinstance(self.body, dict):
            raise invalid("请求体必须是JSON对象")
        return self.body


def parse_moment(text: str, name: str) -> datetime:
    for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.strptime(text.strip(), pattern).replace(tzinfo=CST)
        except ValueError:
            continue
    raise invalid(f"参数不合法: {name}")


Handler = Callable[[Call], Response]


def route(path: str, handler: Handler, *, method: str, auth: bool = True) -> Route:
    template = PREFIX + path

    async def view(request: Request) -> Response:
        sandbox: SandboxState = request.app.state.sandbox
        full_path = request.scope["path"]
        async with sandbox.lock:
            faults = sandbox.triggered_faults(full_path)
        # The body is read before a fault is suffered: a write whose answer is lost to a
        # timeout still arrives, as it would at Linkflow.
        body, unreadable = None, None
        try:
            body = await _read_body(request, sandbox.linkflow.config["upload_limit_bytes"])
        except LinkflowError as exc:
            unreadable = exc  # told only to a client with a valid token
        except ClientDisconnect:
            return Response(status_code=499)
        response = await _suffer(faults)
        app_key = None
        if response is None:
            try:
                async with sandbox.lock:
                    linkflow, now = sandbox.linkflow, sandbox.now()
                    workspace = None
                    if auth:
                        token = request.headers.get("X-OpenApi-Token")
                        workspace = linkflow.workspace_for_token(token, now)
                        if workspace is None:
                            raise LinkflowError(401, "401", "invalid or expired access token")
                        app_key = workspace.app_key
                        workspace.settle(now)
                    if unreadable is not None:
                        raise unreadable
                    response = handler(Call(request, linkflow, workspace, body, now))
            except LinkflowError as exc:
                response = error(exc.status, exc.code, exc.message, domain=exc.domain)
        async with sandbox.lock:
            sandbox.record(
                method=request.method,
                path=full_path,
                status=response.status_code,
                code=_code_of(response),
                endpoint=template,
                app=app_key,
            )
        return response

    return Route(path, view, methods=[method])


async def _suffer(faults: list[Fault]) -> Response | None:
    terminal = None
    for fault in faults:
        if fault.kind in ("latency", "timeout"):
            default = TIMEOUT_DEFAULT_MS if fault.kind == "timeout" else LATENCY_DEFAULT_MS
            delay = fault.latency_ms if fault.latency_ms is not None else default
            await asyncio.sleep(delay / 1000)
        elif terminal is None:
            terminal = fault
    if terminal is None:
        return None
    if terminal.kind == "http_error":
        return proxy_page(terminal.status)
    return error(terminal.status, str(terminal.code), terminal.msg)


async def _read_body(request: Request, upload_limit: float) -> Any:
    if request.method not in ("POST", "PUT", "DELETE"):
        return None
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > upload_limit + MULTIPART_OVERHEAD:
            raise LinkflowError(500, "B01163", "文件大小超过100M")
        return _multipart(content_type, await request.body())
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise invalid("请求体不是合法的JSON") from exc


def _multipart(content_type: str, raw: bytes) -> dict[str, Upload | str]:
    """Form fields by name: files as `Upload`, the rest as text."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = BytesParser(policy=HTTP).parsebytes(head + raw)
    if not message.is_multipart():
        raise invalid("参数不合法: multipart")
    fields: dict[str, Upload | str] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        content = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            fields[name] = Upload(filename, content)
        else:
            fields[name] = content.decode("utf-8", errors="replace")
    return fields


def _code_of(response: Response) -> str | None:
    try:
        parsed = json.loads(response.body)
    except (ValueError, UnicodeDecodeError, AttributeError):
        return None
    if not isinstance(parsed, dict) or "code" not in parsed:
        return None
    return str(parsed["code"])
