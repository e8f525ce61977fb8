"""REST: the brand's Linkflow groups and tags (live), and tracked links (kept here).

Not connected → 409; a Linkflow refusal or outage → 502 with Linkflow's code and message;
bad input → 400 with `{"errors": [{path, message}]}`.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import APIException, NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from brands import cdp
from brands.linkflow import LinkflowNotConnected
from brands.models import TrackedLink
from portal.api import (
    ErrorEnvelope,
    ErrorsOutput,
    field_error,
    request_fields,
    validated,
)
from portal.integrations.linkflow.errors import LinkflowError, LinkflowRejected


class NotConnected(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "linkflow_not_connected"


class LinkflowFailed(APIException):
    status_code = status.HTTP_502_BAD_GATEWAY
    default_code = "linkflow_error"


def linkflow_answer(load):
    try:
        return load()
    except LinkflowNotConnected as exc:
        raise NotConnected(str(exc)) from exc
    except LinkflowRejected as exc:
        if exc.http_status == 404:
            raise NotFound(cdp._describe(exc)) from exc
        raise LinkflowFailed(cdp._describe(exc)) from exc
    except LinkflowError as exc:
        raise LinkflowFailed(cdp._describe(exc)) from exc


class CdpGroupOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    groupType = serializers.CharField(required=False)  # noqa: N815 - Linkflow's names
    dateCreated = serializers.CharField(required=False, allow_null=True)  # noqa: N815
    lastUpdated = serializers.CharField(required=False, allow_null=True)  # noqa: N815


class CdpMemberContact(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(allow_null=True, required=False)
    mobilePhone = serializers.CharField(allow_null=True, required=False)  # noqa: N815
    email = serializers.CharField(allow_null=True, required=False)


class CdpMemberOutput(serializers.Serializer):
    memberId = serializers.IntegerField()  # noqa: N815
    contact = CdpMemberContact()
    dateCreated = serializers.CharField(required=False, allow_null=True)  # noqa: N815


class CdpMembersOutput(serializers.Serializer):
    members = CdpMemberOutput(many=True)
    next_after = serializers.IntegerField(allow_null=True)


class CdpTagOutput(serializers.Serializer):
    tagId = serializers.IntegerField(required=False)  # noqa: N815
    tagKey = serializers.CharField()  # noqa: N815
    tagName = serializers.CharField(required=False, allow_null=True)  # noqa: N815
    dataType = serializers.CharField(required=False, allow_null=True)  # noqa: N815
    tagType = serializers.CharField(required=False, allow_null=True)  # noqa: N815
    status = serializers.CharField(required=False, allow_null=True)
    folderId = serializers.IntegerField(required=False, allow_null=True)  # noqa: N815
    folderName = serializers.CharField(required=False, allow_blank=True)  # noqa: N815
    lastCalculateTime = serializers.CharField(required=False, allow_null=True)  # noqa: N815


class GroupsApi(APIView):
    """The brand's Linkflow groups (`/open/groups`), newest first."""

    @extend_schema(
        parameters=[
            OpenApiParameter("name", str, description="name contains"),
            OpenApiParameter("type", str, enum=list(cdp.GROUP_TYPES)),
        ],
        responses=CdpGroupOutput(many=True),
        operation_id="cdp_groups_list",
    )
    def get(self, request):
        name = request.query_params.get("name", "")[:100]
        group_type = request.query_params.get("type", "")
        groups = linkflow_answer(
            lambda: cdp.cdp_groups(brand=request.brand, name=name, group_type=group_type)
        )
        return Response(CdpGroupOutput(groups, many=True).data)


class GroupMembersApi(ErrorEnvelope, APIView):
    """One page of a group's members after `after` (Linkflow's memberId cursor)."""

    @extend_schema(
        parameters=[OpenApiParameter("after", int), OpenApiParameter("size", int)],
        responses={200: CdpMembersOutput, 400: ErrorsOutput},
        operation_id="cdp_group_members",
    )
    def get(self, request, group_id: int):
        after = _int(request.query_params, "after", 0, low=0)
        size = _int(request.query_params, "size", cdp.MEMBERS_PAGE, low=1, high=500)

        def load():
            try:
                cdp.cdp_group(brand=request.brand, group_id=group_id)
            except cdp.GroupNotFound:
                raise NotFound() from None
            return cdp.cdp_group_members(
                brand=request.brand, group_id=group_id, after=after, size=size
            )

        page = linkflow_answer(load)
        return Response(
            CdpMembersOutput({"members": page.members, "next_after": page.next_after}).data
        )


class TagsApi(ErrorEnvelope, APIView):
    """A page (from 0) of the brand's Linkflow tag metadata, with folder names."""

    @extend_schema(
        parameters=[OpenApiParameter("page", int), OpenApiParameter("size", int)],
        responses={200: CdpTagOutput(many=True), 400: ErrorsOutput},
        operation_id="cdp_tags_list",
    )
    def get(self, request):
        page = _int(request.query_params, "page", 0, low=0)
        size = _int(request.query_params, "size", cdp.TAGS_PAGE, low=1, high=200)
        tags = linkflow_answer(lambda: cdp.cdp_tags(brand=request.brand, page=page, size=size))
        return Response(CdpTagOutput(tags, many=True).data)


def _int(params, name: str, default: int, *, low: int, high: int | None = None) -> int:
    raw = params.get(name)
    try:
        value = int(raw) if raw not in (None, "") else default
    except (TypeError, ValueError):
        raise field_error(name, _("Must be an integer.")) from None
    if value < low or (high is not None and value > high):
        if high is None:
            message = _("Must be at least %(low)s.") % {"low": low}
        else:
            message = _("Must be between %(low)s and %(high)s.") % {"low": low, "high": high}
        raise field_error(name, message)
    return value


class TrackedLinkSerializer(serializers.ModelSerializer):
    class Meta:
        model = TrackedLink
        fields = [
            "id",
            "url",
            "utm_source",
            "utm_campaign",
            "utm_medium",
            "utm_content",
            "contact_id",
            "short_url",
            "error",
            "created_at",
        ]
        read_only_fields = ["id", "short_url", "error", "created_at"]
        extra_kwargs = {"contact_id": {"min_value": 1}}


class TrackedLinkViewSet(
    ErrorEnvelope, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Campaign URLs shortened through Linkflow. A create is kept even when Linkflow fails
    (201 with `error`); POST `{id}/retry/` asks again."""

    serializer_class = TrackedLinkSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return TrackedLink.objects.none()
        return TrackedLink.objects.all()

    @extend_schema(
        request=TrackedLinkSerializer, responses={201: TrackedLinkSerializer, 400: ErrorsOutput}
    )
    def create(self, request):
        data = validated(TrackedLinkSerializer, request_fields(request))
        utm = {
            name: data.get(f"utm_{name}", "")
            for name in ("source", "campaign", "medium", "content")
        }
        link = cdp.tracked_link_create(
            brand=request.brand, url=data["url"], utm=utm, contact_id=data.get("contact_id")
        )
        return Response(TrackedLinkSerializer(link).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None, responses=TrackedLinkSerializer, operation_id="cdp_short_links_retry"
    )
    def retry(self, request, pk=None):
        link = cdp.tracked_link_shorten(link=self.get_object())
        return Response(TrackedLinkSerializer(link).data)
