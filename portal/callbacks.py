"""Intake of the ISV endpoints JD Cloud calls (【ISV提供】 in the spec).

One verifier for the token, one view per spec path (STYLE.md §8). `isv_callback` wraps a
handler: it reads the parameters (query string and JSON body), refuses a missing or wrong
token, answers the spec's `{code, msg, data}` envelope, never a 5xx, and writes the call
to the integration call log, in the transaction of the handler's writes. Handlers get the
verified parameters (validated by the endpoint's input serializer, when it names one) and
return `data`, or raise `CallbackError` with a code and a message naming the field and
the reason. `IsvCallbackMiddleware` serves these views without the session, user,
language and brand middleware that pages need.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from django.db.transaction import TransactionManagementError
from django.http import HttpRequest, JsonResponse
from django.urls import Resolver404, resolve
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django_scopes import scope
from rest_framework.serializers import Serializer

from portal.calllog import record_call
from portal.integrations.jdcloud.isv_token import TOKEN_PARAM, token_matches

logger = logging.getLogger(__name__)

# Every ISV endpoint of the spec (【ISV提供】) lives under this path.
ISV_PATH_PREFIX = "/JDCloud/"
MAX_BODY_BYTES = 64 * 1024
# A token in a body that could not be parsed, masked before the body goes to the call log.
_RAW_TOKEN = re.compile(r'("token"\s*:\s*)"[^"]*"', re.IGNORECASE)

# Codes of our answers (the spec fixes only 0 = success).
CODE_OK = 0
CODE_BAD_REQUEST = "400"
CODE_BAD_TOKEN = "401"  # noqa: S105 - an answer code, not a secret  # nosec B105
CODE_NOT_FOUND = "404"
CODE_METHOD = "405"
CODE_INTERNAL = "500"


class CallbackError(Exception):
    def __init__(self, code: str, msg: str, data: Any = None) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.data = data


def envelope(code: int | str, msg: str, data: Any = None) -> JsonResponse:
    # Always HTTP 200: JD Cloud reads the envelope's code (spec: API应答).
    return JsonResponse(
        {"code": code, "msg": msg, "data": data}, json_dumps_params={"ensure_ascii": False}
    )


def read_params(request: HttpRequest) -> dict[str, Any]:
    """Query parameters and the JSON object body, merged. Refuses, as a `CallbackError`
    (never an internal error): duplicated names (in the query, in the body, or across
    both), a body over MAX_BODY_BYTES, another content type, and anything that is not a
    JSON object of UTF-8 text (NaN, 1e400, lone surrogates, nesting beyond Python's
    recursion limit)."""
    try:
        return _read_params(request)
    except SuspiciousOperation:
        # Django's own limits (DATA_UPLOAD_MAX_NUMBER_FIELDS, DATA_UPLOAD_MAX_MEMORY_SIZE):
        # a refusal like any other, not an internal error.
        raise CallbackError(CODE_BAD_REQUEST, "请求参数过多或请求体过大") from None


def _read_params(request: HttpRequest) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for name in request.GET:
        values = request.GET.getlist(name)
        if len(values) > 1:
            raise CallbackError(CODE_BAD_REQUEST, f"参数 {name} 重复出现")
        params[name] = values[0]
    if request.method == "POST":
        if _declared_length(request) > MAX_BODY_BYTES:
            raise CallbackError(CODE_BAD_REQUEST, "请求体过大")
        raw = request.body
        if len(raw) > MAX_BODY_BYTES:
            raise CallbackError(CODE_BAD_REQUEST, "请求体过大")
        if raw.strip():
            content_type = request.content_type or ""
            if content_type != "application/json":
                raise CallbackError(CODE_BAD_REQUEST, "Content-Type 必须是 application/json")
            body = _json_object(raw)
            for name, value in body.items():
                if name in params:
                    raise CallbackError(CODE_BAD_REQUEST, f"参数 {name} 同时出现在查询串和请求体中")
                params[name] = value
    return params


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _json_object(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object. A key given twice is refused: JD's signer and this
    parser could otherwise read different values under one token."""
    try:
        body = json.loads(
            raw.decode("utf-8"),
            object_pairs_hook=_unique_keys,
            parse_constant=_not_json,
            parse_float=_finite,
        )
        # A lone surrogate ("\ud800") parses but is no UTF-8 text: the token cannot be
        # computed over it, and the database may refuse to store it.
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except (UnicodeError, ValueError, RecursionError):
        raise CallbackError(CODE_BAD_REQUEST, "请求体不是合法的 UTF-8 JSON") from None
    if not isinstance(body, dict):
        raise CallbackError(CODE_BAD_REQUEST, "请求体必须是 JSON 对象")
    return body


def _not_json(constant: str):
    # NaN and Infinity are no JSON (RFC 8259); Python reads them, the call log cannot store them.
    raise ValueError(constant)


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400
        raise ValueError(text)
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for name, value in pairs:
        if name in body:
            raise CallbackError(CODE_BAD_REQUEST, f"参数 {name} 重复出现")
        body[name] = value
    return body


def verify_token(params: dict[str, Any]) -> None:
    token = params.get(TOKEN_PARAM)
    if token in (None, ""):
        raise CallbackError(CODE_BAD_TOKEN, "缺少 token 参数")
    if not token_matches(
        params,
        token if isinstance(token, str) else None,
        settings.JDCLOUD_ISV_KEY,
        keep_empty=settings.JDCLOUD_ISV_TOKEN_KEEP_EMPTY,
    ):
        raise CallbackError(CODE_BAD_TOKEN, "token 校验失败")


