"""JD Cloud OAuth 2.0 ("京东云联合登录"), as `shared/vectors/README.md` documents it.

- `GET /oauth2/authorize`: `client_id`, `redirect_uri` (registered exactly, or any http URL
  on 127.0.0.1 / localhost unless SANDBOX_OAUTH_ALLOW_LOOPBACK=false), `response_type=code`,
  `state` (required), optional `scope=openid`, `nonce`, PKCE `code_challenge` with
  `code_challenge_method` plain or S256. Shows a page to pick a pin; `POST` (form `pin`)
  redirects to `redirect_uri?code=..&state=..`. A bad client or redirect_uri renders an
  error page (never a redirect, RFC 6749 4.1.2.1); other errors redirect with `error`.
- `POST /oauth2/token`: `authorization_code` (single use, 5 minutes of sandbox time,
  `redirect_uri` must match, `code_verifier` when a challenge was given) and
  `refresh_token`; client authentication `client_secret_basic` or `client_secret_post`.
  The `id_token` is an HS256 JWT signed with the client secret.
- `GET|POST /oauth2/userinfo` with a Bearer token: `{account, name, type}`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from datetime import timedelta
from html import escape
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from sandbox.pages import page
from sandbox.state import SandboxState

CODE_LIFETIME = timedelta(minutes=5)
ACCESS_LIFETIME_SECONDS = 7200
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]", "::1")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def hs256_jwt(claims: dict, secret: str) -> str:
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64url(json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode())
    signing_input = f"{header}.{payload}".encode("ascii")
    signature = hmac.new(secret.encode(), signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64url(signature)}"


def s256(verifier: str) -> str:
    return _b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def redirect_allowed(state: SandboxState, uri: str) -> bool:
    settings = state.settings
    if uri in settings.oauth_redirect_uris:
        return True
    parts = urlsplit(uri)
    return (
        settings.oauth_allow_loopback
        and parts.scheme == "http"
        and (parts.hostname or "") in LOOPBACK_HOSTS
        and not parts.fragment
    )


def _with_query(uri: str, values: dict) -> str:
    return uri + ("&" if urlsplit(uri).query else "?") + urlencode(values)


async def _form(request: Request) -> dict[str, str]:
    """Form bodies parsed by hand: python-multipart is not a dependency."""
    body = (await request.body()).decode("utf-8", errors="replace")
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            parsed = json.loads(body or "{}")
        except ValueError:
            return {}
        return {str(k): str(v) for k, v in parsed.items()} if isinstance(parsed, dict) else {}
    return dict(parse_qsl(body, keep_blank_values=True))


def _error_page(message: str) -> HTMLResponse:
    body = f"<p class='error'>{escape(message)}</p><p>授权请求无效,未跳转回应用。</p>"
    return HTMLResponse(page("京东云登录 - 错误", body), status_code=400)


def _user_type(state: SandboxState, pin: str) -> tuple[str, str]:
    brand = state.brand_for_pin(pin)
    if brand is None:
        return pin, "root"
    return f"{brand.name}-{pin}", "root" if brand.pins[0] == pin else "sub"


async def authorize(request: Request) -> Response:
    state: SandboxState = request.app.state.sandbox
    form = await _form(request) if request.method == "POST" else {}
    query = {**dict(request.query_params), **{k: v for k, v in form.items() if k != "pin"}}
    client_id = query.get("client_id", "")
    redirect_uri = query.get("redirect_uri", "")
    if client_id != state.settings.oauth_client_id:
        return _error_page(f"未知的client_id:{client_id or '(缺失)'}")
    if not redirect_uri or not redirect_allowed(state, redirect_uri):
        return _error_page(f"redirect_uri未注册:{redirect_uri or '(缺失)'}")

    def fail(error: str, description: str) -> RedirectResponse:
        values = {"error": error, "error_description": description}
        if query.get("state"):
            values["state"] = query["state"]
        return RedirectResponse(_with_query(redirect_uri, values), status_code=302)

    if query.get("response_type") != "code":
        return fail("unsupported_response_type", "response_type must be code")
    if not query.get("state"):
        return fail("invalid_request", "state is required")
    if query.get("scope") and set(query["scope"].split()) - {"openid"}:
        return fail("invalid_scope", "only the openid scope is supported")
    challenge = query.get("code_challenge")
    method = query.get("code_challenge_method", "plain" if challenge else None)
    if challenge and method not in ("plain", "S256"):
        return fail("invalid_request", "code_challenge_method must be plain or S256")
    if request.method == "GET":
        return HTMLResponse(_pin_page(state, request.url.query))
    pin = form.get("pin", "").strip()
    if not pin:
        return HTMLResponse(_pin_page(state, request.url.query, "请选择或输入京东云账号(pin)"))
    async with state.lock:
        code = secrets.token_urlsafe(24)
        state.oauth_codes[code] = {
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "pin": pin,
            "scope": query.get("scope", ""),
            "nonce": query.get("nonce"),
            "challenge": challenge,
            "method": method,
            "expires_at": state.now() + CODE_LIFETIME,
            "used": False,
            "tokens": [],
        }
    return RedirectResponse(
        _with_query(redirect_uri, {"code": code, "state": query["state"]}), status_code=302
    )


def _pin_page(state: SandboxState, query: str, error: str = "") -> str:
    action = escape("/oauth2/authorize?" + query)
    buttons = "".join(
        f"<li><button name='pin' value='{escape(pin)}'>{escape(pin)}</button> "
        f"<span class='muted'>{escape(brand.name)}({escape(brand.master_id)})</span></li>"
        for pin, brand in state.pin_directory()
    )
    body = (
        (f"<p class='error'>{escape(error)}</p>" if error else "")
        + "<p>沙箱模拟的京东云联合登录:选择一个品牌商账号登录,或输入任意京东云账号。</p>"
        + f"<form method='post' action='{action}'><ul>{buttons}</ul></form>"
        + f"<form method='post' action='{action}'><label>其他账号(pin) "
        + "<input name='pin' required></label> <button>登录</button></form>"
    )
    return page("京东云登录", body)


def _token_error(error: str, description: str, status: int = 400) -> JSONResponse:
    headers = {"Cache-Control": "no-store"}
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="jdcloud-oauth"'
    body = {"error": error, "error_description": description}
    return JSONResponse(body, status_code=status, headers=headers)


def _client_credentials(request: Request, form: dict) -> tuple[str | None, str | None]:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip()).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return None, None
        client_id, _, secret = decoded.partition(":")
        return unquote(client_id), unquote(secret)  # RFC 6749 2.3.1: form-encoded
    return form.get("client_id"), form.get("client_secret")


def _issue(state: SandboxState, request: Request, grant: dict, refresh: str | None) -> dict:
    now = state.now()
    access = secrets.token_urlsafe(32)
    refresh = refresh or secrets.token_urlsafe(32)
    pin = grant["pin"]
    state.oauth_tokens[access] = {
        "pin": pin,
        "expires_at": now + timedelta(seconds=ACCESS_LIFETIME_SECONDS),
    }
    state.oauth_refresh_tokens[refresh] = {
        "pin": pin,
        "client_id": grant["client_id"],
        "scope": grant.get("scope", ""),
    }
    settings = state.settings
    openid = hashlib.sha256(f"{settings.oauth_client_id}/{pin}".encode()).hexdigest()[:32]
    claims = {
        "iss": str(request.base_url).rstrip("/"),
        "aud": settings.oauth_client_id,
        "sub": pin,
        "openid": openid,
        "iat": int(now.timestamp()),
        "exp": int(now.timestamp()) + ACCESS_LIFETIME_SECONDS,
    }
    if grant.get("nonce"):
        claims["nonce"] = grant["nonce"]
    return {
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": ACCESS_LIFETIME_SECONDS,
        "refresh_token": refresh,
        "id_token": hs256_jwt(claims, settings.oauth_client_secret),
        "scope": grant.get("scope", ""),
    }


async def token(request: Request) -> JSONResponse:
    state: SandboxState = request.app.state.sandbox
    settings = state.settings
    form = await _form(request)
    client_id, secret = _client_credentials(request, form)
    if client_id != settings.oauth_client_id or not hmac.compare_digest(
        (secret or "").encode(), settings.oauth_client_secret.encode()
    ):
        return _token_error("invalid_client", "client authentication failed", 401)
    grant_type = form.get("grant_type")
    async with state.lock:
        if grant_type == "authorization_code":
            return _code_grant(state, request, form)
        if grant_type == "refresh_token":
            grant = state.oauth_refresh_tokens.get(form.get("refresh_token", ""))
            if grant is None or grant["client_id"] != client_id:
                return _token_error("invalid_grant", "unknown refresh_token")
            return _token_response(_issue(state, request, grant, form["refresh_token"]))
    return _token_error("unsupported_grant_type", f"grant_type {grant_type!r} is not supported")


def _token_response(body: dict) -> JSONResponse:
    return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


def _code_grant(state: SandboxState, request: Request, form: dict) -> JSONResponse:
    grant = state.oauth_codes.get(form.get("code", ""))
    if grant is None:
        return _token_error("invalid_grant", "unknown authorization code")
    if grant["used"]:  # RFC 6749 4.1.2: a replayed code revokes what it issued
        for access in grant["tokens"]:
            state.oauth_tokens.pop(access, None)
        return _token_error("invalid_grant", "authorization code already used")
    if state.now() >= grant["expires_at"]:
        return _token_error("invalid_grant", "authorization code expired")
    if form.get("redirect_uri") != grant["redirect_uri"]:
        return _token_error("invalid_grant", "redirect_uri does not match the authorization")
    if grant["challenge"]:
        verifier = form.get("code_verifier", "")
        if not verifier:
            return _token_error("invalid_grant", "code_verifier is required (PKCE)")
        expected = s256(verifier) if grant["method"] == "S256" else verifier
        if not hmac.compare_digest(expected.encode(), grant["challenge"].encode()):
            return _token_error("invalid_grant", "code_verifier does not match code_challenge")
    grant["used"] = True
    body = _issue(state, request, grant, None)
    grant["tokens"].append(body["access_token"])
    return _token_response(body)


async def userinfo(request: Request) -> JSONResponse:
    state: SandboxState = request.app.state.sandbox
    header = request.headers.get("authorization", "")
    access = header[7:].strip() if header.lower().startswith("bearer ") else ""
    grant = state.oauth_tokens.get(access)
    if grant is None or state.now() >= grant["expires_at"]:
        return JSONResponse(
            {"error": "invalid_token", "error_description": "missing, unknown or expired token"},
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    name, account_type = _user_type(state, grant["pin"])
    return JSONResponse({"account": grant["pin"], "name": name, "type": account_type})


ROUTES = [
    Route("/oauth2/authorize", authorize, methods=["GET", "POST"]),
    Route("/oauth2/token", token, methods=["POST"]),
    Route("/oauth2/userinfo", userinfo, methods=["GET", "POST"]),
]
