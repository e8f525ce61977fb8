"""The sandbox's configuration, read from the environment once, when the app is created.

The names are the portal's own (`JDCLOUD_*`), so one `.env` configures both sides and the
pytest environment (`pyproject.toml`) reaches the sandbox built inside a test too. The
defaults are the `.env.example` sandbox values.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_LINKFLOW_APPS = "sandbox-linkflow-key:sandbox-linkflow-secret"


def parse_linkflow_apps(text: str | None) -> tuple[tuple[str, str], ...]:
    """`SANDBOX_LINKFLOW_APPS`: "key:secret,key2:secret2" (malformed pairs are skipped)."""
    apps = []
    for pair in (text or DEFAULT_LINKFLOW_APPS).split(","):
        key, sep, secret = pair.strip().partition(":")
        if key and sep and secret:
            apps.append((key, secret))
    return tuple(apps)


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() not in {"0", "false", "no", "off"}


@dataclass(frozen=True)
class SandboxSettings:
    access_key: str = "sandbox-access-key"
    secret_key: str = "sandbox-secret-key"  # noqa: S105 - the sandbox default
    partner_id: str = "sandbox-partner"
    isv_key: str = "SandboxIsvKey0123456789abcdefABC"
    portal_url: str = "http://127.0.0.1:8000"
    oauth_client_id: str = "sandbox-client"
    oauth_client_secret: str = "sandbox-client-secret"  # noqa: S105
    oauth_redirect_uris: tuple[str, ...] = ()
    oauth_allow_loopback: bool = True
    linkflow_apps: tuple[tuple[str, str], ...] = parse_linkflow_apps(None)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SandboxSettings:
        env = os.environ if environ is None else environ
        defaults = cls()

        def get(name: str, default: str) -> str:
            value = env.get(name, "")
            return value if value.strip() else default

        redirect_uris = tuple(
            uri.strip()
            for uri in env.get("SANDBOX_OAUTH_REDIRECT_URIS", "").split(",")
            if uri.strip()
        )
        return cls(
            access_key=get("JDCLOUD_ACCESS_KEY", defaults.access_key),
            secret_key=get("JDCLOUD_SECRET_KEY", defaults.secret_key),
            partner_id=get("JDCLOUD_PARTNER_ID", defaults.partner_id),
            isv_key=get("JDCLOUD_ISV_KEY", defaults.isv_key),
            # `make run` exports WEB_PORT; the portal then listens there.
            portal_url=get("PORTAL_URL", f"http://127.0.0.1:{get('WEB_PORT', '8000')}").rstrip("/"),
            oauth_client_id=get("JDCLOUD_OAUTH_CLIENT_ID", defaults.oauth_client_id),
            oauth_client_secret=get("JDCLOUD_OAUTH_CLIENT_SECRET", defaults.oauth_client_secret),
            oauth_redirect_uris=redirect_uris,
            oauth_allow_loopback=_flag(env.get("SANDBOX_OAUTH_ALLOW_LOOPBACK"), True),
            linkflow_apps=parse_linkflow_apps(env.get("SANDBOX_LINKFLOW_APPS")),
        )
