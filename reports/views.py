from django.shortcuts import render

from brands.access import brand_required


@brand_required
def report_overview(request):
    return render(request, "reports/report_overview.html", {"brand": request.brand})
