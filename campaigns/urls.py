"""The campaigns app's pages, under /campaigns/ (the REST API is in `api_urls`)."""

from django.urls import path

from campaigns import views

app_name = "campaigns"
urlpatterns = [
    path("", views.campaign_list, name="list"),
    path("reach/new/", views.reach_new, name="reach-new"),
    path("reaches/", views.reach_list, name="reaches"),
    path("reaches/<int:pk>/", views.reach_detail, name="reach"),
    path("sms/", views.sms_ledger, name="sms"),
    path("activities/", views.activity_list, name="activities"),
    path("activities/new/", views.activity_create, name="activity-new"),
    path("activities/<int:pk>/", views.activity_detail, name="activity"),
    path("activities/<int:pk>/edit/", views.activity_edit, name="activity-edit"),
    path("activities/<int:pk>/submit/", views.activity_submit, name="activity-submit"),
    # JD's reviewers land here through the free-login redirect: the activities service
    # sends this very path as `preview_url` (campaigns.services.activities.PREVIEW_PATH).
    path("activities/<int:pk>/preview/", views.activity_preview, name="activity-preview"),
    path("wechat/", views.wechat_overview, name="wechat"),
    path("wechat/new/", views.wechat_create, name="wechat-new"),
    path("wechat/news/", views.wechat_news, name="wechat-news"),
    path("wechat/<int:pk>/", views.wechat_detail, name="wechat-campaign"),
    path("wechat/<int:pk>/cancel/", views.wechat_cancel, name="wechat-cancel"),
    path("wechat/<int:pk>/retry/", views.wechat_retry, name="wechat-retry"),
    path("wechat/<int:pk>/repoll/", views.wechat_repoll, name="wechat-repoll"),
]
