from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from brands import callbacks as brand_callbacks
from brands import views as brand_views
from campaigns import callbacks as campaign_callbacks
from portal import views

api_v1 = [
    path("", include("portal.api_urls")),
]

urlpatterns = [
    path("", views.workspace_home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", brand_views.login_page, name="login"),
    # These two paths are registered at JD Cloud as the OAuth client's redirect URI.
    path("accounts/jdcloud/login/", brand_views.jdcloud_login, name="jdcloud-login"),
    path("accounts/jdcloud/callback/", brand_views.jdcloud_callback, name="jdcloud-callback"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("crowds/openid/", include("crowds.openid_urls")),
    path("crowds/", include("crowds.urls")),
    path("campaigns/", include("campaigns.urls")),
    path("reports/", include("reports.urls")),
    path("settings/", include("brands.urls")),
    path("cdp/", include("brands.cdp_urls")),
    path("cdp/reports/", include("reports.cdp.urls")),
    # ISV endpoints called by JD Cloud (spec: 【ISV提供】).
    path("JDCloud/master/sync", brand_callbacks.master_sync, name="jdcloud-master-sync"),
    path("JDCloud/master/edit", brand_callbacks.master_edit, name="jdcloud-master-edit"),
    path("JDCloud/master/verify", brand_callbacks.free_login, name="jdcloud-free-login"),
    path(
        "JDCloud/activity/update",
        campaign_callbacks.activity_update,
        name="jdcloud-activity-update",
    ),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"), namespace="v1")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]
