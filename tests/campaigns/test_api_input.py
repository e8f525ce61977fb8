"""Bad input to the API is a 400 naming the field, never a 500 or a 502 after JD Cloud
(found by the API fuzzing: they came back as 502)."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("route", ["v1:sms-consume", "v1:sms-recharge"])
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start_date": "2024-13-45"}, "start_date"),
        ({"end_date": "yesterday"}, "end_date"),
        ({"page_num": "10000000000000000000"}, "page_num"),
        ({"page_num": "x"}, "page_num"),
    ],
)
def test_bad_ledger_parameters_are_400_naming_the_field(brand_client, route, params, field):
    response = brand_client.get(reverse(route), params)
    assert response.status_code == 400
    assert [e["path"] for e in response.json()["errors"]] == [field]


@pytest.mark.parametrize(
    "route", ["v1:report-pull", "v1:report-create-report", "v1:short-link-list"]
)
def test_a_json_array_body_is_400_not_500(brand_client, route):
    response = brand_client.post(reverse(route), [1, 2], content_type="application/json")
    assert response.status_code == 400


def test_a_package_id_beyond_bigint_is_400_not_500(brand_client):
    response = brand_client.post(
        reverse("v1:instance-calc"),
        {"operation": "union", "packages": [2**64], "crowd_name": "x"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert [e["path"] for e in response.json()["errors"]] == ["packages[0]"]
