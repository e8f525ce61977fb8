"""Fixtures of the crowds tests that talk to the sandbox."""

from __future__ import annotations

import httpx
import pytest
from django_scopes import scope, scopes_disabled

from crowds import services
from tests.crowds.sandboxed import SANDBOX_MASTER_ID


@pytest.fixture
def control(sandbox_url, settings):
    """The sandbox reset to seed 7 on a manual clock, with the portal pointed at it."""
    settings.JDCLOUD_API_BASE_URL = f"{sandbox_url}/jdcloud"
    client = httpx.Client(base_url=f"{sandbox_url}/_control", timeout=10)
    client.post("/reset", json={"seed": 7, "clock": "manual"}).raise_for_status()
    client.post("/config", json={"instance_generation_seconds": 60}).raise_for_status()
    yield client
    client.delete("/faults")
    client.close()


@pytest.fixture
def jd_brand(make_brand, control):
    """The sandbox's brand, in scope, with the tag catalog loaded."""
    brand = make_brand(master_id=SANDBOX_MASTER_ID, name="测试品牌商")
    with scopes_disabled():
        services.tag_catalog_refresh()
    with scope(brand=brand):
        yield brand
