"""Background jobs: the bibliography import a curator starts on the web, run by a worker.

A job's row (ImportJob) is its whole state. The worker claims it (import_job_run), imports the file in one
transaction while holding the row's lock, and records the outcome in the same transaction, so the import
and "done" commit together or not at all: a second delivery of the same job finds it finished, or locked
by the worker already on it, and does nothing. Progress goes to the cache (the rows being written are not
visible until the commit), where the job's page reads it.
"""

from __future__ import annotations

from dataclasses import asdict

from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from evidence import lookup
from evidence.importers.detect import parse_bibliography
from evidence.importers.records import BibliographyError
from evidence.models import ImportJob, JobState, Study
from evidence.services.bibliography import bibliography_import
from evidence.services.lookup import study_lookup_apply
from evidence.services.reports import ReportLine

# how long the cache keeps a running job's progress after its last batch
PROGRESS_SECONDS = 60 * 60


def progress_key(job_id: int) -> str:
    return f"evidence:import-job:{job_id}:progress"


def import_job_progress(job: ImportJob) -> tuple[int, int]:
    """(entries handled, entries in the file) for the job's page: from the cache while it runs."""
    if job.state == JobState.RUNNING:
        done, total = cache.get(progress_key(job.pk), (job.done, job.total))
        return done, total
    return job.done, job.total


@transaction.atomic
def import_job_create(
    *,
    text: str,
    filename: str,
    format: str = "",
    update: bool = False,
    lookup: bool = False,
    user: AbstractBaseUser | None = None,
) -> ImportJob:
    """A waiting job for this file (already read and previewed: the text is UTF-8)."""
    return ImportJob.objects.create(
        text=text, filename=filename, format=format, update=update, lookup=lookup, user=user
    )


def import_job_run(*, job_id: int) -> ImportJob | None:
    """Run a waiting job: import its file and record the report. Returns the job, or None when there is
    nothing to do (no such job, finished already, or another worker holds it).

    A file the importer refuses (BibliographyError) fails the job with the importer's reason, and
    nothing is written. Any other exception (the database went away, say) rolls the import back and
    propagates: the task records it (import_job_retry_later or import_job_fail) and may try again.
    """
    with transaction.atomic():
        # skip_locked, here and below: a second delivery of the job while a worker imports it (holding the
        # row's lock) leaves at once instead of waiting for that import to end
        waiting = ImportJob.objects.select_for_update(skip_locked=True).filter(
            pk=job_id, state__in=[JobState.QUEUED, JobState.RUNNING]
        )
        if not list(waiting.values_list("pk", flat=True)):
            return None
        ImportJob.objects.filter(pk=job_id).update(
            state=JobState.RUNNING, started_at=timezone.now(), attempts=F("attempts") + 1
        )
    with transaction.atomic():
        job = ImportJob.objects.select_for_update(skip_locked=True).filter(pk=job_id).first()
        if job is None or job.finished:
            return None
        to_look_up: list[Study] | None = None

        def progress(handled: int, total: int) -> None:
            done, _ = cache.get(progress_key(job.pk), (0, total))
            cache.set(progress_key(job.pk), (done + handled, total), PROGRESS_SECONDS)

        try:
            # a savepoint: a refused file fails the job, and the job's row still commits
            with transaction.atomic():
                report = bibliography_import(
                    data=job.text,
                    filename=job.filename,
                    format=job.format or None,
                    user=job.user,
                    update=job.update,
                    progress=progress,
                )
        except BibliographyError as exc:
            _finish(job, JobState.FAILED, error=f"{exc} Nothing was imported.")
            return job
        job.lines = [asdict(line) for line in report.lines]
        job.summary = report.summary("study")[:500]
        job.total = job.done = sum(report.counts("study").values())
        job.format = report.format
        job.error = ""
        to_look_up = _studies_to_look_up(job)
        if to_look_up is None:
            _finish(job, JobState.SUCCEEDED)
        else:
            job.save()  # imported; still running while the lookups are made
    cache.delete(progress_key(job.pk))
    if to_look_up is not None:
        _look_up(job, to_look_up)
    return job


def _studies_to_look_up(job: ImportJob) -> list[Study] | None:
    """The studies of the job's file to complete from Crossref and PubMed, or None when none are to be:
    the option is off, or lookups are switched off (the report then says so)."""
    if not job.lookup:
        return None
    if not lookup.enabled():
        job.lines.append(asdict(ReportLine("skipped", "lookup", job.filename, str(lookup.LookupDisabled()))))
        return None
    records = parse_bibliography(job.text, filename=job.filename, format=job.format or None).records
    dois = {record.doi for record in records if record.doi}
    pmids = {record.pmid for record in records if record.pmid}
    held = (Q(doi__in=dois) & ~Q(doi="")) | (Q(pmid__in=pmids) & ~Q(pmid=""))
    return list(Study.objects.filter(held).order_by("pk"))


def _look_up(job: ImportJob, studies: list[Study]) -> None:
    """Complete the imported studies from Crossref and PubMed (each its own transaction, after the import
    committed), then finish the job with a line per study the lookups changed, contradicted or missed."""
    filled = failed = 0
    lines = []
    for study in studies:
        outcome = study_lookup_apply(study=study, user=job.user)
        label = study.citation_key or study.doi or study.pmid
        if outcome.failures:
            failed += 1
            lines.append(ReportLine("failed", "lookup", label, "; ".join(outcome.failures)))
        if outcome.changed:
            filled += 1
            lines.append(ReportLine("updated", "lookup", label, outcome.summary()))
        elif outcome.conflicts:
            lines.append(ReportLine("conflict", "lookup", label, outcome.summary()))
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        job.lines = [*job.lines, *(asdict(line) for line in lines)]
        job.summary = f"{job.summary}; looked up {len(studies)}: {filled} completed, {failed} failed"[:500]
        _finish(job, JobState.SUCCEEDED)


def _finish(job: ImportJob, state: str, *, error: str = "") -> None:
    job.state = state
    job.finished_at = timezone.now()
    job.text = ""  # the file is not kept once imported
    if error:
        job.error = error
    job.save()


@transaction.atomic
def import_job_retry_later(*, job_id: int, error: str) -> None:
    """The last attempt met a passing fault (nothing was written); the job waits to be tried again."""
    ImportJob.objects.filter(pk=job_id, state=JobState.RUNNING).update(
        state=JobState.QUEUED, error=f"{error} Trying again shortly."
    )


@transaction.atomic
def import_job_fail(*, job_id: int, error: str) -> None:
    """Give up on a job: it says why, and its import wrote nothing."""
    job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
    if job is not None and not job.finished:
        _finish(job, JobState.FAILED, error=f"{error} Nothing was imported.")
