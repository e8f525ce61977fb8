from django.urls import path

from brands import views

app_name = "brands"
urlpatterns = [
    path("", views.brand_settings, name="settings"),
]
