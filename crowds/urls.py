from django.urls import path

from crowds import views

app_name = "crowds"
urlpatterns = [
    path("", views.crowd_list, name="list"),
]
