"""Settings → Linkflow CDP: connect the brand's workspace, test it, disconnect.

The App Secret is write-only: the form never shows it, and leaving it empty keeps the
stored one (so the App Key or channel can be changed without typing it again).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from brands.access import brand_required
from brands.linkflow import linkflow_check, linkflow_connect, linkflow_disconnect


class LinkflowForm(forms.Form):
    app_key = forms.CharField(label=gettext_lazy("App Key"), max_length=128)
    app_secret = forms.CharField(
        label=gettext_lazy("App Secret"),
        max_length=256,
        required=False,
        widget=forms.PasswordInput(render_value=False),
    )
    channel_key = forms.CharField(
        label=gettext_lazy("Channel key for campaign events"), max_length=128, required=False
    )
    wechat_app_id = forms.RegexField(
        label=gettext_lazy("WeChat official account appId"),
        regex=r"^[A-Za-z0-9_-]*$",
        max_length=64,
        required=False,
    )

    def __init__(self, *args, brand=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.brand = brand

    def clean(self):
        data = super().clean()
        if (
            self.brand is not None
            and not data.get("app_secret")
            and not self.brand.linkflow_app_secret
        ):
            self.add_error("app_secret", _("Enter the App Secret: none is stored yet."))
        return data


@require_POST
@brand_required(allow_preview=False)
def linkflow_save(request):
    form = LinkflowForm(request.POST, brand=request.brand)
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            for error in errors:
                messages.error(request, f"{label}: {error}" if label else error)
        return redirect("brands:settings")
    data = form.cleaned_data
    linkflow_connect(
        brand=request.brand,
        app_key=data["app_key"],
        app_secret=data["app_secret"],
        channel_key=data["channel_key"],
        wechat_app_id=data["wechat_app_id"],
    )
    error = linkflow_check(brand=request.brand)
    if error:
        messages.error(
            request, _("Saved, but the connection test failed: %(error)s") % {"error": error}
        )
    else:
        messages.success(request, _("Linkflow is connected."))
    return redirect("brands:settings")


@require_POST
@brand_required(allow_preview=False)
def linkflow_test(request):
    error = linkflow_check(brand=request.brand)
    if error:
        messages.error(request, _("Connection test failed: %(error)s") % {"error": error})
    else:
        messages.success(request, _("Connection test passed: Linkflow issued a token."))
    return redirect("brands:settings")


@require_POST
@brand_required(allow_preview=False)
def linkflow_remove(request):
    linkflow_disconnect(brand=request.brand)
    messages.success(request, _("Linkflow is disconnected; the App Secret was deleted."))
    return redirect("brands:settings")
