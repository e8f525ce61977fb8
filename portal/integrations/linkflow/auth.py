"""The Linkflow access token (spec: 通过App Key和App Secret获取Access Token).

`GET /token` with `X-OpenApi-Key` / `X-OpenApi-Secret` answers `{token, expiration}`
("yyyy-MM-dd HH:mm:ss", China time). One token per App Key is cached until shortly before
it expires; when many calls race for a new one, one of them asks and the others wait.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

CHINA = timezone(timedelta(hours=8))
RENEW_BEFORE_SECONDS = 120


@dataclass(frozen=True)
class AccessToken:
    token: str
    expires_at: float  # epoch seconds

    def fresh(self, now: float) -> bool:
        return now < self.expires_at - RENEW_BEFORE_SECONDS


def parse_expiration(text: str) -> float:
    """'2017-09-04 09:30:23' (China time) → epoch seconds."""
    moment = datetime.strptime(text.strip(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA)
    return moment.timestamp()


class TokenCache:
    """Process-wide tokens keyed by App Key; `fetch(app_key)` asks Linkflow for a new one."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._tokens: dict[str, AccessToken] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._clock = clock

    def _lock(self, app_key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(app_key, threading.Lock())

    def get(self, app_key: str, fetch: Callable[[], AccessToken]) -> str:
        token = self._tokens.get(app_key)
        if token is not None and token.fresh(self._clock()):
            return token.token
        with self._lock(app_key):
            token = self._tokens.get(app_key)  # another caller may have renewed it meanwhile
            if token is None or not token.fresh(self._clock()):
                token = fetch()
                self._tokens[app_key] = token
            return token.token

    def invalidate(self, app_key: str, token: str) -> None:
        """Forget `token` (a 401 said it is no longer valid), unless already replaced."""
        with self._lock(app_key):
            current = self._tokens.get(app_key)
            if current is not None and current.token == token:
                del self._tokens[app_key]


tokens = TokenCache()
