"""Walking Linkflow's paged and cursored lists lazily: one page in memory at a time, the next
page asked for only when the caller has consumed the previous one."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from portal.integrations.linkflow.errors import LinkflowUnexpectedResponse

logger = logging.getLogger(__name__)

T = TypeVar("T")


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Lists of at most `size` items, drawn from `items` only as each list is needed."""
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _page(fetched: Any, endpoint: str) -> list:
    if fetched is None:
        return []
    if not isinstance(fetched, list):
        raise LinkflowUnexpectedResponse(f"{endpoint} did not answer a list", endpoint=endpoint)
    return fetched


def walk_cursor(
    fetch: Callable[[int], Any],
    *,
    start: int,
    next_cursor: Callable[[list], int],
    size: int | None,
    endpoint: str,
) -> Iterator[Any]:
    """Rows of `fetch(cursor)` pages, the cursor moving to `next_cursor(page)`; stops on an
    empty page, or a short one when the page size is known. A cursor that does not move
    forward would loop for ever: that is an answer the spec does not allow."""
    cursor = start
    while True:
        page = _page(fetch(cursor), endpoint)
        if not page:
            return
        yield from page
        if size is not None and len(page) < size:
            return
        following = next_cursor(page)
        if following <= cursor:
            raise LinkflowUnexpectedResponse(
                f"{endpoint}: the cursor did not move past {cursor}", endpoint=endpoint
            )
        cursor, page = following, []  # drop the page before asking for the next


def walk_pages(
    fetch: Callable[[int], Any],
    *,
    first: int,
    last: int | None,
    size: int | None,
    endpoint: str,
) -> Iterator[Any]:
    """Rows of pages `first`..`last` (the spec's window, if any); stops early on an empty page, or a
    short one when the page size is known. Reaching the end of the window with a full page
    means rows may remain that this API cannot reach: logged, since the caller must narrow
    its query (e.g. by update time) to see them."""
    for number in itertools.count(first):
        if last is not None and number > last:
            logger.warning(
                "%s: stopped at the end of the documented window (page %s)", endpoint, last
            )
            return
        page = _page(fetch(number), endpoint)
        if not page:
            return
        yield from page
        if size is not None and len(page) < size:
            return
        page = []
