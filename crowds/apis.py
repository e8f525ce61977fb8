"""REST API of the crowds app under /api/v1/: field names as in the spec, brand-scoped."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import APIView

from crowds import selectors, services
from crowds.models import Crowd, CrowdInstance, PackageType, Tag
from portal.api import (
    ErrorEnvelope,
    ErrorsOutput,
    field_error,
    input_error,
    request_fields,
    validated,
)
from portal.integrations.jdcloud import types as jd


class RemoteFailed(APIException):
    status_code = status.HTTP_502_BAD_GATEWAY
    default_code = "jdcloud_failed"


class RemoteRefused(APIException):
    """JD Cloud answered and refused (its message says why): not a gateway failure."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "jdcloud_refused"


def _remote_error(exc: services.RemoteRejected) -> APIException:
    kind = RemoteFailed if exc.retryable else RemoteRefused
    return kind({"detail": exc.message, "retryable": exc.retryable})


class TagOutput(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["tag", "instruction", "table_cd", "tag_type", "enums", "active"]


class TagViewSet(viewsets.ReadOnlyModelViewSet):
    """JD Cloud's tag catalog (`/tag/list/v2`), refreshed periodically."""

    serializer_class = TagOutput
    lookup_field = "tag"
    pagination_class = None

    def get_queryset(self):
        tags = Tag.objects.filter(active=True)
        group = self.request.query_params.get("table_cd")
        return tags.filter(table_cd=group) if group else tags


class CrowdOutput(serializers.ModelSerializer):
    crowd_name = serializers.CharField(source="name")
    crowd_desc = serializers.CharField(source="description")
    description_text = serializers.SerializerMethodField()

    class Meta:
        model = Crowd
        fields = [
            "id",
            "search_id",
            "crowd_name",
            "crowd_desc",
            "condition",
            "description_text",
            "data_type",
            "crowd_type",
            "package_type",
            "sync_state",
            "sync_error",
            "synced_at",
            "created_at",
            "updated_at",
        ]

    def get_description_text(self, crowd) -> str:
        return services.conditions.describe(crowd.condition, self.context["catalog"])


class CrowdInput(serializers.Serializer):
    crowd_name = serializers.CharField(max_length=128)
    crowd_desc = serializers.CharField(max_length=500, allow_blank=True, required=False, default="")
    condition = serializers.JSONField()
    package_type = serializers.ChoiceField(
        choices=PackageType.choices, required=False, allow_null=True
    )


class InstanceOutput(serializers.ModelSerializer):
    search_id = serializers.CharField(source="crowd.search_id", default="", read_only=True)
    parents = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = CrowdInstance
        fields = [
            "id",
            "package_id",
            "search_id",
            "crowd",
            "name",
            "origin",
            "params",
            "parents",
            "status",
            "package_size",
            "package_size_view",
            "package_type",
            "error",
            "poll_count",
            "last_polled_at",
            "next_poll_at",
            "stuck",
            "completed_at",
            "created_at",
        ]


class CrowdViewSet(ErrorEnvelope, viewsets.ModelViewSet):
    """Crowd objects (人群对象). Writes reach JD Cloud after the local row is saved."""

    serializer_class = CrowdOutput

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Crowd.objects.none()
        package_type = self.request.query_params.get("package_type")
        return selectors.crowd_list(
            search=self.request.query_params.get("crowd_name", ""),
            package_type=int(package_type) if package_type in ("1", "2") else None,
        )

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False):
            context["catalog"] = selectors.tag_catalog()
        return context

    @extend_schema(request=CrowdInput, responses={201: CrowdOutput, 400: ErrorsOutput})
    def create(self, request):
        values = validated(CrowdInput, request_fields(request))
        try:
            crowd = services.crowd_create(
                brand=request.brand,
                name=values["crowd_name"],
                description=values["crowd_desc"],
                condition=values["condition"],
                package_type=values.get("package_type"),
                user=request.user,
            )
        except services.CrowdInputError as exc:
            raise input_error(exc.violations) from exc
        return Response(self.get_serializer(crowd).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CrowdInput, responses={200: CrowdOutput, 400: ErrorsOutput})
    def update(self, request, pk=None, partial=False):
        crowd = self.get_object()
        fields = request_fields(request)
        values = validated(CrowdInput, fields, partial=partial)
        try:
            crowd = services.crowd_update(
                crowd=crowd,
                name=values.get("crowd_name"),
                description=values.get("crowd_desc") if "crowd_desc" in fields else None,
                condition=values.get("condition"),
                package_type=values.get("package_type"),
            )
        except services.CrowdInputError as exc:
            raise input_error(exc.violations) from exc
        return Response(self.get_serializer(crowd).data)

    @extend_schema(request=CrowdInput, responses={200: CrowdOutput, 400: ErrorsOutput})
    def partial_update(self, request, pk=None):
        return self.update(request, pk, partial=True)

    def destroy(self, request, pk=None):
        try:
            services.crowd_delete(crowd=self.get_object())
        except services.RemoteRejected as exc:
            raise _remote_error(exc) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=CrowdOutput)
    @action(detail=True, methods=["post"])
    def sync(self, request, pk=None):
        """Retry sending the crowd to JD Cloud after a failure."""
        crowd = services.crowd_sync(crowd=self.get_object())
        return Response(self.get_serializer(crowd).data)

    @extend_schema(request=None, responses={201: InstanceOutput})
    @action(detail=True, methods=["post"])
    def instantiate(self, request, pk=None):
        """`/crowd/init`: a new package, polled until generated."""
        try:
            instance = services.instance_create(crowd=self.get_object())
        except services.RemoteRejected as exc:
            raise _remote_error(exc) from exc
        return Response(InstanceOutput(instance).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses=inline_serializer("CrowdImportOutput", {"imported": serializers.IntegerField()}),
    )
    @action(detail=False, methods=["post"], url_path="import")
    def import_from_jd(self, request):
        """Create local twins of crowds JD Cloud holds for this brand."""
        try:
            count = services.crowd_import(brand=request.brand)
        except services.JDCloudError as exc:
            raise _remote_error(services._remote(exc)) from exc
        except services.RemoteRejected as exc:
            raise _remote_error(exc) from exc
        return Response({"imported": count})


