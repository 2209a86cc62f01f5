"""Stage 2 on PostgreSQL: batches of products or offers applied side by side, committed in file order.

A batch is mostly waiting: on PostgreSQL's index and foreign-key work while Python waits, then
on Python while PostgreSQL idles. Two batches in flight, each on its own connection and thread,
keep both CPUs busy (the 100k import's apply phase took 40 s instead of 69 s).

What a single lane guaranteed still holds:
- Commits happen in the batches' order, each with the job's position, so `items_done` always
  counts a finished prefix of the file and a resumed job skips exactly what committed.
- A batch never runs beside an earlier one that shares a key with it (an Ид, or the product
  whose offers both carry): it starts only once that one committed, so it reads what it wrote
  and the last occurrence in the file still wins.
- A batch waiting for its turn to commit can hold a lock an earlier batch needs (two new
  products taking the same slug, the same new brand): PostgreSQL cannot see that wait, so the
  later batch checks for it (`pg_blocking_pids`), rolls back, and runs again in its turn.
"""

import logging
import queue
import threading
import time
from dataclasses import dataclass, field

from django.db import IntegrityError, OperationalError, connection, connections, transaction

logger = logging.getLogger(__name__)

#: How often a batch waiting for its turn checks whether it blocks an earlier one.
BLOCK_CHECK_SECONDS = 0.1
#: Unique clashes with a batch beside it (a slug, a brand) are settled by running again.
INTEGRITY_TRIES = 4
LOCK_TRIES = 5


class _Aborted(Exception):
    """Another batch failed: this one rolls back and the lanes stop."""


class _Yield(Exception):
    """This batch holds a lock an earlier batch waits for: roll back and run again in turn."""


@dataclass(eq=False)
class Batch:
    index: int
    kind: type
    records: list
    keys: frozenset
    done: threading.Event = field(default_factory=threading.Event)


class Lanes:
    """`count` threads applying batches; `work`, `seal` and `done` say what a batch does.

    - `work(batch)` writes the batch, inside its transaction; returns what `seal` needs.
    - `seal(batch, result)` runs in that transaction once every earlier batch committed
      (the job's position goes here); returns what `done` needs.
    - `done(batch, sealed)` runs after the commit, still in order, before the next batch's seal.
    The first error of any batch stops the lanes; `submit`, `drain` and `close` raise it.
    """

    def __init__(self, count: int, *, work, seal, done) -> None:
        self.count = count
        self.work, self.seal, self.done = work, seal, done
        self.tasks: queue.SimpleQueue = queue.SimpleQueue()
        self.cond = threading.Condition()
        self.turn = 0
        self.next_index = 0
        self.pids: dict[int, int] = {}
        self.inflight: list[Batch] = []
        self.error: BaseException | None = None
        self.aborted = False
        self.threads = [threading.Thread(target=self._run, name=f"import-lane-{n}", daemon=True)
                        for n in range(count)]
        for thread in self.threads:
            thread.start()

    # --- the dispatching thread ---------------------------------------------------------------

    def submit(self, kind, records: list, keys) -> None:
        """Queue a batch once no batch in flight shares a key with it and a lane is free."""
        self._raise()
        keys = frozenset(keys)
        self._reap()
        for batch in list(self.inflight):
            if batch.keys & keys:
                self._wait(batch)
        while len(self.inflight) >= self.count:
            self._wait(self.inflight[0])
        batch = Batch(self.next_index, kind, records, keys)
        self.next_index += 1
        self.inflight.append(batch)
        self.tasks.put(batch)

    def drain(self) -> None:
        """Wait until every queued batch committed (raises the first batch error)."""
        for batch in list(self.inflight):
            self._wait(batch)
        self._raise()

    def close(self, *, abort: bool = False) -> None:
        """Stop the threads (rolling back what has not committed when `abort`) and wait for them."""
        if abort:
            with self.cond:
                self.aborted = True
                self.cond.notify_all()
        for _thread in self.threads:
            self.tasks.put(None)
        for thread in self.threads:
            thread.join()
        if not abort:
            self._raise()

    def _wait(self, batch: Batch) -> None:
        batch.done.wait()
        self._reap()
        self._raise()

    def _reap(self) -> None:
        self.inflight = [b for b in self.inflight if not b.done.is_set()]

    def _raise(self) -> None:
        if self.error is not None:
            raise self.error

    # --- the lanes ----------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while (batch := self.tasks.get()) is not None:
                try:
                    self._apply(batch)
                except _Aborted:
                    pass
                except BaseException as exc:  # noqa: BLE001 - handed to the dispatching thread
                    with self.cond:
                        if self.error is None:
                            self.error = exc
                        self.aborted = True
                        self.cond.notify_all()
                finally:
                    batch.done.set()
        finally:
            connections.close_all()

    def _apply(self, batch: Batch) -> None:
        integrity = locked = 0
        while True:
            try:
                with transaction.atomic():
                    # Asked inside the transaction: behind a pooler the server process may change.
                    pid = _backend_pid()
                    with self.cond:
                        self.pids[batch.index] = pid
                    result = self.work(batch)
                    self._wait_turn(batch, pid)
                    sealed = self.seal(batch, result)
                break
            except _Yield:
                # Rolled back: the earlier batch can go on. Run again when it is this one's turn.
                self._wait_turn(batch, None)
            except IntegrityError:
                # A row a batch beside this one wrote first (a slug, a brand): run again, reading it.
                integrity += 1
                if integrity == INTEGRITY_TRIES:
                    raise
            except OperationalError:
                # A deadlock PostgreSQL detected between two batches: the loser runs again.
                locked += 1
                if locked == LOCK_TRIES:
                    raise
                time.sleep(0.1 * locked)
        try:
            self.done(batch, sealed)
        finally:
            with self.cond:
                self.pids.pop(batch.index, None)
                self.turn += 1
                self.cond.notify_all()

    def _wait_turn(self, batch: Batch, pid: int | None) -> None:
        """Return when every earlier batch committed; _Yield when this one (`pid`) blocks one of them."""
        while True:
            with self.cond:
                if self.aborted:
                    raise _Aborted
                if self.turn == batch.index:
                    return
                self.cond.wait(BLOCK_CHECK_SECONDS)
                if self.aborted:
                    raise _Aborted
                if self.turn == batch.index:
                    return
                earlier = [p for index, p in self.pids.items() if index < batch.index]
            if pid is not None and earlier and _blocks(pid, earlier):
                logger.debug("import batch %s yields to an earlier batch it blocks", batch.index)
                raise _Yield


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _blocks(pid: int, others: list[int]) -> bool:
    """True when backend `pid` holds a lock one of the backends `others` waits for."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM unnest(%s::int[]) AS p(pid) "
                       "WHERE %s = ANY(pg_blocking_pids(p.pid)))", [others, pid])
        return bool(cursor.fetchone()[0])
