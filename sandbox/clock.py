"""Sandbox time: a clock that tests drive by hand, or real time optionally sped up.

Everything that "takes time" at JD Cloud (instances generating, SMS being sent, WeChat
activities moving through their states, OAuth codes expiring, reports appearing the next
day) is computed lazily from this clock when asked, so advancing it is all a test needs.
JD Cloud speaks China Standard Time ("yyyy-MM-dd HH:mm:ss" without zone), so does this.
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta, timezone

CST = timezone(timedelta(hours=8), "CST")
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
DATE_FORMAT = "%Y-%m-%d"


class Clock:
    """`manual`: time moves only by `advance`. `real`: start + real elapsed x speed."""

    def __init__(self, mode: str = "real", start: datetime | None = None, speed: float = 1.0):
        if mode not in ("manual", "real"):
            raise ValueError("clock must be 'manual' or 'real'")
        self.mode = mode
        self.speed = speed
        self._start = (start or datetime.now(CST)).astimezone(CST).replace(microsecond=0)
        self._real_started = time.monotonic()
        self._offset = 0.0

    def now(self) -> datetime:
        elapsed = self._offset
        if self.mode == "real":
            elapsed += (time.monotonic() - self._real_started) * self.speed
        return self._start + timedelta(seconds=elapsed)

    def advance(self, seconds: float) -> datetime:
        self._offset += seconds
        return self.now()

    def set_speed(self, speed: float) -> None:
        """Rebase first, so changing the speed never makes time jump."""
        self._start = self.now()
        self._real_started = time.monotonic()
        self._offset = 0.0
        self.speed = speed

    def describe(self) -> dict:
        now = self.now()
        return {
            "mode": self.mode,
            "now": now.isoformat(),
            "now_text": format_datetime(now),
            "epoch": int(now.timestamp()),
            "speed": self.speed,
        }


def format_datetime(moment: datetime) -> str:
    """China time as "yyyy-MM-dd HH:mm:ss" (isoformat: twice as fast as strftime, and
    Linkflow's 100,000-contact walks format two of these per contact)."""
    return moment.astimezone(CST).isoformat(sep=" ", timespec="seconds")[:19]


def format_date(day: date) -> str:
    return day.strftime(DATE_FORMAT)


def parse_datetime(text: str) -> datetime:
    """JD's "yyyy-MM-dd HH:mm:ss" in CST; strptime also takes the spec's unpadded
    "2019-7-18 17:13:00" (the WeChat example)."""
    return datetime.strptime(text.strip(), DATETIME_FORMAT).replace(tzinfo=CST)


def parse_date(text: str) -> date:
    return datetime.strptime(text.strip(), DATE_FORMAT).date()


def parse_iso(text: str) -> datetime:
    """Control API times: ISO 8601; without an offset they are CST."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=CST)
