"""The crowds app's pages, under /crowds/ (the REST API is in `api_urls`)."""

from django.urls import path

from crowds import views

app_name = "crowds"
urlpatterns = [
    path("", views.crowd_list, name="list"),
    path("import/", views.crowd_import, name="import"),
    path("new/", views.crowd_create, name="create"),
    path("tags/", views.tag_catalog, name="tags"),
    path("<int:pk>/", views.crowd_detail, name="detail"),
    path("<int:pk>/edit/", views.crowd_edit, name="edit"),
    path("<int:pk>/sync/", views.crowd_sync, name="sync"),
    path("<int:pk>/delete/", views.crowd_delete, name="delete"),
    path("<int:pk>/instantiate/", views.crowd_instantiate, name="instantiate"),
    path("instances/", views.instance_list, name="instances"),
    path("instances/calc/", views.instance_calc, name="calc"),
    path("instances/<int:pk>/", views.instance_detail, name="instance"),
    path("instances/<int:pk>/split/", views.instance_split, name="split"),
    path("instances/<int:pk>/filter/", views.instance_filter, name="filter"),
    path("instances/<int:pk>/save-as/", views.instance_save_as, name="save-as"),
    path("instances/<int:pk>/repoll/", views.instance_repoll, name="repoll"),
]
