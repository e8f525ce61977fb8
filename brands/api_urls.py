from django.urls import path

from brands.apis import BrandApi, MeApi

urlpatterns = [
    path("me/", MeApi.as_view(), name="me"),
    path("brand/", BrandApi.as_view(), name="brand"),
]
