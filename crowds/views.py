from django.shortcuts import render

from brands.access import brand_required


@brand_required
def crowd_list(request):
    return render(request, "crowds/crowd_list.html", {"brand": request.brand})
