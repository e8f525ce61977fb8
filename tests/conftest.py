"""Fixtures shared by the whole suite: brands with users, and child processes."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from brands.models import Brand, BrandUser
from tests.processes import free_port, start_process, wait_for_http


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
