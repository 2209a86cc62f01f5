"""Housekeeping after exchanges; run it from cron (docs/1c-setup.md):

    */10 * * * *  cd /srv/obmen && .venv/bin/python manage.py exchange_maintenance
"""

import logging
from datetime import timedelta
from pathlib import Path

from django.core.management.base import BaseCommand
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from exchange1c import emails, files, protocol
from exchange1c import log as exchange_log
from exchange1c.models import ExchangeRun, ExchangeSession, ExchangeSettings, ImportJob, SeenRange

logger = logging.getLogger(__name__)


def close_abandoned(cfg) -> int:
    """Open exchanges silent for longer than a session lives are over (1C 7.7 never says complete)."""
    stale = timezone.now() - timedelta(hours=cfg.session_hours)
    closed = 0
    for run in ExchangeRun.objects.filter(status=ExchangeRun.Status.OPEN, updated_at__lt=stale):
        protocol.close_run(run)
        closed += 1
    return closed


def purge_files(cfg) -> int:
    """Delete the folders of exchanges that ended more than keep_days ago, and strays as old."""
    cutoff = timezone.now() - timedelta(days=cfg.keep_days)
    purged = 0
    old_runs = (ExchangeRun.objects.exclude(status=ExchangeRun.Status.OPEN).filter(files_purged_at__isnull=True)
                .annotate(ended=Coalesce("finished_at", "updated_at")).filter(ended__lt=cutoff))
    for run in old_runs:
        if run.folder:
            try:
                files.remove_folder(files.run_folder(run.folder))
            except files.UnsafeName:
                logger.warning("exchange %s has a folder outside EXCHANGE_ROOT: %r", run.pk, run.folder)
        ExchangeRun.objects.filter(pk=run.pk).update(files_purged_at=timezone.now())
        purged += 1
    known = set(ExchangeRun.objects.filter(files_purged_at__isnull=True).values_list("folder", flat=True))
    root = files.root()
    # Strays: run folders whose row is gone (a restored database); nothing else is touched.
    for folder in (root.glob("*/run-*") if root.is_dir() else []):
        relative = folder.relative_to(root).as_posix()
        if folder.is_dir() and relative not in known and _mtime(folder) < cutoff.timestamp():
            files.remove_folder(folder)
            purged += 1
    return purged


def purge_seen_products() -> int:
    """Drop the SeenRange rows no exchange will finalize any more (finalizing drops its own).

    Kept: those of open exchanges, and of imports not finalized that began within a day
    (a re-run from the admin has no exchange; its rows go when it ends).
    """
    recent = timezone.now() - timedelta(days=1)
    live = set(ExchangeRun.objects.filter(status=ExchangeRun.Status.OPEN).values_list("pk", flat=True))
    live |= set(ImportJob.objects.filter(finalized_at__isnull=True, created_at__gte=recent)
                .values_list("mark", flat=True))
    return SeenRange.objects.exclude(mark__in=live).delete()[0]


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def run(*, resize: bool = True) -> dict:
    """One maintenance pass; returns what it did, by name."""
    cfg = ExchangeSettings.get_solo()
    report = {"closed_exchanges": close_abandoned(cfg)}
    report["error_emails"] = emails.send_failed_run_emails()
    if resize and cfg.resize_photos:
        from exchange1c.importer.api import resize_pending

        report["photos_resized"] = resize_pending()
    report["purged_folders"] = purge_files(cfg)
    report["purged_seen_products"] = purge_seen_products()
    cutoff = timezone.now() - timedelta(days=cfg.keep_days)
    report["purged_log_rows"] = exchange_log.purge(older_than=cutoff)
    report["expired_sessions"] = ExchangeSession.objects.filter(
        Q(expires_at__lt=timezone.now() - timedelta(days=1))
    ).delete()[0]
    return report


class Command(BaseCommand):
    help = ("Close abandoned exchanges, send error e-mails (setting 8), resize photos (setting 7), "
            "purge exchange files and log rows older than the keep setting.")

    def add_arguments(self, parser):
        parser.add_argument("--no-resize", action="store_true", help="skip photo resizing this time")

    def handle(self, *args, no_resize, **options):
        for key, value in run(resize=not no_resize).items():
            self.stdout.write(f"{key}: {value}")
