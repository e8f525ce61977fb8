"""The Linkflow side of the running sandbox, for the client's real-HTTP tests.

`LinkflowSandbox.reset(control)` resets the sandbox (seed 7, manual clock) and gives:
- `client`: the portal's `LinkflowClient` on the portal's shared HTTP client (base URL and
  timeouts from settings), with a token cache of its own, so the journal counts exactly
  this test's `/token` requests;
- `model`: the seeded workspace of the default App Key, built in this process from the same
  seed and reset time: the sandbox generates its data from those two alone, so the model
  is what the sandbox holds until a test changes it;
- the journal (`/_control/requests`), the sandbox clock, timings and faults.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from django.conf import settings

from portal.integrations.http import shared_client
from portal.integrations.linkflow.auth import TokenCache
from portal.integrations.linkflow.client import LinkflowClient
from sandbox.linkflow.population import Contact
from sandbox.linkflow.state import LinkflowState, Workspace

KEY, SECRET = "sandbox-linkflow-key", "sandbox-linkflow-secret"
SEED = 7
PREFIX = "/linkflow"


def sandbox_client(
    *,
    cache: TokenCache | None = None,
    http: httpx.Client | None = None,
    app_secret: str = SECRET,
) -> LinkflowClient:
    """The client as the portal's factory makes it (shared HTTP client, settings), but with
    its own token cache and no call log."""
    return LinkflowClient(
        http=http
        or shared_client(
            "linkflow",
            base_url=settings.LINKFLOW_API_BASE_URL,
            timeout=settings.LINKFLOW_TIMEOUT_SECONDS,
            connect_timeout=settings.JDCLOUD_CONNECT_TIMEOUT_SECONDS,
        ),
        app_key=KEY,
        app_secret=app_secret,
        cache=cache or TokenCache(),
    )


@dataclass
class LinkflowSandbox:
    control: httpx.Client
    client: LinkflowClient
    model: Workspace
    born: datetime
    advanced: float = 0.0

    @classmethod
    def reset(cls, control: httpx.Client) -> LinkflowSandbox:
        control.post("/reset", json={"seed": SEED, "clock": "manual"}).raise_for_status()
        born = datetime.fromisoformat(control.get("/clock").json()["now"])
        model = LinkflowState(seed=SEED, born=born, apps={KEY: SECRET}).workspaces[KEY]
        (app,) = [a for a in control.get("/linkflow/apps").json()["apps"] if a["app_key"] == KEY]
        assert app["first_contact_id"] == model.first_id, "the model is not the sandbox's"
        return cls(control=control, client=sandbox_client(), model=model, born=born)

    # -- sandbox time ------------------------------------------------------------------
    @property
    def now(self) -> datetime:
        return self.born + timedelta(seconds=self.advanced)

    def epoch(self) -> float:
        """The sandbox clock as epoch seconds (a `TokenCache` clock that follows it)."""
        return self.now.timestamp()

    def advance(self, seconds: float) -> None:
        self.control.post("/clock/advance", json={"seconds": seconds}).raise_for_status()
        self.advanced += seconds

    # -- control -----------------------------------------------------------------------
    def configure(self, **values) -> dict:
        """Timings and sizes of `POST /_control/linkflow`."""
        response = self.control.post("/linkflow", json=values, timeout=60)
        response.raise_for_status()
        return response.json()

    def fault(self, path: str, kind: str, **spec) -> None:
        """A fault on a Linkflow endpoint, e.g. `fault("/open/groups", "http_error")`."""
        self.control.post(
            "/faults", json={"path": f"linkflow:{path}", "kind": kind, **spec}
        ).raise_for_status()

    def get(self, what: str, **params) -> dict:
        """`GET /_control/linkflow/{what}` for the default App Key."""
        response = self.control.get(f"/linkflow/{what}", params={"app_key": KEY, **params})
        response.raise_for_status()
        return response.json()

    def tag(self, tag_key: str) -> dict | None:
        return next((t for t in self.get("tags")["tags"] if t["tagKey"] == tag_key), None)

    # -- journal -----------------------------------------------------------------------
    def journal(self, endpoint: str | None = None, method: str | None = None) -> list[dict]:
        """Linkflow requests, oldest first; `endpoint` is the spec's path template
        ("/open/groups/{groupId}/contacts")."""
        params = {"endpoint": PREFIX + endpoint} if endpoint else {}
        entries = self.control.get("/requests", params=params).json()["requests"]
        return [
            entry
            for entry in entries
            if entry["path"].startswith(PREFIX + "/") and method in (None, entry["method"])
        ]

    def answers(self, endpoint: str, method: str | None = None) -> list[tuple[int, str | None]]:
        """(HTTP status, Linkflow code) of each request to `endpoint`, oldest first."""
        return [(e["status"], e["code"]) for e in self.journal(endpoint, method)]

    def clear_journal(self) -> None:
        self.control.delete("/requests").raise_for_status()

    def wait_for_journal(self, endpoint: str, count: int, timeout: float = 10.0) -> list[dict]:
        """A request the client gave up on (timeout) is journaled when the sandbox has
        finished it, so wait for it."""
        deadline = time.monotonic() + timeout
        while True:
            entries = self.journal(endpoint)
            if len(entries) >= count or time.monotonic() > deadline:
                return entries
            time.sleep(0.05)

    # -- the model ---------------------------------------------------------------------
    def contact(self, n: int) -> Contact:
        """The seeded contact `n` (0-based)."""
        found = self.model.contact(self.model.first_id + n)
        assert found is not None
        return found

    def find_contact(self, wanted: Callable[[Contact], bool], *, skip: int = 0) -> Contact:
        """The first seeded contact (after `skip` matches) that `wanted` accepts."""
        for contact_id in self.model.contact_ids():
            contact = self.model.contact(contact_id)
            if contact is not None and wanted(contact):
                if skip == 0:
                    return contact
                skip -= 1
        raise LookupError("no such contact in the seeded workspace")

    def group(self, name: str):
        found = self.model.group_by_name(name)
        assert found is not None
        return found


def has(*identity_types: str) -> Callable[[Contact], bool]:
    """A contact holding every one of `identity_types`."""
    return lambda contact: all(contact.first(t) is not None for t in identity_types)
