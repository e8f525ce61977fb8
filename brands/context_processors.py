def brand(request):
    """The request's brand and how it got in (member / preview), for every template."""
    return {
        "brand": getattr(request, "brand", None),
        "brand_access": getattr(request, "brand_access", None),
    }
