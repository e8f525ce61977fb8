"""JD Cloud's API gateway in front of `/jdcloud`: signatures, replay, faults, journal.

Spec "京东云提供接口通用申明 / 权限认证": every request is signed with the ISV's AK/SK
(`portal.integrations.jdcloud.signing`, JDCLOUD2 or JDCLOUD3). The gateway rejects a
missing or wrong signature, an unknown access key and a nonce seen in the last 15
minutes with HTTP 401 and its own body (not the `{code,msg,data}` envelope):
`{"requestId": ..., "error": {"code": 401, "status": "UNAUTHENTICATED", "message": ...}}`.

After the signature come the injected faults (control API), then the system status
(down: `/system/status` answers HTTP 503, the rest `code` "503" 系统升级中), then the
endpoint. Every request, rejected or not, lands in the journal.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from http import HTTPStatus

from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.integrations.jdcloud.signing import HEADER_NONCE, verify
from sandbox.jdcloud import PREFIX
from sandbox.jdcloud.envelope import JSON_UTF8, RESULT_KEY, WX_CREATE, error_envelope
from sandbox.state import SandboxState

TIMEOUT_DEFAULT_MS = 30_000
LATENCY_DEFAULT_MS = 200


def gateway_error(http_status: int, status: str, message: str) -> JSONResponse:
    body = {
        "requestId": uuid.uuid4().hex,
        "error": {"code": http_status, "status": status, "message": message},
    }
    return JSONResponse(body, status_code=http_status, media_type=JSON_UTF8)


def proxy_page(status: int) -> HTMLResponse:
    """What an nginx in front of a failing backend answers."""
    title = f"{status} {HTTPStatus(status).phrase}"
    page = (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )
    return HTMLResponse(page, status_code=status)


def failure_envelope(jd_path: str, code: str, msg: str) -> JSONResponse:
    """A failure in the envelope the endpoint itself uses."""
    if jd_path == "/shorturl/create":
        body = RESULT_KEY[1](code, msg)
    elif jd_path == "/activity/wx/create":
        body = WX_CREATE[1](code, msg)
    else:
        body = error_envelope(code, msg)
    return JSONResponse(body, media_type=JSON_UTF8)


def addressed_url(scope: Scope, headers: dict[str, str]) -> str:
    """The URL exactly as the client addressed it: the signature covers host and path."""
    host = headers.get("host") or "{}:{}".format(*scope.get("server") or ("localhost", 80))
    raw_path = scope.get("raw_path")
    path = raw_path.decode("latin-1") if raw_path else scope["path"]
    query = scope.get("query_string", b"").decode("latin-1")
    return f"{scope['scheme']}://{host}{path}" + (f"?{query}" if query else "")


class Gateway:
    def __init__(self, app: ASGIApp, state: SandboxState):
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX + "/"):
            await self.app(scope, receive, send)
            return
        state = self.state
        body = await _read_body(receive)
        method = scope["method"]
        jd_path = scope["path"][len(PREFIX) :]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}

        problem = self._authenticate(method, addressed_url(scope, headers), headers, body)
        if problem:
            state.record(method=method, path=jd_path, status=401, code=None)
            await gateway_error(401, "UNAUTHENTICATED", problem)(scope, receive, send)
            return

        early = await self._faults_and_status(jd_path)
        if early is not None:
            state.record(
                method=method, path=jd_path, status=early.status_code, code=_code_of(early.body)
            )
            await early(scope, receive, send)
            return

        captured: dict = {"status": 500, "body": b""}

        async def replay() -> Message:
            if not captured.get("sent_body"):
                captured["sent_body"] = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
            elif message["type"] == "http.response.body":
                captured["body"] += message.get("body", b"")
            await send(message)

        try:
            await self.app(scope, replay, capture)
        finally:
            state.record(
                method=method,
                path=jd_path,
                status=captured["status"],
                code=_code_of(captured["body"]),
            )

    def _authenticate(self, method: str, url: str, headers: dict, body: bytes) -> str | None:
        """Why the request is refused, or None."""
        if not headers.get("authorization"):
            return "missing Authorization header (JD Cloud gateway signature required)"
        settings = self.state.settings
        try:
            verify(
                method=method,
                url=url,
                headers=headers,
                body=body,
                secret_for={settings.access_key: settings.secret_key},
            )
        except ValueError as exc:
            return f"signature rejected: {exc}"
        nonce = headers.get(HEADER_NONCE, "")
        if not nonce:
            return f"missing {HEADER_NONCE}"
        if not self.state.use_nonce(nonce, time.time()):
            return f"{HEADER_NONCE} {nonce} was already used in the last 15 minutes (replay)"
        return None

    async def _faults_and_status(self, jd_path: str) -> Response | None:
        state = self.state
        terminal = None
        for fault in state.triggered_faults(jd_path):
            if fault.kind in ("latency", "timeout"):
                default = TIMEOUT_DEFAULT_MS if fault.kind == "timeout" else LATENCY_DEFAULT_MS
                delay = fault.latency_ms if fault.latency_ms is not None else default
                await asyncio.sleep(delay / 1000)
            elif terminal is None:
                terminal = fault
        if terminal is not None and terminal.kind == "http_error":
            return proxy_page(terminal.status)
        if terminal is not None:
            return failure_envelope(jd_path, str(terminal.code), terminal.msg)
        if not state.system_up:
            if jd_path == "/system/status":
                return proxy_page(503)
            return failure_envelope(jd_path, "503", "系统升级中,请稍后再试")
        return None


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _code_of(body: bytes) -> str | None:
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(parsed, dict):
        return None
    code = parsed.get("code", parsed.get("result"))
    return None if code is None else str(code)
