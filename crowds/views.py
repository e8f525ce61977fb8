"""HTML pages of the crowds app: crowds, the condition builder, instances and their lineage.

Views are thin: they read through `selectors`, write through `services`, and turn a
service's `CrowdInputError` into errors shown beside the field its path names, and a
`RemoteRejected` into a message carrying JD Cloud's own words.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import get_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from brands.access import brand_required
from crowds import conditions, selectors, services
from crowds.apis import compile_condition
from crowds.models import (
    Crowd,
    CrowdInstance,
    CrowdType,
    InstanceStatus,
    PackageType,
    SyncState,
    Tag,
)
from portal.integrations.jdcloud import types as jd
from portal.integrations.jdcloud.errors import JDCloudError

PAGE_SIZE = 50
# The calc form offers this many generated packages, the newest (a brand collects
# thousands); its search finds the older ones.
PICKER_SIZE = 100
# Spec "人群对象实例响应节点筛选": filter_type 1-4.
FILTER_TYPES = [
    (1, gettext_lazy("Restricted")),
    (2, gettext_lazy("Unknown")),
    (3, gettext_lazy("Failed")),
    (4, gettext_lazy("Delivered")),
]
CALC_OPERATIONS = [
    ("union", gettext_lazy("Union (people in any of the packages)")),
    ("intersection", gettext_lazy("Intersection (people in all of the packages)")),
    ("difference", gettext_lazy("Difference (the packages minus the excluded ones)")),
]
# The lineage graph's geometry, in SVG user units.
NODE_WIDTH, NODE_HEIGHT, COLUMN_GAP, ROW_GAP = 210, 66, 70, 18


def _empty_builder() -> dict:
    return {"relation": "must", "blocks": [], "exclude": []}


def _can_write(request: HttpRequest) -> bool:
    return request.brand_access == "member"


def _page(request: HttpRequest, rows):
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


def _next_or(request: HttpRequest, fallback: str) -> str:
    candidate = request.POST.get("next")
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return fallback


def _live_status() -> dict:
    """What the live-status script needs to show an instance as the server would."""
    return {
        "labels": dict(InstanceStatus.choices),
        "thousand_separator": get_format("THOUSAND_SEPARATOR"),
        "grouping": get_format("NUMBER_GROUPING"),
    }


def _errors(violations) -> list[dict]:
    return [{"path": v.path, "message": v.message} for v in violations]


def _pretty(value) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=False)


def _describe(condition: dict) -> str:
    """The condition in words (a calc crowd's package condition reads as package ids)."""
    if not condition:
        return ""
    return conditions.describe(condition, selectors.tag_catalog())


# --- Crowds ----------------------------------------------------------------------------


@brand_required
def crowd_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()
    package_type = request.GET.get("package_type", "")
    crowds = selectors.crowd_list(
        search=search,
        package_type=int(package_type) if package_type in ("1", "2") else None,
    )
    return render(
        request,
        "crowds/crowd_list.html",
        {
            "page_obj": _page(request, crowds),
            "search": search,
            "package_type": package_type,
            "package_types": PackageType.choices,
            "can_write": _can_write(request),
        },
    )


@brand_required
@require_POST
def crowd_import(request: HttpRequest) -> HttpResponse:
    try:
        count = services.crowd_import(brand=request.brand)
    except (JDCloudError, services.RemoteRejected) as exc:
        messages.error(
            request,
            _("JD Cloud could not list the crowds: %(error)s")
            % {"error": getattr(exc, "msg", "") or getattr(exc, "message", "") or str(exc)},
        )
    else:
        messages.success(
            request,
            ngettext(
                "Imported %(count)d crowd from JD Cloud.",
                "Imported %(count)d crowds from JD Cloud.",
                count,
            )
            % {"count": count},
        )
    return redirect("crowds:list")


class CrowdForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=128)
    description = forms.CharField(label=gettext_lazy("Description"), max_length=500, required=False)
    builder = forms.CharField(widget=forms.HiddenInput)

    def clean_builder(self) -> dict:
        try:
            builder = json.loads(self.cleaned_data["builder"])
        except ValueError:
            builder = None
        if not isinstance(builder, dict):
            raise forms.ValidationError(_("The condition could not be read; build it again."))
        return builder


