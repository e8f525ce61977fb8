"""What can go wrong talking to JD Cloud, by what the caller should do about it."""

from __future__ import annotations

from portal.integrations.pickling import PicklableError

# Spec 001 (京东云提供接口通用申明 / API应答) defines `code` only as "0=调用成功,非0=调用失败"
# and publishes no table of failure codes. We read them as HTTP-like numbers, as the sandbox
# answers (400 bad parameter, 404 no such object, 409 wrong state, 500 系统繁忙, 503
# 系统升级中,请稍后再试): the server family, 408 (timeout) and 429 (rate limit) mean "not
# now, try later"; every other code "not this request".
TRANSIENT_CODES = frozenset({"408", "429", "500", "502", "503", "504"})
# A busy JD that answers with some other code still says so in `msg`.
TRANSIENT_WORDING = (
    "系统繁忙",
    "服务繁忙",
    "系统异常",
    "系统升级",
    "请稍后再试",
    "请稍后重试",
    "请求过于频繁",
    "限流",
)


class JDCloudError(PicklableError):
    """Base of every JD Cloud failure; `endpoint` is the spec's path."""

    retryable = False

    def __init__(self, message: str, *, endpoint: str) -> None:
        super().__init__(message)
        self.endpoint = endpoint


class JDCloudTransportError(JDCloudError):
    """Timeout, connection failure, HTTP 5xx or 429: the request may not have arrived,
    or JD could not answer. Retry later (reads are retried automatically)."""

    retryable = True

    def __init__(self, message: str, *, endpoint: str, http_status: int | None = None) -> None:
        super().__init__(message, endpoint=endpoint)
        self.http_status = http_status


class JDCloudRejected(JDCloudError):
    """JD answered and said no: `code` ≠ 0 in the envelope, a non-success `status` in
    `data`, or the gateway refused the request (HTTP 4xx). Show `msg`; don't retry blindly."""

    def __init__(self, *, code: str, msg: str, endpoint: str, http_status: int = 200) -> None:
        super().__init__(
            f"JD Cloud {endpoint} rejected the request: [{code}] {msg}", endpoint=endpoint
        )
        self.code = code
        self.msg = msg
        self.http_status = http_status


class JDBusy(JDCloudRejected):
    """JD answered, but with its own trouble (busy, system error, upgrading, rate limit,
    timeout), not a fault of the request: the same request may succeed later. A rejection
    still (JD answered, with `code` and `msg`), so existing handlers keep catching it;
    `retryable` tells tasks and the API to try again later. The client itself does not
    retry it: the caller picks the delay a busy system needs."""

    retryable = True


class JDCloudUnexpectedResponse(JDCloudError):
    """An answer the spec does not allow (not JSON, no `code`, wrong shape): a bug on one
    side or the other; never retried."""


# What a task may retry later with backoff (STYLE.md §4: Celery retries only these).
RETRY_LATER = (JDCloudTransportError, JDBusy)


def is_transient(code: str, msg: str = "") -> bool:
    """Whether JD's failure `code` / `msg` says "not now" rather than "not this"."""
    return str(code).strip() in TRANSIENT_CODES or any(w in (msg or "") for w in TRANSIENT_WORDING)


def rejection(*, code: str, msg: str, endpoint: str, http_status: int = 200) -> JDCloudRejected:
    """JD's refusal as the class that says what to do about it."""
    kind = JDBusy if is_transient(code, msg) else JDCloudRejected
    return kind(code=code, msg=msg, endpoint=endpoint, http_status=http_status)
