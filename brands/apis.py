from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from brands.access import brand_of


class MeApi(APIView):
    """The signed-in user and the brand they work for."""

    class BrandOutput(serializers.Serializer):
        master_id = serializers.CharField()
        name = serializers.CharField()
        shop_id = serializers.CharField()
        status = serializers.IntegerField()
        expire_time = serializers.DateTimeField(allow_null=True)
        is_usable = serializers.BooleanField()

    class Output(serializers.Serializer):
        username = serializers.CharField()
        brand = serializers.SerializerMethodField()

        def get_brand(self, user) -> dict | None:
            brand = brand_of(user)
            return MeApi.BrandOutput(brand).data if brand else None

    @extend_schema(responses=Output, operation_id="me")
    def get(self, request):
        return Response(self.Output(request.user).data)
