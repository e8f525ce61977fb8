"""CDP pages: the brand's Linkflow groups (with members), tags, and tracked links."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from brands import cdp
from brands.access import brand_required
from brands.linkflow import LinkflowNotConnected
from brands.models import TrackedLink
from portal.integrations.linkflow.errors import LinkflowError

LINKS_PAGE = 25


def _linkflow_page(request, template: str, load, **context):
    """Render `template` with what `load()` returns, or with the reason Linkflow could not
    answer (not connected / refused / unreachable) instead of a server error."""
    try:
        context.update(load())
    except LinkflowNotConnected as exc:
        context["not_connected"] = str(exc)
    except LinkflowError as exc:
        context["linkflow_error"] = cdp._describe(exc)
    return render(request, template, context)


@brand_required
def groups(request):
    name = request.GET.get("name", "")[:100]
    group_type = request.GET.get("type", "")
    return _linkflow_page(
        request,
        "brands/cdp/groups.html",
        lambda: {"groups": cdp.cdp_groups(brand=request.brand, name=name, group_type=group_type)},
        name=name,
        group_type=group_type,
    )


@brand_required
def group_detail(request, group_id: int):
    try:
        after = max(0, int(request.GET.get("after", 0)))
    except ValueError:
        after = 0

    def load():
        try:
            group = cdp.cdp_group(brand=request.brand, group_id=group_id)
        except cdp.GroupNotFound:
            raise Http404(_("No such Linkflow group.")) from None
        page = cdp.cdp_group_members(brand=request.brand, group_id=group_id, after=after)
        return {"group": group, "members": page.members, "next_after": page.next_after}

    return _linkflow_page(request, "brands/cdp/group.html", load, group_id=group_id, after=after)


@brand_required
def tags(request):
    try:
        page = max(0, int(request.GET.get("page", 0)))
    except ValueError:
        page = 0

    def load():
        rows = cdp.cdp_tags(brand=request.brand, page=page)
        return {"tags": rows, "has_next": len(rows) == cdp.TAGS_PAGE}

    return _linkflow_page(
        request, "brands/cdp/tags.html", load, page=page, previous=page - 1 if page else None
    )


class TrackedLinkForm(forms.Form):
    url = forms.URLField(label=gettext_lazy("Campaign URL"), max_length=2000, assume_scheme="https")
    utm_source = forms.CharField(label=gettext_lazy("Source"), max_length=100, required=False)
    utm_campaign = forms.CharField(label=gettext_lazy("Campaign"), max_length=100, required=False)
    utm_medium = forms.CharField(label=gettext_lazy("Medium"), max_length=100, required=False)
    utm_content = forms.CharField(label=gettext_lazy("Content"), max_length=100, required=False)
    contact_id = forms.IntegerField(
        label=gettext_lazy("For one contact (Linkflow contact ID)"), required=False, min_value=1
    )

    def utm(self) -> dict[str, str]:
        return {
            name: self.cleaned_data[f"utm_{name}"]
            for name in ("source", "campaign", "medium", "content")
        }


@brand_required
def links(request):
    if request.method == "POST":
        if request.brand_access == "preview":
            return redirect("cdp:links")
        form = TrackedLinkForm(request.POST)
        if form.is_valid():
            link = cdp.tracked_link_create(
                brand=request.brand,
                url=form.cleaned_data["url"],
                utm=form.utm(),
                contact_id=form.cleaned_data["contact_id"],
            )
            if link.error:
                messages.error(
                    request,
                    _("The link is kept, but Linkflow did not shorten it: %(error)s")
                    % {"error": link.error},
                )
            else:
                messages.success(
                    request, _("Tracked link created: %(url)s") % {"url": link.short_url}
                )
            return redirect("cdp:links")
    else:
        form = TrackedLinkForm(initial={"utm_source": "jd_portal"})
    paginator = Paginator(TrackedLink.objects.all(), LINKS_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "brands/cdp/links.html", {"form": form, "page_obj": page})


@require_POST
@brand_required(allow_preview=False)
def link_retry(request, pk: int):
    link = get_object_or_404(TrackedLink, pk=pk)
    cdp.tracked_link_shorten(link=link)
    if link.error:
        messages.error(request, _("Linkflow did not shorten it: %(error)s") % {"error": link.error})
    else:
        messages.success(request, _("Tracked link created: %(url)s") % {"url": link.short_url})
    return redirect("cdp:links")
