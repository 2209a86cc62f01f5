"""One file through the two stages of an import, with every step's state in the ImportJob row.

Stage 1 (`reading`) reads the whole file with the streaming reader and checks it; it counts
what the file holds and copies the pictures it names into content-addressed media storage
(invisible until a product row points at them). A malformed, truncated or hostile file
fails here, before anything the shop shows has changed (PROTOCOL.md §3.4, STYLE.md Obmen 5).

Stage 1 also stages the records it read: pickled in chunks into a private file beside the
job's copy (`<work_path>.staged`, staging.py), written under a temporary name and renamed once
the whole file passed, so nothing half-read is ever applied. Parsing is the costliest step of
an import; stage 2 unpickles instead of parsing again. A file of a package that a second
process has already read while an earlier file imported (readahead.py) is not parsed at all:
stage 1 takes the records it staged.

Stage 2 (`applying`) takes the staged records (or, if they are gone, reads the file again)
and applies them in batches of one record type; on PostgreSQL two batches of products or
offers run side by side, committing in file order (lanes.py).
Each batch is one transaction that also moves the job's position (`items_done`) and its
counters, so a crash between batches resumes, by skipping `items_done` products/offers, to
the same end state as an uninterrupted run: every write is an upsert keyed on 1C's Ид.

Only the worker holding the job's `worker` token may write it: each checkpoint checks the
token inside its transaction, so a worker that was presumed dead and replaced can never
commit a batch twice.
"""

import dataclasses
import logging
import os
import shutil
import time
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.generation import catalog_changed
from catalog.services import group_paths_rebuild
from exchange1c.commerceml.reader import CommerceMLReader
from exchange1c.commerceml.records import (
    KIND_CATALOG,
    KIND_CLASSIFIER,
    KIND_ORDERS,
    OFFER_KINDS,
    CommerceMLError,
    GroupRecord,
    OfferRecord,
    PriceTypeRecord,
    ProductRecord,
    PropertyRecord,
    UnitRecord,
    WarehouseRecord,
)
from exchange1c.importer import apply, collector, readahead
from exchange1c.importer import staging as staged
from exchange1c.importer.backup import backup_database
from exchange1c.importer.images import store_image
from exchange1c.importer.lanes import Lanes
from exchange1c.importer.readahead import fingerprint
from exchange1c.importer.screen import Screen
from exchange1c.models import ExchangeSettings, ImportJob, StagedImage

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
#: Heartbeat interval while reading (stage 2 beats at every batch).
HEARTBEAT_SECONDS = 1.0
IMAGE_CHUNK = 200
ITEM_TYPES = (ProductRecord, OfferRecord)
#: What batches records by: a stand-in for an unchanged record goes with the records of its kind,
#: so a file with a few changes scattered through it still applies in full-size batches.
BATCH_KIND = {apply.UnchangedProduct: ProductRecord, apply.UnchangedOffer: OfferRecord}
#: Everything that counts towards the job's position (`items_done`).
POSITION_TYPES = (*ITEM_TYPES, *apply.STAND_INS)
ACCEPTED_KINDS = frozenset({KIND_CATALOG, KIND_CLASSIFIER, *OFFER_KINDS})

State = ImportJob.State


class JobLost(Exception):  # noqa: N818 - a state, not an error of the caller
    """The job was taken over by another worker or dropped by `init`: stop without writing."""


def jobs_root() -> Path:
    """Where jobs keep their private copy of the file (the upload folder may be emptied by `init`)."""
    configured = getattr(settings, "EXCHANGE_JOBS_ROOT", None)
    return Path(configured) if configured else Path(settings.EXCHANGE_ROOT).parent / "exchange-jobs"


