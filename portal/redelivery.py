"""A capped redelivery count for work whose worker keeps dying (CELERY_MAX_REDELIVERIES).

Tasks are acknowledged late and handed back when their worker is lost (`portal/celery.py`),
and periodic sweepers send again the polls and builds whose task was lost. Neither can tell
a worker that died by chance from work that kills its worker every time (a hard time limit,
memory exhausted, a node reclaimed while the call hangs): both would send it again forever.

So a row counts the deliveries working on it: one more when a delivery starts (written and
committed before the remote call, so a delivery that dies inside it stays counted), back to
zero when one finishes. Read while no delivery runs, the count is how many died in a row. A
row whose count is above CELERY_MAX_REDELIVERIES (the first delivery, then that many
redeliveries, all died) is not sent again: it is given up with a reason the user sees, and
the user's retry starts the count afresh.

Runs in autocommit (as Celery tasks do): inside a transaction the count would be written
with the work, and lost with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from django.conf import settings
from django.db.models import F, Model, Q, QuerySet
from django_scopes import scopes_disabled


def deliveries_spent(field: str) -> Q:
    """Rows whose last deliveries all died: the first one and every redelivery allowed."""
    return Q(**{f"{field}__gt": settings.CELERY_MAX_REDELIVERIES})


def is_spent(count: int) -> bool:
    """Whether `count` deliveries that died in a row use up the redeliveries allowed."""
    return count > settings.CELERY_MAX_REDELIVERIES


def spent_counts(rows: QuerySet, *, field: str) -> dict[int, int]:
    """{primary key: deliveries that died in a row} of the spent rows among `rows`: what a
    sweeper gives up instead of sending again, and a delivery handed back by Celery (its
    worker lost mid-task, `task_reject_on_worker_lost`) gives up instead of running."""
    return dict(rows.filter(deliveries_spent(field)).values_list("pk", field))


def delivery_started(rows: QuerySet, *, field: str) -> None:
    """Count one more delivery working on `rows` (one row, by primary key)."""
    rows.update(**{field: F(field) + 1})


def delivery_finished(rows: QuerySet, *, field: str) -> None:
    """The delivery ended without its worker dying: the deaths in a row start again at 0."""
    rows.update(**{field: 0})


@contextmanager
def counted_delivery(rows: QuerySet, *, field: str) -> Iterator[None]:
    """Count the delivery of the work inside while it runs. A result or an exception (a
    retry included) clears the count: the task's own error handling has the work then. A
    worker that dies (SIGKILL, the hard time limit, the process exiting mid-task) leaves
    it counted.

    A duplicate delivery finishing while another runs clears the other's count too: the
    cap then comes later, never wrongly early."""
    delivery_started(rows, field=field)
    try:
        yield
    except Exception:
        delivery_finished(rows, field=field)
        raise
    delivery_finished(rows, field=field)


def resend_or_give_up(
    model: type[Model],
    due: Sequence[tuple[int, int]],
    *,
    field: str,
    give_up: Callable[[int, int], object],
    resend: Callable[[int, int], object],
) -> int:
    """A sweeper's fan-out over `due` (primary key, brand id) rows whose task was lost:
    `give_up(pk, times)` those whose deliveries are spent, `resend(pk, brand_id)` the
    others. Unscoped, as periodic fan-outs are. Returns how many were sent again."""
    with scopes_disabled():
        dying = spent_counts(model.objects.filter(pk__in=[pk for pk, _brand in due]), field=field)
        for pk, times in dying.items():
            give_up(pk, times)
    resent = [(pk, brand_id) for pk, brand_id in due if pk not in dying]
    for pk, brand_id in resent:
        resend(pk, brand_id)
    return len(resent)
