"""One exchange of a kind at a time, across processes (issue item 10).

The lock is a row per kind in ExchangeLock, taken and refreshed by conditional writes that
the database serialises: an INSERT that the unique name lets only one process win, or an
UPDATE whose WHERE says "still mine" or "its holder has gone silent". No read-then-write,
so it holds on SQLite and PostgreSQL alike, with any number of worker processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from exchange1c.models import ExchangeLock

#: A holder that has not polled for this many step times loses the lock.
EXPIRY_STEPS = 3


@dataclass(frozen=True)
class Holder:
    """Who holds a lock that someone else asked for."""

    label: str
    since: datetime
    last_seen: datetime


def ttl_for(step_seconds: int) -> timedelta:
    return timedelta(seconds=EXPIRY_STEPS * max(1, int(step_seconds)))


def acquire(name: str, *, holder: str, label: str, ttl: timedelta) -> Holder | None:
    """Take or refresh the lock `name` for `holder`; None on success, else who holds it.

    A lock whose holder was last seen longer than `ttl` ago is taken over.
    """
    now = timezone.now()
    if ExchangeLock.objects.filter(name=name, holder=holder).update(last_seen=now, holder_label=label):
        return None
    if ExchangeLock.objects.filter(name=name, last_seen__lt=now - ttl).update(
        holder=holder, holder_label=label, since=now, last_seen=now
    ):
        return None
    try:
        with transaction.atomic():
            ExchangeLock.objects.create(name=name, holder=holder, holder_label=label, since=now, last_seen=now)
        return None
    except IntegrityError:
        pass
    row = ExchangeLock.objects.filter(name=name).first()
    if row is None:  # released between our writes: one more try is enough to be fair
        return acquire(name, holder=holder, label=label, ttl=ttl)
    if row.holder == holder:
        return None
    return Holder(label=row.holder_label, since=row.since, last_seen=row.last_seen)


def release(name: str, *, holder: str) -> bool:
    """Give the lock up if `holder` still has it."""
    deleted, _details = ExchangeLock.objects.filter(name=name, holder=holder).delete()
    return bool(deleted)