def create_job(*, run, mark: int | None, folder: Path, filename: str) -> ImportJob:
    """A new job for `folder/filename`, with a private copy of the file (failed when it is missing).

    `mark=None` gives the job a mark of its own: minus its pk, which no run id can equal.
    """
    source = Path(folder) / filename
    job = ImportJob.objects.create(run=run, mark=mark or 0, filename=filename, folder=str(folder),
                                   fingerprint=fingerprint(source))
    if mark is None:
        job.mark = -job.pk
        job.save(update_fields=["mark"])
    root = jobs_root()
    root.mkdir(parents=True, exist_ok=True)
    target = root / f"{job.pk}-{Path(filename).name}"
    try:
        _private_copy(source, target)
    except OSError as exc:
        job.state = State.FAILED
        job.error = _("The file %(file)s cannot be read: %(reason)s") % {
            "file": filename, "reason": exc.strerror or exc}
        job.finished_at = timezone.now()
        job.save(update_fields=["state", "error", "finished_at"])
        return job
    job.work_path = str(target)
    job.save(update_fields=["work_path"])
    return job


def _private_copy(source: Path, target: Path) -> None:
    """Give the job its own name for the file: a hard link where the filesystem allows, else a copy.

    A link costs no time and no disk writes whatever the file's size. It is still private:
    `init` only unlinks names, and an upload that appends to a linked file first gives the
    upload its own copy (exchange1c.files.append_upload), so the job's content never changes.
    """
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _write(job: ImportJob, token: str, **fields) -> None:
    """Update the job's row if this worker still owns it (else JobLost); heartbeats too."""
    fields["heartbeat_at"] = timezone.now()
    for attempt in range(50):
        try:
            rows = ImportJob.objects.filter(pk=job.pk, worker=token).update(**fields)
            break
        except OperationalError:
            # SQLite's shared-cache (test) database says "table is locked" at once instead of
            # waiting; a failed statement leaves an SQLite transaction usable, so try again.
            if connection.vendor != "sqlite" or attempt == 49:
                raise
            time.sleep(0.02)
    if not rows:
        raise JobLost(job.pk)
    for name, value in fields.items():
        setattr(job, name, value)


def cleanup(job: ImportJob) -> None:
    """Drop what only a running job needs: its file copy and its staged pictures."""
    if job.work_path:
        Path(job.work_path).unlink(missing_ok=True)
        staged_file = staged_path(job)
        staged_file.unlink(missing_ok=True)
        for partial in staged_file.parent.glob(f"{staged_file.name}.*.part"):
            partial.unlink(missing_ok=True)
    _forget_read_ahead(job)
    StagedImage.objects.filter(job_id=job.pk).delete()


def _fail(job: ImportJob, token: str, message: str) -> None:
    _write(job, token, state=State.FAILED, error=message, finished_at=timezone.now(), stage="")
    cleanup(job)


