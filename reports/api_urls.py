from rest_framework.routers import SimpleRouter

from reports.apis import ReportRowViewSet

router = SimpleRouter()
router.register("reports", ReportRowViewSet, basename="report")

urlpatterns = router.urls
