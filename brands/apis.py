from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView


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


class MeApi(APIView):
    """The signed-in user and the brand they work for."""

    class Output(serializers.Serializer):
        username = serializers.CharField()
        access = serializers.CharField(allow_null=True)
        brand = BrandOutput(allow_null=True)

    @extend_schema(responses=Output, operation_id="me")
    def get(self, request):
        return Response(
            self.Output(
                {
                    "username": request.user.get_username(),
                    "access": request.brand_access,
                    "brand": request.brand,
                }
            ).data
        )
