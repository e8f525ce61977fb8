"""Security suites of issue 9: forged ISV callbacks, open redirects and sessions, and the
tenant matrix. Each suite counts what it tried (tests/security/figures.py); the counts are
printed at the end of the run."""

from __future__ import annotations

from http.cookies import SimpleCookie

import pytest
from django.test import Client
from django_scopes import scopes_disabled

from reports.models import ReportRow
from tests.security.figures import lines
from tests.security.tenants import seed


def pytest_terminal_summary(terminalreporter):
    summary = lines()
    if summary:
        terminalreporter.write_sep("=", "security suites: figures")
        for line in summary:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def _one_handler():
    """One test client for the whole run: each new client loads the middleware again, and
    WhiteNoise's scan of the static files then costs more than the request under test."""
    return Client()


@pytest.fixture
def client(_one_handler):
    """A browser without cookies, on the shared handler (shadows pytest-django's `client`)."""
    _one_handler.cookies = SimpleCookie()
    return _one_handler


class Tenants:
    """Brand A (the one whose data must not show) and brand B, each with its browser."""

    def __init__(self, a, b, client_a, client_b):
        self.a, self.b = a, b
        self.client_a, self.client_b = client_a, client_b

    def markers(self, tenant) -> list[str]:
        """Texts that appear only in `tenant`'s rows."""
        return [tenant.marker, tenant.brand.name, tenant.brand.master_id, *tenant.numbers]


@pytest.fixture(scope="session")
def _second_handler():
    """A second browser, on its own shared handler."""
    return Client()


@pytest.fixture
def tenants(client, _second_handler, make_brand, control):
    """Brand A and brand B, each with a row in every brand-owned model, each connected to a
    Linkflow workspace of its own (the sandbox's, which knows neither key), and a logged-in
    browser for each."""
    a = seed(make_brand(master_id="zqalpha-master", name="甲方品牌"), "zqalpha", remote_id=424242)
    b = seed(make_brand(master_id="zqbravo-master", name="乙方品牌"), "zqbravo", remote_id=535353)
    a.numbers, b.numbers = ["314159", "314,159"], ["271828", "271,828"]
    with scopes_disabled():
        for tenant, pv in ((a, 314159), (b, 271828)):
            tenant.brand.linkflow_app_key = f"{tenant.marker}-key"
            tenant.brand.linkflow_app_secret = f"{tenant.marker}-secret"
            tenant.brand.save()
            ReportRow.objects.filter(brand=tenant.brand).update(pv=pv)
    _second_handler.cookies = SimpleCookie()
    client.force_login(a.user)
    _second_handler.force_login(b.user)
    return Tenants(a, b, client, _second_handler)
