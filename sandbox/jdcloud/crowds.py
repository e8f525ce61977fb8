"""Brand verification, the tag catalog and crowd objects (spec "品牌商相关", "人群对象相关")."""

from __future__ import annotations

import hashlib
import json

from sandbox.catalog import TAGS, public_tag
from sandbox.clock import format_datetime
from sandbox.conditions import ConditionError, parse_package_condition, parse_tag_condition
from sandbox.jdcloud.envelope import (
    CODE_INT,
    CODE_STR,
    ApiError,
    Params,
    brand_of,
    endpoint,
    generated_instance,
    not_found,
    page_of,
)
from sandbox.population import Extent, Operand, combine, difference, size_from_condition
from sandbox.state import Crowd, Instance, SandboxState

# Appendix "人群对象类型枚举值".
EXTRACT, CALC, SAVE_AS, UPLOAD, SPLIT_RATIO, SPLIT_COUNT, RESPONSE_FILTER = range(1, 8)
LISTABLE_CROWD_TYPES = (1, 3, 4)  # spec "获取人群对象列表": crowd_type 仅支持1/3/4


@endpoint(CODE_INT)
def master_verify(state: SandboxState, params: Params) -> dict:
    """Spec "验证登录用户": a known pin is valid and names its brand."""
    brand = state.brand_for_pin(params.text("master_pin"))
    if brand is None:
        return {"valid": "0"}
    return {"valid": "1", "master_id": brand.master_id}


@endpoint(CODE_STR)
def tag_list(state: SandboxState, params: Params) -> list:
    return [public_tag(tag) for tag in TAGS]


def _checked_tag_condition(params: Params, package_type: int):
    try:
        condition = parse_tag_condition(params.values.get("condition"))
    except ConditionError as exc:
        raise ApiError(str(exc)) from None
    private = condition.private_tags
    if private and package_type != 2:
        raise ApiError(
            f"package_type与condition不一致:condition包含私域标签{'、'.join(private)},"
            "package_type必须为2(私域人群)"
        )
    if not private and package_type != 1:
        raise ApiError("package_type与condition不一致:condition只包含公域标签,package_type必须为1")
    return condition


@endpoint(CODE_STR)
def crowd_create(state: SandboxState, params: Params) -> dict:
    params.choice("data_type", ("1",))  # 1=PIN, 固定传1
    params.choice("crowd_type", ("1",))  # 1=人群提取, 固定传1
    crowd_name = params.text("crowd_name", max_length=100)
    crowd_desc = params.text("crowd_desc", max_length=500)
    brand = brand_of(state, params)
    package_type = params.int_choice("package_type", (1, 2))
    params.text("condition")
    _checked_tag_condition(params, package_type)
    crowd = state.new_crowd(
        master_id=brand.master_id,
        crowd_type=EXTRACT,
        condition=params.values["condition"],
        crowd_name=crowd_name,
        crowd_desc=crowd_desc,
        package_type=package_type,
    )
    return {"search_id": crowd.search_id}


def crowd_of(state: SandboxState, params: Params) -> Crowd:
    search_id = params.text("search_id")
    crowd = state.crowds.get(search_id)
    if crowd is None:
        raise not_found("人群对象search_id", search_id)
    return crowd


@endpoint(CODE_STR)
def crowd_edit(state: SandboxState, params: Params) -> dict:
    crowd = crowd_of(state, params)
    params.text("condition")
    if crowd.crowd_type not in (EXTRACT, SAVE_AS):
        raise ApiError(f"人群对象类型crowd_type={crowd.crowd_type}不支持编辑条件")
    _checked_tag_condition(params, crowd.package_type)
    crowd.condition = params.values["condition"]
    crowd.crowd_desc = params.text("crowd_desc", required=False, max_length=500) or crowd.crowd_desc
    crowd.crowd_name = params.text("crowd_name", required=False, max_length=100) or crowd.crowd_name
    return {"status": "0"}


