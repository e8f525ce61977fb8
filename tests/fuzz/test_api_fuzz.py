"""Schemathesis against the drf-spectacular schema, logged in as a brand user (issue 9).

Every operation gets `FUZZ_EXAMPLES` generated requests (100 in `make verify`; fewer in
`make test` to keep it fast). Checked: no 5xx, documented responses match their schema,
content types as documented. JD Cloud and Linkflow calls go to the sandbox.
Figures (operations / requests / 5xx / schema failures) are printed at the end of the run.
"""

from __future__ import annotations

import os
from collections import Counter

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.middleware.csrf import _get_new_csrf_string
from hypothesis import HealthCheck, settings
from schemathesis import checks

from tests.conftest import SANDBOX_LINKFLOW_KEY, SANDBOX_LINKFLOW_SECRET

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db(transaction=True)]

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "100"))
FIGURES: Counter = Counter()
CHECKS = [
    checks.not_a_server_error,
    checks.response_schema_conformance,
    checks.content_type_conformance,
]


# The schema is served without a session (drf-spectacular's SERVE_PERMISSIONS).
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


@pytest.fixture
def session(client, jd_brand, make_brand_user):
    """A brand user's session (and CSRF pair) for a brand connected to both sandboxes."""
    jd_brand.linkflow_app_key = SANDBOX_LINKFLOW_KEY
    jd_brand.linkflow_app_secret = SANDBOX_LINKFLOW_SECRET
    jd_brand.save()
    client.force_login(make_brand_user(jd_brand).user)
    csrf = _get_new_csrf_string()
    cookies = {"sessionid": client.cookies["sessionid"].value, "csrftoken": csrf}
    return {"X-CSRFToken": csrf, "Referer": "http://localhost/"}, cookies


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_operation(case, session):
    FIGURES["requests"] += 1
    FIGURES[f"op:{case.operation.label}"] = 1
    headers, cookies = session
    response = case.call(headers=headers, cookies=cookies)
    FIGURES[f"{response.status_code // 100}xx"] += 1
    if os.environ.get("FUZZ_DEBUG"):
        print(case.method, case.path, response.status_code, response.text[:200])
    try:
        case.validate_response(response, checks=CHECKS, headers=headers)
    except Exception:
        FIGURES["failures"] += 1
        raise


def pytest_terminal_summary_lines() -> list[str]:
    operations = sum(1 for key in FIGURES if key.startswith("op:"))
    return [
        f"API fuzzing: {operations} operations, {FIGURES['requests']} requests "
        f"({EXAMPLES} examples per operation), 2xx {FIGURES['2xx']}, 4xx {FIGURES['4xx']}, "
        f"5xx {FIGURES['5xx']}, failed checks (5xx / schema / content type) {FIGURES['failures']}"
    ]
