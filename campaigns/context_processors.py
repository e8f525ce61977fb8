from campaigns.models import SystemState
from campaigns.services.system import notices_current


def jd_status(request):
    """JD Cloud's notices as a banner, and whether JD is available, on every page."""
    if not getattr(request, "brand", None):
        return {}
    state = SystemState.objects.filter(pk=1).first()
    return {
        "jd_notices": list(notices_current()[:3]),
        "jd_down_reason": (state.reason or "—") if state is not None and not state.up else "",
    }
