"""HTML pages of the campaigns app: reaching a package (the wizard), reaches, the SMS
ledger, activities under JD review with the reviewers' preview page, WeChat campaigns.

Views are thin: reads go through the models' scoped managers (another brand's id is a
404), writes through `campaigns.services`, and a JD Cloud failure becomes a message with
JD's own words, never a 500. Read-only preview sessions may open every page here but see
no write control; the pages that only write refuse them.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import get_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from brands.access import brand_required
from campaigns.models import Activity, Reach, ReachType, WechatCampaign
from campaigns.services import activities as activity_services
from campaigns.services import reach as reach_services
from campaigns.services import wechat as wechat_services
from campaigns.services.system import system_state
from crowds.models import CrowdInstance, InstanceStatus, OpenIdPackage
from portal.integrations.jdcloud.errors import JDCloudError
from portal.integrations.jdcloud.factory import jdcloud_client

PAGE_SIZE = 50
RECENT = 5
# The pre-flight warns about links longer than this (campaigns.services.reach): the
# wizard offers to shorten them.
LONG_URL_LENGTH = 30
LEDGER_PAGE_SIZES = (10, 20, 50, 100)
# The activity form offers this many reaches to link, the newest.
REACH_CHOICES = 100


def _can_write(request: HttpRequest) -> bool:
    return request.brand_access == "member"


def _jd_message(exc: JDCloudError) -> str:
    return getattr(exc, "msg", "") or str(exc)


def _say_jd_failed(request: HttpRequest, what: str, exc: JDCloudError) -> None:
    messages.error(
        request,
        _("JD Cloud could not answer (%(what)s): %(error)s")
        % {"what": what, "error": _jd_message(exc)},
    )


def _number_format() -> dict:
    """How the page's language groups digits, for numbers the scripts show."""
    return {
        "separator": get_format("THOUSAND_SEPARATOR"),
        "grouping": get_format("NUMBER_GROUPING"),
    }


def _page(request: HttpRequest, rows):
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


def _balance(request: HttpRequest):
    """The brand's SMS balance, or None (with a message) when JD does not answer."""
    try:
        return jdcloud_client(brand_id=request.brand.pk).sms_balance(
            master_id=request.brand.master_id
        )
    except JDCloudError as exc:
        _say_jd_failed(request, _("SMS balance"), exc)
        return None


# --- Landing -----------------------------------------------------------------------------


@brand_required
def campaign_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "campaigns/campaign_list.html",
        {
            "reaches": Reach.objects.select_related("instance")[:RECENT],
            "activities": Activity.objects.all()[:RECENT],
            "wechat_campaigns": WechatCampaign.objects.all()[:RECENT],
            "balance": _balance(request),
            "can_write": _can_write(request),
        },
    )


# --- The reach wizard --------------------------------------------------------------------


def _reach_labels() -> dict:
    """Every string the wizard script shows, translated here (none are written in JS)."""
    return {
        "chooseTemplate": _("Choose a template"),
        "chooseSignature": _("Choose a signature"),
        "loading": _("Loading…"),
        "noTemplates": _("JD Cloud has no templates of this kind for your brand."),
        "noSignatures": _("Your brand has no private SMS signature at JD Cloud."),
        "noPlaceholders": _("This template has no placeholders."),
        "loadFailed": _("JD Cloud could not answer: %(error)s"),
        "checking": _("Checking…"),
        "checkFailed": _("The pre-flight check failed: %(error)s"),
        "ready": _("Ready to send."),
        "blocked": _("Fix the problems marked before sending."),
        "incomplete": _("Choose a type and a template first."),
        "shorten": _("Shorten link"),
        "shortening": _("Shortening…"),
        "shortened": _("Replaced by the short link %(url)s."),
        "characters": _("%(count)s characters"),
        "segments": _("%(count)s SMS per person"),
        "unsubscribeOk": _("Contains an unsubscribe notice"),
        "unsubscribeMissing": _("No unsubscribe notice"),
        "domains": {"public": _("public"), "private": _("private")},
        "placeholderHint": _("Fills {%(name)s} in the template"),
    }


