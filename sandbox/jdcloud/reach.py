"""Reaching a package (spec "触发人群营销"), its SMS results ("统计人群包短信发送结果") and
the response-node filter built on them ("响应节点筛选").

Cost: one SMS per person per segment. The text is the signature (public: 【京东】) plus
the rendered template; up to 70 characters is one segment, longer texts are sent as
ceil(len / 67) segments (the carriers' concatenated-SMS rule). Public types spend the
public balance, private types the private one; an insufficient balance changes nothing.
"""

from __future__ import annotations

import json
import math

from sandbox.catalog import PUBLIC_SIGNATURE
from sandbox.jdcloud.crowds import RESPONSE_FILTER
from sandbox.jdcloud.envelope import (
    CODE_INT,
    CODE_STR,
    ApiError,
    Params,
    conflict,
    endpoint,
    generated_instance,
    instance_of,
)
from sandbox.population import outcome_extents, sms_outcome
from sandbox.state import Instance, LedgerEntry, Reach, SandboxState

# Per type: (required, optional) members of `params`, exactly as the spec's four tables.
REACH_PARAMS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "SMSPUBLIC": (("template_id", "template_params"), ("send_time",)),
    "SMSPRIVATE": (("template_id", "template_params", "signature_id"), ("send_time",)),
    "COUPONPUBLIC": (("template_id", "template_params", "batch_id"), ("send_time",)),
    "COUPONPRIVATE": (
        ("template_id", "template_params", "signature_id", "batch_id"),
        ("send_time",),
    ),
}
SINGLE_SEGMENT, SEGMENT = 70, 67


def segments(text: str) -> int:
    return 1 if len(text) <= SINGLE_SEGMENT else math.ceil(len(text) / SEGMENT)


def _check_members(reach_type: str, given: dict) -> Params:
    required, optional = REACH_PARAMS[reach_type]
    present = {name: value for name, value in given.items() if value is not None}
    for name in present:
        if name not in required + optional:
            allowed = "、".join(required + optional)
            raise ApiError(f"params.{name}不是{reach_type}触达的参数({reach_type}只允许:{allowed})")
    for name in required:
        if present.get(name) in (None, ""):
            raise ApiError(f"params缺少必填参数{name}({reach_type}触达必填)")
    return Params({f"params.{name}": value for name, value in present.items()})


def _render(template: dict, text_params: object) -> str:
    try:
        values = json.loads(text_params) if isinstance(text_params, str) else None
    except json.JSONDecodeError as exc:
        raise ApiError(f"params.template_params不是合法的JSON:{exc.msg}") from None
    if not isinstance(values, dict):
        raise ApiError('params.template_params必须是JSON对象格式的字符串,如{"nick":"张三"}')
    content = template["template_content"]
    for key in template["template_params"]:
        value = values.get(key)
        if value is None or value == "" or isinstance(value, dict | list):
            raise ApiError(f"params.template_params缺少模板{template['template_id']}的占位符{key}")
        content = content.replace("{" + key + "}", str(value))
    return content


