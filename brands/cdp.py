"""What the portal reads from and writes to a brand's Linkflow CDP for its pages: groups
and their members, tags and folders, tracked short links (PRODUCT.md §5).

Reads are live (Linkflow is the source of truth; nothing is copied). Errors reach the caller
as `LinkflowNotConnected` or the client's `LinkflowError`s, which pages and the API show.
"""

from __future__ import annotations

from dataclasses import dataclass

from brands.linkflow import LinkflowNotConnected, linkflow_for
from brands.models import Brand, TrackedLink
from portal.integrations.linkflow.errors import LinkflowError

GROUP_TYPES = ("static", "dynamic")
MEMBERS_PAGE = 50
TAGS_PAGE = 50


class GroupNotFound(Exception):
    pass


@dataclass(frozen=True)
class MembersPage:
    members: list[dict]
    next_after: int | None  # the memberId to continue after, None at the end


def cdp_groups(*, brand: Brand, name: str = "", group_type: str = "") -> list[dict]:
    groups = linkflow_for(brand).groups(
        name=name.strip() or None, group_type=group_type if group_type in GROUP_TYPES else None
    )
    return sorted(groups or [], key=lambda g: str(g.get("lastUpdated") or ""), reverse=True)


def cdp_group(*, brand: Brand, group_id: int) -> dict:
    """One group by id; `GroupNotFound` when the workspace has none (Linkflow answers an
    empty list, not an error)."""
    found = [g for g in linkflow_for(brand).groups(id=group_id) or [] if g.get("id") == group_id]
    if not found:
        raise GroupNotFound(group_id)
    return found[0]


def cdp_group_members(
    *, brand: Brand, group_id: int, after: int = 0, size: int = MEMBERS_PAGE
) -> MembersPage:
    """One page of a group's members after `after` (Linkflow's memberId cursor)."""
    members = linkflow_for(brand).group_members(group_id=group_id, member_id=after, size=size)
    members = members or []
    more = len(members) == size
    return MembersPage(members, members[-1]["memberId"] if more and members else None)


def cdp_tags(*, brand: Brand, page: int = 0, size: int = TAGS_PAGE) -> list[dict]:
    """A page of the tag metadata, each with its folder's name (`folderName`)."""
    client = linkflow_for(brand)
    tags = client.tags(page=page, size=size) or []
    folders = {f.get("id"): f.get("name") for f in client.tag_folders() or []}
    return [{**tag, "folderName": folders.get(tag.get("folderId"), "")} for tag in tags]


def tracked_link_create(
    *, brand: Brand, url: str, utm: dict[str, str] | None = None, contact_id: int | None = None
) -> TrackedLink:
    """Keep the link, then ask Linkflow to shorten it; a failure stays on the row."""
    utm = {k: v for k, v in (utm or {}).items() if v}
    link = TrackedLink.objects.create(
        brand=brand,
        url=url,
        contact_id=contact_id,
        **{f"utm_{name}": value for name, value in utm.items()},
    )
    return tracked_link_shorten(link=link)


def tracked_link_shorten(*, link: TrackedLink) -> TrackedLink:
    """(Re)try the Linkflow call of a kept link; the outcome is saved either way."""
    try:
        client = linkflow_for(link.brand)
        if link.contact_id is not None:
            short = client.short_url_distribute(
                url=link.url, contact_id=link.contact_id, utm=link.utm or None
            )
        else:
            short = client.short_url(url=link.url, utm=link.utm or None)
        link.short_url, link.error = str(short), ""
    except LinkflowError as exc:
        link.error = _describe(exc)[:500]
    except LinkflowNotConnected as exc:
        link.error = str(exc)[:500]
    link.save(update_fields=["short_url", "error", "updated_at"])
    return link


def _describe(exc: LinkflowError) -> str:
    code = getattr(exc, "code", "")
    message = getattr(exc, "message", "") or str(exc)
    return f"{code}: {message}" if code else message
