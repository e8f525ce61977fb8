"""JD Cloud OAuth 2.0 joint login (京东云联合登录) through Authlib's Django client.

Authorization code with `state` and PKCE (S256); endpoints and client authentication from
the `JDCLOUD_OAUTH_*` settings, read on every use so a changed setting needs no restart.
"""

from __future__ import annotations

from authlib.integrations.django_client import OAuth
from django.conf import settings


def jdcloud_oauth_client():
    registry = OAuth()
    registry.register(
        name="jdcloud",
        client_id=settings.JDCLOUD_OAUTH_CLIENT_ID,
        client_secret=settings.JDCLOUD_OAUTH_CLIENT_SECRET,
        authorize_url=settings.JDCLOUD_OAUTH_AUTHORIZE_URL,
        access_token_url=settings.JDCLOUD_OAUTH_TOKEN_URL,
        userinfo_endpoint=settings.JDCLOUD_OAUTH_USERINFO_URL,
        client_kwargs={
            **({"scope": settings.JDCLOUD_OAUTH_SCOPE} if settings.JDCLOUD_OAUTH_SCOPE else {}),
            "code_challenge_method": "S256",
            "token_endpoint_auth_method": settings.JDCLOUD_OAUTH_TOKEN_AUTH_METHOD,
            "timeout": settings.JDCLOUD_TIMEOUT_SECONDS,
        },
    )
    return registry.create_client("jdcloud")
