"""CDP pages and API: the brand's Linkflow groups, members, tags and tracked links, against
the sandbox's Linkflow side over real HTTP."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_scopes import scope

from brands.models import TrackedLink

pytestmark = pytest.mark.django_db


def test_groups_page_and_api_list_the_workspace_groups(linkflow_brand, brand_client):
    page = brand_client.get(reverse("cdp:groups"))
    assert page.status_code == 200
    assert "618潜在客户" in page.content.decode()

    api = brand_client.get(reverse("v1:cdp-groups"), {"name": "618"})
    assert api.status_code == 200
    names = [g["name"] for g in api.json()]
    assert names and all("618" in n for n in names)


def test_group_members_walk_by_cursor(linkflow_brand, brand_client):
    group = brand_client.get(reverse("v1:cdp-groups"), {"name": "618"}).json()[0]
    url = reverse("v1:cdp-group-members", args=[group["id"]])
    first = brand_client.get(url, {"size": 20}).json()
    assert len(first["members"]) == 20 and first["next_after"]
    second = brand_client.get(url, {"size": 20, "after": first["next_after"]}).json()
    seen = {m["memberId"] for m in first["members"]}
    assert second["members"] and not seen & {m["memberId"] for m in second["members"]}

    page = brand_client.get(reverse("cdp:group", args=[group["id"]]))
    assert page.status_code == 200 and "members-next" in page.content.decode()
    assert brand_client.get(url, {"size": 501}).status_code == 400


def test_an_unknown_group_is_404(linkflow_brand, brand_client):
    assert brand_client.get(reverse("cdp:group", args=[987654321])).status_code == 404
    missing = reverse("v1:cdp-group-members", args=[987654321])
    assert brand_client.get(missing).status_code == 404


def test_tags_page_and_api(linkflow_brand, brand_client):
    api = brand_client.get(reverse("v1:cdp-tags"), {"size": 5})
    assert api.status_code == 200, api.content
    tags = api.json()
    assert tags and all(t["tagKey"].startswith("tag_") for t in tags)
    assert brand_client.get(reverse("v1:cdp-tags"), {"size": 201}).status_code == 400
    page = brand_client.get(reverse("cdp:tags"))
    assert page.status_code == 200 and tags[0]["tagKey"] in page.content.decode()


def test_not_connected_is_explained_not_an_error(brand, brand_client):
    page = brand_client.get(reverse("cdp:groups"))
    assert page.status_code == 200 and "linkflow-not-connected" in page.content.decode()
    assert brand_client.get(reverse("v1:cdp-groups")).status_code == 409
    assert brand_client.get(reverse("v1:cdp-tags")).status_code == 409


def test_linkflow_refusal_is_shown_with_its_code(linkflow_brand, brand_client):
    linkflow_brand.linkflow_app_secret = "wrong"
    linkflow_brand.save()
    from portal.integrations.linkflow.auth import tokens

    tokens._tokens.clear()  # a cached token would still work: ask with the wrong secret
    page = brand_client.get(reverse("cdp:groups"))
    assert page.status_code == 200 and "linkflow-error" in page.content.decode()
    api = brand_client.get(reverse("v1:cdp-groups"))
    assert api.status_code == 502 and "401" in api.json()["detail"]


# --- tracked links -------------------------------------------------------------------------


def test_tracked_link_through_the_page_and_the_api(linkflow_brand, brand_client, control):
    response = brand_client.post(
        reverse("cdp:links"),
        {"url": "https://shop.jd.com/promo?id=1", "utm_source": "jd_portal", "utm_campaign": "618"},
        follow=True,
    )
    assert response.status_code == 200
    link = TrackedLink.objects.get()
    assert link.short_url.startswith("http") and link.error == ""
    assert link.short_url in response.content.decode()

    created = brand_client.post(
        reverse("v1:cdp-short-link-list"),
        {"url": "https://shop.jd.com/x", "utm_medium": "sms"},
        content_type="application/json",
    )
    assert created.status_code == 201 and created.json()["short_url"]
    listed = brand_client.get(reverse("v1:cdp-short-link-list")).json()
    assert {row["id"] for row in listed["results"]} == set(
        TrackedLink.objects.values_list("id", flat=True)
    )


def test_tracked_link_for_an_unknown_contact_is_kept_with_the_reason_and_retryable(
    linkflow_brand, brand_client
):
    created = brand_client.post(
        reverse("v1:cdp-short-link-list"),
        {"url": "https://shop.jd.com/x", "contact_id": 999999999999},
        content_type="application/json",
    )
    assert created.status_code == 201
    body = created.json()
    assert body["short_url"] == "" and "B00008" in body["error"]
    retried = brand_client.post(reverse("v1:cdp-short-link-retry", args=[body["id"]]))
    assert retried.status_code == 200 and "B00008" in retried.json()["error"]


def test_tracked_link_bad_url_names_the_field_and_keeps_nothing(linkflow_brand, brand_client):
    response = brand_client.post(
        reverse("v1:cdp-short-link-list"), {"url": "not a url"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert [e["path"] for e in response.json()["errors"]] == ["url"]
    assert not TrackedLink.objects.exists()


def test_tracked_links_of_another_brand_are_invisible(linkflow_brand, other_brand, brand_client):
    with scope(brand=other_brand):
        theirs = TrackedLink.objects.create(brand=other_brand, url="https://x.jd.com/")
    assert (
        brand_client.get(reverse("v1:cdp-short-link-detail", args=[theirs.pk])).status_code == 404
    )
    assert brand_client.post(reverse("cdp:link-retry", args=[theirs.pk])).status_code == 404
    assert brand_client.get(reverse("v1:cdp-short-link-list")).json()["count"] == 0