def _catalog_groups() -> list[dict]:
    """The active tag catalog by group, as the builder and the catalog page need it."""
    groups: dict[str, list[dict]] = {}
    for tag in Tag.objects.filter(active=True).order_by("table_cd", "tag"):
        groups.setdefault(tag.table_cd, []).append(
            {
                "tag": tag.tag,
                "instruction": tag.instruction,
                "tag_type": tag.tag_type,
                "enums": list(tag.enums or []),
            }
        )
    return [{"table_cd": code, "tags": tags} for code, tags in groups.items()]


def _posted_builder(request: HttpRequest) -> dict | None:
    try:
        builder = json.loads(request.POST.get("builder", ""))
    except ValueError:
        return None
    return builder if isinstance(builder, dict) else None


def _builder_of(crowd: Crowd) -> tuple[dict, list[dict]]:
    """The builder tree of a saved crowd (and why it could not be loaded, if so)."""
    if not crowd.condition:
        return _empty_builder(), []
    compiled = compile_condition(condition=crowd.condition)
    if compiled["builder"] is None:
        return _empty_builder(), compiled["errors"]
    return compiled["builder"], []


def _crowd_editor(request: HttpRequest, crowd: Crowd | None) -> HttpResponse:
    """The condition builder page, for a new crowd (`crowd` None) or an existing one.

    The browser posts the builder tree; it is compiled here, never trusted as DSL. Any
    error re-renders the page with what was typed and each error beside its element."""
    builder_errors: list[dict] = []
    if request.method == "POST":
        form = CrowdForm(request.POST)
        builder = _posted_builder(request) or _empty_builder()
        if form.is_valid():
            compiled = compile_condition(builder=form.cleaned_data["builder"])
            builder_errors = compiled["errors"]
            if not builder_errors:
                values = form.cleaned_data
                try:
                    if crowd is None:
                        crowd = services.crowd_create(
                            brand=request.brand,
                            name=values["name"],
                            description=values["description"],
                            condition=compiled["condition"],
                            package_type=compiled["package_type"],
                            user=request.user,
                        )
                    else:
                        crowd = services.crowd_update(
                            crowd=crowd,
                            name=values["name"],
                            description=values["description"],
                            condition=compiled["condition"],
                            package_type=compiled["package_type"],
                        )
                except services.CrowdInputError as exc:
                    builder_errors = _errors(exc.violations)
                else:
                    _say_how_the_sync_went(request, crowd)
                    return redirect("crowds:detail", pk=crowd.pk)
    else:
        initial = {"name": crowd.name, "description": crowd.description} if crowd else {}
        form = CrowdForm(initial=initial)
        builder, builder_errors = _builder_of(crowd) if crowd else (_empty_builder(), [])
    return render(
        request,
        "crowds/crowd_form.html",
        {
            "crowd": crowd,
            "form": form,
            "builder": builder,
            # Errors in the tree are placed by the builder script beside their element;
            # the others (package type, JD's rules on the whole condition) go on top.
            "builder_errors": [e for e in builder_errors if e["path"].startswith("builder")],
            "save_errors": [e for e in builder_errors if not e["path"].startswith("builder")],
            "catalog": {"groups": _catalog_groups()},
            "builder_labels": _builder_labels(),
        },
        # Reaching here after a POST means something was refused.
        status=400 if request.method == "POST" else 200,
    )


def _say_how_the_sync_went(request: HttpRequest, crowd: Crowd) -> None:
    if crowd.sync_state == SyncState.SYNCED:
        messages.success(
            request, _("Crowd “%(name)s” saved and sent to JD Cloud.") % {"name": crowd.name}
        )
    else:
        messages.warning(
            request,
            _("Crowd “%(name)s” is saved here, but JD Cloud did not accept it: %(error)s")
            % {"name": crowd.name, "error": crowd.sync_error},
        )


