"""Signed calls to the sandbox's `/jdcloud` API from an in-process TestClient, signed the
way JD's SDKs sign (service "simpleclient", region "jdcloud-api")."""

from __future__ import annotations

import json
import os
from urllib.parse import urlencode

import httpx
from starlette.testclient import TestClient

from portal.integrations.jdcloud.signing import JDCLOUD2, Credentials, sign

BASE_URL = "http://testserver/jdcloud"


def env_credentials() -> Credentials:
    return Credentials(
        os.environ.get("JDCLOUD_ACCESS_KEY", "sandbox-access-key"),
        os.environ.get("JDCLOUD_SECRET_KEY", "sandbox-secret-key"),
    )


class JdClient:
    def __init__(
        self, client: TestClient, credentials: Credentials | None = None, algorithm: str = JDCLOUD2
    ):
        self.client = client
        self.credentials = credentials or env_credentials()
        self.algorithm = algorithm

    def request(
        self,
        method: str,
        path: str,
        *,
        body: object = None,
        params: dict | None = None,
        credentials: Credentials | None = None,
        nonce: str | None = None,
        algorithm: str | None = None,
    ) -> httpx.Response:
        url = BASE_URL + path + (f"?{urlencode(params)}" if params else "")
        content = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json; charset=UTF-8"} if method == "POST" else {}
        signature = sign(
            method=method,
            url=url,
            headers=headers,
            body=content,
            credentials=credentials or self.credentials,
            service="simpleclient",
            region="jdcloud-api",
            algorithm=algorithm or self.algorithm,
            nonce=nonce,
        )
        return self.client.request(method, url, content=content, headers=signature.headers)

    def post(self, path: str, body: object, **kwargs) -> dict:
        return self.request("POST", path, body=body, **kwargs).json()

    def get(self, path: str, **params) -> dict:
        return self.request("GET", path, params=params or None).json()

    def ok_post(self, path: str, body: object) -> object:
        return expect_ok(self.post(path, body))

    def ok_get(self, path: str, **params) -> object:
        return expect_ok(self.get(path, **params))


def expect_ok(envelope: dict) -> object:
    assert str(envelope.get("code", envelope.get("result"))) == "0", envelope
    return envelope["data"]


def expect_error(envelope: dict, code: str = "400", *fragments: str) -> str:
    assert envelope["code"] == code, envelope
    assert envelope["data"] is None
    for fragment in fragments:
        assert fragment in envelope["msg"], envelope["msg"]
    return envelope["msg"]