def run_job(job_id: int, *, token: str, batch_size: int = BATCH_SIZE, on_batch=None) -> ImportJob:
    """Take the job from wherever it stands to `done` or `failed`; returns the job.

    `token` must be the job's `worker` (see worker.claim). `on_batch(job, batches)` is called
    after each committed batch (tests use it to simulate a crash). Raises JobLost when
    another worker took the job over; any other exception leaves the job where its last
    committed batch put it, to be resumed.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be a positive integer")
    job = ImportJob.objects.get(pk=job_id)
    if job.is_finished:
        return job
    _tune_connection()
    try:
        with collector.bulk():
            if job.apply_started_at is None:
                if not _read_stage(job, token):
                    return job
            _apply_stage(job, token, batch_size, on_batch)
    except (JobLost, OperationalError):
        # Lost to another worker, or the database was unavailable: nothing about the file is
        # wrong, so the job stays where its last batch left it and the next poll resumes it.
        raise
    except CommerceMLError as exc:
        # Only when stage 2 had to read the file again (its staged records were gone) and the
        # copy changed on disk since stage 1 accepted it.
        _fail(job, token, _("%(reason)s (applied %(done)s of %(total)s products/offers; the rest was not)")
              % {"reason": exc, "done": job.items_done, "total": job.items_total})
    except Exception as exc:
        logger.exception("import job %s failed", job.pk)
        if job.apply_started_at is None:
            _fail(job, token, _("Internal error while reading the file: %(error)s") % {"error": exc})
        else:
            _fail(job, token, _("Internal error after %(done)s of %(total)s products/offers were applied: "
                                "%(error)s") % {"done": job.items_done, "total": job.items_total, "error": exc})
    return job


def _tune_connection() -> None:
    """SQLite: keep this connection's temporary files in memory.

    Each batch statement that changes many rows keeps a statement journal so it can be undone
    alone; on disk that is a temporary file per batch, several MB each, written and thrown
    away (a quarter of what a 10k import wrote). A batch's journal is bounded by its pages.
    """
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA temp_store = MEMORY")


# --- stage 1 -----------------------------------------------------------------------------------


def _read_stage(job: ImportJob, token: str) -> bool:
    """Read and check the whole file; False when it failed (and the job says why)."""
    _write(job, token, state=State.READING, items_total=0, groups_total=0)
    if not job.work_path:
        _fail(job, token, _("The file %(file)s was not uploaded.") % {"file": job.filename})
        return False
    brand_key = apply.brand_setting_key(ExchangeSettings.get_solo().brand_property or "")
    ahead = _read_ahead(job, token)
    try:
        staging = None
        if ahead is not None and ahead.error is not None:
            raise CommerceMLError(ahead.error)
        reader = ahead or CommerceMLReader(job.work_path)
        info = reader.info
        if info.kind == KIND_ORDERS:
            raise CommerceMLError(_("this is an orders document (Документ), not a catalog, offers, prices or "
                                    "rests file"), code="unknown_kind")
        if info.kind not in ACCEPTED_KINDS:
            raise CommerceMLError(_("unknown kind of file: %(kind)s") % {"kind": info.kind}, code="unknown_kind")
        _write(job, token, kind=info.kind, schema_version=(info.schema_version or "")[:16],
               changes_only=info.changes_only, classifier_changes_only=info.classifier_changes_only)
        items = groups = 0
        pending: list[str] = []
        seen: set[str] = set()
        beat = time.monotonic()
        folder = Path(job.folder)
        staging = staged.Writer(staged_path(job), token)
        screen = Screen(brand_key)
        if ahead is not None:
            chunks = ahead.chunks(brand_key)
        else:
            chunks = ((chunk, None) for chunk in staged.chunks(reader))
        for chunk, frame in chunks:
            if type(chunk[0]) in ITEM_TYPES:
                items += len(chunk)
                screened = screen.filter(chunk)
                # An unchanged product's pictures are what the site already has (same paths,
                # same hash): only the others are read and stored.
                for item in screened:
                    if type(item) is ProductRecord and item.images:
                        for path, _caption in item.images:
                            if path not in seen:
                                seen.add(path)
                                pending.append(path)
                if len(pending) >= IMAGE_CHUNK:
                    _stage_images(job, folder, pending)
                    pending = []
            else:
                screened = chunk
                groups += sum(type(record) is GroupRecord for record in chunk)
            if screened is chunk and frame is not None:
                staging.add_frame(frame)  # nothing changed: its bytes as the reader pickled them
            else:
                staging.add(screened)
            if time.monotonic() - beat > HEARTBEAT_SECONDS:
                _write(job, token, items_total=items, groups_total=groups)
                beat = time.monotonic()
        _stage_images(job, folder, pending)
        staging.commit()
    except CommerceMLError as exc:
        if staging is not None:
            staging.discard()
        _fail(job, token, str(exc))  # its cleanup() forgets the read-ahead too
        return False
    except BaseException:
        if staging is not None:
            staging.discard()
        raise
    _forget_read_ahead(job)
    warnings = [(_("line %(line)s: %(text)s") % {"line": w.line, "text": w.message}) if w.line else w.message
                for w in reader.warnings[:100]]
    _write(job, token, items_total=items, groups_total=groups, warnings=warnings,
           warning_count=reader.warning_count)
    return True


def read_ahead_root() -> Path:
    """Where the read-ahead reader leaves the files it read (readahead.py)."""
    return jobs_root() / "read-ahead"


def _read_ahead(job: ImportJob, token: str) -> readahead.ReadAhead | None:
    """The job's file as a reader read it ahead, if it did (waiting while it still reads it)."""
    if not readahead.min_bytes():
        return None
    beat = time.monotonic()

    def heartbeat():
        nonlocal beat
        if time.monotonic() - beat > HEARTBEAT_SECONDS:
            _write(job, token)
            beat = time.monotonic()

    ahead = readahead.take(root=read_ahead_root(), source=Path(job.folder) / job.filename,
                           expected=job.fingerprint, job_pk=job.pk, beat=heartbeat)
    if ahead is not None:
        logger.info("import job %s: %s was read ahead by another process", job.pk, job.filename)
    return ahead


