"""Crowd conditions: the tag catalog, the condition DSL's rules, the condition in words,
and the builder tree the browser edits.

Pure Python on purpose: no Django models, no HTTP. The tag catalog comes in as data (the
rows of `/tag/list/v2`), so the same checks run in services, in tests and on cached rows.

The DSL is spec "人群对象相关 → 新建人群对象 → 请求参数condition参数详解":

- "第一层必须是一个bool查询": the first level decides how the groups (索引) combine,
  must = 交集, should = 并集, must_not = 差集;
- "第二层...必须是一个带group索引分组信息bool查询": every first-level item names its group;
- "第三层...往后没有特殊限制": term / terms / range / nested bool;
- "必须包含且只能包含must、should的一个", "只有第一层的bool可以包含must_not,且必须配合
  should或must使用";
- "所有的标签都必须是二层的group下的标签";
- "同一个group下不同时间窗口的标签也不能在一起(搜索词除外)".

JD Cloud answers a bad condition with one terse `msg`; the portal checks first and reports
every violation with its JSON path (`condition.bool.must[0].bool.group`), so the builder can
point at each field. It is deliberately stricter than the simulator in `sandbox/` where
the spec is (time windows read from every tag's wording, empty ranges, nesting depth).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

RELATIONS = ("must", "should")
FIRST_LEVEL_RELATIONS = ("must", "should", "must_not")
BOOL_KEYS = frozenset({*FIRST_LEVEL_RELATIONS, "group"})
QUERY_TYPES = ("term", "terms", "range", "bool")
RANGE_OPERATORS = ("gte", "lte", "gt", "lt")
LOWER_BOUNDS = ("gt", "gte")
UPPER_BOUNDS = ("lt", "lte")

PRIVATE_TAG_TYPE = "0"  # spec "获取标签列表": tag_type 0 = 私域, 1 = 公域
PUBLIC_PACKAGE_TYPE = 1  # spec "新建人群对象": package_type 1 = 公域人群
PRIVATE_PACKAGE_TYPE = 2  # 2 = 私域人群

# The spec sets no depth limit; a cap keeps the recursive walks below Python's recursion
# limit on hostile input (a JSON string nested a thousand levels deep). The builder needs 5.
MAX_BOOL_DEPTH = 10

RELATION_WORDS = {"must": " 且 ", "should": " 或 "}
RANGE_SYMBOLS = {"gt": ">", "gte": "≥", "lt": "<", "lte": "≤"}

BUILDER_OPS = ("eq", "in", "gt", "gte", "lt", "lte", "between")
BUILDER_RULE_KEYS = frozenset({"tag", "op", "value", "values", "min", "max"})


# --- Catalog ---------------------------------------------------------------------------

_CHINESE_DIGITS = {
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
# A number right before 日 / 天: 一日, 十五日, 三十日, 7日, 近30天. "距今天数" does not match:
# 今 is no numeral.
WINDOW_PATTERN = re.compile(r"(\d+|[零一二两三四五六七八九十百]+)\s*[日天]")


def _numeral(text: str) -> int:
    if text.isdigit():
        return int(text)
    total, current = 0, 0
    for char in text:
        if char == "百":
            total += (current or 1) * 100
            current = 0
        elif char == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = _CHINESE_DIGITS[char]
    return total + current


@dataclass(frozen=True)
class CatalogTag:
    """One row of `/tag/list/v2` (spec "获取标签列表")."""

    tag: str
    instruction: str
    table_cd: str
    tag_type: str
    enums: tuple[str, ...] = ()

    @property
    def is_private(self) -> bool:
        return self.tag_type == PRIVATE_TAG_TYPE

    @property
    def window(self) -> str | None:
        """The time window named by the instruction, e.g. "用户对店铺三日浏览量" → "3d".

        The catalog carries no window field, yet the spec refuses "同一个group下不同时间窗口
        的标签" together, so the wording is the only source.
        """
        match = WINDOW_PATTERN.search(self.instruction)
        if match is None:
            return None
        days = _numeral(match.group(1))
        return f"{days}d" if days > 0 else None

    @property
    def is_search_word(self) -> bool:
        """Search-word tags are exempt from the one-window rule ("搜索词除外")."""
        return "搜索词" in self.instruction

    @property
    def is_enum(self) -> bool:
        return bool(self.enums)

    def enum_code(self, index: int) -> str:
        """`<TAG>_<NN>`, NN the 1-based index on two digits (the spec's TAG_021_05)."""
        return f"{self.tag}_{index:02d}"


class TagCatalog:
    """The tags a brand may use, by code; a later row with the same code replaces one."""

    def __init__(self, tags: Iterable[CatalogTag]) -> None:
        self._tags: dict[str, CatalogTag] = {}
        for tag in tags:
            self._tags[tag.tag] = tag

    @classmethod
    def from_dicts(cls, rows: Iterable[Mapping[str, Any]]) -> TagCatalog:
        """Rows as `/tag/list/v2` sends them.

        Keys are stripped: the spec's own sample response spells one key "enums " with a
        trailing space. `tag_type` may come as a number; `enums` may be missing or null.
        """
        tags = []
        for row in rows:
            clean = {str(key).strip(): value for key, value in row.items()}
            tags.append(
                CatalogTag(
                    tag=str(clean["tag"]),
                    instruction=str(clean.get("instruction") or ""),
                    table_cd=str(clean["table_cd"]),
                    tag_type=str(clean.get("tag_type", "")),
                    enums=tuple(str(value) for value in clean.get("enums") or ()),
                )
            )
        return cls(tags)

    def __iter__(self) -> Iterator[CatalogTag]:
        return iter(self._tags.values())

    def __len__(self) -> int:
        return len(self._tags)

    def __contains__(self, tag: object) -> bool:
        return isinstance(tag, str) and tag in self._tags

    def get(self, tag: object) -> CatalogTag | None:
        return self._tags.get(tag) if isinstance(tag, str) else None

    @property
    def groups(self) -> frozenset[str]:
        return frozenset(tag.table_cd for tag in self._tags.values())

    def tags_in(self, group: str) -> tuple[CatalogTag, ...]:
        return tuple(tag for tag in self._tags.values() if tag.table_cd == group)

    def enum_value(self, tag: str, value: object) -> str | None:
        """The display value of an enum given by display value or by code, else None.

        Spec "条件查询": the value is "标签的值(枚举code或者手写值)"; its examples use codes
        (TAG_001_02 = the second enum of TAG_001).
        """
        entry = self.get(tag)
        if entry is None or not entry.enums or isinstance(value, bool):
            return None
        if isinstance(value, int | float):
            value = str(value)
        if not isinstance(value, str):
            return None
        if value in entry.enums:
            return value
        prefix = f"{entry.tag}_"
        suffix = value[len(prefix) :] if value.startswith(prefix) else ""
        if suffix.isdigit() and suffix.isascii():
            index = int(suffix)
            if 1 <= index <= len(entry.enums) and value == entry.enum_code(index):
                return entry.enums[index - 1]
        return None


# --- Validation --------------------------------------------------------------------------


@dataclass(frozen=True)
class Violation:
    """A rule the condition breaks: where (JSON path) and what to do (user-facing, translated;
    the Chinese wording, which mirrors the spec, is the msgid)."""

    path: str
    message: str


class _Unparsable:
    """The condition string was no JSON; its violation is already recorded."""


_UNPARSABLE = _Unparsable()


def _refuse_constant(name: str) -> object:
    raise ValueError(_("不支持 %(name)s") % {"name": name})


def _load(condition: object, violations: list[Violation]) -> object:
    """`condition` travels as JSON text ("作为字符串参数"); a dict is taken as parsed."""
    if not isinstance(condition, str):
        return condition
    try:
        return json.loads(condition, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        message = _("condition 不是合法的 JSON:%(error)s(第 %(position)s 个字符)") % {
            "error": exc.msg,
            "position": exc.pos + 1,
        }
    except (ValueError, RecursionError) as exc:
        message = _("condition 不是合法的 JSON:%(error)s") % {"error": exc}
    violations.append(Violation("condition", message))
    return _UNPARSABLE


def parse(condition: dict | str) -> dict:
    """The condition as a dict: JSON text parsed, a dict returned as it is.

    Raises ValueError (with the user-facing message) when it is no JSON object.
    """
    violations: list[Violation] = []
    node = _load(condition, violations)
    if violations:
        raise ValueError(violations[0].message)
    if not isinstance(node, dict):
        raise ValueError(_("condition 必须是 JSON 对象"))
    return node


def parse_or_empty(condition: object) -> dict:
    """For conditions JD sends back (`/crowd/list`): whatever cannot be read becomes {}."""
    if not isinstance(condition, dict | str):
        return {}
    try:
        return parse(condition)
    except ValueError:
        return {}


_Add = Callable[[str, str], None]  # records a violation: path, message


def _is_number(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value)


def _scalar_problem(value: object) -> str | None:
    """Why a term / terms value is unusable: "value为标签的值" — a string or a number."""
    if isinstance(value, str):
        return None if value.strip() else _("值不能为空")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return _("值必须是字符串或数字")
    return None if math.isfinite(value) else _("值必须是有限的数字")


def _first_level_body(node: object, path: str, add: _Add) -> dict | None:
    """Spec "第一层必须是一个bool查询": an object whose only key is `bool`."""
    if not isinstance(node, dict) or not isinstance(node.get("bool"), dict):
        add(path, _("第一层必须是 bool 查询"))
        return None
    for key in sorted(set(node) - {"bool"}, key=str):
        add(f"{path}.{key}", _("第一层只能有一个 key:bool,不能有 %(key)s") % {"key": key})
    return node["bool"]


class _TagConditionCheck:
    """One walk over a tag condition, collecting violations in document order."""

    def __init__(self, catalog: TagCatalog) -> None:
        self.catalog = catalog
        self.violations: list[Violation] = []

    def add(self, path: str, message: str) -> None:
        self.violations.append(Violation(path, message))

    def condition(self, node: object) -> None:
        body = _first_level_body(node, "condition", self.add)
        if body is None:
            return
        path = "condition.bool"
        if "group" in body:
            self.add(f"{path}.group", _("第一层 bool 不能带 group:group 写在第二层的 bool 里"))
        for item_path, item in self.relation_items(body, path, level=1):
            self.block(item, item_path)

    def relation_items(self, body: dict, path: str, *, level: int) -> Iterator[tuple[str, Any]]:
        """Checks a bool's own keys, then yields its items (must, should, must_not order)."""
        for key in sorted(set(body) - BOOL_KEYS, key=str):
            self.add(
                f"{path}.{key}",
                _("bool 查询不支持 %(key)s:只能是 must、should、must_not、group") % {"key": key},
            )
        present = [relation for relation in RELATIONS if relation in body]
        if len(present) == 2:
            self.add(path, _("must 和 should 在同一个 bool 内只能包含一个"))
        elif not present:
            if "must_not" in body and level == 1:
                self.add(path, _("must_not 必须配合 must 或 should 使用"))
            else:
                self.add(path, _("bool 查询必须包含 must 或 should 中的一个"))
        if "must_not" in body and level > 1:
            self.add(f"{path}.must_not", _("must_not 只能出现在第一层 bool 内"))
        for relation in FIRST_LEVEL_RELATIONS:
            if relation not in body:
                continue
            items = body[relation]
            if not isinstance(items, list) or not items:
                self.add(
                    f"{path}.{relation}",
                    _("%(relation)s 必须是非空的 JSON 数组") % {"relation": relation},
                )
                continue
            for index, item in enumerate(items):
                yield f"{path}.{relation}[{index}]", item

    def block(self, item: object, path: str) -> None:
        """A second-level bool: "必须是一个带group索引分组信息bool查询"."""
        if (
            not isinstance(item, dict)
            or list(item) != ["bool"]
            or not isinstance(item["bool"], dict)
        ):
            self.add(path, _("第二层必须是带 group 的 bool 查询"))
            return
        body = item["bool"]
        block_path = f"{path}.bool"
        group = body.get("group")
        known = isinstance(group, str) and group in self.catalog.groups
        if "group" not in body:
            self.add(f"{block_path}.group", _("第二层 bool 必须带 group(标签分组)"))
        elif not known:
            self.add(f"{block_path}.group", _("未知的标签分组 %(group)s") % {"group": repr(group)})
        windows: dict[str, str] = {}
        self.bool_items(body, block_path, level=2, group=group if known else None, windows=windows)
        if len(set(windows.values())) > 1:
            names = "、".join(f"{tag}({window})" for tag, window in windows.items())
            self.add(
                block_path,
                _(
                    "同一个 group 下不同时间窗口的标签不能在一起:%(tags)s;"
                    "请为每个时间窗口另建一个带 group 的 bool 查询"
                )
                % {"tags": names},
            )

    def bool_items(
        self, body: dict, path: str, *, level: int, group: str | None, windows: dict[str, str]
    ) -> None:
        for item_path, item in self.relation_items(body, path, level=level):
            self.query(item, item_path, level=level, group=group, windows=windows)

    def query(
        self, item: object, path: str, *, level: int, group: str | None, windows: dict[str, str]
    ) -> None:
        """A condition query: "只有一个key且是固定的term、terms、range、bool"."""
        if not isinstance(item, dict) or len(item) != 1:
            self.add(path, _("条件查询必须是只有一个 key 的 JSON 对象:term、terms、range 或 bool"))
            return
        ((kind, value),) = item.items()
        query_path = f"{path}.{kind}"
        if kind == "bool":
            self.nested_bool(value, query_path, level=level + 1, group=group, windows=windows)
        elif kind in ("term", "terms", "range"):
            self.leaf(kind, value, query_path, group=group, windows=windows)
        else:
            self.add(
                query_path,
                _("不支持的查询类型 %(kind)s:只能是 term、terms、range 或 bool") % {"kind": kind},
            )

    def nested_bool(
        self, body: object, path: str, *, level: int, group: str | None, windows: dict[str, str]
    ) -> None:
        """Third level on: "没有特殊限制" beyond the bool rules; the group, if repeated, must be
        the second level's ("所有的标签都必须是二层的group下的标签")."""
        if not isinstance(body, dict):
            self.add(path, _("bool 查询必须是 JSON 对象"))
            return
        if level > MAX_BOOL_DEPTH:
            self.add(path, _("bool 查询最多嵌套 %(depth)s 层") % {"depth": MAX_BOOL_DEPTH})
            return
        if "group" in body and group is not None and body["group"] != group:
            self.add(
                f"{path}.group",
                _("嵌套的 bool 只能沿用第二层的 group %(group)s,不能改为其他分组")
                % {"group": group},
            )
        self.bool_items(body, path, level=level, group=group, windows=windows)

    def leaf(
        self, kind: str, value: object, path: str, *, group: str | None, windows: dict[str, str]
    ) -> None:
        """term / terms / range: "只有一个key且是标签的code"."""
        if not isinstance(value, dict) or len(value) != 1:
            self.add(
                path, _('%(kind)s 查询必须只有一个标签,例如 {"TAG_020": ...}') % {"kind": kind}
            )
            return
        ((name, argument),) = value.items()
        tag_path = f"{path}.{name}"
        tag = self.catalog.get(name)
        if tag is None:
            self.add(tag_path, _("未知的标签 %(tag)s") % {"tag": name})
        elif group is not None and tag.table_cd != group:
            self.add(
                tag_path,
                _("标签 %(tag)s(%(instruction)s)属于分组 %(tag_group)s,不能用在分组 %(group)s 下")
                % {
                    "tag": name,
                    "instruction": tag.instruction,
                    "tag_group": tag.table_cd,
                    "group": group,
                },
            )
        elif group is not None and tag.window and not tag.is_search_word:
            windows.setdefault(name, tag.window)
        if kind == "term":
            if not isinstance(argument, dict) or list(argument) != ["value"]:
                self.add(tag_path, _('term 的写法是 {"%(tag)s": {"value": 值}}') % {"tag": name})
            else:
                self.value(tag, argument["value"], f"{tag_path}.value")
        elif kind == "terms":
            if not isinstance(argument, list) or not argument:
                self.add(
                    tag_path,
                    _('terms 的写法是 {"%(tag)s": [值, ...]},至少一个值') % {"tag": name},
                )
            else:
                for index, one in enumerate(argument):
                    self.value(tag, one, f"{tag_path}[{index}]")
        else:
            if tag is not None and tag.is_enum:
                self.add(
                    path,
                    _("枚举标签 %(tag)s(%(instruction)s)不能用 range,请用 term 或 terms")
                    % {"tag": name, "instruction": tag.instruction},
                )
            self.range(argument, tag_path)

    def value(self, tag: CatalogTag | None, value: object, path: str) -> None:
        problem = _scalar_problem(value)
        if problem is not None:
            self.add(path, problem)
        elif tag is not None and tag.is_enum and self.catalog.enum_value(tag.tag, value) is None:
            choices = "、".join(tag.enums)
            codes = f"{tag.enum_code(1)}~{tag.enum_code(len(tag.enums))}"
            self.add(
                path,
                _(
                    "%(value)s 不是标签 %(tag)s(%(instruction)s)的枚举值:可选 %(choices)s,"
                    "或枚举 code %(codes)s"
                )
                % {
                    "value": value,
                    "tag": tag.tag,
                    "instruction": tag.instruction,
                    "choices": choices,
                    "codes": codes,
                },
            )

    def range(self, argument: object, path: str) -> None:
        """Spec "range:范围查询 gte,lte,gt,lt", numbers only."""
        if not isinstance(argument, dict) or not argument:
            self.add(path, _("range 至少要有 gte、lte、gt、lt 中的一个"))
            return
        bounds: dict[str, float] = {}
        for operator, bound in argument.items():
            operator_path = f"{path}.{operator}"
            if operator not in RANGE_OPERATORS:
                self.add(
                    operator_path,
                    _("range 不支持 %(operator)s:只能是 gte、lte、gt、lt") % {"operator": operator},
                )
            elif not _is_number(bound):
                self.add(operator_path, _("range 的值必须是数字"))
            else:
                bounds[operator] = bound
        lowers = [operator for operator in LOWER_BOUNDS if operator in bounds]
        uppers = [operator for operator in UPPER_BOUNDS if operator in bounds]
        # gt and gte together leave the reader guessing which one JD applies.
        if len(lowers) == 2:
            self.add(f"{path}.gte", _("下限只能有一个:gt 或 gte"))
        if len(uppers) == 2:
            self.add(f"{path}.lte", _("上限只能有一个:lt 或 lte"))
        if len(lowers) == 1 and len(uppers) == 1:
            low, high = lowers[0], uppers[0]
            strict = low == "gt" or high == "lt"
            if bounds[low] > bounds[high] or (bounds[low] == bounds[high] and strict):
                self.add(
                    f"{path}.{high}",
                    _("范围为空:下限 %(low)s %(low_bound)s 不能大于上限 %(high)s %(high_bound)s")
                    % {
                        "low": low,
                        "low_bound": bounds[low],
                        "high": high,
                        "high_bound": bounds[high],
                    },
                )


def validate_condition(condition: dict | str, catalog: TagCatalog) -> list[Violation]:
    """Every rule of "请求参数condition参数详解" the condition breaks, in document order.

    An empty list means the condition may be sent to `/crowd/create/v2` or `/crowd/edit/v2`.
    """
    violations: list[Violation] = []
    node = _load(condition, violations)
    if node is _UNPARSABLE:
        return violations
    check = _TagConditionCheck(catalog)
    check.condition(node)
    return violations + check.violations


def tags_used(condition: dict | str) -> list[str]:
    """The tag codes of every term / terms / range, in document order, each once.

    Iterative, so it never recurses on deep input; invalid JSON has no tags.
    """
    node = _load(condition, [])
    found: dict[str, None] = {}
    stack: list[object] = [node]
    while stack:
        current = stack.pop()
        if not isinstance(current, dict):
            continue
        children: list[object] = []
        for kind, value in current.items():
            if kind in ("term", "terms", "range") and isinstance(value, dict):
                found.update((name, None) for name in value if isinstance(name, str))
            elif kind == "bool" and isinstance(value, dict):
                for relation in FIRST_LEVEL_RELATIONS:
                    items = value.get(relation)
                    if isinstance(items, list):
                        children.extend(items)
        stack.extend(reversed(children))
    return list(found)


def package_type_for(condition: dict | str, catalog: TagCatalog) -> int:
    """Spec "新建人群对象": package_type "必须和condition中的私域标签保持一致" — 2 as soon as
    one private tag is used, else 1."""
    for name in tags_used(condition):
        tag = catalog.get(name)
        if tag is not None and tag.is_private:
            return PRIVATE_PACKAGE_TYPE
    return PUBLIC_PACKAGE_TYPE


def check_package_type(
    condition: dict | str, package_type: object, catalog: TagCatalog
) -> list[Violation]:
    """The violation at `package_type` when it disagrees with the condition's tags."""
    valid = (PUBLIC_PACKAGE_TYPE, PRIVATE_PACKAGE_TYPE)
    if (
        isinstance(package_type, bool)
        or not isinstance(package_type, int)
        or package_type not in valid
    ):
        return [Violation("package_type", _("package_type 只能是 1(公域人群)或 2(私域人群)"))]
    private = []
    for name in tags_used(condition):
        tag = catalog.get(name)
        if tag is not None and tag.is_private:
            private.append(f"{name}({tag.instruction})")
    if private and package_type != PRIVATE_PACKAGE_TYPE:
        names = "、".join(private)
        message = _("条件用到了私域标签 %(tags)s,package_type 必须是 2(私域人群)") % {"tags": names}
        return [Violation("package_type", message)]
    if not private and package_type != PUBLIC_PACKAGE_TYPE:
        return [
            Violation("package_type", _("条件中的标签都是公域标签,package_type 必须是 1(公域人群)"))
        ]
    return []


# --- Package conditions (人群计算) ---------------------------------------------------------

# The value is a placeholder the user reads, so the shape is translated.
PACKAGE_TERM_SHAPE = gettext_lazy('{"term": {"package_id": {"value": "人群对象实例ID"}}}')


def validate_package_condition(condition: dict | str) -> list[Violation]:
    """Spec "人群计算" (`/crowd/instance/calc`): "参数必须是人群对象实例ID".

    One bool: must = 交集, should = 并集, must_not = 差集 beside one of them; every item a
    term on `package_id`. No groups and no nesting: the examples show none.
    """
    violations: list[Violation] = []

    def add(path: str, message: str) -> None:
        violations.append(Violation(path, message))

    node = _load(condition, violations)
    if node is _UNPARSABLE:
        return violations
    body = _first_level_body(node, "condition", add)
    if body is None:
        return violations
    path = "condition.bool"
    for key in sorted(set(body) - set(FIRST_LEVEL_RELATIONS), key=str):
        add(
            f"{path}.{key}",
            _("人群计算的 bool 只能包含 must、should、must_not,不能有 %(key)s") % {"key": key},
        )
    present = [relation for relation in RELATIONS if relation in body]
    if len(present) == 2:
        add(path, _("must(交集)和 should(并集)只能选一个"))
    elif not present:
        if "must_not" in body:
            add(path, _("must_not(差集)必须配合 must 或 should 使用"))
        else:
            add(path, _("至少要在 must(交集)或 should(并集)中放一个人群包"))
    for relation in FIRST_LEVEL_RELATIONS:
        if relation not in body:
            continue
        items = body[relation]
        if not isinstance(items, list) or not items:
            add(
                f"{path}.{relation}",
                _("%(relation)s 必须是非空的 JSON 数组") % {"relation": relation},
            )
            continue
        for index, item in enumerate(items):
            _check_package_term(item, f"{path}.{relation}[{index}]", add)
    return violations


def _check_package_term(item: object, path: str, add: _Add) -> None:
    if not isinstance(item, dict) or list(item) != ["term"]:
        add(path, _("人群计算的每一项都必须是 %(shape)s") % {"shape": PACKAGE_TERM_SHAPE})
        return
    term = item["term"]
    if not isinstance(term, dict) or list(term) != ["package_id"]:
        add(f"{path}.term", _("人群计算只能按 package_id(人群对象实例ID)计算"))
        return
    argument = term["package_id"]
    if not isinstance(argument, dict) or list(argument) != ["value"]:
        add(f"{path}.term.package_id", _('写法是 {"value": "人群对象实例ID"}'))
        return
    value = argument["value"]
    if not isinstance(value, str) or not value.strip():
        add(f"{path}.term.package_id.value", _("人群对象实例ID 必须是非空字符串"))


def package_ids_in(condition: dict | str) -> list[str]:
    """The package ids a calc condition names (must, should, then must_not), each once.

    Lenient: items of the wrong shape are skipped, so it also serves to show a refused one.
    """
    node = _load(condition, [])
    body = node.get("bool") if isinstance(node, dict) else None
    found: dict[str, None] = {}
    if not isinstance(body, dict):
        return []
    for relation in FIRST_LEVEL_RELATIONS:
        items = body.get(relation)
        for item in items if isinstance(items, list) else ():
            term = item.get("term") if isinstance(item, dict) else None
            argument = term.get("package_id") if isinstance(term, dict) else None
            value = argument.get("value") if isinstance(argument, dict) else None
            if isinstance(value, str) and value:
                found[value] = None
    return list(found)


# --- The condition in words --------------------------------------------------------------

UNKNOWN_WORDS = "?"


@dataclass(frozen=True)
class _Words:
    text: str
    # The outermost joiner (" 且 " / " 或 "), "" for a single part: a joined text is
    # parenthesised when it becomes one part of more.
    joiner: str = ""

    def wrapped(self) -> str:
        return f"({self.text})" if self.joiner else self.text


def _value_words(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _joined(parts: list[_Words], joiner: str) -> _Words:
    if not parts:
        return _Words("(空)")
    if len(parts) == 1:
        return parts[0]
    return _Words(joiner.join(part.wrapped() for part in parts), joiner)


class _Describe:
    def __init__(self, catalog: TagCatalog) -> None:
        self.catalog = catalog

    def condition(self, node: object) -> str:
        body = node.get("bool") if isinstance(node, dict) else None
        if not isinstance(body, dict):
            return self.query(node, depth=1).text
        return self.bool_body(body, depth=1).text

    def bool_body(self, body: dict, depth: int) -> _Words:
        """must → 且, should → 或, must_not → 且不 (...): "must(交集)、should(并集)、
        must_not(差集)". At the first level the items are the group blocks."""
        if depth > MAX_BOOL_DEPTH:
            return _Words("…")
        segments = []
        for relation in RELATIONS:
            items = body.get(relation)
            if isinstance(items, list) and items:
                parts = [self.query(item, depth + 1) for item in items]
                segments.append(_joined(parts, RELATION_WORDS[relation]))
        positive = _joined(segments, RELATION_WORDS["must"]) if segments else None
        excluded = body.get("must_not")
        if not isinstance(excluded, list) or not excluded:
            return positive or _Words("(空)")
        # not B and not C = not (B or C)
        minus = _joined(
            [self.query(item, depth + 1) for item in excluded], RELATION_WORDS["should"]
        )
        if positive is None:
            return _Words(f"不 ({minus.text})")
        # "A 且 B 且不 (C)" reads right as it is; "A 或 B 且不 (C)" would not.
        left = positive.wrapped() if positive.joiner == RELATION_WORDS["should"] else positive.text
        return _Words(f"{left} 且不 ({minus.text})", RELATION_WORDS["must"])

    def query(self, item: object, depth: int) -> _Words:
        if not isinstance(item, dict) or len(item) != 1:
            return _Words(UNKNOWN_WORDS)
        ((kind, value),) = item.items()
        if kind == "bool":
            if not isinstance(value, dict):
                return _Words(UNKNOWN_WORDS)
            return self.bool_body(value, depth)
        if kind not in ("term", "terms", "range") or not isinstance(value, dict) or not value:
            return _Words(UNKNOWN_WORDS)
        parts = [self.leaf(kind, str(name), argument) for name, argument in value.items()]
        return _joined(parts, RELATION_WORDS["must"])

    def leaf(self, kind: str, name: str, argument: object) -> _Words:
        tag = self.catalog.get(name)
        label = tag.instruction if tag is not None and tag.instruction else name
        if kind == "term":
            value = argument.get("value") if isinstance(argument, dict) else argument
            display = self.catalog.enum_value(name, value)
            if display is not None:
                return _Words(display)
            return _Words(f"{label} = {_value_words(value)}")
        if kind == "terms":
            values = argument if isinstance(argument, list) else [argument]
            if tag is not None and tag.is_enum:
                shown = [self.catalog.enum_value(name, one) or _value_words(one) for one in values]
                if len(shown) == 1:
                    return _Words(shown[0])
                return _Words(f"({' 或 '.join(shown)})")
            listed = ", ".join(_value_words(one) for one in values)
            return _Words(f"{label} ∈ {{{listed}}}")
        return self.range(label, argument)

    def range(self, label: str, argument: object) -> _Words:
        if not isinstance(argument, dict):
            return _Words(f"{label} {UNKNOWN_WORDS}")
        bounds = [(op, bound) for op, bound in argument.items() if op in RANGE_SYMBOLS]
        lowers = [(op, bound) for op, bound in bounds if op in LOWER_BOUNDS]
        uppers = [(op, bound) for op, bound in bounds if op in UPPER_BOUNDS]
        if len(bounds) == 2 and len(lowers) == 1 and len(uppers) == 1:
            (low, low_bound), (high, high_bound) = lowers[0], uppers[0]
            # gt → "1 < X", gte → "1 ≤ X": the lower bound reads from the left.
            low_symbol = RANGE_SYMBOLS["lt" if low == "gt" else "lte"]
            text = (
                f"{_value_words(low_bound)} {low_symbol} {label} "
                f"{RANGE_SYMBOLS[high]} {_value_words(high_bound)}"
            )
            return _Words(text)
        parts = [
            _Words(f"{label} {RANGE_SYMBOLS[op]} {_value_words(bound)}") for op, bound in bounds
        ]
        if not parts:
            return _Words(f"{label} {UNKNOWN_WORDS}")
        return _joined(parts, RELATION_WORDS["must"])


def describe(condition: dict | str, catalog: TagCatalog) -> str:
    """The condition in words, as the product shows it back.

    The spec's "已婚 AND (16-25岁 OR 46-55岁)" reads "已婚 且 (16-25岁 或 46-55岁)". Enum
    values show their display value alone, free values "说明 = 值", ranges "说明 > 10" or
    "1 ≤ 说明 ≤ 3". Never raises on a dict: unknown tags show their code, unreadable parts "?".
    """
    node = _load(condition, [])
    if node is _UNPARSABLE:
        return _("(条件不是合法的 JSON)")
    return _Describe(catalog).condition(node)


# --- The builder tree ----------------------------------------------------------------------
#
# What the browser's condition builder edits; `compile_builder` is the only place that
# writes the DSL, so the browser never serialises conditions itself.
#
#   {"relation": "must" | "should", "blocks": [Block, ...], "exclude": [Block, ...]}
#   Block = {"group": "001", "relation": "must" | "should", "items": [Item, ...]}
#   Item  = Rule | {"relation": "must" | "should", "items": [Item, ...]}
#   Rule  = {"tag": "TAG_001", "op": "eq" | "in" | "gt" | "gte" | "lt" | "lte" | "between",
#            "value": v, "values": [...], "min": n, "max": n}

# Builder items nest below the first level and the block, within MAX_BOOL_DEPTH.
MAX_BUILDER_NESTING = MAX_BOOL_DEPTH - 2


class _BuilderShape:
    """Shape errors of the builder tree; the catalog's rules are validate_condition's."""

    def __init__(self) -> None:
        self.violations: list[Violation] = []

    def add(self, path: str, message: str) -> None:
        self.violations.append(Violation(path, message))

    def unknown_keys(self, node: dict, allowed: Iterable[str], path: str) -> None:
        for key in sorted(set(node) - set(allowed), key=str):
            self.add(f"{path}.{key}", _("不支持的字段 %(key)s") % {"key": key})

    def relation(self, node: dict, path: str, message: str) -> None:
        if node.get("relation") not in RELATIONS:
            self.add(f"{path}.relation", message)

    def tree(self, tree: object) -> None:
        if not isinstance(tree, dict):
            self.add("builder", _("条件构建器的数据必须是 JSON 对象"))
            return
        self.unknown_keys(tree, ("relation", "blocks", "exclude"), "builder")
        self.relation(tree, "builder", _("条件块之间的关系必须是 must(交集)或 should(并集)"))
        blocks = tree.get("blocks")
        if not isinstance(blocks, list) or not blocks:
            self.add("builder.blocks", _("至少要有一个条件块"))
        else:
            for index, block in enumerate(blocks):
                self.block(block, f"builder.blocks[{index}]")
        exclude = tree.get("exclude")
        if exclude is None:
            return
        if not isinstance(exclude, list):
            self.add("builder.exclude", _("排除的条件块(exclude)必须是数组"))
            return
        for index, block in enumerate(exclude):
            self.block(block, f"builder.exclude[{index}]")

    def block(self, block: object, path: str) -> None:
        if not isinstance(block, dict):
            self.add(path, _("条件块必须是 JSON 对象"))
            return
        self.unknown_keys(block, ("group", "relation", "items"), path)
        group = block.get("group")
        if not isinstance(group, str) or not group:
            self.add(f"{path}.group", _("请选择条件块的标签分组(group)"))
        self.relation(block, path, _("条件之间的关系必须是 must(且)或 should(或)"))
        self.items(block, path, depth=1)

    def items(self, node: dict, path: str, *, depth: int) -> None:
        items = node.get("items")
        if not isinstance(items, list) or not items:
            self.add(f"{path}.items", _("至少要有一个条件"))
            return
        for index, item in enumerate(items):
            self.item(item, f"{path}.items[{index}]", depth=depth)

    def item(self, item: object, path: str, *, depth: int) -> None:
        if isinstance(item, dict) and "tag" in item:
            self.rule(item, path)
        elif isinstance(item, dict) and "items" in item:
            if depth > MAX_BUILDER_NESTING:
                self.add(path, _("条件最多嵌套 %(depth)s 层") % {"depth": MAX_BUILDER_NESTING})
                return
            self.unknown_keys(item, ("relation", "items"), path)
            self.relation(item, path, _("条件之间的关系必须是 must(且)或 should(或)"))
            self.items(item, path, depth=depth + 1)
        else:
            self.add(path, _("每一项必须是一条规则(tag、op)或一组嵌套条件(relation、items)"))

    def rule(self, rule: dict, path: str) -> None:
        """Fields the op does not use are ignored: the browser keeps them when the op changes."""
        self.unknown_keys(rule, BUILDER_RULE_KEYS, path)
        tag = rule.get("tag")
        if not isinstance(tag, str) or not tag:
            self.add(f"{path}.tag", _("请选择标签"))
        op = rule.get("op")
        if op not in BUILDER_OPS:
            self.add(f"{path}.op", _("运算必须是 eq、in、gt、gte、lt、lte、between 之一"))
        elif op == "eq":
            self.scalar(rule.get("value"), f"{path}.value")
        elif op == "in":
            values = rule.get("values")
            if not isinstance(values, list) or not values:
                self.add(f"{path}.values", _("至少要选一个值"))
            else:
                for index, value in enumerate(values):
                    self.scalar(value, f"{path}.values[{index}]")
        elif op == "between":
            for key in ("min", "max"):
                if not _is_number(rule.get(key)):
                    self.add(f"{path}.{key}", _("必须是数字"))
        elif not _is_number(rule.get("value")):
            self.add(f"{path}.value", _("必须是数字"))

    def scalar(self, value: object, path: str) -> None:
        problem = _scalar_problem(value)
        if problem is not None:
            self.add(path, problem)


def _builder_shape(tree: object) -> list[Violation]:
    shape = _BuilderShape()
    shape.tree(tree)
    return shape.violations


# Condition path → builder path, filled while compiling, so violations found in the DSL
# point at the builder field the user edits.
_Trace = dict[str, str]


def _compile_tree(tree: dict, trace: _Trace) -> dict:
    relation = tree["relation"]
    body: dict[str, Any] = {}
    trace.update({"condition": "builder", "condition.bool": "builder"})
    kinds = [(relation, "blocks", tree["blocks"]), ("must_not", "exclude", tree.get("exclude"))]
    for key, field, blocks in kinds:
        if not blocks:
            continue
        trace[f"condition.bool.{key}"] = f"builder.{field}"
        body[key] = [
            _compile_block(
                block, f"condition.bool.{key}[{index}]", f"builder.{field}[{index}]", trace
            )
            for index, block in enumerate(blocks)
        ]
    return {"bool": body}


def _compile_block(block: dict, path: str, builder_path: str, trace: _Trace) -> dict:
    relation = block["relation"]
    trace.update({path: builder_path, f"{path}.bool.group": f"{builder_path}.group"})
    items = _compile_items(block, f"{path}.bool", builder_path, trace)
    return {"bool": {"group": block["group"], relation: items}}


def _compile_items(node: dict, path: str, builder_path: str, trace: _Trace) -> list[dict]:
    relation = node["relation"]
    trace.update({path: builder_path, f"{path}.{relation}": f"{builder_path}.items"})
    return [
        _compile_item(item, f"{path}.{relation}[{index}]", f"{builder_path}.items[{index}]", trace)
        for index, item in enumerate(node["items"])
    ]


def _compile_item(item: dict, path: str, builder_path: str, trace: _Trace) -> dict:
    trace[path] = builder_path
    if "tag" not in item:
        return {
            "bool": {item["relation"]: _compile_items(item, f"{path}.bool", builder_path, trace)}
        }
    tag, op = item["tag"], item["op"]
    if op == "eq":
        trace.update(
            {
                f"{path}.term.{tag}": f"{builder_path}.tag",
                f"{path}.term.{tag}.value": f"{builder_path}.value",
            }
        )
        return {"term": {tag: {"value": item["value"]}}}
    if op == "in":
        trace[f"{path}.terms.{tag}"] = f"{builder_path}.tag"
        for index in range(len(item["values"])):
            trace[f"{path}.terms.{tag}[{index}]"] = f"{builder_path}.values[{index}]"
        return {"terms": {tag: list(item["values"])}}
    trace.update(
        {f"{path}.range": f"{builder_path}.op", f"{path}.range.{tag}": f"{builder_path}.tag"}
    )
    if op == "between":
        trace.update(
            {
                f"{path}.range.{tag}.gte": f"{builder_path}.min",
                f"{path}.range.{tag}.lte": f"{builder_path}.max",
            }
        )
        return {"range": {tag: {"gte": item["min"], "lte": item["max"]}}}
    trace[f"{path}.range.{tag}.{op}"] = f"{builder_path}.value"
    return {"range": {tag: {op: item["value"]}}}


def compile_builder(tree: dict) -> dict:
    """The DSL for a builder tree: eq → term, in → terms, gt / gte / lt / lte → range with
    that operator, between → range gte + lte. Enum values go out as the builder holds them
    (display value or code: the spec accepts both).

    Raises ValueError on a tree of the wrong shape (see `validate_builder`).
    """
    problems = _builder_shape(tree)
    if problems:
        first = problems[0]
        raise ValueError(f"{first.path}: {first.message}")
    return _compile_tree(tree, {})


_LAST_SEGMENT = re.compile(r"(\.[^.\[]*|\[\d+\])$")


def _builder_path(path: str, trace: _Trace) -> str:
    while path not in trace:
        parent = _LAST_SEGMENT.sub("", path)
        if parent == path:
            return "builder"
        path = parent
    return trace[path]


def validate_builder(tree: object, catalog: TagCatalog) -> list[Violation]:
    """Shape errors of the builder tree; when there are none, the compiled DSL's violations.

    Every path is rooted at `builder` (`builder.blocks[0].items[1].value`), so the browser
    can mark the field; a DSL path maps to the builder field that produced it.
    """
    problems = _builder_shape(tree)
    if problems:
        return problems
    trace: _Trace = {}
    condition = _compile_tree(tree, trace)
    translated: dict[Violation, None] = {}
    for violation in validate_condition(condition, catalog):
        translated[Violation(_builder_path(violation.path, trace), violation.message)] = None
    return list(translated)


def builder_from_condition(condition: dict | str) -> dict:
    """The builder tree for an existing condition, to edit a saved crowd.

    A range with gte + lte becomes `between`; any other range with several operators a
    nested `must` of one rule per operator. Raises ValueError for DSL the builder cannot
    hold (no first-level bool, must with should, a nested group naming another group, ...);
    values are taken as they are, `validate_builder` judges them.
    """
    errors: list[Violation] = []
    node = _load(condition, errors)
    if errors:
        raise ValueError(errors[0].message)
    if not isinstance(node, dict) or list(node) != ["bool"] or not isinstance(node["bool"], dict):
        raise _refused("condition", _("第一层必须是 bool 查询"))
    body = node["bool"]
    _only_keys(body, FIRST_LEVEL_RELATIONS, "condition.bool")
    relation = _single_relation(body, "condition.bool")
    tree: dict[str, Any] = {
        "relation": relation,
        "blocks": [
            _block_from(item, f"condition.bool.{relation}[{index}]")
            for index, item in enumerate(_items(body, relation, "condition.bool"))
        ],
    }
    if "must_not" in body:
        tree["exclude"] = [
            _block_from(item, f"condition.bool.must_not[{index}]")
            for index, item in enumerate(_items(body, "must_not", "condition.bool"))
        ]
    return tree


def _refused(path: str, message: str) -> ValueError:
    """Why builder_from_condition cannot take the condition: "<path>: <message>"."""
    return ValueError(f"{path}: {message}")


def _only_keys(body: dict, allowed: Iterable[str], path: str) -> None:
    unknown = sorted(set(body) - set(allowed), key=str)
    if unknown:
        raise _refused(f"{path}.{unknown[0]}", _("条件构建器无法表示"))


def _single_relation(body: dict, path: str) -> str:
    present = [relation for relation in RELATIONS if relation in body]
    if len(present) != 1:
        raise _refused(path, _("必须包含且只能包含 must、should 中的一个"))
    return present[0]


def _items(body: dict, relation: str, path: str) -> list:
    items = body[relation]
    if not isinstance(items, list) or not items:
        raise _refused(f"{path}.{relation}", _("必须是非空的 JSON 数组"))
    return items


def _block_from(item: object, path: str) -> dict:
    if not isinstance(item, dict) or list(item) != ["bool"] or not isinstance(item["bool"], dict):
        raise _refused(path, _("第二层必须是带 group 的 bool 查询"))
    body = item["bool"]
    group = body.get("group")
    if not isinstance(group, str):
        raise _refused(f"{path}.bool.group", _("第二层 bool 必须带 group"))
    _only_keys(body, ("group", *RELATIONS), f"{path}.bool")
    relation = _single_relation(body, f"{path}.bool")
    return {
        "group": group,
        "relation": relation,
        "items": _items_from(body, relation, f"{path}.bool", group, depth=1),
    }


def _items_from(body: dict, relation: str, path: str, group: str, *, depth: int) -> list[dict]:
    return [
        _item_from(item, f"{path}.{relation}[{index}]", group, depth=depth)
        for index, item in enumerate(_items(body, relation, path))
    ]


def _item_from(item: object, path: str, group: str, *, depth: int) -> dict:
    if not isinstance(item, dict) or len(item) != 1:
        raise _refused(path, _("条件查询必须是只有一个 key 的 JSON 对象"))
    ((kind, value),) = item.items()
    if kind == "bool":
        if depth > MAX_BUILDER_NESTING:
            raise _refused(path, _("条件最多嵌套 %(depth)s 层") % {"depth": MAX_BUILDER_NESTING})
        if not isinstance(value, dict):
            raise _refused(f"{path}.bool", _("bool 查询必须是 JSON 对象"))
        if value.get("group", group) != group:
            raise _refused(f"{path}.bool.group", _("嵌套的 bool 不能改为其他分组"))
        _only_keys(value, ("group", *RELATIONS), f"{path}.bool")
        relation = _single_relation(value, f"{path}.bool")
        return {
            "relation": relation,
            "items": _items_from(value, relation, f"{path}.bool", group, depth=depth + 1),
        }
    if kind not in ("term", "terms", "range") or not isinstance(value, dict) or len(value) != 1:
        raise _refused(path, _("条件构建器无法表示这个查询"))
    ((tag, argument),) = value.items()
    if kind == "term":
        if not isinstance(argument, dict) or list(argument) != ["value"]:
            raise _refused(f"{path}.term.{tag}", _('term 的写法是 {"value": 值}'))
        return {"tag": tag, "op": "eq", "value": argument["value"]}
    if kind == "terms":
        if not isinstance(argument, list):
            raise _refused(f"{path}.terms.{tag}", _("terms 的值必须是数组"))
        return {"tag": tag, "op": "in", "values": list(argument)}
    if not isinstance(argument, dict) or not argument or set(argument) - set(RANGE_OPERATORS):
        raise _refused(f"{path}.range.{tag}", _("range 只能是 gte、lte、gt、lt"))
    if set(argument) == {"gte", "lte"}:
        return {"tag": tag, "op": "between", "min": argument["gte"], "max": argument["lte"]}
    rules = [{"tag": tag, "op": op, "value": bound} for op, bound in argument.items()]
    if len(rules) == 1:
        return rules[0]
    if depth > MAX_BUILDER_NESTING:
        raise _refused(path, _("条件最多嵌套 %(depth)s 层") % {"depth": MAX_BUILDER_NESTING})
    return {"relation": "must", "items": rules}
