"""Linkflow failures, by what the caller should do about them.

- `LinkflowTransportError`: retry later (timeout, connection, 5xx / 429 without a B-code).
- `LinkflowRejected`: Linkflow refused the request (its `B…` codes); fix the request.
- `LinkflowInvalidRequest` / `LinkflowLimitExceeded`: refused here, before sending, because
  the spec does not allow it; names the field.
- `LinkflowUnexpectedResponse`: an answer the spec does not allow: a bug on one side.
"""

from __future__ import annotations

import re

from portal.integrations.pickling import PicklableError

# Every error code the spec documents, with its description (spec: "Error Code" tables).
# Used only to describe a refusal whose body carries no message, and by the tests.
DOCUMENTED_CODES: dict[str, str] = {
    "B00001": "群组已存在",
    "B00002": "必填参数为空",
    "B00008": "联系人或群组不存在",
    "B00010": "参数不合法",
    "B00022": "渠道不存在",
    "B00030": "page*size必须小于等于10000",
    "B00031": "列表超过最大数量",
    "B00037": "标签超过配额数",
    "B00043": "维度表不存在",
    "B00093": "超过最大页数",
    "B00157": "群组数量已达到上限",
    "B00159": "channelId不存在",
    "B01102": "群组名已存在",
    "B01151": "标签已经存在",
    "B01152": "任务计算状态不对,只有FINISH, ERROR, CALC_ERROR允许重新计算",
    "B01157": "key不符合tag_开头,只包含:小写字母、数字、下划线",
    "B01162": "标签不存在",
    "B01163": "文件大小超过100M",
    "B01165": "标签不是启用状态不可以进行重新计算",
    "B01201": "维度表无主键",
    "B01205": "数据结点不包含主键列",
    "B01206": "上传数量超过限制",
    "B01376": "身份不存在",
    "B01402": "解绑后联系人身份数量小于1",
    "B01403": "身份类型不存在",
    "B01404": "身份类型不可解绑",
    "B01405": "身份值不存在",
}

_B_CODE = re.compile(r"B_?(\d+)")


def normalize_code(code: str) -> str:
    """`B_01162` (the spelling of 删除用户标签元数据) → `B01162`, as everywhere else."""
    match = _B_CODE.fullmatch(code.strip())
    return f"B{match.group(1)}" if match else code.strip()


class LinkflowError(PicklableError):
    retryable = False

    def __init__(self, message: str, *, endpoint: str) -> None:
        super().__init__(message)
        self.endpoint = endpoint


class LinkflowTransportError(LinkflowError):
    """Timeout, connection failure, or a 5xx / 429 without Linkflow's error body."""

    retryable = True


class LinkflowRejected(LinkflowError):
    """Linkflow answered with its error body `{"code": "B000xx", "message": ...}` (it uses
    HTTP 400, 404, 412, 420 and 500 for these: a B-code 500 is a refusal, not an outage), or
    a 4xx. Carries the code and message; never retried blindly."""

    def __init__(self, *, code: str, message: str, endpoint: str, http_status: int) -> None:
        super().__init__(f"Linkflow {endpoint} refused: [{code}] {message}", endpoint=endpoint)
        self.code = code
        self.message = message
        self.http_status = http_status


class LinkflowInvalidRequest(LinkflowError):
    """A request the spec does not allow (a missing field, a value outside its enumeration),
    refused before sending. `field` is the spec's name of the offending field."""

    def __init__(self, message: str, *, endpoint: str, field: str = "") -> None:
        super().__init__(f"{field}: {message}" if field else message, endpoint=endpoint)
        self.field = field


class LinkflowLimitExceeded(LinkflowInvalidRequest):
    """A documented limit checked before sending (page × size ≤ 10000, ≤ 100 ids, …)."""


class LinkflowUnexpectedResponse(LinkflowError):
    """A 2xx answer whose shape the spec does not allow."""


class LinkflowTagExportFailed(LinkflowError):
    """The tag export task ended in ERROR (spec: 获取用户标签值文件下载地址)."""

    def __init__(self, *, task_id: int, status: str, error_msg: str, endpoint: str) -> None:
        super().__init__(
            f"Linkflow tag export {task_id} ended in {status}: {error_msg}", endpoint=endpoint
        )
        self.task_id = task_id
        self.status = status
        self.error_msg = error_msg


class LinkflowTagExportTimeout(LinkflowError):
    """The tag export task was still running when we stopped waiting; ask again later."""

    retryable = True

    def __init__(self, *, task_id: int, status: str, waited: float, endpoint: str) -> None:
        super().__init__(
            f"Linkflow tag export {task_id} still {status or 'pending'} after {waited:.0f}s",
            endpoint=endpoint,
        )
        self.task_id = task_id
        self.status = status
        self.waited = waited
