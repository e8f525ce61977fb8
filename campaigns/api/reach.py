"""REST API: reaches with their pre-flight, short links, the SMS ledger, notices."""

from __future__ import annotations

from datetime import datetime

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns.models import Notice, Reach, ReachType, ShortLink
from campaigns.services import reach as reach_services
from campaigns.services import short_links
from campaigns.services.system import notices_current, system_state
from crowds.models import CrowdInstance
from portal.api import (
    CampaignErrorItem,
    ErrorEnvelope,
    ErrorsOutput,
    field_error,
    input_error,
    request_fields,
    validated,
)
from portal.integrations.jdcloud.errors import JDCloudError
from portal.integrations.jdcloud.factory import jdcloud_client


class JDFailed(APIException):
    status_code = status.HTTP_502_BAD_GATEWAY
    default_code = "jdcloud_failed"


def _jd(call):
    try:
        return call()
    except JDCloudError as exc:
        raise JDFailed(
            {"detail": getattr(exc, "msg", "") or str(exc), "retryable": exc.retryable}
        ) from exc


class ReachInput(serializers.Serializer):
    instance = serializers.IntegerField(
        help_text="The generated crowd instance (package) to reach."
    )
    type = serializers.ChoiceField(choices=ReachType.choices)
    template_id = serializers.CharField(max_length=64)
    template_params = serializers.DictField(
        child=serializers.CharField(allow_blank=True), default=dict
    )
    signature_id = serializers.CharField(
        max_length=64, required=False, default="", allow_blank=True
    )
    batch_id = serializers.CharField(max_length=64, required=False, default="", allow_blank=True)
    send_time = serializers.DateTimeField(required=False, allow_null=True, default=None)


# The pre-flight names a problem by the spec's request (`params.template_id`); a bad input
# field takes the same path, so the wizard shows it beside its field either way.
REACH_INPUT_PATHS = {
    name: f"params.{name}"
    for name in ("template_id", "template_params", "signature_id", "batch_id", "send_time")
}


def _reach_request(values: dict) -> reach_services.ReachRequest:
    return reach_services.ReachRequest(
        reach_type=values["type"],
        template_id=values["template_id"],
        template_params=values["template_params"],
        signature_id=values["signature_id"],
        batch_id=values["batch_id"],
        send_time=values["send_time"],
    )


class ReachOutput(serializers.ModelSerializer):
    package_id = serializers.CharField(source="instance.package_id", read_only=True)
    type = serializers.CharField(source="reach_type")

    class Meta:
        model = Reach
        fields = [
            "id",
            "instance",
            "package_id",
            "type",
            "template_id",
            "template_params",
            "text",
            "signature_id",
            "signature_name",
            "batch_id",
            "send_time",
            "segments",
            "cost",
            "status",
            "jd_code",
            "jd_msg",
            "created_at",
            "sent_at",
        ]


class ReachPreflightOutput(serializers.Serializer):
    text = serializers.CharField()
    template_name = serializers.CharField()
    signature = serializers.CharField()
    length = serializers.IntegerField()
    segments = serializers.IntegerField()
    package_size = serializers.IntegerField()
    cost = serializers.IntegerField()
    balance = serializers.IntegerField(allow_null=True)
    balance_domain = serializers.CharField()
    ok = serializers.BooleanField()
    blocking = serializers.ListField(child=serializers.DictField())
    warnings = serializers.ListField(child=serializers.DictField())


class ReachRefusedOutput(serializers.Serializer):
    """A 400 of a send: bad input (`errors` only), or a refused pre-flight (its blocking
    problems as `errors`, with `detail` and the pre-flight itself)."""

    errors = CampaignErrorItem(many=True)
    detail = serializers.CharField(required=False)
    preflight = ReachPreflightOutput(required=False, allow_null=True)


