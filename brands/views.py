from django.shortcuts import render

from brands.access import brand_required


@brand_required
def brand_settings(request):
    return render(request, "brands/settings.html", {"brand": request.brand})
