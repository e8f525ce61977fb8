"""REST API of activities under JD's review: spec field names where they cross to JD
(活动相关), brand-scoped, errors with paths."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import mixins, serializers, status, views, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, ParseError, ValidationError
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.response import Response

from campaigns.models import Activity, Reach
from campaigns.services import activities as services


class BrandCanAct(BasePermission):
    """A brand is attached to the session; a frozen or expired one may only read."""

    message = gettext_lazy("当前账号没有关联可用的品牌商")

    def has_permission(self, request, view) -> bool:
        brand = getattr(request, "brand", None)
        if brand is None:
            return False
        return request.method in SAFE_METHODS or brand.is_usable


class RemoteFailed(APIException):
    """JD Cloud failed or refused: `{"detail": JD's message, "retryable": bool, ...}`."""

    status_code = status.HTTP_502_BAD_GATEWAY
    default_code = "jdcloud_failed"

    def __init__(self, body: dict[str, Any]) -> None:
        # Kept as given: APIException would turn `retryable` and nested rows into strings.
        super().__init__()
        self.detail = body


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


def error_paths(errors: Any, prefix: str = "") -> list[dict[str, str]]:
    """DRF's nested errors as `[{"path": "templateInfo.data[0].name", "message": ...}]`."""
    if isinstance(errors, dict):
        found = []
        for key, value in errors.items():
            if key == "non_field_errors":
                path = prefix
            elif isinstance(key, int):
                path = f"{prefix}[{key}]"
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            found += error_paths(value, path)
        return found
    if isinstance(errors, list):
        if all(isinstance(item, str) for item in errors):
            return [{"path": prefix, "message": str(item)} for item in errors]
        found = []
        for index, item in enumerate(errors):
            found += error_paths(item, f"{prefix}[{index}]")
        return found
    return [{"path": prefix, "message": str(errors)}]


# Every 400 of the API is this envelope, documented as `ErrorsOutput`: DRF's own shapes
# (`{"field": [...]}`, `{"detail": ...}`) must not leak (issue 9: the fuzzer checks each
# answer against the schema). Views read the body with `request_fields` and validate it
# with `validated`; a refusal is `field_error` or `input_error`. API views inherit
# `ErrorEnvelope` for the 400s DRF raises itself (a body that does not parse, mostly).


def exception_handler(exc, context):
    """DRF's handler, with DRF's own 400s in the envelope. A body that does not parse is
    found before any view code runs: the session's CSRF check reads a POST body."""
    if isinstance(exc, ParseError):
        exc = field_error("", str(exc.detail))
    elif isinstance(exc, ValidationError) and not _is_envelope(exc.detail):
        exc = ValidationError({"errors": error_paths(exc.detail)})
    return views.exception_handler(exc, context)


def _is_envelope(detail) -> bool:
    return isinstance(detail, dict) and set(detail) == {"errors"}


# No docstring: drf-spectacular would take it as the description of views without one.
class ErrorEnvelope:
    def get_exception_handler(self):
        return exception_handler


def request_fields(request) -> dict[str, Any]:
    """The JSON object a request carries; an array, a string or null is a 400."""
    if not isinstance(request.data, dict):
        raise field_error("", _("The body must be a JSON object."))
    return request.data


def validated(
    serializer_class, data, *, paths: dict[str, str] | None = None, **kwargs
) -> dict[str, Any]:
    """The serializer's validated data, or a 400 naming each bad field by its path (by
    `paths[name]` where the path the page knows differs from the field's name)."""
    serializer = serializer_class(data=data, **kwargs)
    if not serializer.is_valid():
        errors = serializer.errors
        if paths and isinstance(errors, dict):
            errors = {paths.get(name, name): value for name, value in errors.items()}
        raise ValidationError({"errors": error_paths(errors)})
    return serializer.validated_data


def field_error(path: str, message: str) -> ValidationError:
    return ValidationError({"errors": [{"path": path, "message": message}]})


def input_error(violations) -> ValidationError:
    return ValidationError({"errors": [{"path": v.path, "message": v.message} for v in violations]})


def remote_error(message: str, retryable: bool, **extra) -> RemoteFailed:
    return RemoteFailed({"detail": message, "retryable": retryable, **extra})


class CampaignErrorItem(serializers.Serializer):
    path = serializers.CharField()
    message = serializers.CharField()


ErrorsOutput = inline_serializer("CampaignErrorsOutput", {"errors": CampaignErrorItem(many=True)})
ConflictOutput = inline_serializer("CampaignConflictOutput", {"detail": serializers.CharField()})


