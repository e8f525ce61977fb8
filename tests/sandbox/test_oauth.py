"""JD Cloud OAuth 2.0 joint login, as the sandbox mimics it."""

import base64
import hashlib
import hmac
import json
import os
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.testclient import TestClient

from sandbox.app import create_app
from sandbox.settings import SandboxSettings

CLIENT_ID = os.environ.get("JDCLOUD_OAUTH_CLIENT_ID", "sandbox-client")
SECRET = os.environ.get("JDCLOUD_OAUTH_CLIENT_SECRET", "sandbox-client-secret")
REDIRECT = "http://127.0.0.1:8000/accounts/jdcloud/callback/"
VERIFIER = "dBjftJeZ4CK-P-SANDBOX-verifier-0123456789abcdefXYZ"
CHALLENGE = (
    base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=").decode()
)


def authorize_query(**overrides) -> dict:
    query = {
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "state": "xyz",
        "scope": "openid",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
        "nonce": "n-1",
    }
    return {k: v for k, v in {**query, **overrides}.items() if v is not None}


def log_in(client, pin: str = "jiangkun", **overrides) -> dict:
    response = client.post(
        "/oauth2/authorize",
        params=authorize_query(**overrides),
        data={"pin": pin},
        follow_redirects=False,
    )
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def exchange(client, code: str, *, basic: bool = True, **extra) -> object:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": VERIFIER,
        **extra,
    }
    if basic:
        return client.post("/oauth2/token", data=form, auth=(CLIENT_ID, SECRET))
    return client.post(
        "/oauth2/token", data={**form, "client_id": CLIENT_ID, "client_secret": SECRET}
    )