@endpoint(CODE_STR)
def crowd_delete(state: SandboxState, params: Params) -> dict:
    crowd = crowd_of(state, params)
    del state.crowds[crowd.search_id]  # its instances live on, as JD's snapshots do
    return {"status": "0"}


@endpoint(CODE_INT)
def crowd_info(state: SandboxState, params: Params) -> dict:
    return crowd_of(state, params).as_json()


@endpoint(CODE_INT)
def crowd_list(state: SandboxState, params: Params) -> dict:
    brand = brand_of(state, params)
    name = params.text("crowd_name", required=False)
    crowd_type = params.integer("crowd_type", required=False)
    if crowd_type is not None and crowd_type not in LISTABLE_CROWD_TYPES:
        raise ApiError(f"参数crowd_type取值错误:{crowd_type},仅支持1/3/4")
    package_type = params.int_choice("package_type", (1, 2), required=False)
    crowds = [
        crowd
        for crowd in state.crowds.values()
        if crowd.master_id == brand.master_id
        and (name is None or name in (crowd.crowd_name or ""))
        and (crowd_type is None or crowd.crowd_type == crowd_type)
        and (package_type is None or crowd.package_type == package_type)
    ]
    crowds.sort(key=lambda crowd: crowd.created_at, reverse=True)
    page = page_of(crowds, params)
    page["result"] = [
        # The table says `date_type`, the example `data_type`: send both.
        {
            **crowd.as_json(),
            "date_type": crowd.data_type,
            "create_time": format_datetime(crowd.created_at),
        }
        for crowd in page["result"]
    ]
    return page


def _condition_root(kind: str, condition: object) -> str:
    canonical = json.dumps(condition, sort_keys=True, ensure_ascii=False)
    return f"{kind}:{hashlib.sha256(canonical.encode()).hexdigest()[:16]}"


def package_operands(state: SandboxState, ids: list[str], master_id: str) -> list[Operand]:
    brand = state.brands.get(master_id)
    return [
        Operand(instance.extent, instance.size)
        for instance in (generated_instance(state, package_id, brand) for package_id in ids)
    ]


def calc_size(state: SandboxState, condition_text: str, master_id: str) -> tuple[int, int, str]:
    """(size, package_type, root) of a package condition (spec "人群计算")."""
    try:
        condition = parse_package_condition(condition_text)
    except ConditionError as exc:
        raise ApiError(str(exc)) from None
    operands = package_operands(state, condition.package_ids, master_id)
    minus = package_operands(state, condition.minus_ids, master_id)
    if condition.minus_ids:
        size = difference(condition.op, operands, minus)
    else:
        size = combine(condition.op, operands)
    private = any(
        state.instances[package_id].package_type == 2
        for package_id in condition.package_ids + condition.minus_ids
    )
    return size, 2 if private else 1, _condition_root("calc", json.loads(condition_text))


def instantiate(state: SandboxState, crowd: Crowd, parents: list[str] | None = None) -> Instance:
    """`/crowd/init` and `/crowd/instance/calc`: the instance generates over time. The
    same condition always yields the same people (one root per condition)."""
    condition = json.loads(crowd.condition)
    if '"package_id"' in crowd.condition:  # a package (calc) condition, not tags
        size, _, root = calc_size(state, crowd.condition, crowd.master_id)
        parents = parents or parse_package_condition(crowd.condition).package_ids
    else:
        size, root = size_from_condition(condition), _condition_root("tags", condition)
    return state.new_instance(
        crowd, size=size, extent=Extent(root=root, root_size=max(size, 1)), parents=parents
    )


@endpoint(CODE_STR)
def crowd_init(state: SandboxState, params: Params) -> dict:
    crowd = crowd_of(state, params)
    instance = instantiate(state, crowd)
    return {"search_id": crowd.search_id, "package_id": instance.package_id}