def _forget_read_ahead(job: ImportJob) -> None:
    if readahead.min_bytes() and job.folder:
        readahead.forget(read_ahead_root(), Path(job.folder) / job.filename)


def _stage_images(job: ImportJob, folder: Path, paths: list[str]) -> None:
    if not paths:
        return
    done = set(StagedImage.objects.filter(job_id=job.pk, path__in=paths).values_list("path", flat=True))
    rows = []
    for path in paths:
        if path in done:
            continue
        stored = store_image(folder, path)
        rows.append(StagedImage(job_id=job.pk, path=path[:1000], content_hash=stored.content_hash, file=stored.file,
                                width=stored.width, height=stored.height, problem=stored.problem[:500]))
    StagedImage.objects.bulk_create(rows, ignore_conflicts=True)


# --- staged records ----------------------------------------------------------------------------


def staged_path(job: ImportJob) -> Path:
    """Where stage 1 leaves the records it read for stage 2 (beside the job's copy of the file)."""
    return Path(f"{job.work_path}.staged")


def _records_to_apply(job: ImportJob):
    """The file's records from the job's position on, as `CommerceMLReader(skip=items_done)` yields them.

    From the staged records when stage 1 left them, else by reading the file again. Like the
    reader's `skip`, it passes over the first `items_done` products/offers and keeps classifier records.
    """
    staged_file = staged_path(job)
    if not (job.work_path and staged_file.exists()):
        yield from CommerceMLReader(job.work_path, skip=job.items_done)
        return
    source = staged.records(staged_file)
    skip = job.items_done
    items = 0
    for record in source:
        if isinstance(record, POSITION_TYPES):
            items += 1
            if items <= skip:
                continue
        yield record


# --- stage 2 -----------------------------------------------------------------------------------


def _backup_if_first(job: ImportJob, ctx: apply.Context, options: ExchangeSettings) -> None:
    """Setting 3: back up before the first visible write of the exchange (not of every file)."""
    if not options.backup_before_import:
        return
    if ImportJob.objects.filter(mark=job.mark, apply_started_at__isnull=False).exclude(pk=job.pk).exists():
        return
    path, note = backup_database(size_limit_mb=options.backup_size_limit_mb, keep=options.backup_keep)
    if path is None:
        logger.warning("backup before import (job %s): %s", job.pk, note)
        ctx.warn(None, _("Backup before the import: %(note)s") % {"note": note})
    else:
        logger.info("backup before import (job %s): %s", job.pk, note)


