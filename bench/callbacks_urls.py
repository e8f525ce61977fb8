"""The portal's URLs plus `POST /bench/bare`: a Django view that answers the callbacks'
JSON envelope and does nothing else, in the same server, behind the portal's middleware
(all of it: it is no ISV callback, which skips what is below `IsvCallbackMiddleware`).
The ceiling for `POST /JDCloud/master/sync` in `manage.py bench_callbacks`."""

from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from portal.urls import urlpatterns as portal_urlpatterns


@csrf_exempt
def bare(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"code": 0, "msg": "success", "data": {"status": "1"}})


urlpatterns = [*portal_urlpatterns, path("bench/bare", bare)]
