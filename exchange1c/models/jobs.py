"""Import jobs: one CommerceML file on its way into the catalog, with its state in the database.

A job's whole state (stage, position, counters, warnings, the worker's heartbeat) lives in its
row, so a poll answered by another process, or after a restart, continues where the last
one stopped (PROTOCOL.md §3.4). `StagedImage` keeps what the reading stage learnt about the
pictures a file names, so the apply stage never reads the upload folder again.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["BrandProperty", "ImportJob", "SeenRange", "StagedImage"]


class ImportJob(models.Model):
    """One file of one exchange (or of a re-run), read, checked and applied in batches.

    States: `pending` (created), `reading` (stage 1: the whole file is read and checked;
    nothing visible changes), `applying` (stage 2: batches, each its own transaction with the
    position), `done`, `failed`. `apply_started_at` set means the catalog may hold part of
    this file: such a job is always finished, never dropped (PROTOCOL.md §3.2).
    """

    class State(models.TextChoices):
        PENDING = "pending", _("waiting")
        READING = "reading", _("reading the file")
        APPLYING = "applying", _("writing to the catalog")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    run = models.ForeignKey(
        "exchange1c.ExchangeRun", verbose_name=_("exchange"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="import_jobs",
    )
    #: What catalog rows this job touches are marked with (Group/Product/Variant.sync_mark):
    #: the run's id, or a negative number shared by the files of one synchronous re-run.
    mark = models.BigIntegerField(_("exchange mark"), db_index=True)
    filename = models.CharField(_("file"), max_length=500)
    #: The folder the file was uploaded to; its pictures are relative to it.
    folder = models.CharField(_("upload folder"), max_length=1000)
    #: A private copy of the file: the upload folder may be emptied by the next `init`.
    work_path = models.CharField(_("working copy"), max_length=1000, blank=True)
    #: Size and modification time of the uploaded file: the same name uploaded again is a new job.
    fingerprint = models.CharField(_("file fingerprint"), max_length=100, blank=True)
    kind = models.CharField(_("kind"), max_length=16, blank=True)
    schema_version = models.CharField(_("schema version"), max_length=16, blank=True)
    changes_only = models.BooleanField(_("changes only"), null=True, blank=True)
    classifier_changes_only = models.BooleanField(_("classifier changes only"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PENDING,
                             db_index=True)
    stage = models.CharField(_("stage"), max_length=200, blank=True)
    items_total = models.PositiveIntegerField(_("products/offers in the file"), default=0)
    #: Products/offers already applied: the reader resumes with `skip=items_done`.
    items_done = models.PositiveIntegerField(_("products/offers applied"), default=0)
    groups_total = models.PositiveIntegerField(_("groups in the file"), default=0)
    classifier_done = models.BooleanField(_("classifier applied"), default=False)
    created = models.PositiveIntegerField(_("created"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    deactivated = models.PositiveIntegerField(_("deactivated"), default=0)
    hidden = models.PositiveIntegerField(_("hidden as missing"), default=0)
    warning_count = models.PositiveIntegerField(_("warnings"), default=0)
    #: The first warnings, each "line N: text" (the count above has them all).
    warnings = models.JSONField(_("warnings"), default=list, blank=True)
    error = models.TextField(_("error"), blank=True)
    #: Random token of the worker that owns the job; `heartbeat_at` is its last sign of life.
    worker = models.CharField(_("worker"), max_length=64, blank=True)
    heartbeat_at = models.DateTimeField(_("last heartbeat"), null=True, blank=True)
    apply_started_at = models.DateTimeField(_("apply began"), null=True, blank=True, db_index=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    #: Set on every job of a run once its missing products were hidden (never twice per run).
    finalized_at = models.DateTimeField(_("missing products handled"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["run", "filename"], name="importjob_run_filename")]

    def __str__(self):
        return f"{self.filename} ({self.get_state_display()})"

    @property
    def is_finished(self):
        return self.state in (self.State.DONE, self.State.FAILED)


class StagedImage(models.Model):
    """A picture a job's file names, already copied into media storage (or why it could not be)."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="images")
    path = models.CharField(_("path in the upload"), max_length=1000)
    content_hash = models.CharField(_("content hash"), max_length=64, blank=True)
    file = models.CharField(_("stored file"), max_length=255, blank=True)
    width = models.PositiveIntegerField(_("width"), null=True, blank=True)
    height = models.PositiveIntegerField(_("height"), null=True, blank=True)
    problem = models.CharField(_("problem"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("staged picture")
        verbose_name_plural = _("staged pictures")
        ordering = ["job", "path"]
        constraints = [models.UniqueConstraint(fields=["job", "path"], name="stagedimage_job_path_unique")]

    def __str__(self):
        return self.path


class BrandProperty(models.Model):
    """A 1C property the site keeps as brands rather than as a property (setting 5).

    Remembered so that later files (and later exchanges) that name the property only by its
    Ид still turn its values into brands.
    """

    external_id = models.CharField(_("1C ID"), max_length=255, unique=True)
    name = models.CharField(_("name"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("brand property")
        verbose_name_plural = _("brand properties")
        ordering = ["name"]

    def __str__(self):
        return self.name or self.external_id


class SeenRange(models.Model):
    """Products an exchange listed unchanged, ids `first_id`..`last_id`: they count as touched when
    missing products are hidden.

    Moving each product's own `sync_mark` would rewrite every row of an unchanged catalog at
    every exchange. One row per run of consecutive ids is a few rows for a whole catalog, since
    1C lists products in the order they were first imported (and so numbered); in the worst case
    it is one row per product. Rows live until the exchange is finalized
    (importer.apply.hide_untouched), or are purged by `exchange_maintenance`.
    """

    mark = models.BigIntegerField(_("exchange mark"))
    #: Not foreign keys: a product deleted meanwhile leaves a harmless row, not a cascade.
    first_id = models.BigIntegerField(_("first product"))
    last_id = models.BigIntegerField(_("last product"))

    class Meta:
        verbose_name = _("products seen unchanged")
        verbose_name_plural = _("products seen unchanged")
        indexes = [models.Index(fields=["mark", "first_id"], name="seenrange_mark_first")]

    def __str__(self):
        return f"{self.mark}: {self.first_id}-{self.last_id}"
