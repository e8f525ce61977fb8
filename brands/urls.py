from django.urls import path

from brands import linkflow_views, views

app_name = "brands"
urlpatterns = [
    path("", views.brand_settings, name="settings"),
    path("linkflow/", linkflow_views.linkflow_save, name="linkflow-save"),
    path("linkflow/test/", linkflow_views.linkflow_test, name="linkflow-test"),
    path("linkflow/disconnect/", linkflow_views.linkflow_remove, name="linkflow-disconnect"),
]
