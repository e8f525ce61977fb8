"""Groups and their members (spec "群组").

A seeded group's members are a rule, not a list: member `i` is contact
`(start + i * stride) mod population` with memberId `first_member_id + i`, so a group of
100,000 members costs nothing until read and membership is one modular inverse. Members
added through the API get memberIds above every seeded one (the workspace hands them
out), so "members after memberId m" is the seeded rule followed by the added ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from math import gcd

from sandbox.clock import format_datetime


@dataclass
class Member:
    member_id: int
    contact_id: int
    created_at: datetime

    def as_json(self, contact_brief: dict, group_id: int) -> dict:
        """Spec "查询群组联系人"."""
        return {
            "lastUpdated": format_datetime(self.created_at),
            "dateCreated": format_datetime(self.created_at),
            "contact": contact_brief,
            "contactGroupId": group_id,
            "version": None,
            "memberId": self.member_id,
        }


@dataclass(frozen=True)
class SeededMembers:
    count: int
    start: int
    stride: int
    population: int
    first_contact_id: int
    first_member_id: int
    created_at: datetime
    inverse: int  # of `stride`, modulo `population`

    @classmethod
    def spread(
        cls,
        *,
        count: int,
        population: int,
        salt: int,
        first_contact_id: int,
        first_member_id: int,
        created_at: datetime,
    ) -> SeededMembers:
        """`count` distinct contacts spread over the population (`salt` picks which)."""
        count = min(count, population)
        stride = 7_919 + 2 * salt
        while population > 1 and gcd(stride, population) != 1:
            stride += 2
        stride = stride % population if population > 1 else 1
        return cls(
            count=count,
            start=(salt * 104_729) % population if population else 0,
            stride=stride,
            population=population,
            first_contact_id=first_contact_id,
            first_member_id=first_member_id,
            created_at=created_at,
            inverse=pow(stride, -1, population) if population > 1 else 0,
        )

    def contact_id(self, i: int) -> int:
        return self.first_contact_id + (self.start + i * self.stride) % self.population

    def position(self, contact_id: int) -> int | None:
        n = contact_id - self.first_contact_id
        if not 0 <= n < self.population:
            return None
        i = ((n - self.start) * self.inverse) % self.population
        return i if i < self.count else None


@dataclass
class Group:
    id: int
    name: str
    group_type: str
    created_at: datetime
    updated_at: datetime
    ext1: str | None = None
    ext2: str | None = None
    seeded: SeededMembers | None = None
    removed: set[int] = field(default_factory=set)  # seeded contact ids taken out
    added: dict[int, Member] = field(default_factory=dict)  # by contact id, memberId order

    def as_json(self) -> dict:
        return {
            "lastUpdated": format_datetime(self.updated_at),
            "groupType": self.group_type,
            "dateCreated": format_datetime(self.created_at),
            "name": self.name,
            "id": self.id,
        }

    def _seeded_has(self, contact_id: int) -> bool:
        return (
            self.seeded is not None
            and contact_id not in self.removed
            and self.seeded.position(contact_id) is not None
        )

    def has(self, contact_id: int) -> bool:
        return contact_id in self.added or self._seeded_has(contact_id)

    def size(self) -> int:
        seeded = self.seeded.count - len(self.removed) if self.seeded else 0
        return seeded + len(self.added)

    def add(self, contact_id: int, member_id: int, now: datetime) -> bool:
        """True when the contact joined (False: already a member)."""
        if self.has(contact_id):
            return False
        self.added[contact_id] = Member(member_id, contact_id, now)
        return True

    def remove(self, contact_id: int) -> bool:
        if self.added.pop(contact_id, None) is not None:
            return True
        if self._seeded_has(contact_id):
            self.removed.add(contact_id)
            return True
        return False

    def members_after(self, member_id: int, size: int) -> list[Member]:
        out: list[Member] = []
        seeded = self.seeded
        if seeded is not None:
            i = max(0, member_id - seeded.first_member_id + 1)
            while i < seeded.count and len(out) < size:
                contact_id = seeded.contact_id(i)
                if contact_id not in self.removed:
                    out.append(Member(seeded.first_member_id + i, contact_id, seeded.created_at))
                i += 1
        for member in self.added.values():
            if len(out) >= size:
                break
            if member.member_id > member_id:
                out.append(member)
        return out