def _reach_config(instance: CrowdInstance) -> dict:
    return {
        "instance": instance.pk,
        "urls": {
            "templates": reverse("v1:sms-templates"),
            "signatures": reverse("v1:sms-signatures"),
            "preflight": reverse("v1:reach-preflight"),
            "shortLinks": reverse("v1:short-link-list"),
        },
        "publicSignature": reach_services.PUBLIC_SIGNATURE,
        "singleLength": reach_services.SMS_SINGLE_LENGTH,
        "partLength": reach_services.SMS_PART_LENGTH,
        "unsubscribe": reach_services.UNSUBSCRIBE.pattern,
        "longUrlLength": LONG_URL_LENGTH,
        "privateTypes": [str(t) for t in reach_services.PRIVATE_TYPES],
        "couponTypes": [str(t) for t in reach_services.COUPON_TYPES],
        "labels": _reach_labels(),
        "numbers": _number_format(),
    }


class ReachForm(forms.Form):
    """What the wizard posts; the placeholders arrive as `param_<name>` fields."""

    type = forms.ChoiceField(choices=ReachType.choices)
    template_id = forms.CharField(max_length=64)
    signature_id = forms.CharField(max_length=64, required=False)
    batch_id = forms.CharField(max_length=64, required=False)
    send_time = forms.CharField(required=False)

    def clean_send_time(self) -> datetime | None:
        text = self.cleaned_data["send_time"].strip()
        if not text:
            return None
        try:
            moment = parse_datetime(text)
        except ValueError:
            moment = None
        if moment is None:
            raise forms.ValidationError(_("Enter a date and time."))
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return moment

    def template_params(self) -> dict[str, str]:
        return {
            name.removeprefix("param_"): value
            for name, value in self.data.items()
            if name.startswith("param_") and name != "param_"
        }

    def to_request(self) -> reach_services.ReachRequest:
        data = self.cleaned_data
        return reach_services.ReachRequest(
            reach_type=data["type"],
            template_id=data["template_id"],
            template_params=self.template_params(),
            signature_id=data["signature_id"],
            batch_id=data["batch_id"],
            send_time=data["send_time"],
        )


@brand_required(allow_preview=False)
def reach_new(request: HttpRequest) -> HttpResponse:
    """The wizard on a generated package: `?instance=<id>`; without it, a package picker."""
    instance_id = request.GET.get("instance", "")
    if not instance_id.isdigit():
        packages = CrowdInstance.objects.filter(status=InstanceStatus.GENERATED)[:100]
        return render(request, "campaigns/reach_pick.html", {"packages": packages})
    instance = get_object_or_404(CrowdInstance, pk=int(instance_id))
    state = system_state()
    initial: dict = {}
    status = 200
    if request.method == "POST":
        form = ReachForm(request.POST)
        initial = {
            "type": request.POST.get("type", ""),
            "template_id": request.POST.get("template_id", ""),
            "template_params": form.template_params(),
            "signature_id": request.POST.get("signature_id", ""),
            "batch_id": request.POST.get("batch_id", ""),
            "send_time": request.POST.get("send_time", ""),
        }
        status = 400
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
        else:
            try:
                reach = reach_services.reach_send(
                    brand=request.brand,
                    instance=instance,
                    request=form.to_request(),
                    user=request.user,
                )
            except reach_services.ReachRefused as exc:
                messages.error(request, _("Not sent: %(reason)s") % {"reason": exc.message})
                if exc.preflight is not None:
                    initial["preflight"] = exc.preflight.as_dict()
            except JDCloudError as exc:
                _say_jd_failed(request, _("pre-flight check"), exc)
            else:
                if reach.status == Reach.Status.FAILED:
                    messages.error(
                        request,
                        _("JD Cloud refused the reach: [%(code)s] %(error)s")
                        % {"code": reach.jd_code, "error": reach.jd_msg},
                    )
                else:
                    messages.success(request, _("The reach was accepted by JD Cloud."))
                return redirect("campaigns:reach", pk=reach.pk)
    return render(
        request,
        "campaigns/reach_wizard.html",
        {
            "instance": instance,
            "jd_up": state.up,
            "jd_reason": state.reason,
            "reach_types": ReachType.choices,
            "config": _reach_config(instance),
            "initial": initial,
        },
        status=status,
    )


@brand_required
def reach_list(request: HttpRequest) -> HttpResponse:
    reaches = Reach.objects.select_related("instance")
    return render(
        request,
        "campaigns/reach_list.html",
        {"page_obj": _page(request, reaches), "can_write": _can_write(request)},
    )


