"""The retraction check: every cited study's DOI asked of Crossref (its ``updated-by`` notices, which carry
the Retraction Watch data) and its PMID of PubMed (the "Retracted Publication" type). A notice graver than
the study's status goes through study_set_retraction, the one retraction service, so flags, re-review and
reader banners follow as for a retraction a curator records; each change is kept (RetractionChange) for
the editor's desk. Scheduled daily by Celery beat (evidence.tasks.check_retractions); by hand with
``manage.py check_retractions [--dry-run]``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from evidence import lookup
from evidence.lookup import Found, LookupFailed, Notice
from evidence.models import Citation, JobState, RetractionChange, RetractionCheck, RetractionStatus, Study
from evidence.services.retractions import study_set_retraction


@dataclass
class CheckOutcome:
    """What a check found: the changes it made (or, in a dry run, would make) and the lookups that failed."""

    run: RetractionCheck | None
    checked: int = 0
    changes: list[RetractionChange] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    dry_run: bool = False


def studies_to_check() -> QuerySet[Study]:
    """The cited studies with a DOI or PMID (an EXISTS per study, not a join: no duplicates to remove)."""
    cited = Exists(Citation.objects.filter(study=OuterRef("pk")))
    return Study.objects.filter(cited).exclude(doi="", pmid="").order_by("pk")


def _gravest(found: list[Found]) -> tuple[Found, Notice] | None:
    notices = [(answer, notice) for answer in found for notice in answer.notices]
    if not notices:
        return None
    return max(notices, key=lambda pair: RetractionStatus.severity(pair[1].status))


def _ask(study: Study) -> tuple[list[Found], list[str]]:
    found, failures = [], []
    for identifier, ask in ((study.doi, lookup.crossref_work), (study.pmid, lookup.pubmed_summary)):
        if identifier:
            try:
                found.append(ask(identifier, fresh=True))
            except LookupFailed as exc:
                failures.append(str(exc))
    return found, failures


def retraction_check_run(
    *,
    dry_run: bool = False,
    user: AbstractBaseUser | None = None,
    progress: Callable[[int], Any] | None = None,
) -> CheckOutcome:
    """Check every cited study (studies_to_check) and apply what is new. Raises LookupDisabled when
    lookups are switched off, before anything is written.

    Each study is asked about outside any transaction and changed in its own, so a slow source holds no
    lock; a dry run records no run and rolls each change back (its consequences too: flags, re-review)."""
    if not lookup.enabled():
        raise lookup.LookupDisabled
    run = None if dry_run else RetractionCheck.objects.create()
    outcome = CheckOutcome(run=run, dry_run=dry_run)
    try:
        _check_all(outcome, run=run, user=user, dry_run=dry_run, progress=progress)
    except Exception as exc:
        if run is not None:
            # what was applied stays applied (each study is its own transaction); the run says where it stopped
            RetractionCheck.objects.filter(pk=run.pk).update(
                state=JobState.FAILED,
                finished_at=timezone.now(),
                checked=outcome.checked,
                error=f"stopped after {outcome.checked} studies: {type(exc).__name__}: {exc}"[:10_000],
            )
        raise
    if run is not None:
        run.state = JobState.SUCCEEDED
        run.finished_at = timezone.now()
        run.checked = outcome.checked
        run.failed = len(outcome.failures)
        run.error = "\n".join(outcome.failures)[:10_000]
        run.save()
    return outcome


def _check_all(
    outcome: CheckOutcome,
    *,
    run: RetractionCheck | None,
    user: AbstractBaseUser | None,
    dry_run: bool,
    progress: Callable[[int], Any] | None,
) -> None:
    for study in studies_to_check():
        found, failures = _ask(study)
        outcome.checked += 1
        label = study.citation_key or study.doi or study.pmid
        outcome.failures += [f"{label}: {failure}" for failure in failures]
        gravest = _gravest(found)
        if gravest is not None:
            change = _apply(study, *gravest, run=run, user=user, dry_run=dry_run)
            if change is not None:
                outcome.changes.append(change)
        if progress is not None:
            progress(1)


def _apply(
    study: Study, answer: Found, notice: Notice, *, run: RetractionCheck | None, user: Any, dry_run: bool
) -> RetractionChange | None:
    with transaction.atomic():
        study = Study.objects.select_for_update().get(pk=study.pk)
        before = study.retraction_status
        if RetractionStatus.severity(notice.status) <= RetractionStatus.severity(before):
            return None  # known already, or a lesser notice than the one recorded
        said = f"{answer.source}: {notice.label}"
        if notice.origin:
            said += f" (from {notice.origin.replace('-', ' ').title()})"
        if notice.date:
            said += f", {notice.date.isoformat()}"
        if notice.notice_doi:
            said += f", notice DOI {notice.notice_doi}"
        note = f"{study.retraction_note}\n\n{said}" if study.retraction_note else said
        study_set_retraction(
            study=study,
            status=notice.status,
            note=note,
            notice_doi=notice.notice_doi,
            retraction_date=notice.date,
            user=user,
        )
        change = RetractionChange(
            check_run=run,
            study=study,
            status_before=before,
            status_after=notice.status,
            source=answer.source,
            notice=f"{said} ({answer.url})",
        )
        if dry_run:
            transaction.set_rollback(True)
        else:
            change.save()
    return change


def latest_retraction_check() -> tuple[RetractionCheck | None, list[RetractionChange]]:
    """The last finished check and what it changed, for the editor's desk: two queries."""
    run = RetractionCheck.objects.filter(state=JobState.SUCCEEDED).order_by("-started_at").first()
    if run is None:
        return None, []
    return run, list(run.changes.select_related("study").order_by("pk"))
