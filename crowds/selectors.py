"""Reads of the crowds app."""

from __future__ import annotations

from django.db.models import QuerySet

from crowds.conditions import CatalogTag, TagCatalog
from crowds.models import Crowd, CrowdInstance, Tag


def tag_catalog() -> TagCatalog:
    return TagCatalog(
        CatalogTag(
            tag=row.tag,
            instruction=row.instruction,
            table_cd=row.table_cd,
            tag_type=row.tag_type,
            enums=tuple(row.enums or ()),
        )
        for row in Tag.objects.filter(active=True)
    )


def crowd_list(*, search: str = "", package_type: int | None = None) -> QuerySet[Crowd]:
    crowds = Crowd.objects.all()
    if search:
        crowds = crowds.filter(name__icontains=search)
    if package_type:
        crowds = crowds.filter(package_type=package_type)
    return crowds


def instance_list(*, status: str = "", crowd_id: int | None = None) -> QuerySet[CrowdInstance]:
    instances = CrowdInstance.objects.select_related("crowd")
    if status:
        instances = instances.filter(status=status)
    if crowd_id:
        instances = instances.filter(crowd_id=crowd_id)
    return instances


def lineage(instance: CrowdInstance, *, depth: int = 6) -> dict:
    """Ancestors and descendants of `instance`, by generation (nearest first)."""

    def walk(start: list[CrowdInstance], relation: str) -> list[list[CrowdInstance]]:
        levels, seen, frontier = [], {instance.pk}, start
        for _ in range(depth):
            frontier = [node for node in frontier if node.pk not in seen]
            if not frontier:
                break
            seen.update(node.pk for node in frontier)
            levels.append(frontier)
            ids = [node.pk for node in frontier]
            related = CrowdInstance.objects.filter(**{f"{relation}__in": ids}).distinct()
            frontier = list(related)
        return levels

    ancestors = walk(list(instance.parents.all()), "children")
    descendants = walk(list(instance.children.all()), "parents")
    ids = {instance.pk} | {node.pk for level in ancestors + descendants for node in level}
    Link = CrowdInstance.parents.through
    edges = list(
        Link.objects.filter(from_crowdinstance_id__in=ids, to_crowdinstance_id__in=ids).values_list(
            "to_crowdinstance_id", "from_crowdinstance_id"
        )
    )
    return {"ancestors": ancestors, "descendants": descendants, "edges": edges}