MAX_ID = 2**63 - 1  # the database's bigint


class CalcInput(serializers.Serializer):
    operation = serializers.ChoiceField(choices=["union", "intersection", "difference"])
    packages = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), min_length=1
    )
    exclude = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), required=False, default=list
    )
    crowd_name = serializers.CharField(max_length=128)
    crowd_desc = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)


class SplitPartInput(serializers.Serializer):
    name = serializers.CharField(max_length=60)
    value = serializers.FloatField()


class SplitInput(serializers.Serializer):
    type = serializers.ChoiceField(choices=[jd.SplitType.RATIO.value, jd.SplitType.COUNT.value])
    ratio = SplitPartInput(many=True)


class FilterInput(serializers.Serializer):
    filter_types = serializers.ListField(child=serializers.IntegerField(), min_length=1)


class SaveAsInput(serializers.Serializer):
    crowd_name = serializers.CharField(max_length=128)
    crowd_desc = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)


class InstanceViewSet(
    ErrorEnvelope, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Crowd instances (人群对象实例 / packages) and the operations that derive new ones."""

    serializer_class = InstanceOutput

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CrowdInstance.objects.none()
        params = self.request.query_params
        crowd = params.get("crowd")
        return selectors.instance_list(
            status=params.get("status", ""),
            crowd_id=int(crowd) if crowd and crowd.isdecimal() else None,
        ).prefetch_related("parents")

    def _instances(self, ids, path):
        found = {i.pk: i for i in CrowdInstance.objects.filter(pk__in=ids)}
        missing = [i for i in ids if i not in found]
        if missing:  # another brand's id looks exactly like a missing one
            raise field_error(path, _("人群包 %(ids)s 不存在") % {"ids": missing})
        return [found[i] for i in ids]

    def _run(self, call):
        # No surrounding transaction: the local row of a derived instance must survive a
        # JD failure (it records the failure and can be retried).
        try:
            return call()
        except services.CrowdInputError as exc:
            raise input_error(exc.violations) from exc
        except services.RemoteRejected as exc:
            raise _remote_error(exc) from exc

    @extend_schema(request=CalcInput, responses={201: InstanceOutput, 400: ErrorsOutput})
    @action(detail=False, methods=["post"])
    def calc(self, request):
        values = validated(CalcInput, request_fields(request))
        instance = self._run(
            lambda: services.instance_calc(
                brand=request.brand,
                operation=values["operation"],
                instances=self._instances(values["packages"], "packages"),
                exclude=self._instances(values["exclude"], "exclude"),
                name=values["crowd_name"],
                description=values["crowd_desc"],
            )
        )
        return Response(InstanceOutput(instance).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=SplitInput, responses={201: InstanceOutput(many=True), 400: ErrorsOutput}
    )
    @action(detail=True, methods=["post"])
    def split(self, request, pk=None):
        values = validated(SplitInput, request_fields(request))
        parts = [
            services.SplitPart(p["name"], int(p["value"]) if values["type"] == "1" else p["value"])
            for p in values["ratio"]
        ]
        children = self._run(
            lambda: services.instance_split(
                instance=self.get_object(), parts=parts, split_type=values["type"]
            )
        )
        return Response(InstanceOutput(children, many=True).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=FilterInput, responses={201: InstanceOutput(many=True), 400: ErrorsOutput}
    )
    @action(detail=True, methods=["post"])
    def filter(self, request, pk=None):
        values = validated(FilterInput, request_fields(request))
        children = self._run(
            lambda: services.instance_filter(
                instance=self.get_object(), filter_types=values["filter_types"]
            )
        )
        return Response(InstanceOutput(children, many=True).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=SaveAsInput, responses={201: CrowdOutput, 400: ErrorsOutput})
    @action(detail=True, methods=["post"], url_path="save-as")
    def save_as(self, request, pk=None):
        values = validated(SaveAsInput, request_fields(request))
        crowd = self._run(
            lambda: services.instance_save_as(
                instance=self.get_object(),
                name=values["crowd_name"],
                description=values["crowd_desc"],
            )
        )
        context = {"catalog": selectors.tag_catalog()}
        return Response(CrowdOutput(crowd, context=context).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=InstanceOutput)
    @action(detail=True, methods=["post"])
    def repoll(self, request, pk=None):
        """Poll again an instance flagged stuck."""
        return Response(InstanceOutput(services.instance_repoll(instance=self.get_object())).data)


class CompileInput(serializers.Serializer):
    builder = serializers.JSONField(required=False)
    condition = serializers.JSONField(required=False)

    def validate(self, attrs):
        if ("builder" in attrs) == ("condition" in attrs):
            raise serializers.ValidationError(_("Send exactly one of builder or condition."))
        return attrs


class CompileOutput(serializers.Serializer):
    condition = serializers.JSONField(allow_null=True)
    builder = serializers.JSONField(allow_null=True)
    description = serializers.CharField()
    package_type = serializers.IntegerField(allow_null=True)
    errors = serializers.ListField(child=serializers.DictField())


class ConditionCompileApi(ErrorEnvelope, APIView):
    """The condition builder's server side: builder tree → spec DSL (or DSL → builder
    tree, to edit an existing crowd), its Chinese sentence, and every violation with
    its path. The browser never writes the DSL itself."""

    @extend_schema(
        request=CompileInput,
        responses={200: CompileOutput, 400: ErrorsOutput},
        operation_id="condition_compile",
    )
    def post(self, request):
        return Response(compile_condition(**validated(CompileInput, request_fields(request))))


def compile_condition(*, builder=None, condition=None) -> dict:
    conditions = services.conditions
    catalog = selectors.tag_catalog()
    errors: list = []
    if builder is not None:
        errors = conditions.validate_builder(builder, catalog)
        condition = None if errors else conditions.compile_builder(builder)
    else:
        try:
            builder = conditions.builder_from_condition(conditions.parse(condition))
        except ValueError as exc:
            builder = None
            errors.append(conditions.Violation("condition", str(exc)))
    if condition is not None and not errors:
        errors = conditions.validate_condition(condition, catalog)
    package_type = None
    if condition is not None and not errors:
        package_type = conditions.package_type_for(condition, catalog)
    return {
        "condition": condition,
        "builder": builder,
        "description": conditions.describe(condition, catalog) if condition else "",
        "package_type": package_type,
        "errors": [{"path": v.path, "message": v.message} for v in errors],
    }