def _builder_labels() -> dict:
    """Every string the builder script shows, translated here (none are written in JS)."""
    return {
        "and": _("and"),
        "or": _("or"),
        "allOf": _("All of these (and)"),
        "anyOf": _("Any of these (or)"),
        "relation": _("How these conditions combine"),
        "group": _("Tag group"),
        "chooseGroup": _("Choose a tag group"),
        "chooseTag": _("Choose a tag"),
        "chooseValue": _("Choose a value"),
        "tag": _("Tag"),
        "operator": _("Operator"),
        "value": _("Value"),
        "from": _("from"),
        "to": _("to"),
        "addRule": _("Add a condition"),
        "addSubgroup": _("Add an and/or sub-group"),
        "remove": _("Remove"),
        "removeBlock": _("Remove this block"),
        "block": _("Block %(number)s"),
        "exclusion": _("Exclusion %(number)s"),
        "subgroup": _("Sub-group"),
        "noTags": _("This group has no tags in the catalog."),
        "public": _("Public domain"),
        "private": _("Private domain"),
        "checking": _("Checking…"),
        "previewFailed": _("The preview is unavailable right now; you can still save."),
        "empty": _("Add a block to start building the condition."),
        "fixErrors": _("Fix the errors marked below."),
        "ok": _("The condition is valid."),
        "ops": {
            "eq": _("is"),
            "in": _("is one of"),
            "eqNumber": "=",
            "gte": "≥",
            "lte": "≤",
            "gt": ">",
            "lt": "<",
            "between": _("between"),
        },
        "packageTypes": {str(value): str(label) for value, label in PackageType.choices},
    }


@brand_required(allow_preview=False)
def crowd_create(request: HttpRequest) -> HttpResponse:
    return _crowd_editor(request, None)


@brand_required(allow_preview=False)
def crowd_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _crowd_editor(request, get_object_or_404(Crowd, pk=pk))


@brand_required
def crowd_detail(request: HttpRequest, pk: int) -> HttpResponse:
    crowd = get_object_or_404(Crowd, pk=pk)
    return render(
        request,
        "crowds/crowd_detail.html",
        {
            "crowd": crowd,
            "sentence": _describe(crowd.condition),
            "condition_json": _pretty(crowd.condition),
            "is_tag_crowd": crowd.crowd_type == CrowdType.EXTRACT,
            # Packages of the crowd, newest first, a page at a time (a crowd generated
            # daily collects hundreds).
            "page_obj": _page(request, crowd.instances.all()),
            "live_status": _live_status(),
            "can_write": _can_write(request),
        },
    )


@brand_required
@require_POST
def crowd_sync(request: HttpRequest, pk: int) -> HttpResponse:
    crowd = services.crowd_sync(crowd=get_object_or_404(Crowd, pk=pk))
    if crowd.sync_state == SyncState.SYNCED:
        messages.success(request, _("Crowd “%(name)s” is now at JD Cloud.") % {"name": crowd.name})
    else:
        messages.error(
            request,
            _("JD Cloud still did not accept “%(name)s”: %(error)s")
            % {"name": crowd.name, "error": crowd.sync_error},
        )
    return redirect(_next_or(request, reverse("crowds:detail", args=[crowd.pk])))


@brand_required
@require_POST
def crowd_delete(request: HttpRequest, pk: int) -> HttpResponse:
    crowd = get_object_or_404(Crowd, pk=pk)
    name = crowd.name
    try:
        services.crowd_delete(crowd=crowd)
    except services.RemoteRejected as exc:
        messages.error(
            request,
            _("JD Cloud did not delete “%(name)s”, so it is kept: %(error)s")
            % {"name": name, "error": exc.message},
        )
        return redirect("crowds:detail", pk=pk)
    messages.success(request, _("Crowd “%(name)s” deleted.") % {"name": name})
    return redirect("crowds:list")


@brand_required
@require_POST
def crowd_instantiate(request: HttpRequest, pk: int) -> HttpResponse:
    crowd = get_object_or_404(Crowd, pk=pk)
    try:
        instance = services.instance_create(crowd=crowd)
    except services.RemoteRejected as exc:
        messages.error(
            request, _("JD Cloud did not start a package: %(error)s") % {"error": exc.message}
        )
        return redirect("crowds:detail", pk=pk)
    messages.success(
        request, _("Package requested. It is being generated; this page follows its progress.")
    )
    return redirect("crowds:instance", pk=instance.pk)


# --- Instances -------------------------------------------------------------------------


@brand_required
def instance_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in InstanceStatus.values:
        status = ""
    return render(
        request,
        "crowds/instance_list.html",
        {
            "page_obj": _page(request, selectors.instance_list(status=status)),
            "status": status,
            "statuses": InstanceStatus.choices,
            "live_status": _live_status(),
            "can_write": _can_write(request),
        },
    )


