"""Fixtures shared by the whole suite: brands with users, and child processes."""

from __future__ import annotations

import httpx
import pytest
from django.contrib.auth import get_user_model
from django_scopes import scope, scopes_disabled

from brands.models import Brand, BrandUser
from tests.processes import ROOT, free_port, start_process, wait_for_http


def pytest_sessionfinish(session, exitstatus):
    """Drop this run's files (test database, broker folder) under var/test/<run id>."""
    import os
    import shutil

    run_id = os.environ.get("PORTAL_RUN_ID")
    if run_id:
        shutil.rmtree(ROOT / "var" / "test" / run_id, ignore_errors=True)


@pytest.fixture
def make_brand(db):
    counter = iter(range(1, 10_000))

    def make(**fields) -> Brand:
        n = next(counter)
        defaults = {"master_id": f"master-{n:04d}", "name": f"品牌{n}", "shop_id": str(10_000 + n)}
        defaults.update(fields)
        return Brand.objects.create(**defaults)

    return make


@pytest.fixture
def make_brand_user(db):
    def make(brand: Brand, pin: str | None = None, password: str = "pw-Secret-123") -> BrandUser:
        pin = pin or f"pin_{brand.master_id}"
        user = get_user_model().objects.create_user(username=pin, password=password)
        return BrandUser.objects.create(user=user, brand=brand, pin=pin)

    return make


@pytest.fixture
def brand(make_brand) -> Brand:
    return make_brand(name="测试品牌商")


@pytest.fixture
def other_brand(make_brand) -> Brand:
    return make_brand(name="别家品牌")


@pytest.fixture
def brand_client(client, brand, make_brand_user):
    """A test client logged in as a user of `brand`."""
    client.force_login(make_brand_user(brand).user)
    return client


@pytest.fixture(scope="session")
def sandbox_url():
    """The sandbox, started as its own process on a free port for the session."""
    port = free_port()
    process = start_process(["-m", "sandbox", "--port", str(port)], name="sandbox")
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{url}/health", process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(autouse=True)
def _retries_without_waiting():
    """stamina's test mode: the configured attempts, no sleeping between them."""
    import stamina

    with stamina.set_testing(True, attempts=3):
        yield


@pytest.fixture
def control(sandbox_url, settings):
    """The sandbox's control API, reset to seed 7 on a manual clock, with the portal's
    JD Cloud and Linkflow clients pointed at the sandbox."""
    settings.JDCLOUD_API_BASE_URL = f"{sandbox_url}/jdcloud"
    settings.LINKFLOW_API_BASE_URL = f"{sandbox_url}/linkflow"
    client = httpx.Client(base_url=f"{sandbox_url}/_control", timeout=10)
    client.post("/reset", json={"seed": 7, "clock": "manual"}).raise_for_status()
    client.post("/config", json={"instance_generation_seconds": 60}).raise_for_status()
    yield client
    client.delete("/faults")
    client.close()


@pytest.fixture
def jd_brand(make_brand, control):
    """The sandbox's brand, in scope, with the tag catalog loaded."""
    from crowds import services
    from tests.crowds.sandboxed import SANDBOX_MASTER_ID

    brand = make_brand(master_id=SANDBOX_MASTER_ID, name="测试品牌商")
    with scopes_disabled():
        services.tag_catalog_refresh()
    with scope(brand=brand):
        yield brand


SANDBOX_LINKFLOW_KEY = "sandbox-linkflow-key"
SANDBOX_LINKFLOW_SECRET = "sandbox-linkflow-secret"


@pytest.fixture
def linkflow_brand(brand, control):
    """`brand`, connected to the sandbox's Linkflow workspace, in scope."""
    brand.linkflow_app_key = SANDBOX_LINKFLOW_KEY
    brand.linkflow_app_secret = SANDBOX_LINKFLOW_SECRET
    brand.linkflow_channel_key = "udc_portal"
    brand.save()
    with scope(brand=brand):
        yield brand
