"""REST API of activities under JD's review: spec field names where they cross to JD
(活动相关), brand-scoped, errors with paths."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from campaigns.models import Activity, Reach
from campaigns.services import activities as services
from portal.api import (
    BrandCanAct,
    Conflict,
    ConflictOutput,
    ErrorEnvelope,
    ErrorsOutput,
    field_error,
    input_error,
    remote_error,
    request_fields,
    validated,
)


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
