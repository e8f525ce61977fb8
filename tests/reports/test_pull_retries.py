"""The daily report pull (`reports.pull_brand_day`) retries later, with backoff, when JD
Cloud is busy or failing, and stops at a refusal. Transport level (respx); the task runs
eagerly (`apply`), where Celery carries out each retry at once: the countdowns asked for
are recorded."""

import httpx
import pytest
import respx
from django_scopes import scope

from reports import tasks
from reports.models import ReportRow

BASE = "https://jd.example.test/api"
DAY = "2026-01-05"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _jd(settings):
    settings.JDCLOUD_API_BASE_URL = BASE


@pytest.fixture
def countdowns(monkeypatch) -> list:
    """The countdown of each retry the task asks for."""
    asked = []
    retry = tasks.pull_brand_day.retry

    def recorded(*args, **kwargs):
        asked.append(kwargs.get("countdown"))
        return retry(*args, **kwargs)

    monkeypatch.setattr(tasks.pull_brand_day, "retry", recorded)
    return asked


def answer(code, msg: str, data=None) -> httpx.Response:
    return httpx.Response(200, json={"code": code, "msg": msg, "data": data})


def batch(package_id: str) -> httpx.Response:
    row = {"package_id": package_id, "report_date": DAY, "pv": "12", "uv": "10"}
    return answer(0, "success", {"partner_id": "p", "report_date": DAY, "report_data": [row]})


def pull(brand):
    return tasks.pull_brand_day.apply(kwargs={"brand_id": brand.pk, "report_date": DAY})


@respx.mock
@pytest.mark.parametrize(
    ("code", "msg"),
    [("500", "系统繁忙"), ("503", "系统升级中,请稍后再试"), ("429", "请求过于频繁")],
)
def test_the_daily_pull_retries_a_busy_jd_later_then_stores_the_day(brand, countdowns, code, msg):
    # Click and exposure are asked in turn; the first is busy once.
    route = respx.post(f"{BASE}/report").mock(
        side_effect=[answer(code, msg), batch("pkg-1"), batch("pkg-1")]
    )

    result = pull(brand)

    assert result.state == "SUCCESS", result.traceback
    assert route.call_count == 3
    assert len(countdowns) == 1 and 0 <= countdowns[0] <= 30  # retry_backoff=30, jittered
    with scope(brand=brand):
        assert ReportRow.objects.filter(package_id="pkg-1").count() == 2


@respx.mock
def test_a_refusal_ends_the_pull_and_a_busy_jd_is_retried_up_to_max_retries(brand, countdowns):
    route = respx.post(f"{BASE}/report").mock(return_value=answer("404", "品牌商不存在"))

    assert pull(brand).state == "FAILURE"
    assert route.call_count == 1 and countdowns == []

    route.reset()
    route.mock(return_value=answer("500", "系统繁忙"))

    assert pull(brand).state == "FAILURE"
    # Asked 1 + 6 times (max_retries=6); the 7th retry is declined and the error raised.
    assert route.call_count == 7 and len(countdowns) == 7
    assert all(0 <= c <= 1800 for c in countdowns)  # retry_backoff_max=1800


@respx.mock
@pytest.mark.parametrize(
    ("code", "msg", "status", "retryable"),
    [("500", "系统繁忙", 502, True), ("400", "report_date 不合法", 409, False)],
)
def test_the_api_pull_says_whether_jd_was_busy_or_refused(
    brand_client, code, msg, status, retryable
):
    respx.post(f"{BASE}/report/pull").mock(return_value=answer(code, msg))
    respx.post(f"{BASE}/report").mock(return_value=answer(code, msg))

    response = brand_client.post(
        "/api/v1/reports/pull/", {"report_date": DAY}, content_type="application/json"
    )

    assert response.status_code == status
    assert response.json() == {"detail": msg, "retryable": retryable}
