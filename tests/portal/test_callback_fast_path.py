"""What makes an ISV callback cheap (issue 10, benchmark 1) without weakening it: served
without the page middleware (`IsvCallbackMiddleware`), one transaction and one commit for
the handler's writes and the call-log row, the brand upsert in one statement, and SQLite
commits that do not wait for the disk."""

from __future__ import annotations

import json
from unittest import mock

import pytest
from django.conf import settings
from django.db import IntegrityError, connection, connections, transaction
from django.test import RequestFactory
from django.urls import path
from django.utils import translation
from rest_framework import serializers

from brands.models import Brand
from brands.services import brand_sync
from portal.callbacks import isv_callback
from portal.models import IntegrationCall
from tests.brands.isv import post_json, signed

SYNC_PATH = "/JDCloud/master/sync"
SYNC = {
    "master_id": "fast-path-master",
    "master_name": "快速通道品牌",
    "master_desc": "",
    "shop_id": "10000123",
    "shop_type": "1",
    "user_type": "1",
    "expire_time": 1893427199,
    "status": 1,
}


@isv_callback("/test/half-written")
def half_written(request, params):
    Brand.objects.create(master_id="half-written", name="写了一半")
    raise RuntimeError("a bug after the first write")


@pytest.mark.django_db(transaction=True)
def test_a_sync_commits_the_brand_and_its_call_log_row_once(client):
    database = connections["default"]

    with mock.patch.object(database, "commit", wraps=database.commit) as commit:
        answer = post_json(client, SYNC_PATH, signed(SYNC)).json()

    assert answer["code"] == 0
    assert commit.call_count == 1
    brand = Brand.objects.get(master_id=SYNC["master_id"])
    assert IntegrationCall.objects.get(endpoint=SYNC_PATH, ok=True).brand_id == brand.pk


@pytest.mark.django_db
def test_a_handler_that_fails_keeps_none_of_its_writes_and_the_call_is_logged():
    request = RequestFactory().post(
        "/test/half-written", json.dumps(signed({"a": "1"})), content_type="application/json"
    )

    answer = json.loads(half_written(request).content)

    assert answer["code"] == "500"
    assert not Brand.objects.filter(master_id="half-written").exists()
    call = IntegrationCall.objects.get(endpoint="/test/half-written")
    assert call.ok is False and call.remote_code == "500"


@isv_callback("/test/swallowed")
def swallowed(request, params):
    try:
        with transaction.atomic(savepoint=False):
            Brand.objects.create(master_id="swallowed", name="吞掉的错误")
            Brand.objects.create(master_id="swallowed", name="重复")
    except IntegrityError:
        pass  # and answers as if all went well
    return {"status": "1"}


@pytest.mark.django_db
def test_a_handler_that_swallows_a_failed_write_is_answered_as_an_internal_error():
    request = RequestFactory().post(
        "/test/swallowed", json.dumps(signed({"a": "1"})), content_type="application/json"
    )

    answer = json.loads(swallowed(request).content)

    assert answer["code"] == "500"
    assert not Brand.objects.filter(master_id="swallowed").exists()
    assert IntegrationCall.objects.get(endpoint="/test/swallowed").ok is False


@isv_callback("/JDCloud/test/probe")
def probe(request, params):
    return {"session": hasattr(request, "session"), "user": hasattr(request, "user")}


urlpatterns = [path("JDCloud/test/probe", probe)]


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_jd_clouds_calls_are_served_without_session_nor_user(client):
    answer = post_json(client, "/JDCloud/test/probe", signed({"a": "1"})).json()

    assert answer["data"] == {"session": False, "user": False}


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_a_browsers_call_with_a_session_takes_the_whole_stack(brand_client):
    answer = post_json(brand_client, "/JDCloud/test/probe", signed({"a": "1"})).json()

    assert answer["data"] == {"session": True, "user": True}


@pytest.mark.django_db
def test_answers_are_in_the_portals_language_whatever_the_caller_accepts(client):
    response = post_json(
        client, SYNC_PATH, signed({**SYNC, "status": 2}), HTTP_ACCEPT_LANGUAGE="en"
    )

    with translation.override(settings.LANGUAGE_CODE):
        reason = str(serializers.ChoiceField.default_error_messages["invalid_choice"])
    assert response.json()["msg"] == f"status: {reason.format(input=2)}"


@pytest.mark.django_db
def test_a_host_outside_allowed_hosts_is_still_refused(client):
    response = post_json(client, SYNC_PATH, signed(SYNC), HTTP_HOST="evil.example")

    assert response.status_code == 400
    assert not Brand.objects.exists()


@pytest.mark.django_db
def test_an_unknown_path_under_the_isv_prefix_is_left_to_the_whole_stack(client):
    assert client.post("/JDCloud/master/unknown").status_code == 404


@pytest.mark.django_db
def test_brand_sync_is_one_statement_and_keeps_what_the_portal_set(
    make_brand, django_assert_num_queries
):
    brand = make_brand(master_id=SYNC["master_id"], linkflow_app_key="lf-key")

    with django_assert_num_queries(1):
        brand_id = brand_sync(
            master_id=SYNC["master_id"],
            name="新名字",
            description="",
            shop_id="10000999",
            shop_type="2",
            user_type="1",
            expire_time=1893427199,
            status=0,
        )

    assert brand_id == brand.pk
    synced = Brand.objects.get(pk=brand.pk)
    assert (synced.name, synced.shop_id, synced.shop_type, synced.status) == (
        "新名字",
        "10000999",
        "2",
        0,
    )
    assert synced.linkflow_app_key == "lf-key" and synced.created_at == brand.created_at


@pytest.mark.django_db
@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3",
    reason="a PRAGMA of the embedded SQLite database; on PostgreSQL (make verify) commit "
    "durability is the server's own setting, not the portal's",
)
def test_sqlite_commits_do_not_wait_for_the_disk():
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous")
        assert cursor.fetchone()[0] == 1  # NORMAL: synced at WAL checkpoints
