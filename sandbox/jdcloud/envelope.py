"""The `{code, msg, data}` envelope and request parameters of JD Cloud's API.

Spec "京东云提供接口通用申明 / API应答": `code` 0 = success, anything else a failure with
`msg` and `data` null; JD answers failures with HTTP 200. The spec's own examples send
success `code` sometimes as the string "0" and sometimes as the number 0; each endpoint
answers the way its example does (`CODE_STR` / `CODE_INT`), so a client must accept both.
Failures always carry a string code: "400" invalid parameter, "404" no such object (or
another brand's: the same answer), "409" an object in the wrong state (not generated yet,
already reached...), "500" sandbox bug.

Parameters: GET reads the query string, POST a JSON object body (keys stripped of
surrounding blanks: the spec's `/activity/create` example sends "start_type_remark ").
Scalars are coerced as JD's Java (Jackson) backend does: 1 and "1" are both a String "1",
"2" is an int 2; objects and arrays are never scalars.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from functools import wraps

from starlette.requests import Request
from starlette.responses import JSONResponse

from sandbox.clock import parse_date, parse_datetime
from sandbox.conditions import ConditionError, load_json_string
from sandbox.state import Brand, Instance, SandboxState

JSON_UTF8 = "application/json; charset=UTF-8"
logger = logging.getLogger("sandbox.jdcloud")


class ApiError(Exception):
    def __init__(self, msg: str, code: str = "400"):
        super().__init__(msg)
        self.msg, self.code = msg, code


def not_found(what: str, value: object) -> ApiError:
    return ApiError(f"{what}不存在:{value}", "404")


def conflict(msg: str) -> ApiError:
    return ApiError(msg, "409")


def code_envelope(code: object, data: object) -> dict:
    return {"code": code, "msg": "success", "data": data}


def error_envelope(code: str, msg: str) -> dict:
    return {"code": code, "msg": msg, "data": None}


# Renderers: (success data) -> body, (code, msg) -> body.
CODE_INT = (lambda data: code_envelope(0, data), error_envelope)
CODE_STR = (lambda data: code_envelope("0", data), error_envelope)
# Spec "长链接转换成短链接": this one answers `result`, not `code`.
RESULT_KEY = (
    lambda data: {"result": "0", "msg": "success", "data": data},
    lambda code, msg: {"result": code, "msg": msg, "data": None},
)
# Spec "创建微信活动": `{"code":0,"data":2783,"success":true}`, no msg.
WX_CREATE = (
    lambda data: {"code": 0, "data": data, "success": True},
    lambda code, msg: {"code": code, "msg": msg, "data": None, "success": False},
)


def json_response(body: dict, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=JSON_UTF8)


class Params:
    """Typed access to one request's parameters; every failure names the field."""

    def __init__(self, values: Mapping[str, object]):
        self.values = dict(values)

    def present(self, name: str) -> bool:
        return self.values.get(name) not in (None, "")

    def first_present(self, *names: str) -> str:
        """The first of several accepted spellings that was sent (spec example vs table)."""
        return next((name for name in names if self.present(name)), names[0])

    def _missing(self, name: str) -> ApiError:
        return ApiError(f"缺少必填参数{name}")

    def text(self, name: str, *, required: bool = True, max_length: int | None = None):
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise self._missing(name)
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ApiError(f"参数{name}必须是字符串")
        text = value if isinstance(value, str) else str(value)
        if not text.strip():
            if required:
                raise self._missing(name)
            return None
        if max_length is not None and len(text) > max_length:
            raise ApiError(f"参数{name}长度不能超过{max_length}个字符")
        return text

    def integer(
        self,
        name: str,
        *,
        required: bool = True,
        default: int | None = None,
        minimum: int | None = None,
        maximum: int | None = None,
    ):
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise self._missing(name)
            return default
        if isinstance(value, bool) or isinstance(value, float) and not value.is_integer():
            raise ApiError(f"参数{name}必须是整数")
        try:
            number = int(value) if not isinstance(value, str) else int(value.strip())
        except (TypeError, ValueError):
            raise ApiError(f"参数{name}必须是整数,收到{value!r}") from None
        if minimum is not None and number < minimum:
            raise ApiError(f"参数{name}不能小于{minimum},收到{number}")
        if maximum is not None and number > maximum:
            raise ApiError(f"参数{name}不能大于{maximum},收到{number}")
        return number

    def choice(
        self,
        name: str,
        choices: Sequence[str],
        *,
        required: bool = True,
        default: str | None = None,
    ):
        value = self.text(name, required=required)
        if value is None:
            return default
        if value not in choices:
            raise ApiError(f"参数{name}取值错误:{value!r},可选值为{'/'.join(choices)}")
        return value

    def int_choice(self, name: str, choices: Sequence[int], *, required: bool = True):
        value = self.integer(name, required=required)
        if value is not None and value not in choices:
            allowed = "/".join(str(choice) for choice in choices)
            raise ApiError(f"参数{name}取值错误:{value},可选值为{allowed}")
        return value

    def moment(self, name: str, *, required: bool = True) -> datetime | None:
        value = self.text(name, required=required)
        if value is None:
            return None
        try:
            return parse_datetime(value)
        except ValueError:
            raise ApiError(f"参数{name}格式错误:{value!r},应为yyyy-MM-dd HH:mm:ss") from None

    def day(self, name: str, *, required: bool = True) -> date | None:
        value = self.text(name, required=required)
        if value is None:
            return None
        try:
            return parse_date(value)
        except ValueError:
            raise ApiError(f"参数{name}格式错误:{value!r},应为yyyy-MM-dd") from None

    def json_text(self, name: str) -> object:
        if not self.present(name):
            raise self._missing(name)
        try:
            return load_json_string(self.values[name], name)
        except ConditionError as exc:
            raise ApiError(str(exc)) from None

    def array(self, name: str, *, required: bool = True) -> list | None:
        value = self.values.get(name)
        if value is None:
            if required:
                raise self._missing(name)
            return None
        if not isinstance(value, list):
            raise ApiError(f"参数{name}必须是数组")
        if required and not value:
            raise ApiError(f"参数{name}不能为空数组")
        return value

    def mapping(self, name: str, *, required: bool = True) -> dict | None:
        value = self.values.get(name)
        if value is None:
            if required:
                raise self._missing(name)
            return None
        if not isinstance(value, dict):
            raise ApiError(f"参数{name}必须是JSON对象")
        return value