def _apply_stage(job: ImportJob, token: str, batch_size: int, on_batch) -> None:
    options = ExchangeSettings.get_solo()
    ctx = apply.Context(
        job_id=job.pk, mark=job.mark, policy=options.product_policy, brand_property=options.brand_property or "",
        created=job.created, updated=job.updated, unchanged=job.unchanged, deactivated=job.deactivated,
        warnings=list(job.warnings or []), warning_count=job.warning_count,
    )
    if job.apply_started_at is None:
        _backup_if_first(job, ctx, options)
        # Set before the first write: from here on `init` must finish this file, never drop it.
        _write(job, token, state=State.APPLYING, apply_started_at=timezone.now(),
               warnings=ctx.warnings, warning_count=ctx.warning_count)
    _refresh_statistics()
    side_by_side = _lane_count()
    if side_by_side:
        ctx = _apply_in_lanes(job, token, ctx, batch_size, on_batch, side_by_side)
    else:
        ctx = _apply_in_turn(job, token, ctx, batch_size, on_batch)
    _finish(job, token, ctx, options)


def _batches(job: ImportJob, batch_size: int, *, keep_together: bool = False):
    """(kind, records) batches of the records still to apply, of one kind each.

    `keep_together`: a product's offers (or a catalog's `guid#feature` Товар) are not split
    between two batches unless they fill two, so batches side by side rarely share a product.
    """
    pending: list = []
    pending_type = None
    # Classifier records after the first products or offers are skipped, as on resume; decided
    # here rather than from the job row, which batches side by side update later.
    items_begun = job.classifier_done
    for record in _records_to_apply(job):
        kind = BATCH_KIND.get(type(record), type(record))
        if kind not in ITEM_TYPES and items_begun:
            continue
        if pending and (kind is not pending_type or len(pending) >= batch_size):
            if not (keep_together and kind is pending_type and len(pending) < 2 * batch_size
                    and _owner(record) is not None and _owner(record) == _owner(pending[-1])):
                yield pending_type, pending
                items_begun = items_begun or pending_type in ITEM_TYPES
                pending = []
        pending.append(record)
        pending_type = kind
    if pending:
        yield pending_type, pending


def _apply_in_turn(job: ImportJob, token: str, ctx: apply.Context, batch_size: int, on_batch) -> apply.Context:
    batches = 0
    for kind, records in _batches(job, batch_size):
        ctx = _flush(job, token, ctx, kind, records)
        batches += 1
        if batches % STATISTICS_EVERY_BATCHES == 0:
            _refresh_statistics()
        if on_batch is not None:
            on_batch(job, batches)
    return ctx


def _lane_count() -> int:
    """How many batches stage 2 applies side by side: PostgreSQL only, and never inside a caller's transaction."""
    count = getattr(settings, "EXCHANGE_IMPORT_LANES", 1)
    if count < 2 or connection.vendor != "postgresql" or connection.in_atomic_block:
        return 0
    return count


def _owner(record) -> str | None:
    """The product a product or offer record belongs to (what batches side by side must not share)."""
    if type(record) is OfferRecord:
        return record.product_id
    if type(record) is ProductRecord:
        return record.external_id.partition("#")[0].strip()
    return None


def _keys(records) -> set:
    """What a batch writes that a batch beside it must not: its products and variants by Ид."""
    keys = set()
    for record in records:
        if type(record) is OfferRecord:
            keys.add("v:" + apply.variant_external_id(record))
            keys.add("p:" + record.product_id)
        elif type(record) is ProductRecord:
            keys.add("p:" + record.external_id)
            keys.add("p:" + _owner(record))
        elif type(record) is apply.UnchangedProduct:
            keys.add(record.pk)
    return keys


@dataclasses.dataclass
class _Progress:
    """What the committed batches add up to (only the lane whose turn it is to commit touches it)."""

    ctx: apply.Context
    items_done: int
    batches: int = 0


