from datetime import timedelta

import pytest
from django.utils import timezone

from portal.calllog import record_call
from portal.integrations.masking import MASK, mask, mask_text
from portal.models import IntegrationCall
from portal.tasks import prune_integration_calls


def test_mask_hides_credentials_at_any_depth_and_keeps_the_rest():
    body = {
        "master_id": "m-1",
        "token": "abc123",
        "X-OpenApi-Secret": "s3cr3t",
        "nested": [{"access_token": "t", "client_secret": "c", "tag_key": "tag_vip"}],
        "Authorization": "JDCLOUD2-HMAC-SHA256 Credential=AK/...",
    }

    masked = mask(body)

    assert masked["master_id"] == "m-1"
    assert masked["token"] == MASK
    assert masked["X-OpenApi-Secret"] == MASK
    assert masked["Authorization"] == MASK
    assert masked["nested"][0] == {
        "access_token": MASK,
        "client_secret": MASK,
        "tag_key": "tag_vip",
    }
    assert body["token"] == "abc123"  # the original is untouched


def test_mask_text_removes_known_secret_values():
    assert mask_text("sk=SUPERSECRET&x=1", ["SUPERSECRET"]) == f"sk={MASK}&x=1"


@pytest.mark.django_db
def test_record_call_stores_a_masked_row(brand):
    row = record_call(
        direction="out",
        system="jdcloud",
        method="post",
        endpoint="/crowd/create/v2",
        brand_id=brand.pk,
        http_status=200,
        remote_code=0,
        ok=True,
        duration_ms=12.7,
        request_body={"name": "人群", "token": "zzz"},
        response_body={"code": 0, "data": {"search_id": "s1"}},
    )

    row.refresh_from_db()
    assert row.method == "POST"
    assert row.remote_code == "0"
    assert row.duration_ms == 12
    assert row.request_body == {"name": "人群", "token": MASK}
    assert row.brand == brand


@pytest.mark.django_db
def test_prune_deletes_only_rows_older_than_the_retention(settings):
    settings.INTEGRATION_CALL_RETENTION_DAYS = 30
    fields = {"direction": "in", "system": "jdcloud", "method": "POST", "endpoint": "/x"}
    old = IntegrationCall.objects.create(**fields)
    IntegrationCall.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))
    recent = IntegrationCall.objects.create(**fields)

    assert prune_integration_calls() == 1
    assert list(IntegrationCall.objects.all()) == [recent]


@pytest.mark.django_db
def test_admin_lists_and_filters_the_call_log(admin_client, brand, other_brand):
    for b, system, ok in [(brand, "jdcloud", True), (other_brand, "linkflow", False)]:
        record_call(
            direction="out",
            system=system,
            method="GET",
            endpoint=f"/{system}/endpoint",
            brand_id=b.pk,
            http_status=200 if ok else 500,
            ok=ok,
            duration_ms=5,
        )
    url = "/admin/portal/integrationcall/"

    assert admin_client.get(url).status_code == 200
    only_linkflow = admin_client.get(url, {"system": "linkflow"}).content.decode()
    assert "/linkflow/endpoint" in only_linkflow
    assert "/jdcloud/endpoint" not in only_linkflow
    by_brand = admin_client.get(url, {"brand__id__exact": brand.pk}).content.decode()
    assert "/jdcloud/endpoint" in by_brand and "/linkflow/endpoint" not in by_brand
    failed = admin_client.get(url, {"http_status": 500}).content.decode()
    assert "/linkflow/endpoint" in failed and "/jdcloud/endpoint" not in failed
    today = timezone.localdate()
    by_date = admin_client.get(
        url, {"created_at__year": today.year, "created_at__month": today.month}
    )
    assert by_date.status_code == 200
    # The log is evidence: nobody adds or edits rows through the admin.
    assert admin_client.get(url + "add/").status_code == 403
