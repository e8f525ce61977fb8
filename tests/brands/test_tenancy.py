"""Brand data cannot be reached without a brand scope, nor across brands."""

import pytest
from django_scopes import ScopeError, scope

from brands.models import BrandUser
from brands.tenancy import brand_task

pytestmark = pytest.mark.django_db


def test_an_unscoped_query_of_a_brand_owned_model_raises(brand, make_brand_user):
    make_brand_user(brand)
    with pytest.raises(ScopeError):
        list(BrandUser.objects.all())


def test_a_scope_shows_only_its_own_brands_rows(brand, other_brand, make_brand_user):
    mine = make_brand_user(brand)
    theirs = make_brand_user(other_brand)

    with scope(brand=brand):
        assert list(BrandUser.objects.all()) == [mine]
        assert not BrandUser.objects.filter(pk=theirs.pk).exists()


def test_a_brand_task_runs_inside_its_brands_scope(brand, other_brand, make_brand_user):
    make_brand_user(brand)
    make_brand_user(other_brand)

    @brand_task
    def count_users(*, brand_id):
        return BrandUser.objects.count()

    assert count_users(brand_id=brand.pk) == 1
    with pytest.raises(TypeError):
        count_users()


def test_requests_run_in_the_users_brand_scope(brand_client, brand, other_brand):
    body = brand_client.get("/api/v1/brand/").json()
    assert body["master_id"] == brand.master_id

    me = brand_client.get("/api/v1/me/").json()
    assert me["brand"]["master_id"] == brand.master_id and me["access"] == "member"


def test_brand_api_for_a_user_without_a_brand_is_404(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("staffer", password="x"))
    assert client.get("/api/v1/brand/").status_code == 404


def test_staff_see_every_brand_in_the_admin(admin_client, brand, other_brand, make_brand_user):
    make_brand_user(brand)
    make_brand_user(other_brand)
    page = admin_client.get("/admin/brands/branduser/").content.decode()
    assert brand.name in page and other_brand.name in page


def test_brand_b_gets_404_for_brand_as_objects(client, brand, other_brand, make_brand_user):
    mine = make_brand_user(brand)
    theirs = make_brand_user(other_brand)
    client.force_login(mine.user)

    listed = client.get("/api/v1/brand/users/").json()
    assert [row["pin"] for row in listed["results"]] == [mine.pin]
    assert client.get(f"/api/v1/brand/users/{mine.pk}/").status_code == 200
    foreign = client.get(f"/api/v1/brand/users/{theirs.pk}/")
    missing = client.get("/api/v1/brand/users/999999/")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()
    page = client.get("/settings/").content.decode()
    assert mine.pin in page and theirs.pin not in page
