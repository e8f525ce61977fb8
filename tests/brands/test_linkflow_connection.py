"""A brand connects its Linkflow workspace: settings page, REST API, admin; the secret is
encrypted at rest and never shown again."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.urls import reverse
from django_scopes import scopes_disabled

from brands.models import Brand
from portal.models import IntegrationCall
from tests.conftest import SANDBOX_LINKFLOW_KEY, SANDBOX_LINKFLOW_SECRET

pytestmark = pytest.mark.django_db


def stored_secret(brand: Brand) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT linkflow_app_secret FROM brands_brand WHERE id = %s", [brand.pk])
        return cursor.fetchone()[0]


def test_settings_connects_with_a_working_test_and_keeps_the_secret_encrypted(
    brand, brand_client, control
):
    response = brand_client.post(
        reverse("brands:linkflow-save"),
        {
            "app_key": SANDBOX_LINKFLOW_KEY,
            "app_secret": SANDBOX_LINKFLOW_SECRET,
            "channel_key": "udc_portal",
            "wechat_app_id": "wx5a39a02868a39999",
        },
        follow=True,
    )
    page = response.content.decode()
    assert "Linkflow is connected." in page or "Linkflow 已连接" in page
    assert SANDBOX_LINKFLOW_SECRET not in page  # write-only: never rendered again

    brand.refresh_from_db()
    assert brand.linkflow_connected and brand.linkflow_check_error == ""
    assert brand.linkflow_checked_at is not None
    assert brand.linkflow_channel_key == "udc_portal"
    raw = stored_secret(brand)
    assert raw and SANDBOX_LINKFLOW_SECRET not in raw  # Fernet token at rest
    assert brand.linkflow_app_secret == SANDBOX_LINKFLOW_SECRET

    # The token call is in the call log, with neither the secret nor the token in it.
    with scopes_disabled():
        calls = list(IntegrationCall.objects.filter(system="linkflow", endpoint="/token"))
    assert calls and all(SANDBOX_LINKFLOW_SECRET not in str(c.__dict__) for c in calls)


def test_an_empty_secret_keeps_the_stored_one_and_a_wrong_one_is_reported(
    brand, brand_client, control
):
    brand.linkflow_app_key = SANDBOX_LINKFLOW_KEY
    brand.linkflow_app_secret = SANDBOX_LINKFLOW_SECRET
    brand.save()

    brand_client.post(
        reverse("brands:linkflow-save"),
        {"app_key": SANDBOX_LINKFLOW_KEY, "app_secret": "", "channel_key": "udc_2"},
    )
    brand.refresh_from_db()
    assert brand.linkflow_app_secret == SANDBOX_LINKFLOW_SECRET
    assert brand.linkflow_channel_key == "udc_2" and brand.linkflow_check_error == ""

    response = brand_client.post(
        reverse("brands:linkflow-save"),
        {"app_key": SANDBOX_LINKFLOW_KEY, "app_secret": "wrong-secret"},
        follow=True,
    )
    brand.refresh_from_db()
    assert brand.linkflow_check_error  # saved, but the check names the refusal
    assert brand.linkflow_check_error in response.content.decode()


def test_a_first_connection_needs_a_secret_and_changes_nothing_without_it(brand, brand_client):
    response = brand_client.post(
        reverse("brands:linkflow-save"), {"app_key": "k1", "app_secret": ""}, follow=True
    )
    brand.refresh_from_db()
    assert brand.linkflow_app_key == "" and not brand.linkflow_connected
    assert "App Secret" in response.content.decode()


def test_test_button_and_disconnect(linkflow_brand, brand_client):
    response = brand_client.post(reverse("brands:linkflow-test"), follow=True)
    assert response.status_code == 200
    linkflow_brand.refresh_from_db()
    assert linkflow_brand.linkflow_check_error == ""

    brand_client.post(reverse("brands:linkflow-disconnect"))
    linkflow_brand.refresh_from_db()
    assert not linkflow_brand.linkflow_connected
    assert stored_secret(linkflow_brand) is None


def test_unreachable_linkflow_is_reported_not_raised(brand, brand_client, settings):
    settings.LINKFLOW_API_BASE_URL = "http://127.0.0.1:9/linkflow"  # nothing listens there
    brand.linkflow_app_key, brand.linkflow_app_secret = "k", "s"
    brand.save()
    response = brand_client.post(reverse("brands:linkflow-test"), follow=True)
    assert response.status_code == 200
    brand.refresh_from_db()
    assert brand.linkflow_check_error and brand.linkflow_connected  # nothing lost


# --- REST API ------------------------------------------------------------------------------


def test_api_patch_connects_write_only_and_test_endpoint(brand, brand_client, control):
    url = reverse("v1:brand")
    response = brand_client.patch(
        url,
        {
            "linkflow_app_key": SANDBOX_LINKFLOW_KEY,
            "linkflow_app_secret": SANDBOX_LINKFLOW_SECRET,
            "linkflow_channel_key": "udc_portal",
        },
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["linkflow_connected"] is True and body["linkflow_app_key"] == SANDBOX_LINKFLOW_KEY
    assert "linkflow_app_secret" not in body
    assert SANDBOX_LINKFLOW_SECRET not in response.content.decode()

    checked = brand_client.post(reverse("v1:brand-linkflow-test"))
    assert checked.status_code == 200
    assert checked.json()["ok"] is True and checked.json()["error"] == ""
    assert brand_client.get(url).json()["linkflow_check_error"] == ""


def test_api_rejects_a_key_without_secret_naming_the_field_and_changes_nothing(brand, brand_client):
    response = brand_client.patch(
        reverse("v1:brand"), {"linkflow_app_key": "k1"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert [e["path"] for e in response.json()["errors"]] == ["linkflow_app_secret"]
    brand.refresh_from_db()
    assert brand.linkflow_app_key == ""

    response = brand_client.patch(
        reverse("v1:brand"), {"wechat_app_id": "wx bad!"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert [e["path"] for e in response.json()["errors"]] == ["wechat_app_id"]


def test_api_patch_with_an_empty_key_disconnects(linkflow_brand, brand_client):
    response = brand_client.patch(
        reverse("v1:brand"), {"linkflow_app_key": ""}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["linkflow_connected"] is False
    linkflow_brand.refresh_from_db()
    assert stored_secret(linkflow_brand) is None


def test_api_test_reports_a_refused_secret(brand, brand_client, control):
    brand.linkflow_app_key, brand.linkflow_app_secret = SANDBOX_LINKFLOW_KEY, "nope"
    brand.save()
    body = brand_client.post(reverse("v1:brand-linkflow-test")).json()
    assert body["ok"] is False and body["error"]


# --- admin ---------------------------------------------------------------------------------


def test_admin_never_shows_the_secret(linkflow_brand, client):
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw-Root-123")
    client.force_login(admin)
    page = client.get(reverse("admin:brands_brand_change", args=[linkflow_brand.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert SANDBOX_LINKFLOW_SECRET not in html and 'name="linkflow_app_secret"' not in html
    assert SANDBOX_LINKFLOW_KEY in html
