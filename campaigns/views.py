from django.shortcuts import render

from brands.access import brand_required


@brand_required
def campaign_list(request):
    return render(request, "campaigns/campaign_list.html", {"brand": request.brand})
