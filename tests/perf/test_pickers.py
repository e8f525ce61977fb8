"""Forms that offer a brand's packages or reaches offer the newest 100, not thousands
(bench_pages: 5.5 s and 6.9 s per page at 10,000 rows before), and still reach the others."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from campaigns.models import Activity, Reach
from crowds.models import CrowdInstance
from portal.management.commands.bench_pages import populate

pytestmark = pytest.mark.django_db


def offered(response, name: str) -> set[str]:
    return set(re.findall(rf'name="{name}" value="(\d+)"', response.content.decode()))


def options(response, select_id: str) -> set[str]:
    select = re.search(
        rf'<select[^>]*id="{select_id}".*?</select>', response.content.decode(), re.S
    )
    return set(re.findall(r'<option value="(\d+)"', select.group(0)))


@pytest.fixture
def many(brand, other_brand):
    populate([brand, other_brand], first=0, count=130, reference=0)
    with scopes_disabled():
        generated = CrowdInstance.objects.filter(brand=brand, status="2").order_by(
            "-created_at", "-id"
        )
        reaches = Reach.objects.filter(brand=brand).order_by("-created_at", "-id")
        return {"generated": list(generated), "reaches": list(reaches)}


def test_the_calc_form_offers_the_newest_100_and_finds_older_ones(brand_client, many):
    newest = {str(i.pk) for i in many["generated"][:100]}
    oldest = many["generated"][-1]

    page = brand_client.get(reverse("crowds:calc"))
    assert offered(page, "packages") == newest == offered(page, "exclude")
    assert 'id="calc-more"' in page.content.decode()

    found = brand_client.get(reverse("crowds:calc"), {"q": oldest.package_id})
    assert offered(found, "packages") == {str(oldest.pk)}
    assert 'id="calc-more"' not in found.content.decode()
    nothing = brand_client.get(reverse("crowds:calc"), {"q": "no-such-package"})
    assert not offered(nothing, "packages") and 'class="empty"' in nothing.content.decode()


def test_a_ticked_package_stays_offered_when_the_form_comes_back(brand_client, many):
    oldest = many["generated"][-1]
    response = brand_client.post(
        reverse("crowds:calc"), {"operation": "union", "packages": [oldest.pk], "name": ""}
    )
    assert response.status_code == 400
    assert str(oldest.pk) in offered(response, "packages")
    assert f'value="{oldest.pk}" checked' in response.content.decode()


def test_the_activity_form_offers_the_newest_100_reaches_and_the_linked_one(
    brand, brand_client, many
):
    newest = {str(r.pk) for r in many["reaches"][:100]}
    oldest = many["reaches"][-1]
    page = brand_client.get(reverse("campaigns:activity-new"))
    assert options(page, "id_reach") == newest

    # From an old reach's page (`?reach=`), and on an activity linked to it.
    chosen = brand_client.get(reverse("campaigns:activity-new"), {"reach": oldest.pk})
    assert options(chosen, "id_reach") == newest | {str(oldest.pk)}
    with scopes_disabled():
        activity = Activity.objects.get(brand=brand, reach=oldest)
    edit = brand_client.get(reverse("campaigns:activity-edit", args=[activity.pk]))
    assert str(oldest.pk) in options(edit, "id_reach")
    saved = brand_client.post(
        reverse("campaigns:activity-edit", args=[activity.pk]),
        {"name": "改名", "start_type": "1", "reach_type": "SMS", "reach": oldest.pk},
    )
    assert saved.status_code == 302
    with scopes_disabled():
        assert Activity.objects.get(pk=activity.pk).reach_id == oldest.pk
