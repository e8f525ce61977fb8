"""REST: WeChat openId packages built from Linkflow groups (`cdp/openid-packages/`).

Brand-scoped (another brand's id is a 404). Refusals are 400 with `{"errors": [{path,
message}]}`; Linkflow not connected 409; Linkflow unreachable or refusing 502.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from brands.cdp_apis import LinkflowFailed, NotConnected
from crowds import openid
from crowds.linkflow_models import OpenIdPackage
from portal.api import (
    BrandCanAct,
    Conflict,
    ConflictOutput,
    ErrorEnvelope,
    ErrorsOutput,
    field_error,
    request_fields,
    validated,
)
from portal.integrations.linkflow.errors import LinkflowError


class OpenIdPackageOutput(serializers.ModelSerializer):
    class Meta:
        model = OpenIdPackage
        fields = [
            "id",
            "group_id",
            "group_name",
            "wechat_app_id",
            "status",
            "count",
            "members_seen",
            "error",
            "created_at",
            "updated_at",
            "built_at",
        ]
        read_only_fields = fields


class OpenIdPackageInput(serializers.Serializer):
    group_id = serializers.IntegerField(
        min_value=1, max_value=openid.MAX_GROUP_ID, help_text="The Linkflow group's id."
    )


class OpenIdPackageViewSet(
    ErrorEnvelope, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """openId packages (WeChat campaign pack_type 3): the openIds, for the brand's official
    account (`wechat_app_id`), of a Linkflow group's contacts. Built by a background task:
    `status` goes from `building` to `ready` (or `failed` with `error`)."""

    serializer_class = OpenIdPackageOutput
    permission_classes = [IsAuthenticated, BrandCanAct]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return OpenIdPackage.objects.none()
        return OpenIdPackage.objects.all()

    @extend_schema(
        request=OpenIdPackageInput,
        responses={
            201: OpenIdPackageOutput,
            400: ErrorsOutput,
            409: ConflictOutput,
            502: ConflictOutput,
        },
        operation_id="cdp_openid_packages_create",
    )
    def create(self, request):
        values = validated(OpenIdPackageInput, request_fields(request))
        try:
            package = openid.openid_package_create(brand=request.brand, group_id=values["group_id"])
        except openid.OpenIdPackageRefused as exc:
            if exc.field == "linkflow":
                raise NotConnected(exc.message) from exc
            raise field_error(exc.field, exc.message) from exc
        except LinkflowError as exc:
            raise LinkflowFailed(openid.describe_failure(exc)) from exc
        return Response(self.get_serializer(package).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={200: OpenIdPackageOutput, 409: ConflictOutput},
        operation_id="cdp_openid_packages_rebuild",
    )
    @action(detail=True, methods=["post"])
    def rebuild(self, request, pk=None):
        """Build a failed package again (a stalled build is resumed)."""
        package = self.get_object()
        if not openid.openid_package_can_restart(package):
            raise Conflict("only a failed or stalled build can be started again")
        try:
            package = openid.openid_package_restart(package=package)
        except openid.OpenIdPackageRefused as exc:
            raise Conflict(exc.message) from exc
        return Response(self.get_serializer(package).data)
