"""Linkflow failures, by what the caller should do about them."""

from __future__ import annotations


class LinkflowError(Exception):
    retryable = False

    def __init__(self, message: str, *, endpoint: str) -> None:
        super().__init__(message)
        self.endpoint = endpoint


class LinkflowTransportError(LinkflowError):
    """Timeout, connection failure, or a 5xx / 429 without Linkflow's error body."""

    retryable = True


class LinkflowRejected(LinkflowError):
    """Linkflow answered with its error body `{"code": "B000xx", "message": ...}` (it uses
    HTTP 400, 404, 420 and 500 for these: a B-code 500 is a refusal, not an outage), or a
    4xx. Carries the code and message; never retried blindly."""

    def __init__(self, *, code: str, message: str, endpoint: str, http_status: int) -> None:
        super().__init__(f"Linkflow {endpoint} refused: [{code}] {message}", endpoint=endpoint)
        self.code = code
        self.message = message
        self.http_status = http_status


class LinkflowLimitExceeded(LinkflowError):
    """A documented limit checked before sending (page × size ≤ 10000, ≤ 100 ids, …)."""
