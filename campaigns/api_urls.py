from django.urls import path
from rest_framework.routers import SimpleRouter

from campaigns.api import activities, reach, wechat

router = SimpleRouter()
router.register("reaches", reach.ReachViewSet, basename="reach")
router.register("short-links", reach.ShortLinkViewSet, basename="short-link")
router.register("activities", activities.ActivityViewSet, basename="activity")
router.register("wechat-campaigns", wechat.WechatCampaignViewSet, basename="wechat-campaign")

urlpatterns = [
    path("sms/balance/", reach.SmsBalanceApi.as_view(), name="sms-balance"),
    path("sms/templates/", reach.SmsTemplatesApi.as_view(), name="sms-templates"),
    path("sms/signatures/", reach.SmsSignaturesApi.as_view(), name="sms-signatures"),
    path("sms/recharge/", reach.SmsRechargeApi.as_view(), name="sms-recharge"),
    path("sms/consume/", reach.SmsConsumeApi.as_view(), name="sms-consume"),
    path("sms/results/<int:instance_id>/", reach.SmsResultApi.as_view(), name="sms-result"),
    path("notices/", reach.NoticesApi.as_view(), name="notices"),
    path("wechat/info/", wechat.WechatInfoApi.as_view(), name="wechat-info"),
    path("wechat/templates/", wechat.WechatTemplatesApi.as_view(), name="wechat-templates"),
    path("wechat/news/", wechat.WechatNewsApi.as_view(), name="wechat-news"),
    *router.urls,
]
