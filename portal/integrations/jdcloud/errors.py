"""What can go wrong talking to JD Cloud, by what the caller should do about it."""

from __future__ import annotations


class JDCloudError(Exception):
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


class JDCloudUnexpectedResponse(JDCloudError):
    """An answer the spec does not allow (not JSON, no `code`, wrong shape): a bug on one
    side or the other; never retried."""