def _apply_in_lanes(job: ImportJob, token: str, ctx: apply.Context, batch_size: int, on_batch,
                    count: int) -> apply.Context:
    """Products and offers through `count` lanes (lanes.Lanes); classifier batches in turn between them."""
    progress = _Progress(ctx, job.items_done)

    def work(batch):
        part = progress.ctx.fork()
        _commit_without_flush()
        APPLIERS[batch.kind](batch.records, part)
        return part

    def seal(batch, part):
        total = progress.ctx.merged(part)
        _write(job, token, **_position(progress.items_done + len(batch.records), total, items_begun=True))
        return total

    def done(batch, total):
        changed = _catalog_changed_by(progress.ctx, total)
        progress.ctx = total
        progress.items_done += len(batch.records)
        progress.batches += 1
        if changed:
            # After the commit: a listing cached meanwhile is new data under the old generation.
            catalog_changed()
        if on_batch is not None:
            on_batch(job, progress.batches)

    lanes = Lanes(count, work=work, seal=seal, done=done)
    dispatched = 0
    try:
        for kind, records in _batches(job, batch_size, keep_together=True):
            dispatched += 1
            if kind in ITEM_TYPES:
                lanes.submit(kind, records, _keys(records))
            else:
                lanes.drain()
                progress.ctx = _flush(job, token, progress.ctx, kind, records)
                progress.batches += 1
                if on_batch is not None:
                    on_batch(job, progress.batches)
            if dispatched % STATISTICS_EVERY_BATCHES == 0:
                _refresh_statistics()
        lanes.drain()
    except BaseException:
        lanes.close(abort=True)
        raise
    lanes.close()
    job.items_done = progress.items_done
    return progress.ctx


#: PostgreSQL: every this many batches (and when an apply begins), tables that grew by half since
#: their last ANALYZE get one.
STATISTICS_EVERY_BATCHES = 16
#: The catalog tables the batches look rows up in, with the columns they look them up by.
_ANALYZED = {
    "Product": ("id", "external_id", "is_active"),
    "Variant": ("id", "external_id", "product_id"),
    "Price": ("variant_id", "price_type_id"),
    "Stock": ("variant_id", "warehouse_id"),
    "ProductGroup": ("product_id", "group_id"),
    "ProductPropertyValue": ("product_id", "property_id"),
    "ProductImage": ("product_id",),
}


def _refresh_statistics() -> None:
    """ANALYZE the catalog tables the batches look rows up in that outgrew their statistics (PostgreSQL only).

    The batches' statements find their rows by `IN` lists; without statistics (a fresh database,
    or autovacuum off or behind) the planner guesses those match most of a table and scans it
    whole, so every batch costs as much as the table is large and an import grows quadratic.
    A table is analysed when it holds half as many rows again as its statistics say, so a
    large import analyses each table a few times (as it grows), not at every batch.

    Only the look-up columns are analysed: a whole-table ANALYZE also samples the full-text
    index expressions of products, twenty times the cost. (A column list leaves the table's
    "changed since analyze" counter alone, hence the comparison with `reltuples`.)
    """
    if connection.vendor != "postgresql":
        return
    from django.apps import apps

    columns = {apps.get_model("catalog", name)._meta.db_table: cols for name, cols in _ANALYZED.items()}
    with connection.cursor() as cursor:
        cursor.execute("SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid "
                       "WHERE s.relname = ANY(%s) AND s.n_live_tup > GREATEST(c.reltuples, 0) * 1.5 + 1000",
                       [list(columns)])
        stale = [row[0] for row in cursor.fetchall()]
        if stale:
            q = connection.ops.quote_name
            targets = ", ".join(f"{q(t)} ({', '.join(q(c) for c in columns[t])})" for t in stale)
            cursor.execute(f"ANALYZE {targets}")


APPLIERS = {
    UnitRecord: apply.apply_units,
    GroupRecord: apply.apply_groups,
    PropertyRecord: apply.apply_properties,
    PriceTypeRecord: apply.apply_price_types,
    WarehouseRecord: apply.apply_warehouses,
    ProductRecord: apply.apply_products,
    OfferRecord: apply.apply_offers,
}


