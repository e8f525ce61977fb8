"""Crowd instances (spec "人群对象实例相关"): status, save-as, calc and split."""

from __future__ import annotations

import json
import math
from decimal import Decimal, InvalidOperation

from sandbox.jdcloud.crowds import (
    CALC,
    SAVE_AS,
    SPLIT_COUNT,
    SPLIT_RATIO,
    calc_size,
    instantiate,
)
from sandbox.jdcloud.envelope import (
    CODE_INT,
    CODE_STR,
    ApiError,
    Params,
    brand_of,
    endpoint,
    generated_instance,
    instance_of,
)
from sandbox.state import SandboxState


@endpoint(CODE_INT)
def instance_status(state: SandboxState, params: Params) -> dict:
    """`GET /crowd/instance/status/{package_id}`; the spec plans to move package_id to the
    query string, so `?package_id=` is accepted too."""
    instance = instance_of(state, params.text("package_id"))
    now = state.now()
    size = str(instance.visible_size(now))
    return {
        "status": instance.status(now),
        "package_size": size,
        "package_size_view": size,  # the spec's example shows the exact value here too
        "package_type": instance.package_type,
    }


@endpoint(CODE_STR)
def instance_save_as(state: SandboxState, params: Params) -> dict:
    """Copies the crowd object and the instance: the copy holds the same people.
    Sandbox extension: the answer adds the new `package_id` to the spec's `search_id`."""
    crowd_name = params.text("crowd_name", max_length=100)
    crowd_desc = params.text("crowd_desc", max_length=500)
    brand = brand_of(state, params)
    source = generated_instance(state, params.text("package_id"), brand)
    original = state.crowds.get(source.search_id)
    condition = original.condition if original else _package_condition([source.package_id])
    crowd = state.new_crowd(
        master_id=brand.master_id,
        crowd_type=SAVE_AS,
        condition=condition,
        crowd_name=crowd_name,
        crowd_desc=crowd_desc,
        package_type=source.package_type,
    )
    copy = state.new_instance(
        crowd,
        size=source.size,
        extent=source.extent,
        immediate=True,
        parents=[source.package_id],
    )
    return {"search_id": crowd.search_id, "package_id": copy.package_id}


def _package_condition(package_ids: list[str]) -> str:
    terms = [{"term": {"package_id": {"value": package_id}}} for package_id in package_ids]
    return json.dumps({"bool": {"should": terms}}, separators=(",", ":"))


@endpoint(CODE_STR)
def instance_calc(state: SandboxState, params: Params) -> dict:
    params.choice("data_type", ("1",))
    crowd_name = params.text("crowd_name", max_length=100)
    crowd_desc = params.text("crowd_desc", max_length=500)
    brand = brand_of(state, params)
    condition = params.text("condition")
    _, package_type, _ = calc_size(state, condition, brand.master_id)  # validates it all
    crowd = state.new_crowd(
        master_id=brand.master_id,
        crowd_type=CALC,
        condition=condition,
        crowd_name=crowd_name,
        crowd_desc=crowd_desc,
        package_type=package_type,
    )
    instance = instantiate(state, crowd)
    return {
        "search_id": crowd.search_id,
        "package_id": instance.package_id,
        "package_status": instance.status(state.now()),
    }


def _split_entries(entries: list, by_ratio: bool, size: int) -> list[tuple[str, str, Decimal]]:
    """Spec "人群抽取": "名称|0.4" (ratios > 0, sum ≤ 1) or "名称|1000" (sum ≤ size)."""
    parsed = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, str) or "|" not in entry:
            raise ApiError(f'ratio[{index}]格式错误:{entry!r},应为"名称|比例"或"名称|人数"')
        name, _, amount_text = entry.rpartition("|")
        if not name.strip():
            raise ApiError(f"ratio[{index}]缺少名称:{entry!r}")
        try:
            amount = Decimal(amount_text.strip())
        except InvalidOperation:
            raise ApiError(f"ratio[{index}]的数值不是数字:{entry!r}") from None
        if by_ratio and not amount > 0:
            raise ApiError(f"ratio[{index}]的比例必须大于0:{entry!r}")
        if not by_ratio and (amount != amount.to_integral_value() or amount <= 0):
            raise ApiError(f"ratio[{index}]的人数必须是正整数:{entry!r}")
        parsed.append((entry, name, amount))
    total = sum(amount for _, _, amount in parsed)
    if by_ratio and total > 1:
        raise ApiError(f"按比例抽取时比例之和不能超过1,当前为{total}")
    if not by_ratio and total > size:
        raise ApiError(f"按人数抽取时人数之和({total})不能超过人群对象实例的人数({size})")
    return parsed


@endpoint(CODE_INT)
def instance_split(state: SandboxState, params: Params) -> list:
    split_type = params.choice("type", ("0", "1"))
    entries = params.array("ratio")
    source = generated_instance(state, params.text("package_id"))
    by_ratio = split_type == "0"
    parsed = _split_entries(entries, by_ratio, source.size)
    parent_crowd = state.crowds.get(source.search_id)
    parent_name = parent_crowd.crowd_name if parent_crowd else source.package_id
    out, cursor = [], Decimal(0)
    for entry, name, amount in parsed:
        size = math.floor(source.size * amount) if by_ratio else int(amount)
        share = amount if by_ratio else Decimal(size) / Decimal(max(source.size, 1))
        extent = source.extent.sub(float(cursor), float(min(cursor + share, Decimal(1))))
        cursor += share
        crowd = state.new_crowd(
            master_id=source.master_id,
            crowd_type=SPLIT_RATIO if by_ratio else SPLIT_COUNT,
            condition=_package_condition([source.package_id]),
            crowd_name=name,
            crowd_desc=f"{parent_name}抽取:{entry}",
            package_type=source.package_type,
        )
        child = state.new_instance(
            crowd, size=size, extent=extent, immediate=True, parents=[source.package_id], name=entry
        )
        crowd.condition = _package_condition([child.package_id])  # re-init: the same people
        out.append(
            {"package_id": child.package_id, "package_size": str(size), "package_name": entry}
        )
    return out
