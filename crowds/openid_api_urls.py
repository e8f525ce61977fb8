"""REST routes under /api/v1/: WeChat openId packages built from Linkflow groups, and the
Linkflow write-backs of campaigns (the latter's views live in `campaigns.writeback_api`)."""

from rest_framework.routers import SimpleRouter

from campaigns.writeback_api import WritebackViewSet
from crowds.openid_api import OpenIdPackageViewSet

router = SimpleRouter()
router.register("cdp/openid-packages", OpenIdPackageViewSet, basename="cdp-openid-package")
router.register("cdp/writebacks", WritebackViewSet, basename="cdp-writeback")

urlpatterns = router.urls
