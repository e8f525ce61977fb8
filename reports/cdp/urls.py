from django.urls import path  # noqa: F401

app_name = "cdp_reports"
urlpatterns: list = []