def validated(serializer_class: type[Serializer], params: dict[str, Any]) -> dict[str, Any]:
    """`params` through an input serializer; the first field it refuses is answered 400,
    named with the reason (spec: every ISV endpoint answers `data.status` 0 on failure)."""
    serializer = serializer_class(data=params)
    if not serializer.is_valid():
        field, errors = next(iter(serializer.errors.items()))
        reason = errors[0] if isinstance(errors, list) else errors
        raise CallbackError(CODE_BAD_REQUEST, f"{field}: {reason}", data={"status": "0"})
    return serializer.validated_data


def isv_callback(
    endpoint: str,
    *,
    methods: tuple[str, ...] = ("POST",),
    serializer: type[Serializer] | None = None,
):
    """Decorate `handler(request, params) -> data` as the view of an ISV endpoint; with a
    `serializer`, the handler gets its validated data instead of the raw parameters.

    The handler's writes and the call's row in the call log are committed together, once,
    before the answer leaves: JD Cloud never reads a success that was not stored, and a
    callback costs one commit, not one per write. Parameters are read, checked and
    validated before the transaction starts: on SQLite it holds the write lock."""

    def decorate(handler: Callable[[HttpRequest, dict[str, Any]], Any]):
        @csrf_exempt
        @wraps(handler)
        def view(request: HttpRequest, *args, **kwargs):
            # Callback intake opts out of the session's brand (STYLE.md §5): no brand is in
            # scope until the handler takes one from JD's verified parameters. The language
            # is the portal's own, whatever the worker served before (no LocaleMiddleware
            # on this path: IsvCallbackMiddleware).
            with scope(brand=None), translation.override(settings.LANGUAGE_CODE):
                return _serve(request, endpoint, methods, serializer, handler)

        view.isv_callback = True  # served by IsvCallbackMiddleware
        return view

    return decorate


def _serve(
    request: HttpRequest,
    endpoint: str,
    methods: tuple[str, ...],
    serializer: type[Serializer] | None,
    handler: Callable[[HttpRequest, dict[str, Any]], Any],
) -> JsonResponse:
    started = time.monotonic()
    params: dict[str, Any] | None = None
    try:
        if request.method not in methods:
            raise CallbackError(CODE_METHOD, f"只支持 {'/'.join(methods)} 请求")
        params = read_params(request)
        verify_token(params)
        given = params if serializer is None else validated(serializer, params)
    except CallbackError as exc:  # refused before the handler: the call's row is all to write
        return _answer(request, endpoint, started, params, exc.code, exc.msg, exc.data)
    try:
        with transaction.atomic():
            brand_id = None
            try:
                data = handler(request, given)
                code, msg = CODE_OK, "success"
                brand_id = getattr(request, "callback_brand_id", None)
            except CallbackError as exc:  # what the handler wrote before refusing is kept
                code, msg, data = exc.code, exc.msg, exc.data
            if transaction.get_rollback():
                # A write of the handler failed and it answered anyway: nothing of it is
                # kept, and the call is logged as the internal error it is.
                raise TransactionManagementError(f"{endpoint}: the handler's transaction failed")
            return _answer(request, endpoint, started, params, code, msg, data, brand_id)
    except Exception:  # never a 5xx towards JD Cloud; the log keeps the trace
        logger.exception("ISV callback %s failed", endpoint)
        return _answer(
            request, endpoint, started, params, CODE_INTERNAL, "服务内部错误,请稍后重试", None
        )


def _answer(
    request: HttpRequest,
    endpoint: str,
    started: float,
    params: dict[str, Any] | None,
    code: int | str,
    msg: str,
    data: Any,
    brand_id: int | None = None,
) -> JsonResponse:
    """The envelope of the answer, once the call is in the call log."""
    response = envelope(code, msg, data)
    record_call(
        direction="in",
        system="jdcloud",
        method=request.method or "?",
        endpoint=endpoint,
        brand_id=brand_id,
        http_status=response.status_code,
        remote_code=code,
        ok=code == CODE_OK,
        duration_ms=int((time.monotonic() - started) * 1000),
        error="" if code == CODE_OK else msg,
        request_body=params if params is not None else _raw(request),
        response_body={"code": code, "msg": msg, "data": data},
    )
    return response


class IsvCallbackMiddleware:
    """Serves the views of `isv_callback` without the middleware below it in MIDDLEWARE.

    A callback is authenticated by its token alone: it needs no session, user, language,
    messages, CSRF check nor the brand of a session, and serving it without them saves
    their cost on every callback (issue 10, benchmark 1). The middleware above (security
    headers, HTTPS redirect) still applies, and so does ALLOWED_HOSTS. Every other request
    passes through: `/JDCloud/master/verify` (free login opens a session), and a request
    that carries a session cookie, which comes from a browser, not from JD Cloud, and is
    treated like any browser's (a preview session is refused writes before any view).
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if (
            request.path_info.startswith(ISV_PATH_PREFIX)
            and settings.SESSION_COOKIE_NAME not in request.COOKIES
        ):
            try:
                match = resolve(request.path_info, getattr(request, "urlconf", None))
            except Resolver404:
                match = None
            if match is not None and getattr(match.func, "isv_callback", False):
                request.get_host()  # refuses a Host outside ALLOWED_HOSTS (DisallowedHost)
                request.resolver_match = match
                return match.func(request, *match.args, **match.kwargs)
        return self.get_response(request)


def _raw(request: HttpRequest) -> str:
    """The start of a body that could not be read as parameters, for the log; a token in
    it is masked like in parsed bodies."""
    try:
        text = request.body[:2000].decode("utf-8", "replace")
    except Exception:  # the body may already be consumed, unreadable or over Django's limit
        return ""
    return _RAW_TOKEN.sub(r'\1"***"', text)