def _lineage_graph(instance: CrowdInstance) -> dict:
    """Ancestors → this package → descendants, laid out in columns as inline SVG.

    Each generation is a column (the farthest ancestors on the left); each parent → child
    link is a curve from the right edge of the parent to the left edge of the child."""
    lineage = selectors.lineage(instance)
    columns = [*reversed(lineage["ancestors"]), [instance], *lineage["descendants"]]
    tallest = max(len(column) for column in columns)
    height = tallest * (NODE_HEIGHT + ROW_GAP) - ROW_GAP
    nodes, where = [], {}
    for index, column in enumerate(columns):
        x = index * (NODE_WIDTH + COLUMN_GAP)
        top = (height - (len(column) * (NODE_HEIGHT + ROW_GAP) - ROW_GAP)) / 2
        for row, node in enumerate(column):
            y = top + row * (NODE_HEIGHT + ROW_GAP)
            where[node.pk] = (x, y)
            nodes.append(
                {
                    "instance": node,
                    "current": node.pk == instance.pk,
                    # Coordinates as text: SVG wants "84.5" whatever the page's locale.
                    "x": f"{x:g}",
                    "y": f"{y:g}",
                    "text_x": f"{x + 12:g}",
                    "name_y": f"{y + 26:g}",
                    "meta_y": f"{y + 48:g}",
                }
            )
    edges = []
    for parent_id, child_id in lineage["edges"]:
        if parent_id not in where or child_id not in where:
            continue
        (px, py), (cx, cy) = where[parent_id], where[child_id]
        x1, y1 = px + NODE_WIDTH, py + NODE_HEIGHT / 2
        x2, y2 = cx, cy + NODE_HEIGHT / 2
        bend = max((x2 - x1) / 2, 30)
        edges.append(
            {
                "parent": parent_id,
                "child": child_id,
                "d": f"M{x1:g},{y1:g} C{x1 + bend:g},{y1:g} {x2 - bend:g},{y2:g} {x2:g},{y2:g}",
            }
        )
    return {
        "nodes": nodes,
        "edges": edges,
        "width": len(columns) * (NODE_WIDTH + COLUMN_GAP) - COLUMN_GAP,
        "height": height,
        "node_width": NODE_WIDTH,
        "node_height": NODE_HEIGHT,
        "has_relatives": len(columns) > 1,
    }


def _clock(elapsed: timedelta) -> str:
    """ "h:mm:ss" or "mm:ss", as the page's live clock shows it."""
    seconds = max(int(elapsed.total_seconds()), 0)
    hours, rest = divmod(seconds, 3600)
    clock = f"{rest // 60:02d}:{rest % 60:02d}"
    return f"{hours}:{clock}" if hours else clock


def _split_rows(request: HttpRequest | None, errors: list[dict]) -> list[dict]:
    if request is None:
        rows = [{"name": "", "value": ""}, {"name": "", "value": ""}]
    else:
        names, values = request.POST.getlist("part_name"), request.POST.getlist("part_value")
        rows = [{"name": n, "value": v} for n, v in zip(names, values, strict=False)]
    for index, row in enumerate(rows):
        row["errors"] = [e["message"] for e in errors if e["path"].startswith(f"ratio[{index}]")]
    return rows


