"""A/B uplift of the sibling packages of one split (one reached, one held out, or two
treatments): conversion, order and payment amount per person, with a 95 % confidence
interval for the conversion difference (normal approximation, unpooled)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Max, Sum
from django.utils.translation import gettext as _

from crowds.models import CrowdInstance, InstanceOrigin
from reports.models import ReportRow

Z95 = 1.959963984540054
MIN_PEOPLE = 100  # below this an arm is too small to compare
MIN_EVENTS = 5  # the normal approximation needs ≥ 5 conversions and ≥ 5 non-conversions


@dataclass(frozen=True)
class Arm:
    package_id: str
    name: str
    reached: bool
    people: int  # the denominator: delivered (reached arm) or package size (held out)
    converted: int  # pay_pins over the period
    ord_amount: Decimal
    pay_amount: Decimal

    @property
    def conversion(self) -> float:
        return self.converted / self.people if self.people else 0.0

    @property
    def ord_amount_per_person(self) -> float:
        return float(self.ord_amount) / self.people if self.people else 0.0

    @property
    def pay_amount_per_person(self) -> float:
        return float(self.pay_amount) / self.people if self.people else 0.0


@dataclass(frozen=True)
class Comparison:
    control: Arm
    treatment: Arm
    absolute: float  # treatment − control conversion
    relative: float | None  # absolute / control conversion
    ci_low: float
    ci_high: float
    significant: bool
    too_small: str  # why the sample is too small, "" when it is not
    ord_amount_per_person_diff: float
    pay_amount_per_person_diff: float


def compare(control: Arm, treatment: Arm) -> Comparison:
    p0, p1 = control.conversion, treatment.conversion
    n0, n1 = control.people, treatment.people
    diff = p1 - p0
    se = math.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0) if n0 and n1 else float("inf")
    low, high = diff - Z95 * se, diff + Z95 * se
    reasons = []
    for arm in (control, treatment):
        if arm.people < MIN_PEOPLE:
            reasons.append(
                _("%(arm)s 只有 %(people)s 人(至少需要 %(min)s 人)")
                % {"arm": arm.name, "people": arm.people, "min": MIN_PEOPLE}
            )
        elif arm.converted < MIN_EVENTS or arm.people - arm.converted < MIN_EVENTS:
            reasons.append(
                _("%(arm)s 的转化人数 %(converted)s 太少,无法可靠估计")
                % {"arm": arm.name, "converted": arm.converted}
            )
    return Comparison(
        control=control,
        treatment=treatment,
        absolute=diff,
        relative=diff / p0 if p0 else None,
        ci_low=low,
        ci_high=high,
        significant=not reasons and (low > 0 or high < 0),
        too_small=";".join(reasons),
        ord_amount_per_person_diff=treatment.ord_amount_per_person - control.ord_amount_per_person,
        pay_amount_per_person_diff=treatment.pay_amount_per_person - control.pay_amount_per_person,
    )


def arms_of_split(parent: CrowdInstance, *, report_type: str = "exposure") -> list[Arm]:
    """The split's children with their report totals; reached = a reach was sent."""
    children = list(
        parent.children.filter(origin=InstanceOrigin.SPLIT)
        .order_by("pk")
        .prefetch_related("reaches")
    )
    totals = {
        row["package_id"]: row
        for row in ReportRow.objects.filter(
            package_id__in=[c.package_id for c in children], report_type=report_type
        )
        .values("package_id")
        .annotate(
            converted=Sum("pay_pins"),
            delivered=Max("delivered_num"),
            ord_amount=Sum("ord_amount"),
            pay_amount=Sum("pay_amount"),
        )
    }
    arms = []
    for child in children:
        row = totals.get(child.package_id, {})
        reached = any(r.status == "sent" for r in child.reaches.all())
        people = (row.get("delivered") or 0) if reached else 0
        arms.append(
            Arm(
                package_id=child.package_id,
                name=child.name or child.package_id,
                reached=reached,
                people=people or (child.package_size or 0),
                converted=row.get("converted") or 0,
                ord_amount=row.get("ord_amount") or Decimal(0),
                pay_amount=row.get("pay_amount") or Decimal(0),
            )
        )
    return arms


def split_uplift(parent: CrowdInstance, *, report_type: str = "exposure") -> list[Comparison]:
    """Each treatment against the held-out arm; with no held-out arm, each later arm
    against the first."""
    arms = arms_of_split(parent, report_type=report_type)
    if len(arms) < 2:
        return []
    held_out = [arm for arm in arms if not arm.reached]
    control = held_out[0] if held_out else arms[0]
    return [compare(control, arm) for arm in arms if arm is not control]
