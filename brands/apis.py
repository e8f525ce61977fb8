from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from brands.linkflow import linkflow_check, linkflow_connect, linkflow_disconnect
from brands.models import BrandUser
from portal.api import ErrorEnvelope, ErrorsOutput, request_fields, validated


class BrandOutput(serializers.Serializer):
    master_id = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    shop_id = serializers.CharField()
    shop_type = serializers.CharField()
    user_type = serializers.CharField()
    status = serializers.IntegerField()
    expire_time = serializers.DateTimeField(allow_null=True)
    is_usable = serializers.BooleanField()
    linkflow_app_key = serializers.CharField()
    linkflow_connected = serializers.BooleanField()
    linkflow_channel_key = serializers.CharField()
    wechat_app_id = serializers.CharField()
    linkflow_checked_at = serializers.DateTimeField(allow_null=True)
    linkflow_check_error = serializers.CharField()


class BrandUpdate(serializers.Serializer):
    """What a brand user may change: the Linkflow connection. The secret is write-only and
    never returned; an empty secret keeps the stored one."""

    linkflow_app_key = serializers.CharField(max_length=128, required=False, allow_blank=True)
    linkflow_app_secret = serializers.CharField(
        max_length=256, required=False, allow_blank=True, write_only=True, trim_whitespace=True
    )
    linkflow_channel_key = serializers.CharField(max_length=128, required=False, allow_blank=True)
    wechat_app_id = serializers.RegexField(
        r"^[A-Za-z0-9_-]*$", max_length=64, required=False, allow_blank=True
    )

    def validate(self, data):
        brand = self.context["brand"]
        key = data.get("linkflow_app_key", brand.linkflow_app_key)
        secret = data.get("linkflow_app_secret") or brand.linkflow_app_secret
        if key and not secret:
            raise serializers.ValidationError(
                {"linkflow_app_secret": _("Required with an App Key: none is stored yet.")}
            )
        if data.get("linkflow_app_secret") and not key:
            raise serializers.ValidationError(
                {"linkflow_app_key": _("Required with an App Secret.")}
            )
        return data


class LinkflowCheckOutput(serializers.Serializer):
    ok = serializers.BooleanField()
    error = serializers.CharField()
    checked_at = serializers.DateTimeField(allow_null=True)


def _brand_of(request):
    if request.brand is None:
        raise NotFound(_("This account is not linked to a brand."))
    return request.brand


class BrandApi(ErrorEnvelope, APIView):
    """The brand of the signed-in user; PATCH connects (or disconnects) its Linkflow CDP."""

    @extend_schema(responses=BrandOutput, operation_id="brand_retrieve")
    def get(self, request):
        return Response(BrandOutput(_brand_of(request)).data)

    @extend_schema(
        request=BrandUpdate,
        responses={200: BrandOutput, 400: ErrorsOutput},
        operation_id="brand_update",
    )
    def patch(self, request):
        brand = _brand_of(request)
        data = validated(BrandUpdate, request_fields(request), context={"brand": brand})
        key = data.get("linkflow_app_key", brand.linkflow_app_key)
        if "linkflow_app_key" in data and not key:
            linkflow_disconnect(brand=brand)
        elif key:
            linkflow_connect(
                brand=brand,
                app_key=key,
                app_secret=data.get("linkflow_app_secret", ""),
                channel_key=data.get("linkflow_channel_key"),
                wechat_app_id=data.get("wechat_app_id"),
            )
        else:
            for field in ("linkflow_channel_key", "wechat_app_id"):
                if field in data:
                    setattr(brand, field, data[field])
            brand.save()
        return Response(BrandOutput(brand).data)


class LinkflowTestApi(ErrorEnvelope, APIView):
    """Ask Linkflow for a token with the stored App Key / App Secret."""

    @extend_schema(request=None, responses=LinkflowCheckOutput, operation_id="brand_linkflow_test")
    def post(self, request):
        brand = _brand_of(request)
        error = linkflow_check(brand=brand)
        return Response(
            LinkflowCheckOutput(
                {"ok": not error, "error": error, "checked_at": brand.linkflow_checked_at}
            ).data
        )


class MeOutput(serializers.Serializer):
    username = serializers.CharField()
    access = serializers.CharField(allow_null=True)
    brand = BrandOutput(allow_null=True)


class MeApi(APIView):
    """The signed-in user and the brand they work for."""

    @extend_schema(responses=MeOutput, operation_id="me")
    def get(self, request):
        return Response(
            MeOutput(
                {
                    "username": request.user.get_username(),
                    "access": request.brand_access,
                    "brand": request.brand,
                }
            ).data
        )


class BrandUserOutput(serializers.ModelSerializer):
    username = serializers.CharField(source="user.get_username")
    last_login = serializers.DateTimeField(source="user.last_login", allow_null=True)

    class Meta:
        model = BrandUser
        fields = ["id", "pin", "username", "created_at", "last_login"]


class BrandUserViewSet(viewsets.ReadOnlyModelViewSet):
    """The people of the signed-in user's brand (who has logged in through JD Cloud)."""

    serializer_class = BrandUserOutput

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no brand
            return BrandUser.objects.none()
        # The scoped manager filters by the request's brand (BrandContextMiddleware);
        # another brand's id is simply not found.
        return BrandUser.objects.select_related("user").order_by("pin")
