"""Celery tasks (evidence/celery.py finds them here). Each is idempotent: running one twice, or after a
worker died mid-way, does no more than running it once. Passing faults (the database or the network
away for a moment) are retried with exponential back-off; anything else fails the job with its reason.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import Task, shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from evidence.jobs import enqueue
from evidence.lookup import LookupDisabled
from evidence.models import ImportJob, JobState
from evidence.services.jobs import import_job_fail, import_job_retry_later, import_job_run
from evidence.services.monitoring import retraction_check_run

logger = logging.getLogger("evidence.tasks")

# database faults that pass: a restart, a failover, a lock timeout
TRANSIENT = (OperationalError, InterfaceError)
MAX_RETRIES = 5
# a waiting job not picked up for this long lost its message (sent while Redis was down, say)
REQUEUE_AFTER = timedelta(minutes=2)


def backoff(retries: int) -> int:
    """Seconds before try number ``retries + 1``: 5, 10, 20, 40, 80."""
    return 5 * 2**retries


@shared_task(bind=True, max_retries=MAX_RETRIES)
def run_import_job(self: Task, job_id: int) -> None:
    """Import a bibliography job's file (evidence.services.jobs.import_job_run)."""
    try:
        import_job_run(job_id=job_id)
    except TRANSIENT as exc:
        reason = f"The database was unavailable ({type(exc).__name__}: {exc})."
        if self.request.retries >= self.max_retries:
            import_job_fail(job_id=job_id, error=f"{reason} Gave up after {self.request.retries + 1} attempts.")
            return
        import_job_retry_later(job_id=job_id, error=reason)
        raise self.retry(exc=exc, countdown=backoff(self.request.retries)) from exc
    except Exception as exc:
        # a bug, not the file (the importer's refusals are handled by the service): the job says so, and
        # the worker's log has the traceback
        import_job_fail(job_id=job_id, error=f"The import stopped on an unexpected error ({type(exc).__name__}).")
        raise


@shared_task
def requeue_waiting_jobs() -> int:
    """Send again the jobs that have waited longer than REQUEUE_AFTER; returns how many."""
    stale = timezone.now() - REQUEUE_AFTER
    waiting = list(ImportJob.objects.filter(state=JobState.QUEUED, created_at__lt=stale).values_list("pk", flat=True))
    for job_id in waiting:
        enqueue(run_import_job, job_id)
    return len(waiting)


@shared_task(bind=True, max_retries=MAX_RETRIES)
def check_retractions(self: Task) -> int:
    """The scheduled retraction check (evidence.services.monitoring); returns how many studies changed.
    Switched off (EVIDENCE_LOOKUP_ENABLED unset) it logs so and does nothing. A database fault stops the
    run (what it applied stays) and tries again with back-off: studies already updated are not changed
    twice, since a notice only ever raises a study's status."""
    try:
        outcome = retraction_check_run()
    except LookupDisabled as exc:
        logger.info("Retraction check skipped: %s", exc)
        return 0
    except TRANSIENT as exc:
        raise self.retry(exc=exc, countdown=backoff(self.request.retries)) from exc
    logger.info(
        "Retraction check: %d cited studies checked, %d changed, %d lookups failed.",
        outcome.checked,
        len(outcome.changes),
        len(outcome.failures),
    )
    return len(outcome.changes)