@endpoint(CODE_INT)
def instance_reach(state: SandboxState, params: Params) -> dict:
    package_id = params.text("package_id")
    reach_type = params.choice("type", tuple(REACH_PARAMS))
    members = _check_members(reach_type, params.mapping("params"))
    instance = generated_instance(state, package_id)
    if instance.reach is not None:
        raise conflict(f"人群对象实例{package_id}已触达,不能重复触达")
    brand = state.brands[instance.master_id]
    domain = 1 if reach_type.endswith("PUBLIC") else 2
    template_id = members.text("params.template_id")
    template = state.sms_template(domain, template_id)
    if template is None:
        other = state.sms_template(3 - domain, template_id)
        scope = "公域" if domain == 1 else "私域"
        if other is not None:
            raise ApiError(f"短信模板{template_id}不是{scope}模板,不能用于{reach_type}触达")
        raise ApiError(f"短信模板template_id不存在:{template_id}", "404")
    body = _render(template, members.values["params.template_params"])
    signature_name = PUBLIC_SIGNATURE
    if domain == 2:
        signature_id = members.text("params.signature_id")
        signature = next((s for s in brand.signatures if s["signature_id"] == signature_id), None)
        if signature is None:
            raise ApiError(f"短信签名signature_id不存在:{signature_id}", "404")
        signature_name = signature["signature_name"]
    if reach_type.startswith("COUPON"):
        members.text("params.batch_id")
    send_time = members.moment("params.send_time", required=False)
    now = state.now()
    text = signature_name + body
    count = segments(text)
    cost = instance.size * count
    balance_name = "public_balance" if domain == 1 else "private_balance"
    balance = getattr(brand, balance_name)
    if cost > balance:
        scope = "公域" if domain == 1 else "私域"
        raise ApiError(
            f"短信余额不足:本次需要{cost}条({instance.size}人×{count}条/人),"
            f"{scope}短信余额{balance}条"
        )
    setattr(brand, balance_name, balance - cost)
    brand.consumptions.append(LedgerEntry(state.new_hex_id(), cost, domain, now, direction=1))
    sent_at = max(send_time, now) if send_time else now
    instance.reach = Reach(
        type=reach_type,
        params={name.removeprefix("params."): value for name, value in members.values.items()},
        text=text,
        segments=count,
        cost=cost,
        created_at=now,
        sent_at=sent_at,
    )
    if instance.report_from is None:  # spec "创建人群营销报表": reached packages are automatic
        instance.report_from = sent_at
    return {"status": "0"}


def _sent(state: SandboxState, instance: Instance) -> bool:
    return instance.reach is not None and state.now() >= instance.reach.sent_at


@endpoint(CODE_INT)
def sms_result(state: SandboxState, params: Params) -> dict:
    instance = instance_of(state, params.text("package_id"))
    if instance.reach is None:
        raise conflict(f"人群包{instance.package_id}未触达,没有短信发送结果")
    if not _sent(state, instance):
        return {"success": 0, "failed": 0, "restrict": 0, "unknown": 0}
    return sms_outcome(instance.package_id, instance.size)


# Spec "响应节点筛选": 1=受限制 2=未知状态 3=发送失败 4=发送成功.
FILTER_OUTCOMES = {"1": "restrict", "2": "unknown", "3": "failed", "4": "success"}
FILTER_LABELS = {"1": "受限制", "2": "未知状态", "3": "发送失败", "4": "发送成功"}


@endpoint(CODE_STR)
def instance_filter(state: SandboxState, params: Params) -> list:
    # The table says `filter_types`, the example `filter_type`: accept both.
    name = params.first_present("filter_types", "filter_type")
    wanted = params.array(name)
    types: list[str] = []
    for index, value in enumerate(wanted):
        text = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""
        if text not in FILTER_OUTCOMES:
            raise ApiError(f"{name}[{index}]取值错误:{value!r},可选值为1/2/3/4")
        if text not in types:
            types.append(text)
    instance = instance_of(state, params.text("package_id"))
    if instance.reach is None:
        raise conflict(f"人群包{instance.package_id}未通过短信或优惠券触达,不能进行响应节点筛选")
    if not _sent(state, instance):
        raise conflict(f"人群包{instance.package_id}的短信尚未发送,请在发送后再筛选")
    outcome = sms_outcome(instance.package_id, instance.size)
    extents = outcome_extents(instance.extent, outcome)
    parent = state.crowds.get(instance.search_id)
    out = []
    for filter_type in types:
        result = FILTER_OUTCOMES[filter_type]
        label = FILTER_LABELS[filter_type]
        crowd = state.new_crowd(
            master_id=instance.master_id,
            crowd_type=RESPONSE_FILTER,
            condition="{}",
            crowd_name=f"{(parent.crowd_name if parent else None) or instance.name}-{label}",
            crowd_desc=f"响应节点筛选:{label}",
            package_type=instance.package_type,
        )
        child = state.new_instance(
            crowd,
            size=outcome[result],
            extent=extents[result],
            immediate=True,
            parents=[instance.package_id],
        )
        crowd.condition = json.dumps(
            {"bool": {"should": [{"term": {"package_id": {"value": child.package_id}}}]}},
            separators=(",", ":"),
        )
        out.append({"package_id": child.package_id, "filter_type": filter_type})
    return out
