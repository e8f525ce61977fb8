"""Pages of WeChat openId packages (build one from a Linkflow group, follow it, use it in a
WeChat campaign), the signed file JD Cloud fetches, and running a write-back again.

Views are thin: reads through the scoped managers (another brand's id is a 404), writes
through `crowds.openid` and `campaigns.writeback`. Linkflow failures become messages.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from brands import cdp
from brands.access import brand_required
from brands.linkflow import LinkflowNotConnected
from campaigns import writeback
from campaigns.models import WechatOpenIdAudience, WritebackJob
from crowds import openid
from crowds.linkflow_models import OpenIdPackage
from portal.integrations.linkflow.errors import LinkflowError

PAGE_SIZE = 25


def _can_write(request: HttpRequest) -> bool:
    return request.brand_access == "member"


class PackageForm(forms.Form):
    group_id = forms.IntegerField(
        label=gettext_lazy("Linkflow group"), min_value=1, max_value=openid.MAX_GROUP_ID
    )


def _groups(request: HttpRequest) -> tuple[list[dict] | None, str]:
    """The brand's Linkflow groups for the picker, or None and why not."""
    try:
        return cdp.cdp_groups(brand=request.brand), ""
    except LinkflowNotConnected as exc:
        return None, str(exc)
    except LinkflowError as exc:
        return None, _("Linkflow could not answer: %(error)s") % {
            "error": openid.describe_failure(exc)
        }


def _group_param(request: HttpRequest) -> int | None:
    try:
        value = int(request.GET.get("group", ""))
    except ValueError:
        return None
    return value if 0 < value <= openid.MAX_GROUP_ID else None


@brand_required
def package_list(request: HttpRequest) -> HttpResponse:
    """The brand's packages, and the form that builds one (`?group=<id>` preselects it)."""
    status = 200
    if request.method == "POST":
        if not _can_write(request):
            raise Http404()
        form = PackageForm(request.POST)
        if form.is_valid():
            try:
                package = openid.openid_package_create(
                    brand=request.brand, group_id=form.cleaned_data["group_id"]
                )
            except openid.OpenIdPackageRefused as exc:
                form.add_error("group_id" if exc.field == "group_id" else None, exc.message)
            except LinkflowError as exc:
                form.add_error(None, openid.describe_failure(exc))
            else:
                messages.success(request, _("The openId package is being built."))
                return redirect("openid:detail", pk=package.pk)
        status = 400
    else:
        form = PackageForm(initial={"group_id": _group_param(request)})
    groups, groups_error = _groups(request)
    chosen = form["group_id"].value()
    return render(
        request,
        "crowds/openid/list.html",
        {
            "form": form,
            "groups": groups,
            "groups_error": groups_error,
            "chosen_group": str(chosen) if chosen not in (None, "") else "",
            "page_obj": Paginator(OpenIdPackage.objects.all(), PAGE_SIZE).get_page(
                request.GET.get("page")
            ),
            "can_write": _can_write(request),
        },
        status=status,
    )


@brand_required
def package_detail(request: HttpRequest, pk: int) -> HttpResponse:
    package = get_object_or_404(OpenIdPackage, pk=pk)
    audiences = WechatOpenIdAudience.objects.filter(package=package).select_related("campaign")
    return render(
        request,
        "crowds/openid/detail.html",
        {
            "package": package,
            "campaigns": [a.campaign for a in audiences.order_by("-created_at")[:50]],
            "can_restart": openid.openid_package_can_restart(package),
            "can_write": _can_write(request),
        },
    )


@brand_required(allow_preview=False)
@require_POST
def package_restart(request: HttpRequest, pk: int) -> HttpResponse:
    package = get_object_or_404(OpenIdPackage, pk=pk)
    try:
        openid.openid_package_restart(package=package)
    except openid.OpenIdPackageRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The openId package is being built again."))
    return redirect("openid:detail", pk=pk)


@require_GET
def package_file(request: HttpRequest, token: str) -> HttpResponse:
    """The openId file, one per line, for JD Cloud (`pack_path`): no session, a signed and
    expiring token instead. A wrong or expired token is a 404, like a missing file."""
    package = openid.openid_package_for_token(token)
    if package is None:
        raise Http404()
    try:
        handle = package.file.storage.open(package.file.name, "rb")
    except (FileNotFoundError, ValueError):
        raise Http404() from None
    response = FileResponse(handle, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


def _source_page(job: WritebackJob) -> str:
    if job.source_kind == WritebackJob.Source.REACH:
        return "campaigns:reach"
    return "campaigns:wechat-campaign"


@brand_required(allow_preview=False)
@require_POST
def writeback_retry(request: HttpRequest, pk: int) -> HttpResponse:
    """Run a failed, skipped or stalled write-back again, from where it stopped."""
    job = get_object_or_404(WritebackJob, pk=pk)
    try:
        writeback.writeback_retry(job=job)
    except writeback.WritebackNotRetryable as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The write-back to Linkflow runs again."))
    return redirect(_source_page(job), pk=job.source_id)
