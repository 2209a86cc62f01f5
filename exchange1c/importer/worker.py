"""The import's worker: a thread the polling process starts itself, with its heartbeat in the database.

No extra service to run (`make demo`, plain gunicorn): a poll starts a worker thread for its
job unless one is alive, then only watches the job's row. Liveness is the row's
`heartbeat_at`: a worker beats at every batch; one silent for longer than `stale_after()`
is presumed dead (its process restarted or crashed) and the next poll, in any process,
takes the job over with a new token. The old worker, if it was only slow, finds its token
gone at its next checkpoint and stops without committing (pipeline._write).
"""

import logging
import threading
import time
import uuid
from datetime import timedelta

from django.db import OperationalError, connection
from django.db.models import Q
from django.utils import timezone

from exchange1c.importer import pipeline
from exchange1c.models import ImportJob

logger = logging.getLogger(__name__)

#: A heartbeat this old (or 3× the step time, if longer) means the worker is gone.
MIN_STALE_SECONDS = 2.0

_lock = threading.Lock()
_threads: dict[int, tuple[threading.Thread, str]] = {}


def stale_after(budget_seconds: float) -> float:
    return max(3 * budget_seconds, MIN_STALE_SECONDS)


def claim(job_id: int, *, stale_seconds: float, dead_token: str | None = None) -> str | None:
    """Make this process the job's owner if nobody alive owns it; returns the new token or None.

    `dead_token`: a token this process knows is dead (its thread ended), taken over at once.
    """
    token = uuid.uuid4().hex
    now = timezone.now()
    free = Q(worker="") | Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=now - timedelta(seconds=stale_seconds))
    if dead_token:
        free |= Q(worker=dead_token)
    rows = (ImportJob.objects.filter(pk=job_id).exclude(state__in=[ImportJob.State.DONE, ImportJob.State.FAILED])
            .filter(free).update(worker=token, heartbeat_at=now))
    return token if rows else None


def _work(job_id: int, token: str, batch_size: int, on_batch) -> None:
    try:
        pipeline.run_job(job_id, token=token, batch_size=batch_size, on_batch=on_batch)
    except pipeline.JobLost:
        logger.info("import job %s: taken over by another worker", job_id)
    except BaseException:
        # Whatever killed the thread, the job stays where its last batch left it; the next
        # poll resumes it once the heartbeat is stale.
        logger.exception("import job %s: worker stopped", job_id)
    finally:
        connection.close()


def ensure_worker(job_id: int, *, budget_seconds: float, batch_size: int = pipeline.BATCH_SIZE,
                  on_batch=None) -> bool:
    """Start a worker thread for the job unless a live one has it; True when one was started."""
    with _lock:
        current = _threads.get(job_id)
        dead_token = None
        if current is not None:
            thread, old_token = current
            if thread.is_alive():
                return False
            dead_token = old_token
        token = claim(job_id, stale_seconds=stale_after(budget_seconds), dead_token=dead_token)
        if token is None:
            return False
        thread = threading.Thread(target=_work, args=(job_id, token, batch_size, on_batch),
                                  name=f"import-job-{job_id}", daemon=True)
        _threads[job_id] = (thread, token)
        thread.start()
        return True


def thread_ended(job_id: int) -> bool:
    """True when this process ran a worker for the job and that thread is gone (crashed or stopped)."""
    current = _threads.get(job_id)
    return current is not None and not current[0].is_alive()


def running_thread(job_id: int) -> threading.Thread | None:
    """This process's worker thread for the job, if it is alive (tests join it)."""
    current = _threads.get(job_id)
    if current is not None and current[0].is_alive():
        return current[0]
    return None


def join_all(timeout: float = 60.0) -> list[int]:
    """Wait for this process's worker threads to end; returns the jobs still running after `timeout`.

    A worker that outlives the request (or the test) that started it keeps writing; the test
    suite waits here after every test so one test's import never lands in the next one's data.
    """
    with _lock:
        threads = list(_threads.items())
    deadline = time.monotonic() + timeout
    for _job_id, (thread, _token) in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return [job_id for job_id, (thread, _token) in threads if thread.is_alive()]


def run_now(job_id: int, *, batch_size: int = pipeline.BATCH_SIZE, on_batch=None) -> ImportJob:
    """Run the job to its end in this thread (synchronous imports); returns the job."""
    for attempt in range(5):
        token = claim(job_id, stale_seconds=0)
        if token is None:
            return ImportJob.objects.get(pk=job_id)
        try:
            return pipeline.run_job(job_id, token=token, batch_size=batch_size, on_batch=on_batch)
        except OperationalError:
            # The database was busy past every retry: resume from the last committed batch.
            if attempt == 4:
                raise
            time.sleep(1.0)
    return ImportJob.objects.get(pk=job_id)
