from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from brands.models import BrandUser


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


class BrandApi(APIView):
    """The brand of the signed-in user."""

    @extend_schema(responses=BrandOutput, operation_id="brand_retrieve")
    def get(self, request):
        if request.brand is None:
            raise NotFound("This account is not linked to a brand.")
        return Response(BrandOutput(request.brand).data)


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