async def read_params(request: Request) -> Params:
    values: dict[str, object] = {}
    if request.method == "GET":
        values.update(request.query_params)
    else:
        body = await request.body()
        if body.strip():
            try:
                parsed = json.loads(body)
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise ApiError("请求体不是合法的JSON(Content-Type应为application/json)") from None
            if not isinstance(parsed, dict):
                raise ApiError("请求体必须是JSON对象")
            values.update({str(key).strip(): value for key, value in parsed.items()})
    values.update(request.path_params)
    return Params(values)


Handler = Callable[[SandboxState, Params], object]


def endpoint(renderer=CODE_INT):
    """Wrap a synchronous handler `(state, params) -> data`: parse, lock, envelope."""
    render_ok, render_error = renderer

    def decorate(handler: Handler):
        @wraps(handler)
        async def view(request: Request) -> JSONResponse:
            state: SandboxState = request.app.state.sandbox
            try:
                params = await read_params(request)
                async with state.lock:
                    data = handler(state, params)
            except ApiError as exc:
                return json_response(render_error(exc.code, exc.msg))
            except Exception:  # a sandbox bug must still look like JD's envelope
                logger.exception("sandbox handler %s failed", handler.__name__)
                return json_response(render_error("500", "系统内部错误(sandbox)"))
            return json_response(render_ok(data))

        return view

    return decorate


# -- lookups shared by the endpoint modules ------------------------------------------


def brand_of(state: SandboxState, params: Params) -> Brand:
    master_id = params.text("master_id")
    brand = state.brands.get(master_id)
    if brand is None:
        raise not_found("品牌商master_id", master_id)
    return brand


def instance_of(
    state: SandboxState, package_id: str | None, brand: Brand | None = None
) -> Instance:
    """Another brand's package is answered exactly like a missing one."""
    instance = state.instances.get(package_id or "")
    if instance is None or brand is not None and instance.master_id != brand.master_id:
        raise not_found("人群对象实例package_id", package_id)
    return instance


def generated_instance(
    state: SandboxState, package_id: str | None, brand: Brand | None = None
) -> Instance:
    instance = instance_of(state, package_id, brand)
    status = instance.status(state.now())
    if status != "2":
        what = "生成中" if status == "0" else "生成失败"
        raise conflict(f"人群对象实例{package_id}{what},只能使用生成成功(status=2)的实例")
    return instance


def page_of(items: list, params: Params) -> dict:
    """The page envelope of `/crowd/list`, `/sms/recharge`, `/sms/consume`."""
    page_num = params.integer("page_num", required=False, default=1, minimum=1)
    page_size = params.integer("page_size", required=False, default=10, minimum=1, maximum=1000)
    total = len(items)
    start = (page_num - 1) * page_size
    return {
        "total": total,
        "pages": (total + page_size - 1) // page_size,
        "page_num": page_num,
        "page_size": page_size,
        "order_by": None,
        "result": items[start : start + page_size],
    }