class ReachViewSet(
    ErrorEnvelope, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Reaches of generated packages (`/crowd/instance/reach`); create = pre-flight + send."""

    serializer_class = ReachOutput

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Reach.objects.none()
        return Reach.objects.select_related("instance")

    def _input(self, request) -> tuple[reach_services.ReachRequest, CrowdInstance]:
        values = validated(ReachInput, request_fields(request), paths=REACH_INPUT_PATHS)
        instance = CrowdInstance.objects.filter(pk=values["instance"]).first()
        if instance is None:
            raise field_error("instance", _("人群包不存在"))
        return _reach_request(values), instance

    @extend_schema(request=ReachInput, responses={200: ReachPreflightOutput, 400: ErrorsOutput})
    @action(detail=False, methods=["post"])
    def preflight(self, request):
        reach_request, instance = self._input(request)
        check = _jd(
            lambda: reach_services.reach_preflight(
                brand=request.brand, instance=instance, request=reach_request
            )
        )
        return Response(check.as_dict())

    @extend_schema(request=ReachInput, responses={201: ReachOutput, 400: ReachRefusedOutput})
    def create(self, request):
        reach_request, instance = self._input(request)
        try:
            reach = _jd(
                lambda: reach_services.reach_send(
                    brand=request.brand, instance=instance, request=reach_request, user=request.user
                )
            )
        except reach_services.ReachRefused as exc:
            # A plain Response: ValidationError would turn the pre-flight's numbers into text.
            preflight = exc.preflight.as_dict() if exc.preflight else None
            problems = [{"path": "", "message": exc.message}]
            body = {
                "errors": preflight["blocking"] if preflight else problems,
                "detail": exc.message,
                "preflight": preflight,
            }
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        return Response(ReachOutput(reach).data, status=status.HTTP_201_CREATED)


class ShortLinkOutput(serializers.ModelSerializer):
    url = serializers.CharField(source="long_url")

    class Meta:
        model = ShortLink
        fields = ["id", "url", "short_url", "created_at"]


class ShortLinkViewSet(ErrorEnvelope, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Long URLs shortened by `/shorturl/create` after the spec's checks."""

    serializer_class = ShortLinkOutput

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ShortLink.objects.none()
        return ShortLink.objects.all()

    @extend_schema(
        request=inline_serializer("ShortLinkInput", {"url": serializers.CharField()}),
        responses={201: ShortLinkOutput, 400: ErrorsOutput},
    )
    def create(self, request):
        url = str(request_fields(request).get("url", ""))
        try:
            link = _jd(lambda: short_links.short_link_create(brand=request.brand, url=url))
        except short_links.ShortLinkRefused as exc:
            raise input_error(exc.violations) from exc
        return Response(ShortLinkOutput(link).data, status=status.HTTP_201_CREATED)


def _jd_rows(items) -> list[dict]:
    import dataclasses

    return [dataclasses.asdict(item) for item in items]


class SmsBalanceApi(APIView):
    @extend_schema(
        responses=inline_serializer(
            "SmsBalanceOutput",
            {
                "public_balance": serializers.IntegerField(),
                "private_balance": serializers.IntegerField(),
            },
        ),
        operation_id="sms_balance",
    )
    def get(self, request):
        balance = _jd(
            lambda: jdcloud_client(brand_id=request.brand.pk).sms_balance(
                master_id=request.brand.master_id
            )
        )
        return Response(
            {"public_balance": balance.public_balance, "private_balance": balance.private_balance}
        )


class SmsTemplatesApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("type", int, description="1 public, 2 private", enum=[1, 2])],
        responses=inline_serializer(
            "SmsTemplateOutput",
            {
                "template_id": serializers.CharField(),
                "template_name": serializers.CharField(),
                "template_content": serializers.CharField(),
                "template_params": serializers.ListField(child=serializers.CharField()),
            },
            many=True,
        ),
        operation_id="sms_templates",
    )
    def get(self, request):
        domain = 2 if request.query_params.get("type") == "2" else 1
        client = jdcloud_client(brand_id=request.brand.pk)
        return Response(
            _jd_rows(
                _jd(lambda: client.sms_templates(master_id=request.brand.master_id, type=domain))
            )
        )


class SmsSignaturesApi(APIView):
    @extend_schema(
        responses=inline_serializer(
            "SmsSignatureOutput",
            {
                "signature_id": serializers.CharField(),
                "signature_name": serializers.CharField(),
                "type": serializers.CharField(),
            },
            many=True,
        ),
        operation_id="sms_signatures",
    )
    def get(self, request):
        client = jdcloud_client(brand_id=request.brand.pk)
        return Response(
            _jd_rows(_jd(lambda: client.sms_signature(master_id=request.brand.master_id)))
        )


