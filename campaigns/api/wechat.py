"""REST API of WeChat official-account campaigns (spec: 微信活动): the spec's field names
(`templateInfo`, `mediaInfo`, `urlMappingList`...), brand-scoped, errors with paths."""

from __future__ import annotations

import dataclasses

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns.models import WechatCampaign
from campaigns.services import wechat as services
from crowds.models import CrowdInstance, OpenIdPackage
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


class WechatTemplateDataItem(serializers.Serializer):
    name = serializers.CharField(max_length=64)
    value = serializers.CharField(max_length=1000)
    color = serializers.CharField(max_length=16, required=False, allow_blank=True, allow_null=True)


class WechatTemplateInfo(serializers.Serializer):
    templateId = serializers.CharField(max_length=128)
    data = WechatTemplateDataItem(many=True)
    url = serializers.CharField(max_length=2000, required=False, allow_blank=True, allow_null=True)


class WechatMediaInfo(serializers.Serializer):
    mediaId = serializers.CharField(max_length=128)
    mediaTitle = serializers.CharField(max_length=200)


class WechatUrlMapping(serializers.Serializer):
    url = serializers.CharField()
    shortUrl = serializers.CharField()


class WechatCampaignOutput(serializers.ModelSerializer):
    activity_id = serializers.IntegerField(source="jd_activity_id", allow_null=True)
    activity_type = serializers.ChoiceField(choices=WechatCampaign.ActivityType.choices)
    pack_type = serializers.ChoiceField(choices=WechatCampaign.PackType.choices)
    package_id = serializers.SerializerMethodField()
    openid_package = serializers.SerializerMethodField()
    templateInfo = serializers.SerializerMethodField()
    mediaInfo = serializers.SerializerMethodField()
    urlMappingList = WechatUrlMapping(source="url_mappings", many=True)
    activity_status = serializers.ChoiceField(
        source="status", choices=WechatCampaign.Status.choices, allow_null=True
    )
    created_at_jd = serializers.SerializerMethodField()
    is_final = serializers.BooleanField()
    can_repoll = serializers.SerializerMethodField()

    class Meta:
        model = WechatCampaign
        fields = [
            "id",
            "business_id",
            "activity_id",
            "name",
            "activity_type",
            "pack_type",
            "instance",
            "package_id",
            "openid_package",
            "templateInfo",
            "mediaInfo",
            "urlMappingList",
            "send_time",
            "begin_time",
            "end_time",
            "activity_status",
            "pre_num",
            "act_num",
            "remark",
            "created_at_jd",
            "sync_error",
            "is_final",
            "can_repoll",
            "poll_count",
            "next_poll_at",
            "created_at",
            "updated_at",
        ]

    def get_package_id(self, campaign) -> str | None:
        return campaign.instance.package_id if campaign.instance_id else None

    def get_openid_package(self, campaign) -> int | None:
        """The openId package of a pack_type 3 campaign (cdp/openid-packages/{id}/)."""
        audience = getattr(campaign, "openid_audience", None)
        return audience.package_id if audience is not None else None

    @extend_schema_field(WechatTemplateInfo(allow_null=True))
    def get_templateInfo(self, campaign):  # noqa: N802 - the spec's name
        if campaign.activity_type != WechatCampaign.ActivityType.TEMPLATE:
            return None
        return {
            "templateId": campaign.template_id,
            "data": campaign.template_data,
            "url": campaign.template_url or None,
        }

    @extend_schema_field(WechatMediaInfo(allow_null=True))
    def get_mediaInfo(self, campaign):  # noqa: N802 - the spec's name
        if campaign.activity_type != WechatCampaign.ActivityType.MEDIA:
            return None
        return {"mediaId": campaign.media_id, "mediaTitle": campaign.media_title}

    def get_can_repoll(self, campaign) -> bool:
        return services.wechat_campaign_can_repoll(campaign)

    def get_created_at_jd(self, campaign) -> bool:
        """Whether JD Cloud holds the campaign (else `sync_error` says why; retry: submit)."""
        return campaign.jd_activity_id is not None


class WechatCampaignInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    activity_type = serializers.ChoiceField(choices=WechatCampaign.ActivityType.choices)
    pack_type = serializers.IntegerField(help_text="1-5 (spec: pack_type)")
    package_id = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, default="", max_length=64
    )
    openid_package = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=1,
        help_text="A ready openId package (cdp/openid-packages/) for pack_type 3",
    )
    templateInfo = WechatTemplateInfo(required=False, allow_null=True, default=None)
    mediaInfo = WechatMediaInfo(required=False, allow_null=True, default=None)
    send_time = serializers.DateTimeField()
    begin_time = serializers.DateTimeField()
    end_time = serializers.DateTimeField()
    convert_urls = serializers.ListField(
        child=serializers.CharField(max_length=2000), required=False, default=list
    )


class WechatCancelInput(serializers.Serializer):
    remark = serializers.CharField(allow_blank=True, trim_whitespace=False)


class WechatRemoteFailedOutput(serializers.Serializer):
    detail = serializers.CharField()
    retryable = serializers.BooleanField()
    campaign = WechatCampaignOutput(required=False)


class WechatCampaignViewSet(
    ErrorEnvelope, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """WeChat campaigns: template or news messages to an audience (`/activity/wx/create`),
    polled until final (`/activity/wx/activityInfo`), cancelled (`/activity/wx/reject`)."""

    serializer_class = WechatCampaignOutput
    permission_classes = [IsAuthenticated, BrandCanAct]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return WechatCampaign.objects.none()
        return WechatCampaign.objects.select_related("instance", "openid_audience")

    @extend_schema(
        request=WechatCampaignInput,
        responses={201: WechatCampaignOutput, 400: ErrorsOutput, 502: WechatRemoteFailedOutput},
    )
    def create(self, request):
        """Saved first; a JD failure still answers 201 with `sync_error` (retry: submit)."""
        values = validated(WechatCampaignInput, request_fields(request))
        instance = None
        if values["package_id"]:
            instance = CrowdInstance.objects.filter(package_id=values["package_id"]).first()
            if instance is None:  # another brand's package looks exactly like a missing one
                raise field_error("package_id", _("人群包不存在"))
        openid_package = None
        if values["openid_package"]:
            openid_package = OpenIdPackage.objects.filter(pk=values["openid_package"]).first()
            if openid_package is None:  # another brand's package: the same as a missing one
                raise field_error("openid_package", _("openId 包不存在"))
        template = values["templateInfo"] or {}
        media = values["mediaInfo"] or {}
        try:
            campaign = services.wechat_campaign_create(
                brand=request.brand,
                name=values["name"],
                activity_type=values["activity_type"],
                pack_type=values["pack_type"],
                instance=instance,
                openid_package=openid_package,
                template_id=template.get("templateId", ""),
                template_data=template.get("data", ()),
                template_url=template.get("url") or "",
                media_id=media.get("mediaId", ""),
                media_title=media.get("mediaTitle", ""),
                send_time=values["send_time"],
                begin_time=values["begin_time"],
                end_time=values["end_time"],
                convert_urls=values["convert_urls"],
            )
        except services.WechatInputError as exc:
            raise input_error(exc.violations) from exc
        except services.WechatRemoteError as exc:
            raise remote_error(exc.message, exc.retryable) from exc
        return Response(self.get_serializer(campaign).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=WechatCancelInput,
        responses={
            200: WechatCampaignOutput,
            400: ErrorsOutput,
            409: ConflictOutput,
            502: WechatRemoteFailedOutput,
        },
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """`/activity/wx/reject`: possible while nothing has been sent; JD says why not."""
        campaign = self.get_object()
        values = validated(WechatCancelInput, request_fields(request))
        try:
            campaign = services.wechat_campaign_cancel(campaign=campaign, remark=values["remark"])
        except services.WechatInputError as exc:
            raise input_error(exc.violations) from exc
        except services.WechatConflict as exc:
            raise Conflict({"detail": exc.message}) from exc
        except services.WechatRemoteError as exc:
            raise remote_error(exc.message, exc.retryable) from exc
        return Response(self.get_serializer(campaign).data)

    @extend_schema(
        request=None,
        responses={200: WechatCampaignOutput, 409: ConflictOutput, 502: WechatRemoteFailedOutput},
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Retry `/activity/wx/create` after a failure (a created campaign is left as is)."""
        try:
            campaign = services.wechat_campaign_submit(campaign=self.get_object())
        except services.WechatConflict as exc:
            raise Conflict({"detail": exc.message}) from exc
        except services.WechatRemoteError as exc:
            raise remote_error(exc.message, exc.retryable) from exc
        output = self.get_serializer(campaign).data
        if campaign.jd_activity_id is None:
            raise remote_error(campaign.sync_error, True, campaign=output)
        return Response(output)

    @extend_schema(request=None, responses={200: WechatCampaignOutput, 409: ConflictOutput})
    @action(detail=True, methods=["post"])
    def repoll(self, request, pk=None):
        """Ask JD Cloud for the status again after the portal stopped asking (`can_repoll`:
        no final status a day after the end, or the status calls kept being cut off)."""
        try:
            campaign = services.wechat_campaign_repoll(campaign=self.get_object())
        except services.WechatConflict as exc:
            raise Conflict({"detail": exc.message}) from exc
        return Response(self.get_serializer(campaign).data)


# --- Reads for the pages ------------------------------------------------------------


class WechatInfoOutput(serializers.Serializer):
    appId = serializers.CharField()
    appName = serializers.CharField()
    pinFollowerNum = serializers.IntegerField()
    notPinFollowerNum = serializers.IntegerField()
    allFollowerNum = serializers.IntegerField()


class WechatTemplateOutput(serializers.Serializer):
    templateId = serializers.CharField()
    title = serializers.CharField()
    primaryIndustry = serializers.CharField()
    deputyIndustry = serializers.CharField()
    content = serializers.CharField()
    example = serializers.CharField()


class WechatNewsOutput(serializers.Serializer):
    totalCount = serializers.IntegerField()
    itemCount = serializers.IntegerField()
    items = serializers.ListField(
        child=serializers.DictField(), help_text="As JD sends them (spec: 获取公众号图文列表)."
    )


class _WechatReadApi(ErrorEnvelope, APIView):
    permission_classes = [IsAuthenticated, BrandCanAct]

    @staticmethod
    def _read(call):
        try:
            return call()
        except services.WechatInputError as exc:
            raise input_error(exc.violations) from exc
        except services.WechatRemoteError as exc:
            raise remote_error(exc.message, exc.retryable) from exc


class WechatInfoApi(_WechatReadApi):
    """The brand's official account and its followers (`/activity/wx/weChatInfo`)."""

    @extend_schema(responses={200: WechatInfoOutput}, operation_id="wechat_info")
    def get(self, request):
        info = self._read(lambda: services.wechat_info(request.brand))
        return Response(WechatInfoOutput(dataclasses.asdict(info)).data)


class WechatTemplatesApi(_WechatReadApi):
    """The account's template messages (`/activity/wx/getAllTemplate`)."""

    @extend_schema(
        responses={200: WechatTemplateOutput(many=True)}, operation_id="wechat_templates"
    )
    def get(self, request):
        templates = self._read(lambda: services.wechat_templates(request.brand))
        rows = [dataclasses.asdict(template) for template in templates]
        return Response(WechatTemplateOutput(rows, many=True).data)


def _int_param(request, name: str, default: int) -> int:
    raw = request.query_params.get(name, "")
    if raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise field_error(name, _("必须是整数")) from None


class WechatNewsApi(_WechatReadApi):
    """One page of the account's news (`/activity/wx/batchGetNews`)."""

    @extend_schema(
        parameters=[
            OpenApiParameter("offset", OpenApiTypes.INT, description="0 = the first item"),
            OpenApiParameter("count", OpenApiTypes.INT, description="1-20, default 20"),
        ],
        responses={200: WechatNewsOutput, 400: ErrorsOutput},
        operation_id="wechat_news",
    )
    def get(self, request):
        offset = _int_param(request, "offset", 0)
        count = _int_param(request, "count", services.NEWS_COUNT_MAX)
        page = self._read(lambda: services.wechat_news(request.brand, offset, count))
        return Response(WechatNewsOutput(dataclasses.asdict(page)).data)
