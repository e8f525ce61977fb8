"""Pages of WeChat openId packages under /crowds/openid/, the signed file JD Cloud fetches
(`pack_path`), and running a Linkflow write-back again."""

from django.urls import path

from crowds import openid_views

app_name = "openid"
urlpatterns = [
    path("", openid_views.package_list, name="list"),
    path("<int:pk>/", openid_views.package_detail, name="detail"),
    path("<int:pk>/rebuild/", openid_views.package_restart, name="restart"),
    # No session: JD Cloud fetches this with the signed token (crowds.openid.openid_pack_url).
    path("files/<str:token>/openids.txt", openid_views.package_file, name="file"),
    path("writebacks/<int:pk>/retry/", openid_views.writeback_retry, name="writeback-retry"),
]
