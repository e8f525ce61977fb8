"""Bad ledger parameters are refused here, naming the field, instead of reaching JD Cloud
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
    assert field in response.json()