class ActivityOutput(serializers.ModelSerializer):
    activity_name = serializers.CharField(source="name")
    activity_desc = serializers.CharField(source="description")
    activity_reach_type = serializers.ChoiceField(
        source="reach_type", choices=Activity.ReachType.choices
    )
    preview_url = serializers.SerializerMethodField()
    approve_status = serializers.SerializerMethodField()
    edited_since_submission = serializers.SerializerMethodField()

    class Meta:
        model = Activity
        fields = [
            "id",
            "activity_id",
            "activity_name",
            "activity_desc",
            "start_type",
            "start_type_remark",
            "activity_reach_type",
            "reach",
            "preview_url",
            "review",
            "approve_status",
            "audit_remark",
            "auditor",
            "submitted_at",
            "reviewed_at",
            "submit_error",
            "edited_since_submission",
            "created_at",
            "updated_at",
        ]

    def get_preview_url(self, activity) -> str:
        return services.preview_url(activity)

    @extend_schema_field(
        serializers.ChoiceField(choices=[("1", "通过"), ("2", "驳回")], allow_null=True)
    )
    def get_approve_status(self, activity) -> str | None:
        """Spec: 1=通过 2=驳回, while the review applies; null otherwise."""
        return {Activity.Review.APPROVED: "1", Activity.Review.REJECTED: "2"}.get(activity.review)

    def get_edited_since_submission(self, activity) -> bool:
        return bool(activity.submitted_hash) and activity.submitted_hash != activity.content_hash


class ActivityCreateInput(serializers.Serializer):
    activity_name = serializers.CharField(max_length=200)
    activity_desc = serializers.CharField(required=False, allow_blank=True, default="")
    start_type = serializers.ChoiceField(choices=Activity.StartType.choices)
    start_type_remark = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=500
    )
    activity_reach_type = serializers.ChoiceField(choices=Activity.ReachType.choices)
    reach = serializers.IntegerField(required=False, allow_null=True, default=None)


class ActivityUpdateInput(ActivityCreateInput):
    """Any subset of the creation fields."""


class ActivitySubmitFailedOutput(serializers.Serializer):
    detail = serializers.CharField()
    retryable = serializers.BooleanField()
    activity = ActivityOutput(required=False, help_text="Absent when JD Cloud is down.")


_FIELDS = {
    "activity_name": "name",
    "activity_desc": "description",
    "start_type": "start_type",
    "start_type_remark": "start_type_remark",
    "activity_reach_type": "reach_type",
}


class ActivityViewSet(
    ErrorEnvelope, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Activities submitted for JD's review (`/activity/create`); JD's answer arrives on
    `/JDCloud/activity/update`. Editing after submission voids the review."""

    serializer_class = ActivityOutput
    permission_classes = [IsAuthenticated, BrandCanAct]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Activity.objects.none()
        activities = Activity.objects.all()
        review = self.request.query_params.get("review")
        return activities.filter(review=review) if review else activities

    def _reach(self, values: dict) -> dict:
        if values.get("reach") is None:
            return values
        reach = Reach.objects.filter(pk=values["reach"]).first()
        if reach is None:  # another brand's reach looks exactly like a missing one
            raise field_error("reach", _("触达记录不存在"))
        return {**values, "reach": reach}

    @extend_schema(request=ActivityCreateInput, responses={201: ActivityOutput, 400: ErrorsOutput})
    def create(self, request):
        values = self._reach(validated(ActivityCreateInput, request_fields(request)))
        try:
            activity = services.activity_create(
                brand=request.brand,
                **{_FIELDS[key]: value for key, value in values.items() if key in _FIELDS},
                reach=values.get("reach"),
            )
        except services.ActivityInputError as exc:
            raise input_error(exc.violations) from exc
        return Response(self.get_serializer(activity).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ActivityUpdateInput, responses={200: ActivityOutput, 400: ErrorsOutput})
    def partial_update(self, request, pk=None):
        activity = self.get_object()
        values = validated(ActivityUpdateInput, request_fields(request), partial=True)
        values = self._reach(values) if "reach" in values else values
        fields = {_FIELDS[key]: value for key, value in values.items() if key in _FIELDS}
        if "reach" in values:
            fields["reach"] = values["reach"]
        try:
            activity = services.activity_update(activity=activity, **fields)
        except services.ActivityInputError as exc:
            raise input_error(exc.violations) from exc
        return Response(self.get_serializer(activity).data)

    @extend_schema(
        request=None,
        responses={200: ActivityOutput, 409: ConflictOutput, 502: ActivitySubmitFailedOutput},
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """`/activity/create`: submit (or re-submit) for JD's review. A JD failure leaves
        the activity `submit_failed` with JD's message (502); submitting again retries."""
        try:
            activity = services.activity_submit(activity=self.get_object())
        except services.ActivityConflict as exc:
            raise Conflict({"detail": exc.message}) from exc
        except services.ActivityRemoteError as exc:
            raise remote_error(exc.message, exc.retryable) from exc
        output = self.get_serializer(activity).data
        if activity.review == Activity.Review.SUBMIT_FAILED:
            raise remote_error(activity.submit_error, True, activity=output)
        return Response(output)
