"""The condition DSL of spec "请求参数condition参数详解", checked as JD Cloud would.

Tag conditions (`/crowd/create/v2`, `/crowd/edit/v2`):
- the first level is a bool with exactly one of must / should, plus optionally must_not
  (only here, and only beside must or should);
- every item of the first level is a bool carrying `group` (a known `table_cd`) and one
  of must / should; deeper levels hold term / terms / range / bool (a nested bool may
  repeat its group, never name another, never hold must_not);
- every tag is known and belongs to the group; tags of different time windows of one
  group cannot share a second-level bool (search words excepted);
- enum tags take a display value or a `<TAG>_<NN>` code (see `catalog`), range only on
  free-value tags, with numbers.

Package conditions (`/crowd/instance/calc`, spec "人群计算"): one bool of `term` on
`package_id`, must (intersection) or should (union), must_not (difference) beside one.

Errors name the path inside the condition, e.g. `condition.bool.must[0].bool.group`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from sandbox.catalog import TAGS_BY_NAME

RELATIONS = ("must", "should")
RANGE_OPERATORS = ("gte", "lte", "gt", "lt")
GROUPS = {tag["table_cd"] for tag in TAGS_BY_NAME.values()}


class ConditionError(ValueError):
    """A condition JD Cloud would refuse; the message is the user-facing `msg`."""


@dataclass
class TagCondition:
    parsed: dict
    tags: set[str] = field(default_factory=set)

    @property
    def private_tags(self) -> list[str]:
        return sorted(tag for tag in self.tags if TAGS_BY_NAME[tag]["tag_type"] == "0")


def load_json_string(value: object, name: str) -> object:
    """`condition` and `template_params` travel as JSON text inside the JSON body."""
    if not isinstance(value, str):
        raise ConditionError(f"{name}必须是JSON格式的字符串")
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        raise ConditionError(f"{name}不是合法的JSON:{exc.msg}(第{exc.pos + 1}个字符)") from exc


def _single_key(node: object, path: str) -> tuple[str, object]:
    if not isinstance(node, dict) or len(node) != 1:
        raise ConditionError(f"{path}必须是只有一个key的JSON对象(term、terms、range或bool)")
    ((key, value),) = node.items()
    return key, value


def _relations(body: dict, path: str, *, allow_must_not: bool, allow_group: bool) -> list:
    allowed = {*RELATIONS, "must_not"} if allow_must_not else set(RELATIONS)
    if allow_group:
        allowed.add("group")
    unknown = sorted(set(body) - allowed)
    if unknown:
        if "must_not" in unknown:
            raise ConditionError(f"{path}.must_not只能出现在第一层bool内")
        raise ConditionError(f"{path}不支持的关键字:{unknown[0]}")
    present = [name for name in RELATIONS if name in body]
    if len(present) != 1:
        raise ConditionError(f"{path}必须包含且只能包含must、should中的一个")
    out = []
    for name in (*present, "must_not"):
        if name not in body:
            continue
        items = body[name]
        if not isinstance(items, list) or not items:
            raise ConditionError(f"{path}.{name}必须是非空的JSON数组")
        out.extend((f"{path}.{name}[{index}]", item) for index, item in enumerate(items))
    return out


def parse_tag_condition(text: object) -> TagCondition:
    parsed = load_json_string(text, "condition")
    key, body = _single_key(parsed, "condition")
    if key != "bool" or not isinstance(body, dict):
        raise ConditionError("condition第一层必须是bool查询")
    result = TagCondition(parsed=parsed)  # type: ignore[arg-type]
    for path, item in _relations(body, "condition.bool", allow_must_not=True, allow_group=False):
        item_key, group_body = _single_key(item, path)
        if item_key != "bool" or not isinstance(group_body, dict):
            raise ConditionError(f"{path}:第二层必须是带group的bool查询")
        group = group_body.get("group")
        if group is None:
            raise ConditionError(f"{path}.bool缺少group(第二层bool必须指定索引分组)")
        if not isinstance(group, str) or group not in GROUPS:
            raise ConditionError(f"{path}.bool.group={group!r}不是已知的标签分组")
        windows: dict[str, str] = {}
        _check_bool(group_body, f"{path}.bool", group, windows, result)
        if len(set(windows.values())) > 1:
            names = "、".join(f"{tag}({window})" for tag, window in sorted(windows.items()))
            raise ConditionError(
                f"{path}.bool:同一个group下不同时间窗口的标签不能在一起:{names},"
                "请拆分为多个带group的bool查询"
            )
    return result


def _check_bool(body: dict, path: str, group: str, windows: dict, result: TagCondition) -> None:
    if "group" in body and body["group"] != group:
        raise ConditionError(f"{path}.group={body['group']!r}与所在分组{group}不一致")
    for item_path, item in _relations(body, path, allow_must_not=False, allow_group=True):
        key, value = _single_key(item, item_path)
        if key == "bool":
            if not isinstance(value, dict):
                raise ConditionError(f"{item_path}.bool必须是JSON对象")
            _check_bool(value, f"{item_path}.bool", group, windows, result)
            continue
        if key not in ("term", "terms", "range"):
            raise ConditionError(
                f"{item_path}:不支持的查询类型{key}(仅支持term、terms、range、bool)"
            )
        tag_name, argument = _single_key(value, f"{item_path}.{key}")
        tag_path = f"{item_path}.{key}.{tag_name}"
        tag = TAGS_BY_NAME.get(tag_name)
        if tag is None:
            raise ConditionError(f"{tag_path}:未知的标签{tag_name}")
        if tag["table_cd"] != group:
            raise ConditionError(
                f"{tag_path}:标签{tag_name}属于分组{tag['table_cd']},不能用在分组{group}下"
            )
        if tag["window"]:
            windows[tag_name] = tag["window"]
        result.tags.add(tag_name)
        if key == "term":
            if not isinstance(argument, dict) or set(argument) != {"value"}:
                raise ConditionError(f'{tag_path}必须是{{"value": 值}}')
            _check_value(tag, argument["value"], f"{tag_path}.value")
        elif key == "terms":
            if not isinstance(argument, list) or not argument:
                raise ConditionError(f"{tag_path}必须是非空的值数组")
            for index, one in enumerate(argument):
                _check_value(tag, one, f"{tag_path}[{index}]")
        else:
            _check_range(tag, argument, tag_path)


ENUM_CODE = re.compile(r"^(TAG_\d+)_(\d{2})$")


def _check_value(tag: dict, value: object, path: str) -> None:
    if isinstance(value, bool) or not isinstance(value, str | int | float) or value == "":
        raise ConditionError(f"{path}必须是非空的字符串或数字")
    enums = tag["enums"]
    if not enums:
        return
    text = str(value)
    match = ENUM_CODE.match(text)
    if match and match.group(1) == tag["tag"] and 1 <= int(match.group(2)) <= len(enums):
        return
    if text in enums:
        return
    codes = f"{tag['tag']}_01~{tag['tag']}_{len(enums):02d}"
    raise ConditionError(f"{path}={text!r}不是标签{tag['tag']}的枚举值(可用{codes}或{enums})")


def _check_range(tag: dict, argument: object, path: str) -> None:
    if tag["enums"]:
        raise ConditionError(f"{path}:枚举标签{tag['tag']}不支持range查询,请使用term或terms")
    if not isinstance(argument, dict) or not argument:
        raise ConditionError(f"{path}必须是包含gte、lte、gt、lt的JSON对象")
    for operator, bound in argument.items():
        if operator not in RANGE_OPERATORS:
            raise ConditionError(f"{path}.{operator}:range只支持gte、lte、gt、lt")
        if isinstance(bound, bool) or not isinstance(bound, int | float):
            raise ConditionError(f"{path}.{operator}必须是数字")


@dataclass
class PackageCondition:
    op: str  # "must" (intersection) or "should" (union)
    package_ids: list[str]
    minus_ids: list[str]


def parse_package_condition(text: object) -> PackageCondition:
    parsed = load_json_string(text, "condition")
    key, body = _single_key(parsed, "condition")
    if key != "bool" or not isinstance(body, dict):
        raise ConditionError("condition第一层必须是bool查询")
    items = _relations(body, "condition.bool", allow_must_not=True, allow_group=False)
    op = "must" if "must" in body else "should"
    ids: dict[str, list[str]] = {op: [], "must_not": []}
    for path, item in items:
        item_key, value = _single_key(item, path)
        if item_key != "term":
            raise ConditionError(f"{path}:人群计算只支持term查询package_id")
        field_name, argument = _single_key(value, f"{path}.term")
        if field_name != "package_id":
            raise ConditionError(f"{path}.term:人群计算的参数必须是package_id,而不是{field_name}")
        if not isinstance(argument, dict) or not isinstance(argument.get("value"), str):
            raise ConditionError(f'{path}.term.package_id必须是{{"value": "人群对象实例ID"}}')
        relation = "must_not" if ".must_not[" in path else op
        ids[relation].append(argument["value"])
    return PackageCondition(op=op, package_ids=ids[op], minus_ids=ids["must_not"])
