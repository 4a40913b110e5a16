"""Retractions: one study at a time, and Retraction Watch notices in bulk."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import (
    Q,
)

from evidence import signals
from evidence.importers.records import Rejection
from evidence.importers.retractions import RetractionNotice
from evidence.models import Claim, RetractionStatus, Study
from evidence.services.reports import ImportReport, ReportLine


def after_retraction_change(studies: list[Study], *, user: AbstractBaseUser | None = None) -> list[ReportLine]:
    """Tell the apps built on evidence which of ``studies`` became retracted, or are under an expression of
    concern (evidence.signals); returns what they did about it (reviews flags the claims relying on each,
    and sends them back for re-review after a retraction). Call it with the studies whose status just
    changed from anything but retracted; the receivers raise a flag once per claim and study."""
    lines = []
    retracted = [study for study in studies if study.is_retracted]
    if retracted:
        lines += signals.consequences(signals.studies_retracted, sender=Study, studies=retracted, user=user)
    concerned = [study for study in studies if study.retraction_status == RetractionStatus.EXPRESSION_OF_CONCERN]
    if concerned:
        lines += signals.consequences(signals.studies_concerned, sender=Study, studies=concerned, user=user)
    return lines


@transaction.atomic
def study_set_retraction(
    *,
    study: Study,
    status: str,
    note: str = "",
    notice_doi: str = "",
    retraction_date: date | None = None,
    user: AbstractBaseUser | None = None,
    report: ImportReport | None = None,
) -> Study:
    """Record a retraction, expression of concern or correction; a newly retracted study flags the
    claims relying on it and sends them back for re-review (evidence.signals.studies_retracted), and
    ``report``, when given, gets a line for each flag raised. Any change of status is a change of the
    citing claims' evidence (their reviewers see it in their queue)."""
    was_retracted = study.is_retracted
    status_before = study.retraction_status
    study.retraction_status = status
    study.retraction_note = note or study.retraction_note
    study.retraction_doi = notice_doi or study.retraction_doi
    study.retraction_date = retraction_date or study.retraction_date
    study._change_reason = f"retraction status set to {status}"
    if user is not None:
        study._history_user = user
    study.full_clean()
    study.save(
        update_fields=["retraction_status", "retraction_note", "retraction_doi", "retraction_date", "updated_at"]
    )
    if status != status_before:
        Claim.objects.filter(citations__study=study).mark_evidence_changed()
    if not was_retracted:
        lines = after_retraction_change([study], user=user)
        if report is not None:
            report.lines += lines
    return study


def retractions_import(
    *,
    notices: Iterable[RetractionNotice | Rejection],
    user: AbstractBaseUser | None = None,
    dry_run: bool = False,
    chunk_size: int = 2000,
    progress: Callable[[int], Any] | None = None,
) -> ImportReport:
    """Apply Retraction Watch notices to the studies they name, matched by DOI, then PMID.

    The notices are streamed in chunks; each chunk costs two queries to match, so a data set of tens
    of thousands of rows touches the database a few dozen times plus one write per study it changes.
    A notice only raises a study's status (retracted > expression of concern > corrected); it fills
    an empty notice date and DOI and adds its reasons to the note. A study that becomes retracted goes
    through study_set_retraction, which flags the claims relying on it.
    """
    report = ImportReport(dry_run=dry_run, format="retraction-watch")
    with transaction.atomic():
        chunk: list[RetractionNotice] = []
        for notice in notices:
            if isinstance(notice, Rejection):
                report.add("rejected", "notice", notice.source, notice.reason)
                continue
            chunk.append(notice)
            if len(chunk) >= chunk_size:
                _apply_notices(chunk, report, user)
                if progress is not None:
                    progress(len(chunk))
                chunk = []
        if chunk:
            _apply_notices(chunk, report, user)
            if progress is not None:
                progress(len(chunk))
        if dry_run:
            transaction.set_rollback(True)
    return report


def _apply_notices(notices: list[RetractionNotice], report: ImportReport, user: AbstractBaseUser | None) -> None:
    dois = {n.original_doi for n in notices if n.original_doi}
    pmids = {n.original_pmid for n in notices if n.original_pmid}
    if not dois and not pmids:
        return
    # the "not empty" conditions let PostgreSQL use the partial unique indexes (see _import_batch)
    matches = Study.objects.filter((Q(doi__in=dois) & ~Q(doi="")) | (Q(pmid__in=pmids) & ~Q(pmid="")))
    studies = list(matches.order_by())
    by_doi = {s.doi: s for s in studies if s.doi}
    by_pmid = {s.pmid: s for s in studies if s.pmid}
    for notice in notices:
        study = by_doi.get(notice.original_doi) if notice.original_doi else None
        study = study or (by_pmid.get(notice.original_pmid) if notice.original_pmid else None)
        if study is None:
            continue
        label = study.citation_key or study.doi or study.pmid
        where = f"{notice.source} (Retraction Watch record {notice.record_id})"
        if notice.status is None:
            report.add(
                "conflict", "study", label, f"{where}: a {notice.nature.lower()} notice is reported, not applied"
            )
            continue
        status = study.retraction_status
        if RetractionStatus.severity(notice.status) > RetractionStatus.severity(status):
            status = notice.status
        elif RetractionStatus.severity(notice.status) < RetractionStatus.severity(status):
            report.add("unchanged", "study", label, f"{where}: already {study.get_retraction_status_display().lower()}")
            continue
        reason = f"Retraction Watch ({notice.nature}): {notice.reason}" if notice.reason else ""
        note = study.retraction_note
        if reason and reason not in note:
            note = f"{note}\n\n{reason}" if note else reason
        values = {
            "retraction_status": status,
            "retraction_note": note,
            "retraction_doi": study.retraction_doi or notice.notice_doi,
            "retraction_date": study.retraction_date or notice.date,
        }
        changed = [name for name, value in values.items() if getattr(study, name) != value]
        if not changed:
            report.add("unchanged", "study", label, where)
            continue
        report.add("updated", "study", label, f"{where}: {', '.join(changed)}")
        # the flags this raises follow the study's line in the report
        study_set_retraction(
            study=study,
            status=status,
            note=note,
            notice_doi=values["retraction_doi"],
            retraction_date=values["retraction_date"],
            user=user,
            report=report,
        )


# --- Articles and claims ----------------------------------------------------------------------------