def _flush(job: ImportJob, token: str, ctx: apply.Context, kind, records: list) -> apply.Context:
    """Apply one batch and move the position, in one transaction; returns the updated context."""
    items = len(records) if kind in ITEM_TYPES else 0
    done = job.items_done  # _write below moves it before the commit, which may still fail
    integrity_retried = False
    locked = 0
    while True:
        trial = ctx.copy()
        try:
            with transaction.atomic():
                _commit_without_flush()
                _write(job, token)  # inside the transaction: only the owner commits
                APPLIERS[kind](records, trial)
                if _catalog_changed_by(ctx, trial):
                    # Bulk writes send no signals: the storefront's cached listings must
                    # learn of this batch from the generation, committed with it.
                    catalog_changed()
                _write(job, token, **_position(done + items, trial, items_begun=bool(items)))
            return trial
        except IntegrityError:
            # A row the batch found missing and inserted (apply._insert_or_upsert) was written
            # meanwhile by someone else (the admin, a worker presumed dead): the batch rolled
            # back whole, and once more it reads what exists and upserts that.
            if integrity_retried:
                raise
            integrity_retried = True
        except OperationalError:
            # SQLite under load: another writer held the lock past busy_timeout. The batch
            # rolled back whole; try it again a few times before giving up.
            locked += 1
            if locked == 5:
                raise
            time.sleep(0.5 * locked)


def _commit_without_flush() -> None:
    """PostgreSQL: this transaction's COMMIT does not wait for the WAL flush.

    A batch and the job's position commit together, so a batch lost to a crash right after
    its commit is simply applied again on resume (_finish commits synchronously).
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


def _catalog_changed_by(before: apply.Context, after: apply.Context) -> bool:
    """Whether a batch created, updated or hid anything the storefront lists."""
    return (after.created, after.updated, after.deactivated) != (before.created, before.updated, before.deactivated)


def _position(items_done: int, ctx: apply.Context, *, items_begun: bool) -> dict:
    """The job's fields a committed batch writes: its position, counters and warnings."""
    fields = {"items_done": items_done, "created": ctx.created, "updated": ctx.updated, "unchanged": ctx.unchanged,
              "deactivated": ctx.deactivated, "warnings": ctx.warnings, "warning_count": ctx.warning_count}
    if items_begun:
        fields["classifier_done"] = True
    return fields


def _finish(job: ImportJob, token: str, ctx: apply.Context, options: ExchangeSettings) -> None:
    with transaction.atomic():
        _write(job, token)
        if job.groups_total:
            group_paths_rebuild()
        hidden = 0
        if _classic_single_full_import(job) and options.missing_products == ExchangeSettings.MissingProducts.HIDE:
            products, _groups = apply.hide_untouched(job.mark, groups=_hides_groups([job]))
            hidden = products
            ImportJob.objects.filter(mark=job.mark).update(finalized_at=timezone.now())
        _write(job, token, state=State.DONE, finished_at=timezone.now(), stage="", hidden=hidden,
               warnings=ctx.warnings, warning_count=ctx.warning_count)
    cleanup(job)


def _hides_groups(jobs) -> bool:
    """Groups are hidden only when a full upload carried the whole classifier's groups."""
    return any(j.groups_total and j.classifier_changes_only is not True for j in jobs)


def _classic_single_full_import(job: ImportJob) -> bool:
    """The 1C 7.7 / old UT case: they send neither deactivate nor complete (PROTOCOL.md §3.5).

    Detected as: a full (not changes-only) catalog file named exactly `import.xml`, the only
    catalog file of its exchange so far, in an exchange (run) not finalized yet. Hiding at its
    end is safe for newer clients too: a later file of the same exchange re-activates what it
    lists, and `finalize_run` does nothing for an exchange already handled.
    """
    if job.run_id is None or job.kind != KIND_CATALOG or job.changes_only is not False:
        return False
    if Path(job.filename.replace("\\", "/")).name.lower() != "import.xml":
        return False
    same_run = ImportJob.objects.filter(run_id=job.run_id)
    if same_run.filter(finalized_at__isnull=False).exists():
        return False
    return not same_run.filter(kind=KIND_CATALOG).exclude(pk=job.pk).exists()
