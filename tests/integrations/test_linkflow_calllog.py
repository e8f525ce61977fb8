"""The call log keeps which Linkflow call happened and how many items came back, never the
people in it (names, phones, openIds) nor credentials."""

import httpx
import pytest
import respx
from django_scopes import scopes_disabled

from portal.integrations.linkflow.factory import linkflow_client, without_people
from portal.models import IntegrationCall

pytestmark = pytest.mark.django_db


def test_without_people_counts_lists_and_masks_personal_fields():
    body = {"contactId": 7, "name": "康熙", "mobilePhone": "13888888888", "utm": {"source": "a"}}
    assert without_people(body) == {
        "contactId": 7,
        "name": "***",
        "mobilePhone": "***",
        "utm": {"source": "a"},
    }
    assert without_people([{"name": "x"}] * 3) == {"items": 3}
    assert without_people({"file": {"name": "vip.csv", "size": 3}}) == {
        "file": {"name": "vip.csv", "size": 3}
    }


@respx.mock(base_url="http://linkflow.test/")
def test_a_contacts_page_is_logged_as_a_count(respx_mock, settings):
    settings.LINKFLOW_API_BASE_URL = "http://linkflow.test/"
    respx_mock.get("token").mock(
        return_value=httpx.Response(200, json={"token": "T0K", "expiration": "2099-01-01 00:00:00"})
    )
    respx_mock.get("open/contacts").mock(
        return_value=httpx.Response(
            200, json=[{"id": 1, "name": "康熙", "mobilePhone": "13888888888"}] * 5
        )
    )
    client = linkflow_client(app_key="k-calllog", app_secret="s3cret-value")
    assert len(client.contacts(page=0, size=5)) == 5
    with scopes_disabled():
        logged = IntegrationCall.objects.get(endpoint="/open/contacts")
        everything = " ".join(str(c.__dict__) for c in IntegrationCall.objects.all())
    assert logged.response_body == {"items": 5}
    assert "13888888888" not in everything and "康熙" not in everything
    assert "s3cret-value" not in everything and "T0K" not in everything
