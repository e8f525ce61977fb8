import pytest


@pytest.mark.django_db
def test_openapi_schema_is_served(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/me/" in schema["paths"]


@pytest.mark.django_db
def test_api_docs_page_works_offline(client):
    page = client.get("/api/docs/").content.decode()
    # Swagger UI comes from the sidecar package, not a CDN.
    assert "swagger-ui" in page
    assert "cdn.jsdelivr" not in page and "unpkg.com" not in page


@pytest.mark.django_db
def test_api_requires_authentication(client):
    assert client.get("/api/v1/me/").status_code == 403


def test_me_names_the_users_brand(brand_client, brand):
    body = brand_client.get("/api/v1/me/").json()
    assert body["brand"]["master_id"] == brand.master_id
    assert body["brand"]["is_usable"] is True