def decode_jwt(token: str) -> dict:
    header, payload, signature = token.split(".")
    expected = hmac.new(SECRET.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    assert base64.urlsafe_b64encode(expected).rstrip(b"=").decode() == signature
    assert json.loads(base64.urlsafe_b64decode(header + "==")) == {"alg": "HS256", "typ": "JWT"}
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_the_authorize_page_lists_every_brand_pin(client):
    page = client.get("/oauth2/authorize", params=authorize_query())

    assert page.status_code == 200
    for pin in ("demo_brand_pin", "jiangkun", "other_brand_pin"):
        assert f"value='{pin}'" in page.text
    assert "name='pin' required" in page.text


@pytest.mark.parametrize("basic", [True, False], ids=["client_secret_basic", "client_secret_post"])
def test_code_flow_with_pkce_and_userinfo(client, basic):
    callback = log_in(client)

    response = exchange(client, callback["code"], basic=basic)
    tokens = response.json()
    userinfo = client.get(
        "/oauth2/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )

    assert callback["state"] == "xyz"
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] > 0 and tokens["refresh_token"]
    claims = decode_jwt(tokens["id_token"])
    assert claims["aud"] == CLIENT_ID and claims["sub"] == "jiangkun" and claims["nonce"] == "n-1"
    assert claims["exp"] > claims["iat"] == 1767578400 and len(claims["openid"]) == 32
    assert claims["iss"] == "http://testserver"
    assert userinfo.json() == {"account": "jiangkun", "name": "测试品牌商-jiangkun", "type": "sub"}


def test_userinfo_types(client):
    def account(pin: str) -> dict:
        tokens = exchange(client, log_in(client, pin)["code"]).json()
        return client.get(
            "/oauth2/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        ).json()

    assert account("demo_brand_pin")["type"] == "root"
    assert account("someone_new") == {
        "account": "someone_new",
        "name": "someone_new",
        "type": "root",
    }


def test_a_code_is_single_use_and_its_replay_revokes_the_tokens(client):
    code = log_in(client)["code"]
    tokens = exchange(client, code).json()

    replay = exchange(client, code)
    userinfo = client.get(
        "/oauth2/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )

    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert userinfo.status_code == 401


def test_a_code_expires_after_five_minutes(client, advance):
    code = log_in(client)["code"]
    advance(300)

    assert exchange(client, code).json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    "extra",
    [{"code_verifier": "wrong"}, {"code_verifier": ""}, {"redirect_uri": "http://127.0.0.1/x"}],
)
def test_pkce_and_redirect_uri_are_checked(client, extra):
    response = exchange(client, log_in(client)["code"], **extra)

    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_plain_pkce_and_no_pkce(client):
    plain = log_in(client, code_challenge="plain-verifier", code_challenge_method="plain")
    none = log_in(client, code_challenge=None, code_challenge_method=None)

    assert exchange(client, plain["code"], code_verifier="plain-verifier").status_code == 200
    assert exchange(client, none["code"], code_verifier=None).status_code == 200


def test_client_authentication_is_required(client):
    code = log_in(client)["code"]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": VERIFIER,
    }

    wrong = client.post("/oauth2/token", data=form, auth=(CLIENT_ID, "nope"))
    missing = client.post("/oauth2/token", data=form)

    assert wrong.status_code == missing.status_code == 401
    assert wrong.json()["error"] == "invalid_client"
    assert "Basic" in wrong.headers["www-authenticate"]


def test_refresh_token_grant(client):
    tokens = exchange(client, log_in(client)["code"]).json()

    refreshed = client.post(
        "/oauth2/token",
        auth=(CLIENT_ID, SECRET),
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
    ).json()
    bad = client.post(
        "/oauth2/token",
        auth=(CLIENT_ID, SECRET),
        data={"grant_type": "refresh_token", "refresh_token": "nope"},
    )
    unsupported = client.post(
        "/oauth2/token", auth=(CLIENT_ID, SECRET), data={"grant_type": "password"}
    )

    assert refreshed["access_token"] != tokens["access_token"]
    assert (
        client.get(
            "/oauth2/userinfo", headers={"Authorization": f"Bearer {refreshed['access_token']}"}
        ).json()["account"]
        == "jiangkun"
    )
    assert bad.json()["error"] == "invalid_grant"
    assert unsupported.json()["error"] == "unsupported_grant_type"


def test_bad_client_or_redirect_uri_render_an_error_page(client):
    bad_client = client.get(
        "/oauth2/authorize", params=authorize_query(client_id="x"), follow_redirects=False
    )
    bad_redirect = client.get(
        "/oauth2/authorize",
        params=authorize_query(redirect_uri="https://evil.example/cb"),
        follow_redirects=False,
    )

    assert bad_client.status_code == bad_redirect.status_code == 400
    assert "client_id" in bad_client.text and "redirect_uri" in bad_redirect.text
    assert "location" not in bad_redirect.headers


@pytest.mark.parametrize(
    ("override", "error"),
    [
        ({"state": None}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"code_challenge_method": "S512"}, "invalid_request"),
        ({"scope": "openid email"}, "invalid_scope"),
    ],
)
def test_other_errors_redirect_back(client, override, error):
    response = client.get(
        "/oauth2/authorize", params=authorize_query(**override), follow_redirects=False
    )

    assert response.status_code == 302
    assert parse_qs(urlsplit(response.headers["location"]).query)["error"] == [error]


def test_registered_redirect_uris_and_loopback_switch():
    settings = SandboxSettings.from_env(
        {
            "SANDBOX_OAUTH_REDIRECT_URIS": "https://portal.example/cb",
            "SANDBOX_OAUTH_ALLOW_LOOPBACK": "false",
            "JDCLOUD_OAUTH_CLIENT_ID": CLIENT_ID,
        }
    )
    client = TestClient(create_app(settings))

    registered = client.get(
        "/oauth2/authorize", params=authorize_query(redirect_uri="https://portal.example/cb")
    )
    loopback = client.get("/oauth2/authorize", params=authorize_query())

    assert registered.status_code == 200
    assert loopback.status_code == 400


def test_userinfo_rejects_bad_tokens(client):
    assert client.get("/oauth2/userinfo").status_code == 401
    response = client.get("/oauth2/userinfo", headers={"Authorization": "Bearer nope"})

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
