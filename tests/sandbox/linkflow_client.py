"""A thin Linkflow caller for the sandbox tests: gets a token, then sends raw requests."""

from __future__ import annotations

import httpx
from starlette.testclient import TestClient

KEY, SECRET = "sandbox-linkflow-key", "sandbox-linkflow-secret"
BASE = "/linkflow"


class Linkflow:
    def __init__(self, client: TestClient, token: str) -> None:
        self.client, self.token = client, token

    @classmethod
    def connect(cls, client: TestClient, key: str = KEY, secret: str = SECRET) -> Linkflow:
        response = client.get(
            f"{BASE}/token", headers={"X-OpenApi-Key": key, "X-OpenApi-Secret": secret}
        )
        assert response.status_code == 200, response.text
        return cls(client, response.json()["token"])

    def call(self, method: str, path: str, **kwargs) -> httpx.Response:
        headers = {"X-OpenApi-Token": self.token, **kwargs.pop("headers", {})}
        return self.client.request(method, f"{BASE}{path}", headers=headers, **kwargs)

    def ok(self, method: str, path: str, **kwargs):
        response = self.call(method, path, **kwargs)
        assert response.status_code == 200, response.text
        return response.json() if response.content else None


def assert_error(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code and body["message"], body
    return body