@brand_required
def reach_detail(request: HttpRequest, pk: int) -> HttpResponse:
    reach = get_object_or_404(Reach.objects.select_related("instance", "created_by"), pk=pk)
    result = None
    if reach.status == Reach.Status.SENT and reach.instance.package_id:
        try:
            result = jdcloud_client(brand_id=request.brand.pk).sms_result(
                package_id=reach.instance.package_id
            )
        except JDCloudError as exc:
            _say_jd_failed(request, _("SMS send results"), exc)
    return render(
        request,
        "campaigns/reach_detail.html",
        {
            "reach": reach,
            "result": result,
            "params": sorted(reach.template_params.items()),
            "can_write": _can_write(request),
        },
    )


# --- The SMS ledger ----------------------------------------------------------------------


class LedgerFilter(forms.Form):
    kind = forms.ChoiceField(
        choices=[("recharge", gettext_lazy("Recharges")), ("consume", gettext_lazy("Consumption"))],
        required=False,
    )
    start = forms.DateField(label=gettext_lazy("From"), required=False)
    end = forms.DateField(label=gettext_lazy("To"), required=False)
    page_num = forms.IntegerField(min_value=1, required=False)
    page_size = forms.IntegerField(
        label=gettext_lazy("Per page"), min_value=1, max_value=100, required=False
    )

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError(_("The start date is after the end date."))
        return data


def _day(value, end: bool) -> datetime | None:
    """A whole day in the spec's `yyyy-MM-dd HH:mm:ss`: from 00:00:00 or to 23:59:59."""
    if value is None:
        return None
    return timezone.make_aware(datetime.combine(value, time.max if end else time.min))


@brand_required
def sms_ledger(request: HttpRequest) -> HttpResponse:
    """Balance, recharges (`/sms/recharge`) or consumption (`/sms/consume`), as JD has them."""
    balance = _balance(request)
    ledger = LedgerFilter(request.GET or None)
    values = ledger.cleaned_data if ledger.is_valid() else {}
    kind = values.get("kind") or "recharge"
    page_num = values.get("page_num") or 1
    page_size = values.get("page_size") or LEDGER_PAGE_SIZES[0]
    page = None
    if not ledger.errors:
        client = jdcloud_client(brand_id=request.brand.pk)
        read = client.sms_recharge if kind == "recharge" else client.sms_consume
        try:
            page = read(
                master_id=request.brand.master_id,
                start_date=_day(values.get("start"), end=False),
                end_date=_day(values.get("end"), end=True),
                page_num=page_num,
                page_size=page_size,
            )
        except JDCloudError as exc:
            what = _("recharge records") if kind == "recharge" else _("consumption records")
            _say_jd_failed(request, what, exc)
    query = {
        "kind": kind,
        "start": request.GET.get("start", ""),
        "end": request.GET.get("end", ""),
        "page_size": page_size,
    }
    return render(
        request,
        "campaigns/sms_ledger.html",
        {
            "balance": balance,
            "ledger": ledger,
            "kind": kind,
            "page": page,
            "page_size": page_size,
            "page_sizes": sorted({*LEDGER_PAGE_SIZES, page_size}),
            "query": query,
            "domains": {1: _("Public"), 2: _("Private")},
        },
    )


# --- Activities under JD's review --------------------------------------------------------

# The service names fields as the spec does; the form as the model does.
ACTIVITY_FIELDS = {
    "activity_name": "name",
    "activity_desc": "description",
    "start_type": "start_type",
    "start_type_remark": "start_type_remark",
    "activity_reach_type": "reach_type",
    "reach": "reach",
}


class ActivityForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=activity_services.NAME_MAX)
    description = forms.CharField(
        label=gettext_lazy("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    start_type = forms.ChoiceField(
        label=gettext_lazy("Runs"),
        choices=Activity.StartType.choices,
        widget=forms.RadioSelect,
        initial=Activity.StartType.SINGLE,
    )
    start_type_remark = forms.CharField(
        label=gettext_lazy("Schedule"),
        required=False,
        max_length=activity_services.REMARK_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy(
            "Required for a periodic activity, e.g. “Every week; first run 2019-04-22 20:20:00; "
            "ends after 5 runs.”"
        ),
    )
    reach_type = forms.ChoiceField(
        label=gettext_lazy("Reach type"),
        choices=Activity.ReachType.choices,
        widget=forms.RadioSelect,
        initial=Activity.ReachType.SMS,
    )
    reach = forms.ModelChoiceField(
        label=gettext_lazy("Reach"),
        queryset=Reach.objects.none(),
        required=False,
        empty_label=gettext_lazy("No linked reach"),
        help_text=gettext_lazy("The reviewers see its SMS text, template and package."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The newest reaches (a brand collects thousands), and the one already chosen: the
        # linked reach, `?reach=` from a reach's page, or what was posted.
        chosen = [
            int(value)
            for value in (self.initial.get("reach"), self.data.get("reach"))
            if str(value or "").isdigit()
        ]
        newest = Reach.objects.order_by("-created_at", "-id").values("pk")[:REACH_CHOICES]
        self.fields["reach"].queryset = Reach.objects.select_related("instance").filter(
            Q(pk__in=newest) | Q(pk__in=chosen)
        )
        self.fields["reach"].label_from_instance = _reach_label

    def clean(self):
        data = super().clean()
        if data.get("start_type") == Activity.StartType.PERIODIC:
            if not (data.get("start_type_remark") or "").strip():
                self.add_error(
                    "start_type_remark", _("Describe the schedule of a periodic activity.")
                )
        elif "start_type_remark" in data:
            # A single run has no schedule (the spec's start_type_remark is for periodic
            # runs only): the field is hidden then, and what it held is dropped.
            data["start_type_remark"] = ""
        return data

    def values(self) -> dict:
        data = self.cleaned_data
        return {name: data[name] for name in activity_services.EDITABLE}

    def add_violations(self, violations) -> None:
        for violation in violations:
            field = ACTIVITY_FIELDS.get(violation.path)
            self.add_error(field if field in self.fields else None, violation.message)


def _reach_label(reach: Reach) -> str:
    created = timezone.localtime(reach.created_at).strftime("%Y-%m-%d %H:%M")
    return f"#{reach.pk} · {reach.get_reach_type_display()} · {reach.instance} · {created}"


def _activity_editor(request: HttpRequest, activity: Activity | None) -> HttpResponse:
    if request.method == "POST":
        form = ActivityForm(request.POST)
        if form.is_valid():
            try:
                if activity is None:
                    activity = activity_services.activity_create(
                        brand=request.brand, **form.values()
                    )
                    messages.success(request, _("Activity saved. Submit it for JD's review."))
                else:
                    before = activity.review
                    activity = activity_services.activity_update(activity=activity, **form.values())
                    _say_how_the_edit_went(request, before, activity)
            except activity_services.ActivityInputError as exc:
                form.add_violations(exc.violations)
            else:
                return redirect("campaigns:activity", pk=activity.pk)
    elif activity is not None:
        form = ActivityForm(
            initial={
                "name": activity.name,
                "description": activity.description,
                "start_type": activity.start_type,
                "start_type_remark": activity.start_type_remark,
                "reach_type": activity.reach_type,
                "reach": activity.reach_id,
            }
        )
    else:
        initial = {}
        if request.GET.get("reach", "").isdigit():
            initial["reach"] = get_object_or_404(Reach, pk=int(request.GET["reach"])).pk
        form = ActivityForm(initial=initial)
    return render(
        request,
        "campaigns/activity_form.html",
        {"form": form, "activity": activity},
        status=400 if request.method == "POST" else 200,
    )


def _say_how_the_edit_went(request: HttpRequest, before: str, activity: Activity) -> None:
    if before in activity_services.REVIEWED_STATES and activity.review == Activity.Review.DRAFT:
        if before == Activity.Review.APPROVED:
            text = _("Saved. The edit voided JD's approval: submit the activity again.")
        else:
            text = _("Saved. The edit voided the review: submit the activity again.")
        messages.warning(request, text)
    else:
        messages.success(request, _("Activity saved."))


@brand_required
def activity_list(request: HttpRequest) -> HttpResponse:
    activities = Activity.objects.all()
    review = request.GET.get("review", "")
    if review in Activity.Review.values:
        activities = activities.filter(review=review)
    return render(
        request,
        "campaigns/activity_list.html",
        {
            "page_obj": _page(request, activities),
            "review": review,
            "reviews": Activity.Review.choices,
            "can_write": _can_write(request),
        },
    )


@brand_required(allow_preview=False)
def activity_create(request: HttpRequest) -> HttpResponse:
    return _activity_editor(request, None)


@brand_required(allow_preview=False)
def activity_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _activity_editor(request, get_object_or_404(Activity, pk=pk))


def _activity_facts(activity: Activity) -> dict:
    edited = bool(activity.submitted_hash) and activity.submitted_hash != activity.content_hash
    # A review JD sent for content that has changed since: the edit voided it.
    voided = edited and activity.review == Activity.Review.DRAFT and bool(activity.reviewed_at)
    return {
        "edited_since_submission": edited,
        "voided_review": voided,
        "can_submit": activity.review
        in (Activity.Review.DRAFT, Activity.Review.REJECTED, Activity.Review.SUBMIT_FAILED),
        "resubmit": bool(activity.submitted_at) or activity.review != Activity.Review.DRAFT,
    }


@brand_required
def activity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    activity = get_object_or_404(Activity.objects.select_related("reach__instance"), pk=pk)
    return render(
        request,
        "campaigns/activity_detail.html",
        {
            "activity": activity,
            "preview_url": activity_services.preview_url(activity),
            "can_write": _can_write(request),
            "jd_up": system_state().up,
            **_activity_facts(activity),
        },
    )


@brand_required
@require_POST
def activity_submit(request: HttpRequest, pk: int) -> HttpResponse:
    activity = get_object_or_404(Activity, pk=pk)
    try:
        activity = activity_services.activity_submit(activity=activity)
    except activity_services.ActivityConflict as exc:
        messages.error(request, exc.message)
    except activity_services.ActivityRemoteError as exc:
        messages.error(request, exc.message)
    else:
        if activity.review == Activity.Review.SUBMIT_FAILED:
            messages.error(
                request,
                _("JD Cloud did not take the activity: %(error)s")
                % {"error": activity.submit_error},
            )
        else:
            messages.success(request, _("Submitted. JD Cloud's reviewers will look at it."))
    return redirect("campaigns:activity", pk=activity.pk)


@brand_required
def activity_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """What JD's reviewers see after the free-login redirect (a read-only preview
    session): the activity as submitted, with the SMS it sends when a reach is linked."""
    activity = get_object_or_404(Activity.objects.select_related("reach__instance"), pk=pk)
    return render(request, "campaigns/activity_preview.html", {"activity": activity})


# --- WeChat campaigns --------------------------------------------------------------------

# Spec 获取公众号模板消息列表: a template's content names its data fields `{{first.DATA}}`.
WECHAT_DATA_FIELD = re.compile(r"\{\{\s*(\w+)\.DATA\s*\}\}")
# Rows offered for a template whose content names no field.
FREE_TEMPLATE_ROWS = 3
NEWS_PAGE_SIZE = 5
# The service's paths → the form's fields.
WECHAT_FIELDS = {
    "templateInfo": "template_id",
    "templateInfo.templateId": "template_id",
    "templateInfo.data": "template_id",
    "templateInfo.url": "template_url",
    "mediaInfo": "media_id",
    "mediaInfo.mediaId": "media_id",
    "mediaInfo.mediaTitle": "media_title",
    "package_id": "instance",
    "openid_package": "openid_package",
}
DATETIME_WIDGET = {"attrs": {"type": "datetime-local"}, "format": "%Y-%m-%dT%H:%M"}


class WechatForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    activity_type = forms.TypedChoiceField(
        label=gettext_lazy("Message type"),
        choices=WechatCampaign.ActivityType.choices,
        coerce=int,
        widget=forms.RadioSelect,
        initial=WechatCampaign.ActivityType.TEMPLATE,
    )
    template_id = forms.CharField(label=gettext_lazy("Template"), required=False, max_length=128)
    template_url = forms.CharField(
        label=gettext_lazy("Link of the message"),
        required=False,
        max_length=2000,
        help_text=gettext_lazy("Optional: where a tap on the message leads."),
    )
    media_id = forms.CharField(label=gettext_lazy("Article"), required=False, max_length=128)
    media_title = forms.CharField(
        label=gettext_lazy("Article title"),
        required=False,
        max_length=200,
        help_text=gettext_lazy("Filled in when you pick an article."),
    )
    pack_type = forms.TypedChoiceField(
        label=gettext_lazy("Audience"),
        choices=WechatCampaign.PackType.choices,
        coerce=int,
        initial=WechatCampaign.PackType.FOLLOWER_ALL,
    )
    instance = forms.ModelChoiceField(
        label=gettext_lazy("Package"),
        queryset=CrowdInstance.objects.none(),
        required=False,
        empty_label=gettext_lazy("Choose a generated package"),
    )
    openid_package = forms.ModelChoiceField(
        label=gettext_lazy("openId package"),
        queryset=OpenIdPackage.objects.none(),
        required=False,
        empty_label=gettext_lazy("Choose an openId package built from a Linkflow group"),
    )
    send_time = forms.DateTimeField(
        label=gettext_lazy("Send time"), widget=forms.DateTimeInput(**DATETIME_WIDGET)
    )
    begin_time = forms.DateTimeField(
        label=gettext_lazy("Begins"), widget=forms.DateTimeInput(**DATETIME_WIDGET)
    )
    end_time = forms.DateTimeField(
        label=gettext_lazy("Ends"), widget=forms.DateTimeInput(**DATETIME_WIDGET)
    )
    convert_urls = forms.CharField(
        label=gettext_lazy("Landing pages to convert"),
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": "https://item.jd.com/100012043978.html"}
        ),
        help_text=gettext_lazy("One jd.com address a line; JD Cloud converts each for WeChat."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)

        # The newest generated packages and openId packages (a brand collects thousands),
        # plus the ones already chosen (initial or posted).
        def chosen(name: str) -> list[int]:
            values = (self.initial.get(name), self.data.get(name))
            return [int(v) for v in values if str(v or "").isdigit()]

        generated = CrowdInstance.objects.filter(status=InstanceStatus.GENERATED).exclude(
            package_id=""
        )
        newest = generated.order_by("-created_at", "-id").values("pk")[:REACH_CHOICES]
        self.fields["instance"].queryset = generated.filter(
            Q(pk__in=newest) | Q(pk__in=chosen("instance"))
        )
        ready = OpenIdPackage.objects.filter(status=OpenIdPackage.Status.READY, count__gt=0)
        newest_ready = ready.order_by("-created_at", "-id").values("pk")[:REACH_CHOICES]
        self.fields["openid_package"].queryset = ready.filter(
            Q(pk__in=newest_ready) | Q(pk__in=chosen("openid_package"))
        )

    def urls(self) -> list[str]:
        return [
            line.strip() for line in self.cleaned_data["convert_urls"].splitlines() if line.strip()
        ]

    def add_violations(self, violations) -> None:
        for violation in violations:
            path = violation.path
            field = WECHAT_FIELDS.get(path, re.sub(r"\[\d+\]$", "", path))
            self.add_error(field if field in self.fields else None, violation.message)


def _wechat_defaults() -> dict:
    begin = timezone.localtime().replace(second=0, microsecond=0) + timedelta(minutes=10)
    return {
        "begin_time": begin,
        "send_time": begin + timedelta(hours=1),
        "end_time": begin + timedelta(days=7),
    }


def _template_forms(templates, posted=None) -> list[dict]:
    """Per template, a row per data field of its content (value and colour), as posted."""
    posted = posted or {}
    choices = []
    for template in templates:
        names = list(dict.fromkeys(WECHAT_DATA_FIELD.findall(template.content or "")))
        rows = []
        for index in range(len(names) or FREE_TEMPLATE_ROWS):
            prefix = f"tpl-{template.templateId}-{index}"
            rows.append(
                {
                    "prefix": prefix,
                    "name": names[index] if names else posted.get(f"{prefix}-name", "").strip(),
                    "editable": not names,
                    "value": posted.get(f"{prefix}-value", ""),
                    "color": posted.get(f"{prefix}-color", "").strip(),
                    "errors": [],
                }
            )
        choices.append({"template": template, "rows": rows})
    return choices


def _submitted_rows(choices: list[dict], template_id: str) -> list[dict]:
    for choice in choices:
        if choice["template"].templateId == template_id:
            return [r for r in choice["rows"] if not r["editable"] or r["name"] or r["value"]]
    return []


def _place_row_errors(violations, rows: list[dict]) -> list:
    """Errors of `templateInfo.data[i]` beside their row; the others are returned."""
    rest = []
    for violation in violations:
        match = re.match(r"templateInfo\.data\[(\d+)\]", violation.path)
        if match and int(match.group(1)) < len(rows):
            rows[int(match.group(1))]["errors"].append(violation.message)
        else:
            rest.append(violation)
    return rest


def _wechat_templates(request: HttpRequest) -> list:
    try:
        return wechat_services.wechat_templates(request.brand)
    except wechat_services.WechatRemoteError as exc:
        messages.error(
            request,
            _("JD Cloud could not list the template messages: %(error)s") % {"error": exc.message},
        )
        return []


def _news_page(request: HttpRequest, offset: int, selected: str = "", selected_title: str = ""):
    """One page of the account's news for the picker, with what the page needs to show it."""
    offset = max(0, offset)
    page = {"offset": offset, "items": [], "error": "", "selected": selected}
    try:
        news = wechat_services.wechat_news(request.brand, offset, NEWS_PAGE_SIZE)
    except (wechat_services.WechatRemoteError, wechat_services.WechatInputError) as exc:
        page["error"] = getattr(exc, "message", "") or str(exc)
        return page
    for item in news.items or ():
        content = item.get("content") or {}
        articles = content.get("articles") or [{}]
        first = articles[0] or {}
        page["items"].append(
            {
                "media_id": item.get("mediaId", ""),
                "updated": item.get("updateTime", ""),
                "title": first.get("title", ""),
                "digest": first.get("digest", ""),
                "author": first.get("author", ""),
                "thumb_url": first.get("thumbUrl", ""),
                "articles": len(articles),
            }
        )
    page["total"] = news.totalCount
    page["previous"] = max(0, offset - NEWS_PAGE_SIZE) if offset > 0 else None
    page["next"] = offset + NEWS_PAGE_SIZE if offset + NEWS_PAGE_SIZE < news.totalCount else None
    page["first"] = offset + 1 if page["items"] else 0
    page["last"] = offset + len(page["items"])
    if selected and selected not in {i["media_id"] for i in page["items"]}:
        page["pinned"] = {"media_id": selected, "title": selected_title}
    return page


def _int(value: str, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


@brand_required
def wechat_overview(request: HttpRequest) -> HttpResponse:
    info = None
    try:
        info = wechat_services.wechat_info(request.brand)
    except wechat_services.WechatRemoteError as exc:
        messages.error(
            request,
            _("JD Cloud could not read the official account: %(error)s") % {"error": exc.message},
        )
    return render(
        request,
        "campaigns/wechat_list.html",
        {
            "info": info,
            "page_obj": _page(request, WechatCampaign.objects.all()),
            "can_write": _can_write(request),
        },
    )


def _openid_initial(request: HttpRequest) -> dict:
    """`?openid_package=<id>` (from the package's page) chooses pack type 3 and the package."""
    package_id = _int(request.GET.get("openid_package"), 0)
    if not package_id:
        return {}
    package = OpenIdPackage.objects.filter(pk=package_id, status=OpenIdPackage.Status.READY).first()
    if package is None:
        return {}
    return {"pack_type": WechatCampaign.PackType.UPLOAD_OPENID, "openid_package": package.pk}


@brand_required(allow_preview=False)
def wechat_create(request: HttpRequest) -> HttpResponse:
    templates = _wechat_templates(request)
    status = 200
    if request.method == "POST":
        form = WechatForm(request.POST)
        choices = _template_forms(templates, request.POST)
        template_id = request.POST.get("template_id", "")
        rows = _submitted_rows(choices, template_id)
        news = _news_page(
            request,
            _int(request.POST.get("news_offset")),
            request.POST.get("media_id", ""),
            request.POST.get("media_title", ""),
        )
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            template = data["activity_type"] == WechatCampaign.ActivityType.TEMPLATE
            try:
                campaign = wechat_services.wechat_campaign_create(
                    brand=request.brand,
                    name=data["name"],
                    activity_type=data["activity_type"],
                    pack_type=data["pack_type"],
                    instance=data["instance"]
                    if data["pack_type"] == WechatCampaign.PackType.CUSTOMER
                    else None,
                    openid_package=data["openid_package"]
                    if data["pack_type"] == WechatCampaign.PackType.UPLOAD_OPENID
                    else None,
                    template_id=data["template_id"] if template else "",
                    template_data=[
                        {"name": r["name"], "value": r["value"], "color": r["color"]} for r in rows
                    ]
                    if template
                    else (),
                    template_url=data["template_url"] if template else "",
                    media_id="" if template else data["media_id"],
                    media_title="" if template else data["media_title"],
                    send_time=data["send_time"],
                    begin_time=data["begin_time"],
                    end_time=data["end_time"],
                    convert_urls=form.urls(),
                )
            except wechat_services.WechatInputError as exc:
                form.add_violations(_place_row_errors(exc.violations, rows))
            except wechat_services.WechatRemoteError as exc:
                messages.error(request, exc.message)
            else:
                if campaign.sync_error:
                    messages.warning(
                        request,
                        _("The campaign is saved here, but JD Cloud did not take it: %(error)s")
                        % {"error": campaign.sync_error},
                    )
                else:
                    messages.success(request, _("The campaign was created at JD Cloud."))
                return redirect("campaigns:wechat-campaign", pk=campaign.pk)
    else:
        form = WechatForm(initial={**_wechat_defaults(), **_openid_initial(request)})
        choices = _template_forms(templates)
        news = _news_page(request, _int(request.GET.get("news_offset")))
    return render(
        request,
        "campaigns/wechat_form.html",
        {
            "form": form,
            "templates": choices,
            "chosen_template": form["template_id"].value() or "",
            "news": news,
            "pack_types": WechatCampaign.PackType.choices,
            "jd_up": system_state().up,
        },
        status=status,
    )


@brand_required(allow_preview=False)
def wechat_news(request: HttpRequest) -> HttpResponse:
    """The news picker's page `?offset=`, as a fragment the form's script swaps in."""
    news = _news_page(
        request,
        _int(request.GET.get("offset")),
        request.GET.get("selected", ""),
        request.GET.get("selected_title", ""),
    )
    return render(request, "campaigns/includes/news_page.html", {"news": news})


@brand_required
def wechat_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(WechatCampaign.objects.select_related("instance"), pk=pk)
    return render(
        request,
        "campaigns/wechat_detail.html",
        {
            "campaign": campaign,
            "poll_url": reverse("v1:wechat-campaign-detail", args=[campaign.pk]),
            "live": {
                "labels": {
                    str(value): str(label) for value, label in WechatCampaign.Status.choices
                },
                "creating": _("Creating"),
                "notCreated": _("Not created at JD Cloud"),
                "remarkCount": _("%(count)s / %(max)s characters"),
                "numbers": _number_format(),
            },
            "remark_max": wechat_services.REMARK_MAX,
            "can_write": _can_write(request),
            "can_repoll": wechat_services.wechat_campaign_can_repoll(campaign),
            "jd_up": system_state().up,
        },
    )


@brand_required
@require_POST
def wechat_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(WechatCampaign, pk=pk)
    try:
        wechat_services.wechat_campaign_cancel(
            campaign=campaign, remark=request.POST.get("remark", "")
        )
    except wechat_services.WechatInputError as exc:
        for violation in exc.violations:
            messages.error(request, violation.message)
    except (wechat_services.WechatConflict, wechat_services.WechatRemoteError) as exc:
        messages.error(request, _("Not cancelled: %(reason)s") % {"reason": exc.message})
    else:
        messages.success(request, _("The campaign is cancelled."))
    return redirect("campaigns:wechat-campaign", pk=pk)


@brand_required
@require_POST
def wechat_repoll(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(WechatCampaign, pk=pk)
    try:
        wechat_services.wechat_campaign_repoll(campaign=campaign)
    except wechat_services.WechatConflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The portal asks JD Cloud for the status again."))
    return redirect("campaigns:wechat-campaign", pk=pk)


@brand_required
@require_POST
def wechat_retry(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(WechatCampaign, pk=pk)
    try:
        campaign = wechat_services.wechat_campaign_submit(campaign=campaign)
    except (wechat_services.WechatConflict, wechat_services.WechatRemoteError) as exc:
        messages.error(request, exc.message)
    else:
        if campaign.jd_activity_id is None:
            messages.error(
                request,
                _("JD Cloud still did not take the campaign: %(error)s")
                % {"error": campaign.sync_error},
            )
        else:
            messages.success(request, _("The campaign was created at JD Cloud."))
    return redirect("campaigns:wechat-campaign", pk=pk)
