"""The one way to make an HTTP client for a remote system (STYLE.md §3).

One `httpx.Client` per service and process (a forked Celery worker gets its own, never
its parent's pooled connections), explicit timeouts, our user agent, no redirects.
"""

from __future__ import annotations

import os
import threading

import httpx

USER_AGENT = "jd-brand-portal/0.1 httpx"

_clients: dict[tuple, httpx.Client] = {}
_lock = threading.Lock()


def shared_client(
    service: str,
    *,
    base_url: str,
    timeout: float,
    connect_timeout: float,
) -> httpx.Client:
    """The process-wide client for `service` at `base_url`."""
    key = (service, os.getpid(), base_url, timeout, connect_timeout)
    client = _clients.get(key)
    if client is None:
        with _lock:
            client = _clients.get(key)
            if client is None:
                client = httpx.Client(
                    base_url=base_url,
                    timeout=httpx.Timeout(timeout, connect=connect_timeout),
                    headers={"User-Agent": USER_AGENT},
                    follow_redirects=False,
                    limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
                )
                _clients[key] = client
    return client
