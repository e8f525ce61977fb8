from django.urls import path

from brands.apis import MeApi

urlpatterns = [
    path("me/", MeApi.as_view(), name="me"),
]
