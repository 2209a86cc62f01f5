"""What the exchange protocol calls to import catalog files (PROTOCOL.md §3).

Every function returns plain data (`Answer`: the first reply line and the lines after it);
the protocol turns it into 1C's text reply. Polls answer within their budget: the work
runs in a worker thread (worker.py) and the poll only watches the job's row.
"""

import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.db import OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from exchange1c.commerceml.records import KIND_CATALOG
from exchange1c.importer import apply, images, pipeline, readahead, worker
from exchange1c.models import ExchangeRun, ExchangeSettings, ImportJob

logger = logging.getLogger(__name__)

State = ImportJob.State
#: How many warnings a `success` answer lists (the job keeps more, the count has them all).
ANSWER_WARNINGS = 5


@dataclass
class Answer:
    status: str  # "success" | "progress" | "failure"
    lines: list[str] = field(default_factory=list)


def answer_for(job: ImportJob) -> Answer:
    """The reply a poll gives for the job as it stands."""
    name = job.filename
    if job.state == State.DONE:
        lines = [_("%(file)s: created %(created)s, updated %(updated)s, unchanged %(unchanged)s, "
                   "deactivated %(deactivated)s") % {
            "file": name, "created": job.created, "updated": job.updated, "unchanged": job.unchanged,
            "deactivated": job.deactivated}]
        if job.hidden:
            lines.append(_("Hidden as missing from the full upload: %(count)s") % {"count": job.hidden})
        if job.warning_count:
            lines.append(_("Warnings: %(count)s") % {"count": job.warning_count})
            lines.extend(job.warnings[:ANSWER_WARNINGS])
        return Answer("success", lines)
    if job.state == State.FAILED:
        return Answer("failure", [_("%(file)s: %(error)s") % {"file": name, "error": job.error}])
    if job.state == State.APPLYING:
        total = max(job.items_total, 1)
        return Answer("progress", [_("%(file)s: writing to the catalog, %(done)s of %(total)s (%(percent)s%%)") % {
            "file": name, "done": job.items_done, "total": job.items_total,
            "percent": min(100, job.items_done * 100 // total)}])
    if job.state == State.READING:
        return Answer("progress", [_("%(file)s: reading and checking the file, %(count)s products/offers so far")
                                   % {"file": name, "count": job.items_total}])
    return Answer("progress", [_("%(file)s: waiting to start") % {"file": name}])


def _retrying(read, *, seconds: float = 10.0):
    """Run a short database call again while SQLite reports the table locked.

    A file database in WAL mode waits on its busy timeout instead; an in-memory shared-cache
    one (the test database) answers "table is locked" at once while the worker commits.
    """
    give_up = time.monotonic() + seconds
    while True:
        try:
            return read()
        except OperationalError:
            if time.monotonic() > give_up:
                raise
            time.sleep(0.02)


def _wait(job_id: int, budget_seconds: float) -> ImportJob:
    """Watch the job's row until it finishes or the budget is spent; returns the row as last seen."""
    deadline = time.monotonic() + max(budget_seconds, 0.0)
    last = None
    while True:
        try:
            last = ImportJob.objects.get(pk=job_id)
        except OperationalError:
            pass  # SQLite locked by the worker's commit: look again
        remaining = deadline - time.monotonic()
        if last is not None and (last.is_finished or remaining <= 0):
            return last
        if remaining <= 0:
            return _retrying(lambda: ImportJob.objects.get(pk=job_id))
        thread = worker.running_thread(job_id)
        if thread is not None:
            # The worker is this process's thread: wait for it to end instead of reading the
            # row 20 times a second, which took the interpreter from the import it watches.
            thread.join(remaining)
        else:
            time.sleep(min(0.05, remaining))


def init_exchange(*, run) -> None:
    """At 1C's `init`: drop every job (of any run) whose apply never began, with its staging.

    A job whose apply began is kept: `finish_interrupted` completes it (PROTOCOL.md §3.2).
    """
    stale = ImportJob.objects.filter(apply_started_at__isnull=True).exclude(state__in=[State.DONE, State.FAILED])
    for job in stale:
        pipeline.cleanup(job)
    stale.delete()
    readahead.sweep(pipeline.read_ahead_root())


def _interrupted(budget_seconds: float) -> ImportJob | None:
    """The oldest begun, unfinished apply that no poll of the current exchange is driving.

    That is one of an earlier exchange (or of a synchronous re-run), or one whose worker is
    dead: its heartbeat is stale, or its thread in this process has ended. The current
    exchange's own running job is left to its `import` polls.
    """
    begun = list(ImportJob.objects.filter(apply_started_at__isnull=False)
                 .exclude(state__in=[State.DONE, State.FAILED]).order_by("created_at", "id"))
    if not begun:
        return None
    latest_run = (ExchangeRun.objects.filter(kind="catalog").order_by("-started_at", "-pk")
                  .values_list("pk", flat=True).first())
    stale_before = timezone.now() - timedelta(seconds=worker.stale_after(budget_seconds))
    for job in begun:
        if job.run_id is None or job.run_id != latest_run:
            return job
        if job.heartbeat_at is None or job.heartbeat_at < stale_before or worker.thread_ended(job.pk):
            return job
    return None


def finish_interrupted(*, budget_seconds: float) -> Answer | None:
    """Continue an apply that began earlier and is unfinished; `progress` while there is one, else None.

    Called before anything else at `init` and at each `import`, so a half-applied file is
    always finished before the next file touches the catalog (PROTOCOL.md §3.2).
    """
    job = _retrying(lambda: _interrupted(budget_seconds))
    if job is None:
        return None
    _retrying(lambda: worker.ensure_worker(job.pk, budget_seconds=budget_seconds))
    job = _wait(job.pk, budget_seconds)
    if job.is_finished:
        outcome = answer_for(job)
        return Answer("progress", [_("Finished the interrupted import of %(file)s.") % {"file": job.filename},
                                   *outcome.lines[:1]])
    answer = answer_for(job)
    return Answer("progress", [_("Finishing the interrupted import first."), *answer.lines])


def import_poll(*, run, folder: Path, filename: str, budget_seconds: float) -> Answer:
    """One 1C `import` poll for `folder/filename`: start or continue its job, answer within the budget.

    The same file polled again after `success` answers `success` again and changes nothing;
    a new upload under the same name (another size or time) is a new job.
    """
    folder = Path(folder)
    jobs = ImportJob.objects.filter(run=run, filename=filename).order_by("-created_at", "-id")
    job = _retrying(jobs.first)
    current = pipeline.fingerprint(folder / filename)
    uploaded_again = job is not None and job.is_finished and (
        job.folder != str(folder) or (current and job.fingerprint and current != job.fingerprint))
    if job is None or uploaded_again:
        job = pipeline.create_job(run=run, mark=run.pk if run is not None else None, folder=folder,
                                  filename=filename)
        _read_ahead(run, folder, filename)
    if job.is_finished:
        return answer_for(job)
    _retrying(lambda: worker.ensure_worker(job.pk, budget_seconds=budget_seconds))
    return answer_for(_wait(job.pk, budget_seconds))


def _read_ahead(run, folder: Path, filename: str) -> None:
    """While this file imports, have the package's other large files read in a second process."""
    if run is None or not readahead.min_bytes():
        return
    try:
        readahead.start(root=pipeline.read_ahead_root(), folder=folder, current=filename,
                        imported=set(ImportJob.objects.filter(run=run).values_list("filename", flat=True)),
                        brand_key=apply.brand_setting_key(ExchangeSettings.get_solo().brand_property or ""))
    except (OSError, OperationalError) as exc:
        # Only an optimisation: the files are read in their turn as usual.
        logger.warning("read-ahead not started: %s", exc)


def _finalize(jobs, mark: int) -> tuple[Answer, int]:
    """Hide what the full catalog files among `jobs` (all sharing `mark`) did not touch, once."""
    if jobs.filter(finalized_at__isnull=False).exists():
        apply.forget_seen(mark)  # rows a file applied after an early hide (1C 7.7's import.xml) left
        return Answer("success", [_("Missing products were already handled for this exchange.")]), 0
    if jobs.exclude(state__in=[State.DONE, State.FAILED]).exists():
        return Answer("success", [_("Imports of this exchange are unfinished: missing products are not hidden "
                                    "yet.")]), 0
    catalogs = jobs.filter(kind=KIND_CATALOG)
    full = list(catalogs.filter(state=State.DONE, changes_only=False))
    options = ExchangeSettings.get_solo()
    lines = []
    hidden = 0
    with transaction.atomic():
        if not full:
            lines.append(_("No full catalog upload in this exchange: nothing hidden."))
        elif catalogs.filter(state=State.FAILED).exists():
            lines.append(_("A catalog file of this exchange failed: nothing hidden, to be safe."))
        elif options.missing_products == ExchangeSettings.MissingProducts.LEAVE:
            lines.append(_("Products missing from the full upload are left as they are (setting)."))
        else:
            hidden, hidden_groups = apply.hide_untouched(mark, groups=pipeline._hides_groups(full))
            ImportJob.objects.filter(pk=full[-1].pk).update(hidden=hidden)
            lines.append(_("Hidden as missing from the full upload: %(products)s products, %(groups)s groups")
                         % {"products": hidden, "groups": hidden_groups})
        apply.forget_seen(mark)
        jobs.update(finalized_at=timezone.now())
    return Answer("success", lines), hidden


def finalize_run(*, run, reason: str) -> Answer:
    """At `deactivate`/`complete`: hide the products (and groups) this run's full uploads did not touch.

    Once per run, never per file; with setting "missing products: leave" nothing is hidden;
    nothing is ever deleted. A run whose full catalog file failed hides nothing.
    """
    answer, hidden = _finalize(ImportJob.objects.filter(run=run), run.pk)
    logger.info("exchange %s %s: %s", run.pk, reason, "; ".join(answer.lines))
    return answer


def run_files_now(folder, filenames) -> list[Answer]:
    """Import files in order, synchronously, through the same pipeline (demo data, tests, re-runs).

    The files share one mark, and missing products are handled once after the last file, as
    `finalize_run` would for an exchange; its line is added to the last answer.
    """
    folder = Path(folder)
    answers = []
    mark = None
    for filename in filenames:
        job = pipeline.create_job(run=None, mark=mark, folder=folder, filename=filename)
        mark = job.mark
        job = worker.run_now(job.pk)
        answers.append(answer_for(job))
    if mark is not None:
        final, _hidden = _finalize(ImportJob.objects.filter(mark=mark), mark)
        if answers and answers[-1].status == "success":
            answers[-1].lines.extend(final.lines)
    return answers


def resize_pending() -> int:
    """Build storefront sizes of stored pictures that lack them (setting 7); never called inside a poll."""
    return images.resize_pending()


__all__ = ["Answer", "finalize_run", "finish_interrupted", "import_poll", "init_exchange", "resize_pending",
           "run_files_now"]