LEDGER_PARAMETERS = [
    OpenApiParameter("start_date", str, description="yyyy-MM-dd HH:mm:ss"),
    OpenApiParameter("end_date", str, description="yyyy-MM-dd HH:mm:ss"),
    OpenApiParameter("page_num", int),
    OpenApiParameter("page_size", int),
]
LedgerOutput = inline_serializer(
    "SmsLedgerPage",
    {
        "page_num": serializers.IntegerField(),
        "page_size": serializers.IntegerField(),
        "total": serializers.IntegerField(),
        "pages": serializers.IntegerField(),
        "result": serializers.ListField(child=serializers.DictField()),
    },
)


MAX_LEDGER_PAGE = 100_000


def _is_date(text: str) -> bool:
    try:
        datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        return False
    return True


def _int_param(params, name: str, default: int) -> int:
    try:
        return int(params.get(name, default))
    except ValueError:
        raise field_error(name, _("Must be an integer.")) from None


class _LedgerApi(ErrorEnvelope, APIView):
    method_name = ""

    def get(self, request):
        params = request.query_params
        page_num = max(1, _int_param(params, "page_num", 1))
        page_size = min(100, max(1, _int_param(params, "page_size", 10)))
        if page_num > MAX_LEDGER_PAGE:
            message = _("Must be at most %(limit)s.") % {"limit": MAX_LEDGER_PAGE}
            raise field_error("page_num", message)
        for name in ("start_date", "end_date"):
            if params.get(name) and not _is_date(params[name]):
                raise field_error(name, _("Must be a date, yyyy-MM-dd."))
        client = jdcloud_client(brand_id=request.brand.pk)
        page = _jd(
            lambda: getattr(client, self.method_name)(
                master_id=request.brand.master_id,
                start_date=params.get("start_date") or None,
                end_date=params.get("end_date") or None,
                page_num=page_num,
                page_size=page_size,
            )
        )
        return Response(
            {
                "page_num": page.page_num,
                "page_size": page.page_size,
                "total": page.total,
                "pages": page.pages,
                "result": _jd_rows(page.result),
            }
        )


class SmsRechargeApi(_LedgerApi):
    method_name = "sms_recharge"

    @extend_schema(
        parameters=LEDGER_PARAMETERS,
        responses={200: LedgerOutput, 400: ErrorsOutput},
        operation_id="sms_recharge",
    )
    def get(self, request):
        return super().get(request)


class SmsConsumeApi(_LedgerApi):
    method_name = "sms_consume"

    @extend_schema(
        parameters=LEDGER_PARAMETERS,
        responses={200: LedgerOutput, 400: ErrorsOutput},
        operation_id="sms_consume",
    )
    def get(self, request):
        return super().get(request)


class SmsResultApi(APIView):
    @extend_schema(
        responses=inline_serializer(
            "SmsResultOutput",
            {
                "success": serializers.IntegerField(),
                "failed": serializers.IntegerField(),
                "restrict": serializers.IntegerField(),
                "unknown": serializers.IntegerField(),
            },
        ),
        operation_id="sms_result",
    )
    def get(self, request, instance_id: int):
        instance = get_object_or_404(CrowdInstance, pk=instance_id)
        client = jdcloud_client(brand_id=request.brand.pk)
        result = _jd(lambda: client.sms_result(package_id=instance.package_id))
        return Response(
            {
                "success": result.success,
                "failed": result.failed,
                "restrict": result.restrict,
                "unknown": result.unknown,
            }
        )


class NoticeOutput(serializers.ModelSerializer):
    class Meta:
        model = Notice
        fields = [
            "notice_code",
            "title",
            "content",
            "notice_type",
            "start_time",
            "end_time",
            "expire_time",
        ]


class NoticesApi(APIView):
    """JD Cloud's current notices and whether JD is available."""

    @extend_schema(
        responses=inline_serializer(
            "NoticesOutput",
            {
                "system_up": serializers.BooleanField(),
                "reason": serializers.CharField(),
                "notices": NoticeOutput(many=True),
            },
        ),
        operation_id="notices",
    )
    def get(self, request):
        state = system_state()
        return Response(
            {
                "system_up": state.up,
                "reason": state.reason,
                "notices": NoticeOutput(notices_current(), many=True).data,
            }
        )
