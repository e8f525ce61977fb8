"""What `manage.py bench_callbacks` sends and compares with (the run itself needs wrk and
a server; it is a benchmark, not a test): its pre-signed bodies are calls the portal
accepts, each for its own brand, and the bare view answers the same envelope."""

import json

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django_scopes import scopes_disabled

from brands.models import Brand
from portal.management.commands.bench_callbacks import (
    BARE_PATH,
    MASTER_PREFIX,
    SYNC_PATH,
    signed_bodies,
)
from portal.models import IntegrationCall

pytestmark = pytest.mark.django_db


def test_the_signed_bodies_are_accepted_and_sync_distinct_brands():
    bodies = signed_bodies(3, settings.JDCLOUD_ISV_KEY)
    client = Client()

    answers = [
        client.post(SYNC_PATH, body, content_type="application/json").json() for body in bodies
    ]

    assert answers == [{"code": 0, "msg": "success", "data": {"status": "1"}}] * 3
    with scopes_disabled():
        assert Brand.objects.filter(master_id__startswith=MASTER_PREFIX).count() == 3
        assert not IntegrationCall.objects.filter(endpoint=SYNC_PATH, ok=False).exists()
    # Again, as the benchmark cycles over them: updates, still accepted.
    again = client.post(SYNC_PATH, bodies[0], content_type="application/json").json()
    assert again["code"] == 0


def test_a_body_signed_with_another_key_is_refused():
    (body,) = signed_bodies(1, "another-key")

    answer = Client().post(SYNC_PATH, body, content_type="application/json").json()

    assert answer["code"] == "401"


@override_settings(ROOT_URLCONF="bench.callbacks_urls")
def test_the_bare_view_answers_the_callbacks_envelope_and_nothing_else():
    (body,) = signed_bodies(1, settings.JDCLOUD_ISV_KEY)

    response = Client().post(BARE_PATH, body, content_type="application/json")

    assert json.loads(response.content) == {"code": 0, "msg": "success", "data": {"status": "1"}}
    with scopes_disabled():
        assert not Brand.objects.exists() and not IntegrationCall.objects.exists()


def test_the_bare_view_is_not_served_by_the_portal():
    assert Client().post(BARE_PATH, "{}", content_type="application/json").status_code == 404