def _instance_page(
    request: HttpRequest,
    instance: CrowdInstance,
    *,
    action: str = "",
    errors: list[dict] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The instance page; after a failed action, that action's form shows its errors
    beside its fields and keeps what was typed."""
    errors = errors or []
    posted = request.POST if action else {}
    elapsed_until = instance.completed_at or timezone.now()
    return render(
        request,
        "crowds/instance_detail.html",
        {
            "instance": instance,
            "graph": _lineage_graph(instance),
            "params_json": _pretty(instance.params) if instance.params else "",
            "elapsed": _clock(elapsed_until - instance.created_at),
            "now": timezone.now(),
            "live_status": _live_status(),
            "can_write": _can_write(request),
            "action": action,
            "action_errors": [
                e["message"]
                for e in errors
                if not e["path"].startswith(("ratio[", "name", "description"))
            ],
            "split_type": posted.get("split_type", jd.SplitType.RATIO.value),
            "split_rows": _split_rows(request if action == "split" else None, errors),
            "filter_types": FILTER_TYPES,
            "filter_checked": [int(v) for v in posted.getlist("filter_types") if v.isdigit()]
            if action == "filter"
            else [],
            "save_as_name": posted.get("name", "") if action == "save_as" else "",
            "save_as_description": posted.get("description", "") if action == "save_as" else "",
            "save_as_errors": {
                key: [e["message"] for e in errors if e["path"] == key]
                for key in ("name", "description")
            },
        },
        status=status,
    )


@brand_required
def instance_detail(request: HttpRequest, pk: int) -> HttpResponse:
    instance = get_object_or_404(CrowdInstance.objects.select_related("crowd"), pk=pk)
    return _instance_page(request, instance)


def _parse_split(request: HttpRequest, split_type: str) -> tuple[list, list[int], list[dict]]:
    """The parts typed in the form, the form row of each part (blank rows are skipped), and
    the rows whose value is no number."""
    parts, rows, errors = [], [], []
    names, values = request.POST.getlist("part_name"), request.POST.getlist("part_value")
    for index, (name, raw) in enumerate(zip(names, values, strict=False)):
        name, raw = name.strip(), raw.strip()
        if not name and not raw:
            continue
        try:
            value = float(raw)
        except ValueError:
            errors.append({"path": f"ratio[{index}].value", "message": _("Enter a number.")})
            continue
        if split_type == jd.SplitType.COUNT and value.is_integer():
            value = int(value)
        parts.append(services.SplitPart(name, value))
        rows.append(index)
    return parts, rows, errors


_PART_INDEX = re.compile(r"^ratio\[(\d+)\]")


@brand_required
@require_POST
def instance_split(request: HttpRequest, pk: int) -> HttpResponse:
    instance = get_object_or_404(CrowdInstance.objects.select_related("crowd"), pk=pk)
    split_type = request.POST.get("split_type", "")
    if split_type not in (jd.SplitType.RATIO, jd.SplitType.COUNT):
        errors = [{"path": "split_type", "message": _("Choose split by ratio or by count.")}]
        return _instance_page(request, instance, action="split", errors=errors, status=400)
    parts, rows, errors = _parse_split(request, split_type)
    if not errors:
        try:
            children = services.instance_split(
                instance=instance, parts=parts, split_type=split_type
            )
        except services.CrowdInputError as exc:
            # The service counts parts; the form counts rows, blank ones included.
            errors = [
                {
                    "path": _PART_INDEX.sub(lambda m: f"ratio[{rows[int(m[1])]}]", e["path"]),
                    "message": e["message"],
                }
                for e in _errors(exc.violations)
            ]
        except services.RemoteRejected as exc:
            messages.error(request, _("JD Cloud did not split: %(error)s") % {"error": exc.message})
            return _instance_page(request, instance, action="split")
        else:
            messages.success(
                request,
                ngettext(
                    "Split into %(count)d package.", "Split into %(count)d packages.", len(children)
                )
                % {"count": len(children)},
            )
            return redirect("crowds:instance", pk=instance.pk)
    return _instance_page(request, instance, action="split", errors=errors, status=400)


@brand_required
@require_POST
def instance_filter(request: HttpRequest, pk: int) -> HttpResponse:
    instance = get_object_or_404(CrowdInstance.objects.select_related("crowd"), pk=pk)
    types = [int(v) for v in request.POST.getlist("filter_types") if v.isdigit()]
    try:
        children = services.instance_filter(instance=instance, filter_types=types)
    except services.CrowdInputError as exc:
        return _instance_page(
            request, instance, action="filter", errors=_errors(exc.violations), status=400
        )
    except services.RemoteRejected as exc:
        messages.error(
            request, _("JD Cloud did not filter the package: %(error)s") % {"error": exc.message}
        )
        return _instance_page(request, instance, action="filter")
    messages.success(
        request,
        ngettext(
            "%(count)d response package requested.",
            "%(count)d response packages requested.",
            len(children),
        )
        % {"count": len(children)},
    )
    return redirect("crowds:instance", pk=instance.pk)


@brand_required
@require_POST
def instance_save_as(request: HttpRequest, pk: int) -> HttpResponse:
    instance = get_object_or_404(CrowdInstance.objects.select_related("crowd"), pk=pk)
    name = request.POST.get("name", "").strip()
    description = request.POST.get("description", "").strip()
    errors = []
    if not name:
        errors.append({"path": "name", "message": _("Enter a name.")})
    elif len(name) > 128:
        errors.append({"path": "name", "message": _("Use at most 128 characters.")})
    if len(description) > 500:
        errors.append({"path": "description", "message": _("Use at most 500 characters.")})
    if errors:
        return _instance_page(request, instance, action="save_as", errors=errors, status=400)
    try:
        crowd = services.instance_save_as(instance=instance, name=name, description=description)
    except services.CrowdInputError as exc:
        return _instance_page(
            request, instance, action="save_as", errors=_errors(exc.violations), status=400
        )
    except services.RemoteRejected as exc:
        messages.error(
            request, _("JD Cloud did not save a copy: %(error)s") % {"error": exc.message}
        )
        return _instance_page(request, instance, action="save_as")
    messages.success(request, _("Saved as the new crowd “%(name)s”.") % {"name": crowd.name})
    return redirect("crowds:detail", pk=crowd.pk)


@brand_required
@require_POST
def instance_repoll(request: HttpRequest, pk: int) -> HttpResponse:
    instance = services.instance_repoll(instance=get_object_or_404(CrowdInstance, pk=pk))
    if instance.status == InstanceStatus.GENERATING:
        messages.success(request, _("Asking JD Cloud for the status again."))
    return redirect("crowds:instance", pk=instance.pk)


def _instances_by_id(ids: list[int]) -> tuple[list[CrowdInstance], list[int]]:
    found = {i.pk: i for i in CrowdInstance.objects.filter(pk__in=ids)}
    return [found[i] for i in ids if i in found], [i for i in ids if i not in found]


@brand_required(allow_preview=False)
def instance_calc(request: HttpRequest) -> HttpResponse:
    """Union / intersection / difference of generated packages into a new package."""
    errors: dict[str, list[str]] = {}
    values = {"operation": "union", "packages": [], "exclude": [], "name": "", "description": ""}
    if request.method == "POST":
        values = {
            "operation": request.POST.get("operation", ""),
            "packages": [int(v) for v in request.POST.getlist("packages") if v.isdigit()],
            "exclude": [int(v) for v in request.POST.getlist("exclude") if v.isdigit()],
            "name": request.POST.get("name", "").strip(),
            "description": request.POST.get("description", "").strip(),
        }
        if values["operation"] != "difference":
            values["exclude"] = []
        packages, missing = _instances_by_id(values["packages"])
        exclude, missing_excluded = _instances_by_id(values["exclude"])
        if missing or missing_excluded:  # another brand's id looks exactly like a missing one
            errors.setdefault("packages", []).append(_("Some of the packages no longer exist."))
        if not values["name"]:
            errors.setdefault("name", []).append(_("Enter a name."))
        if not errors:
            try:
                instance = services.instance_calc(
                    brand=request.brand,
                    operation=values["operation"],
                    instances=packages,
                    exclude=exclude,
                    name=values["name"][:128],
                    description=values["description"][:500],
                )
            except services.CrowdInputError as exc:
                for violation in exc.violations:
                    key = violation.path.split("[")[0]
                    key = key if key in ("operation", "packages", "exclude") else "packages"
                    errors.setdefault(key, []).append(violation.message)
            except services.RemoteRejected as exc:
                messages.error(
                    request, _("JD Cloud did not calculate: %(error)s") % {"error": exc.message}
                )
            else:
                messages.success(
                    request,
                    _("Package requested. It is being generated; this page follows its progress."),
                )
                return redirect("crowds:instance", pk=instance.pk)
    search = request.GET.get("q", "").strip()
    generated = selectors.instance_list(status=InstanceStatus.GENERATED)
    if search:
        generated = generated.filter(Q(name__icontains=search) | Q(package_id__icontains=search))
    offered = list(generated[: PICKER_SIZE + 1])
    more = len(offered) > PICKER_SIZE
    offered = offered[:PICKER_SIZE]
    # What was ticked stays offered, found or not by the search.
    ticked = {*values["packages"], *values["exclude"]} - {i.pk for i in offered}
    if ticked:
        offered += selectors.instance_list(status=InstanceStatus.GENERATED).filter(pk__in=ticked)
    return render(
        request,
        "crowds/instance_calc.html",
        {
            "generated": offered,
            "search": search,
            "more": more,
            "picker_size": PICKER_SIZE,
            "operations": CALC_OPERATIONS,
            "values": values,
            "errors": errors,
        },
        status=400 if errors else 200,
    )


# --- Tag catalog -----------------------------------------------------------------------


@brand_required
def tag_catalog(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "crowds/tag_catalog.html",
        {"groups": _catalog_groups()},
    )
