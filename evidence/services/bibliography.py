"""Bibliography files (BibTeX, RIS, CSL-JSON) into the study library, one transaction per file.

An import reads the whole file first (evidence.importers.detect.parse_bibliography), so a file that cannot
be read is refused before anything is written. Then, in one transaction:

1. the entries of the file that describe the same work are merged (_InFileDuplicates): a later one fills
   the gaps of the first one and is reported as merged;
2. every remaining record is matched against the library as it was before the import (studies_match:
   DOI, then PMID, then normalised title with year), IMPORT_BATCH_SIZE entries of the file at a time;
3. the batches are written in file order: new studies with simple_history's bulk_create_with_history,
   matched studies that gain or change values with bulk_update_with_history, each with its history row,
   change reason and history user.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from evidence import caching
from evidence.importers.detect import parse_bibliography
from evidence.importers.records import StudyRecord
from evidence.models import Claim, Study
from evidence.services.common import error_messages
from evidence.services.reports import ImportReport, ReportLine
from evidence.services.retractions import after_retraction_change
from evidence.services.studies import (
    EMPTY_VALUES,
    Match,
    change_reason,
    created_detail,
    merge_values,
    normalize_title,
    record_label,
    report_conflicts,
    studies_match,
    study_match,
    study_upsert,
)
from evidence.storable import holds_nul

# Entries of the file matched and written per round trip to the database: a few queries per batch, whatever
# its size, and the new studies of one batch in memory at a time.
IMPORT_BATCH_SIZE = 1000


class BibliographyRejected(Exception):
    """``strict`` import of a file with rejected entries; the transaction was rolled back."""

    def __init__(self, report: ImportReport):
        self.report = report
        super().__init__(f"{len(report.of('rejected'))} entries rejected; nothing was imported")


def bibliography_import(
    *,
    data: bytes | str,
    filename: str = "",
    format: str | None = None,
    user: AbstractBaseUser | None = None,
    dry_run: bool = False,
    update: bool = False,
    strict: bool = False,
    progress: Callable[[int, int], Any] | None = None,
) -> ImportReport:
    """Import a BibTeX, RIS or CSL-JSON file: one transaction for the whole file.

    Raises BibliographyError, before anything is written, for a file that is empty, binary, too large
    (EVIDENCE_IMPORT_MAX_BYTES), truncated or not a bibliography. Otherwise every entry ends up in the
    report: created, updated (empty fields filled; stored values replaced only with ``update``),
    unchanged, merged (a duplicate inside the file, or a second entry for the same stored study),
    conflict (a stored value kept) or rejected, each with its line or key and why: first the entries the
    parser could not read, then each entry's lines in file order, then what the newly retracted studies
    caused (flags). With ``dry_run`` the work is done and rolled back, so the report is exact; with
    ``strict`` a file with any rejected entry is rolled back whole and BibliographyRejected raised.
    ``progress`` is called with (records just handled, records read from the file) after each batch is
    written.

    Queries, per batch of IMPORT_BATCH_SIZE entries: two to match them (studies_match), and at most the
    new studies' INSERT and their history rows' in a savepoint, the matched studies read, their UPDATE
    and their history rows, and the claims whose cited study changed retraction status. Nothing per
    record, unless the database refuses a batch of new studies: then they are saved one at a time, to
    name the one refused. The data version is bumped once, after the commit.
    """
    parsed = parse_bibliography(data, filename=filename, format=format)
    report = ImportReport(dry_run=dry_run, format=parsed.format)
    report.lines += [ReportLine("rejected", "study", rejected.source, rejected.reason) for rejected in parsed.rejected]
    records = parsed.records
    lines: list[list[ReportLine]] = [[] for _ in records]  # each entry's lines, in file order
    kept = _InFileDuplicates(lines).kept(records)
    batches = [
        range(start, min(start + IMPORT_BATCH_SIZE, len(records)))
        for start in range(0, len(records), IMPORT_BATCH_SIZE)
    ]
    with transaction.atomic():
        # every batch is matched before any is written, so the whole file is matched against the library as
        # it was: a study that one entry renames is still found by its old title
        matches: dict[int, Match] = {}
        for batch in batches:
            indexes = [index for index in batch if kept[index]]
            matches.update(zip(indexes, studies_match([records[index] for index in indexes]), strict=True))
        writer = _Writer(records, matches, lines, user=user, update=update)
        for batch in batches:
            writer.write([index for index in batch if kept[index]])
            if progress is not None:
                progress(len(batch), len(records))
        for entry_lines in lines:
            report.lines += entry_lines
        report.lines += after_retraction_change(writer.newly_retracted, user=user)
        if strict and report.of("rejected"):
            raise BibliographyRejected(report)
        if report.changed:
            # Bulk writes send no post_save signal, so the data version behind the public pages' ETags and
            # cached aggregates is bumped here: once, after the commit (a dry run drops it).
            caching.touch()
        if dry_run:
            transaction.set_rollback(True)
    return report


class _InFileDuplicates:
    """One record per work: a later entry with an earlier one's DOI, PMID or title and year is merged into
    it (filling its gaps, never changing what it says) and reported as merged; one whose PMID an earlier
    entry has with another DOI is rejected."""

    def __init__(self, lines: list[list[ReportLine]]):
        self.lines = lines
        self.by_doi: dict[str, StudyRecord] = {}
        self.by_pmid: dict[str, StudyRecord] = {}
        self.by_title: dict[tuple[str, int | None], StudyRecord] = {}

    def kept(self, records: list[StudyRecord]) -> list[bool]:
        """For each record, True if it describes a work no earlier record of the file does."""
        return [self._keep(index, record) for index, record in enumerate(records)]

    def _keep(self, index: int, record: StudyRecord) -> bool:
        target, why = None, ""
        if record.doi and record.doi in self.by_doi:
            target, why = self.by_doi[record.doi], f"same DOI {record.doi}"
        elif record.pmid and record.pmid in self.by_pmid:
            target, why = self.by_pmid[record.pmid], f"same PMID {record.pmid}"
            if record.doi and target.doi and record.doi != target.doi:
                detail = f"PMID {record.pmid} is also on {target.source}, with another DOI ({target.doi})"
                self._add(index, "rejected", record, detail)
                return False
        elif record.title:
            candidate = self.by_title.get((normalize_title(record.title), record.year))
            if candidate is not None and not (record.doi and candidate.doi and record.doi != candidate.doi):
                target, why = candidate, "same title and year"
        if target is None:
            self._register(record)
            return True
        differing = _fill(target, record)
        detail = f"merged into {target.source} ({why})"
        if differing:
            detail += f"; kept the first entry's {', '.join(differing)}"
        self._add(index, "merged", record, detail)
        self._register(target)  # under the identifiers it may just have gained
        return False

    def _register(self, record: StudyRecord) -> None:
        if record.doi:
            self.by_doi.setdefault(record.doi, record)
        if record.pmid:
            self.by_pmid.setdefault(record.pmid, record)
        if record.title:
            self.by_title.setdefault((normalize_title(record.title), record.year), record)

    def _add(self, index: int, action: str, record: StudyRecord, detail: str) -> None:
        self.lines[index].append(ReportLine(action, "study", record_label(record), f"{record.source}: {detail}"))


def _fill(target: StudyRecord, other: StudyRecord) -> list[str]:
    """Give ``target`` the values only ``other`` has; return the fields where the two disagree."""
    differing = []
    for name, value in other.given_fields().items():
        if name == "citation_key":
            continue
        current = getattr(target, name)
        if current in EMPTY_VALUES:
            setattr(target, name, value)
        elif value not in EMPTY_VALUES and value != current:
            differing.append(name)
    return differing


class _Writer:
    """Writes a file's batches in order, each record's report lines in its place (``lines``), and keeps
    the stored studies the file has found so far (a second entry for one of them is merged) and those it
    newly marked retracted."""

    def __init__(
        self,
        records: list[StudyRecord],
        matches: dict[int, Match],
        lines: list[list[ReportLine]],
        *,
        user: AbstractBaseUser | None,
        update: bool,
    ):
        self.records, self.matches, self.lines = records, matches, lines
        self.user, self.update = user, update
        self.found: set[int] = set()
        self.newly_retracted: list[Study] = []

    def write(self, indexes: list[int]) -> None:
        """Create, complete or refuse the records at these indexes of the file."""
        new: list[tuple[int, Study]] = []
        matched: list[tuple[int, int]] = []  # (index, the stored study's primary key)
        for index in indexes:
            record, match = self.records[index], self.matches[index]
            if match.refused:
                self._add(index, "rejected", match.refused)
            elif match.pk is not None and match.pk in self.found:
                # two entries of the file found the same stored study, by different identifiers
                self._add(index, "merged", f"describes the same stored study {match.pk}")
            elif match.pk is not None:
                self.found.add(match.pk)
                matched.append((index, match.pk))
            else:
                values = record.given_fields()
                study = Study(**values)
                refused = _refusal(study, values, values)
                if refused:
                    self._add(index, "rejected", refused)
                else:
                    study._change_reason = f"imported from {record.source}"
                    new.append((index, study))
        self._create(new)
        self._complete(matched)

    def _add(self, index: int, action: str, detail: str = "") -> None:
        record = self.records[index]
        line = f"{record.source}: {detail}" if detail else record.source
        self.lines[index].append(ReportLine(action, "study", record_label(record), line, record.title or ""))

    def _create(self, new: list[tuple[int, Study]]) -> None:
        if not new:
            return
        try:
            # a savepoint: if the database refuses the batch, each study is tried alone to name the culprit
            with transaction.atomic():
                bulk_create_with_history([study for _, study in new], Study, default_user=self.user)
        except IntegrityError:
            for index, study in new:
                self._create_alone(index, study)
            return
        for index, _ in new:
            self._add(index, "created", created_detail(self.records[index]))

    def _create_alone(self, index: int, study: Study) -> None:
        record = self.records[index]
        study.pk = None
        if self.user is not None:
            study._history_user = self.user
        try:
            with transaction.atomic():
                study.save()
        except IntegrityError as exc:
            # A concurrent import may have committed this DOI or PMID since the batch was matched (our insert
            # waited for it): then the record completes that study, like any match.
            try:
                committed = study_match(record)
            except ValidationError:
                committed = None
            if committed is None:
                self._add(index, "rejected", f"the database refused it ({exc})")
                return
            report = ImportReport()
            study_upsert(record=record, report=report, user=self.user, update=self.update)
            self.lines[index] += report.lines
            return
        self._add(index, "created", created_detail(record))

    def _complete(self, matched: list[tuple[int, int]]) -> None:
        """Fill (or, with ``update``, replace) the values of the stored studies these records found."""
        if not matched:
            return
        studies = Study.objects.in_bulk([pk for _, pk in matched])
        changes: list[tuple[int, Study, list[str]]] = []
        for index, pk in matched:
            record, study = self.records[index], studies[pk]
            values = record.given_fields()
            was_retracted = study.is_retracted
            report = ImportReport()
            changed, conflicts = merge_values(study, values, update=self.update)
            report_conflicts(report, record, study, values, conflicts)
            self.lines[index] += report.lines
            if not changed:
                self._add(index, "unchanged")
            elif refused := _refusal(study, values, changed):
                self._add(index, "rejected", refused)
            else:
                study._change_reason = change_reason(record, changed, update=self.update)
                changes.append((index, study, changed))
                if study.is_retracted and not was_retracted:
                    self.newly_retracted.append(study)
        if not changes:
            return
        now = timezone.now()
        for _, study, _ in changes:
            study.updated_at = now  # bulk_update() does not stamp auto_now fields itself
        names = sorted({name for _, _, changed in changes for name in changed} | {"updated_at"})
        bulk_update_with_history([study for _, study, _ in changes], Study, names, default_user=self.user)
        for index, _, changed in changes:
            self._add(index, "updated", ", ".join(changed))
        restated = [study.pk for _, study, changed in changes if "retraction_status" in changed]
        if restated:
            Claim.objects.filter(citations__study__in=restated).mark_evidence_changed(now)


def _refusal(study: Study, values: dict[str, Any], written: Collection[str]) -> str:
    """Why ``study``, holding a record's ``values``, cannot be stored ("" if it can): a NUL character
    (PostgreSQL stores none), or a value its fields refuse (lengths, URL, choices) among the fields the
    import writes (``written``: a new study's given fields, a stored one's changed fields).

    The other fields are not validated again: a new study's are its defaults, a stored study's are not
    written. Neither uniqueness nor the constraints are checked here, which would cost queries per study:
    matching already knows which DOIs and PMIDs are taken, and the database checks the rest."""
    holding_nul = [name for name, value in values.items() if holds_nul(value)]
    if holding_nul:
        return f"{', '.join(holding_nul)} holds a NUL character (\\x00)"
    try:
        study.full_clean(
            exclude=[field.name for field in Study._meta.concrete_fields if field.name not in written],
            validate_unique=False,
            validate_constraints=False,
        )
    except ValidationError as exc:
        return error_messages(exc)
    return ""
