"""REST: Linkflow write-backs of reaches and WeChat campaigns (`cdp/writebacks/`).

One job per reach or WeChat campaign that reached a final state; filter with
`?source_kind=reach|wechat&source_id=<id>`. Brand-scoped (another brand's id is a 404).
`refusals` counts the contacts Linkflow still refuses by code (never who they are).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from campaigns import writeback
from campaigns.writeback_models import WritebackJob
from portal.api import BrandCanAct, Conflict, ConflictOutput


class RefusalCodeOutput(serializers.Serializer):
    code = serializers.CharField(help_text="Linkflow's code (B…)")
    message = serializers.CharField(help_text="Linkflow's message")
    count = serializers.IntegerField(help_text="contacts refused with this code")


class WritebackOutput(serializers.ModelSerializer):
    refusals = serializers.SerializerMethodField()

    class Meta:
        model = WritebackJob
        fields = [
            "id",
            "source_kind",
            "source_id",
            "status",
            "reason",
            "event",
            "props",
            "event_at",
            "package",
            "total",
            "sent",
            "rejected",
            "refusals",
            "runs",
            "created_at",
            "updated_at",
            "finished_at",
        ]
        read_only_fields = fields

    @extend_schema_field(RefusalCodeOutput(many=True))
    def get_refusals(self, job: WritebackJob) -> list[dict]:
        """From the view's context: the codes of the page's jobs, read in one query."""
        return self.context.get("refusals", {}).get(job.pk, [])


class WritebackViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Events recorded in Linkflow when a reach or a WeChat campaign reached a final state,
    on the contacts the portal knows (a WeChat campaign sent to an openId package); the
    others are `skipped` with the reason."""

    serializer_class = WritebackOutput
    permission_classes = [IsAuthenticated, BrandCanAct]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return WritebackJob.objects.none()
        jobs = WritebackJob.objects.all()
        kind = self.request.query_params.get("source_kind")
        if kind in WritebackJob.Source.values:
            jobs = jobs.filter(source_kind=kind)
        source_id = self.request.query_params.get("source_id", "")
        if source_id.isdigit():
            jobs = jobs.filter(source_id=int(source_id))
        return jobs

    def get_serializer(self, *args, **kwargs):
        if args and (jobs := args[0]) is not None:
            ids = [job.pk for job in jobs] if kwargs.get("many") else [jobs.pk]
            context = kwargs.setdefault("context", self.get_serializer_context())
            context["refusals"] = writeback.writeback_refusal_codes(job_ids=ids)
        return super().get_serializer(*args, **kwargs)

    @extend_schema(
        parameters=[
            OpenApiParameter("source_kind", str, enum=list(WritebackJob.Source.values)),
            OpenApiParameter("source_id", int),
        ],
        operation_id="cdp_writebacks_list",
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=None,
        responses={200: WritebackOutput, 409: ConflictOutput},
        operation_id="cdp_writebacks_retry",
    )
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        """Run a failed, skipped (for the brand's settings) or stalled write-back again,
        from where it stopped, and send the contacts Linkflow refused again (a done job
        with `rejected` contacts can be retried): nothing already written is sent again."""
        job = self.get_object()
        try:
            job = writeback.writeback_retry(job=job)
        except writeback.WritebackNotRetryable as exc:
            raise Conflict(str(exc)) from exc
        return Response(self.get_serializer(job).data)
