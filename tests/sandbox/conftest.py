"""An in-process sandbox per test: seed 42, manual clock at a fixed start."""

from __future__ import annotations

import json

import pytest
from starlette.testclient import TestClient

from sandbox.app import create_app
from sandbox.state import DEMO_BRAND_ID, OTHER_BRAND_ID
from tests.sandbox.jd_client import JdClient

START = "2026-01-05T10:00:00+08:00"
DEMO = DEMO_BRAND_ID
OTHER = OTHER_BRAND_ID


@pytest.fixture
def app():
    return create_app()


@pytest.fixture
def client(app) -> TestClient:
    client = TestClient(app)
    response = client.post("/_control/reset", json={"seed": 42, "clock": "manual", "start": START})
    assert response.status_code == 200, response.text
    return client


@pytest.fixture
def jd(client) -> JdClient:
    return JdClient(client)


@pytest.fixture
def advance(client):
    def move(seconds: float) -> dict:
        return client.post("/_control/clock/advance", json={"seconds": seconds}).json()

    return move


def tag_condition(value: str = "TAG_001_02", tag: str = "TAG_001", group: str = "001") -> str:
    """A one-tag condition; different values give different (deterministic) sizes."""
    return json.dumps(
        {
            "bool": {
                "must": [{"bool": {"group": group, "must": [{"term": {tag: {"value": value}}}]}}]
            }
        }
    )


@pytest.fixture
def make_crowd(jd):
    def make(
        condition: str | None = None,
        *,
        package_type: int = 1,
        master_id: str = DEMO,
        name: str = "测试人群对象名称",
    ) -> str:
        data = jd.ok_post(
            "/crowd/create/v2",
            {
                "data_type": "1",
                "crowd_name": name,
                "crowd_desc": "测试人群对象描述",
                "master_id": master_id,
                "crowd_type": "1",
                "package_type": package_type,
                "condition": condition or tag_condition(),
            },
        )
        return data["search_id"]

    return make


@pytest.fixture
def make_package(jd, make_crowd, advance):
    """A generated package (the clock is advanced past the generation time)."""

    def make(condition: str | None = None, **crowd) -> str:
        search_id = make_crowd(condition, **crowd)
        package_id = jd.ok_post("/crowd/init", {"search_id": search_id})["package_id"]
        advance(20)
        return package_id

    return make


@pytest.fixture
def size_of(jd):
    def size(package_id: str) -> int:
        return int(jd.ok_get(f"/crowd/instance/status/{package_id}")["package_size"])

    return size
