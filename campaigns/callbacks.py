"""The activity ISV endpoint JD Cloud calls (spec: 通知ISV活动审核结果【ISV提供】)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django_scopes import scope
from rest_framework import serializers

from brands.callbacks import JDStringField
from brands.models import Brand
from campaigns.models import Activity
from campaigns.services import activities as services
from portal.callbacks import CODE_BAD_REQUEST, CODE_NOT_FOUND, CODE_OK, CallbackError, isv_callback

FAILED = {"status": "0"}  # spec: status 1=成功 0=失败

_MESSAGES = {
    "required": "缺少必填参数",
    "null": "不能为空",
    "blank": "不能为空",
    "invalid": "必须是字符串",
    "max_length": "长度不能超过 {max_length} 个字符",
    "invalid_choice": "取值错误:{input},可选值为 1(通过)或 2(驳回)",
}


class ActivityReviewInput(serializers.Serializer):
    activity_id = JDStringField(max_length=64, error_messages=_MESSAGES)
    approve_status = serializers.ChoiceField(choices=["1", "2"], error_messages=_MESSAGES)
    audit_remark = JDStringField(
        required=False, allow_blank=True, allow_null=True, default="", error_messages=_MESSAGES
    )
    auditor = JDStringField(max_length=128, error_messages=_MESSAGES)
    master_id = JDStringField(max_length=64, error_messages=_MESSAGES)


def _validated(params: dict[str, Any]) -> dict[str, Any]:
    serializer = ActivityReviewInput(data=params)
    if not serializer.is_valid():
        field, errors = next(iter(serializer.errors.items()))
        reason = errors[0] if isinstance(errors, list) else errors
        raise CallbackError(CODE_BAD_REQUEST, f"{field}: {reason}", data=FAILED)
    return serializer.validated_data


@isv_callback("/JDCloud/activity/update")
def activity_update(request: HttpRequest, params: dict[str, Any]) -> dict:
    """`POST /JDCloud/activity/update`: JD's review of a submitted activity."""
    data = _validated(params)
    brand = Brand.objects.filter(master_id=data["master_id"]).first()
    if brand is None:
        raise CallbackError(CODE_NOT_FOUND, f"master_id: 品牌商 {data['master_id']} 不存在", FAILED)
    # Callback intake: the brand comes from JD's verified parameters, not a session.
    with scope(brand=brand):
        try:
            activity = services.activity_record_review(
                brand=brand,
                activity_id=data["activity_id"],
                approve_status=data["approve_status"],
                audit_remark=data["audit_remark"] or "",
                auditor=data["auditor"],
            )
        except Activity.DoesNotExist:
            raise CallbackError(
                CODE_NOT_FOUND, f"activity_id: 活动 {data['activity_id']} 不存在", FAILED
            ) from None
        applies = services.activity_review_applies(activity)
    request.callback_brand_id = brand.pk
    if not applies:
        # Received and kept, but about content the brand has changed since: say so
        # (`msg`) without asking JD to retry (`status` 1).
        raise CallbackError(
            CODE_OK,
            "审核结果已收到但未生效:活动在提交审核后已被修改,需品牌商重新提交审核",
            {"status": "1"},
        )
    return {"status": "1"}
