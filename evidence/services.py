"""Writes to articles, claims, studies and citations: one keyword-only function per action.

Views, admin actions, management commands and (later) the API call these and nothing else, so a rule
such as "a retracted study flags the claims relying on it" holds whatever made the change. Each write
saves only what changed, so repeating an import adds no history entries.
"""

from __future__ import annotations

import functools
import gc
import itertools
import json
import math
import queue
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import IntegrityError, connection, transaction
from django.db.models import (
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    F,
    Field,
    Func,
    IntegerField,
    JSONField,
    Q,
    QuerySet,
    TextField,
    Value,
)
from django.db.models.base import ModelState
from django.db.models.functions import Cast, Coalesce, Left, Lower
from django.db.models.signals import post_init, pre_init
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history, get_change_reason_from_object

from evidence import anchoring, caching
from evidence.bulk import CHUNK_CHARS, Lines, allocate_ids, copy_statement
from evidence.importers.article import ArticleBundle
from evidence.importers.detect import stream_bibliography
from evidence.importers.records import RecordStream, Rejection, StreamRestart, StudyRecord
from evidence.importers.retractions import RetractionNotice
from evidence.models import Article, ArticleRevision, Citation, Claim, Study
from evidence.storable import holds_nul

# --- Reports ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportLine:
    action: str  # created, updated, unchanged, merged, rejected, conflict
    kind: str  # study, article, claim, citation
    label: str
    detail: str = ""


@dataclass
class ImportReport:
    """What an import did, line by line; ``counts()`` summarises it."""

    lines: list[ReportLine] = field(default_factory=list)
    dry_run: bool = False
    format: str = ""  # the file's format, for bibliography and retraction imports

    def summary(self, kind: str | None = None) -> str:
        """e.g. "3 created, 1 updated, 2 rejected", in a fixed order."""
        order = ["created", "updated", "unchanged", "merged", "conflict", "rejected"]
        counts = self.counts(kind)
        return ", ".join(f"{counts[action]} {action}" for action in order if counts[action]) or "nothing to do"

    def add(self, action: str, kind: str, label: str, detail: str = "") -> None:
        self.lines.append(ReportLine(action, kind, label, detail))

    def counts(self, kind: str | None = None) -> Counter[str]:
        return Counter(line.action for line in self.lines if kind is None or line.kind == kind)

    def of(self, action: str, kind: str | None = None) -> list[ReportLine]:
        return [line for line in self.lines if line.action == action and (kind is None or line.kind == kind)]

    @property
    def changed(self) -> bool:
        return any(line.action in {"created", "updated", "merged"} for line in self.lines)


# --- Studies --------------------------------------------------------------------------------------------

_EMPTY: tuple[Any, ...] = ("", None, [], {})
# A study's defaults that a record may replace as if they were empty.
_DEFAULTS = {"design": Study.Design.OTHER, "retraction_status": Study.RetractionStatus.NONE}
# Records matched and written per round trip to the database: a few queries per batch, whatever its size.
IMPORT_BATCH_SIZE = 500
# Severity of each retraction status: a notice only ever raises a study's status, never lowers it.
_RETRACTION_RANK = {"none": 0, "corrected": 1, "expression_of_concern": 2, "retracted": 3}


_RETRACTED_PREFIX = re.compile(r"^retracted article:\s*")
_NOT_ALPHANUMERIC = re.compile(r"[^a-z0-9]+")


# An import normalises each title of its file three times (in-file duplicates, stored candidates, the match)
@functools.lru_cache(maxsize=1 << 15)
def normalize_title(title: str) -> str:
    """Title for matching: accents, case, punctuation and spacing removed."""
    if title.isascii():
        ascii_only = title.lower()  # NFKD leaves ASCII as it is, and it has no combining marks
    else:
        decomposed = unicodedata.normalize("NFKD", title)
        ascii_only = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    ascii_only = _RETRACTED_PREFIX.sub("", ascii_only)
    return " ".join(_NOT_ALPHANUMERIC.sub(" ", ascii_only).split())


# A title's key: its letters and digits as normalize_title() leaves them, without the spaces, cut to
# TITLE_KEY_LENGTH characters, then "|" and the year (0 for none). PostgreSQL computes it for stored
# studies (study_title_key), and the index evidence_study_title_key_idx (migration 0005) finds those whose
# title and year may match a file's; equal normalised titles of the same year have equal keys, and
# normalize_title() then decides. Cut short so that a title of any length fits in a B-tree entry.
TITLE_KEY_LENGTH = 100
# What the "retracted article:" prefix, which normalize_title() drops, leaves in a stored title's key.
RETRACTED_PREFIX_KEY = "retractedarticle"


def title_keys(title: str, year: int | None) -> tuple[str, str]:
    """The keys study_title_key() gives a stored study with this title and year: as it is, and with the
    "retracted article:" prefix normalize_title() removes."""
    letters = normalize_title(title).replace(" ", "")
    prefixed = RETRACTED_PREFIX_KEY + letters
    return f"{letters[:TITLE_KEY_LENGTH]}|{year or 0}", f"{prefixed[:TITLE_KEY_LENGTH]}|{year or 0}"


def study_title_key() -> Func:
    """A study's title key in PostgreSQL: the title after NFKD, in lower case, only ASCII letters and
    digits kept, cut to TITLE_KEY_LENGTH, then "|" and the year.

    PostgreSQL's normalize() and lower() agree with Python's on every code point for the characters that
    survive (tests/test_bibliography_import.py checks them all), and dropping everything but [a-z0-9]
    also drops the combining marks normalize_title() removes. The expression is the one indexed by
    evidence_study_title_key_idx; change both together.
    """
    decomposed = Func(F("title"), template="normalize(%(expressions)s, NFKD)", output_field=TextField())
    letters = Func(Lower(decomposed), Value("[^a-z0-9]+"), Value(""), Value("g"), function="regexp_replace")
    year = Cast(Coalesce(F("year"), 0), TextField())
    return Func(
        Left(letters, TITLE_KEY_LENGTH),
        Value("|"),
        year,
        arg_joiner=" || ",
        template="(%(expressions)s)",
        output_field=TextField(),
    )


def _label(record: StudyRecord) -> str:
    return record.citation_key or record.doi or record.pmid or (record.title or "")[:60] or record.source


def study_match(record: StudyRecord) -> Study | None:
    """The existing study a record describes: by DOI, then PMID, then normalised title with year.

    Raises ValidationError when the DOI and the PMID point at two different studies.
    """
    by_doi = Study.objects.filter(doi=record.doi).first() if record.doi else None
    by_pmid = Study.objects.filter(pmid=record.pmid).first() if record.pmid else None
    if by_doi and by_pmid and by_doi.pk != by_pmid.pk:
        raise ValidationError(
            f"DOI {record.doi} belongs to study {by_doi.pk} but PMID {record.pmid} to study {by_pmid.pk}"
        )
    if by_doi or by_pmid:
        return by_doi or by_pmid
    if record.title:
        wanted = normalize_title(record.title)
        # Few studies share a year, so this reads a handful of titles, not the library.
        for candidate in Study.objects.filter(year=record.year).only("pk", "title", "doi", "pmid"):
            if normalize_title(candidate.title) == wanted:
                # two different DOIs mean two different works, however alike their titles
                if record.doi and candidate.doi and record.doi != candidate.doi:
                    continue
                return Study.objects.get(pk=candidate.pk)
    return None


def _is_empty(study: Study, name: str) -> bool:
    value = getattr(study, name)
    return value in _EMPTY or (name in _DEFAULTS and value == _DEFAULTS[name])


def _merge_values(study: Study, values: dict[str, Any], *, update: bool) -> tuple[list[str], list[str]]:
    """Apply a record's values to a matched study: fill what is empty, and replace what differs only
    with ``update``. Returns (fields changed, fields kept despite a different value in the record)."""
    changed: list[str] = []
    conflicts: list[str] = []
    for name, value in values.items():
        current = getattr(study, name)
        if current == value or (value in _EMPTY and name != "citation_key"):
            continue
        if name == "citation_key" and current:
            continue  # the first library's key stays; keys are labels, not identity
        if _is_empty(study, name) or update:
            setattr(study, name, value)
            changed.append(name)
        else:
            conflicts.append(name)
    return changed, conflicts


def _change_reason(record: StudyRecord, changed: list[str], *, update: bool) -> str:
    if update:
        # --update is the one way an import replaces stored values; the history says it was asked for
        return f"replaced with --update from {record.source}: {', '.join(changed)}"
    return f"completed from {record.source}: {', '.join(changed)}"


def _report_conflicts(report: ImportReport, record: StudyRecord, conflicts: list[str]) -> None:
    if conflicts:
        report.add(
            "conflict",
            "study",
            _label(record),
            f"{record.source}: kept the stored {', '.join(conflicts)} (use --update to replace)",
        )


@transaction.atomic
def study_upsert(
    *, record: StudyRecord, report: ImportReport, user: AbstractBaseUser | None = None, update: bool = False
) -> Study | None:
    """Create the study a record describes, or complete the one it matches.

    A match gains the values it lacks; a value it already has is kept and reported as a conflict,
    unless ``update`` is set, in which case it is replaced and the history entry says so.
    Returns None when the record is rejected (the report says why). One record at a time: files go
    through bibliography_import, which matches and writes in batches.
    """
    label = _label(record)
    try:
        study = study_match(record)
    except ValidationError as exc:
        report.add("rejected", "study", label, f"{record.source}: {exc.messages[0]}")
        return None
    values = record.given_fields()
    if study is None:
        study = Study(**values)
        study._change_reason = f"imported from {record.source}"
        try:
            study.full_clean()
        except ValidationError as exc:
            report.add("rejected", "study", label, f"{record.source}: {_messages(exc)}")
            return None
        try:
            # a savepoint: a concurrent import may have inserted this DOI or PMID since study_match looked
            with transaction.atomic():
                study.save()
        except IntegrityError:
            # our insert waited for that transaction and it committed, so matching again finds its study,
            # which this record then completes like any other match (tests/test_concurrency.py)
            try:
                study = study_match(record)
            except ValidationError as exc:
                report.add("rejected", "study", label, f"{record.source}: {exc.messages[0]}")
                return None
            if study is None:
                raise
        else:
            report.add("created", "study", label, record.source)
            _after_study_change(study, was_retracted=False)
            return study

    was_retracted = study.is_retracted
    changed, conflicts = _merge_values(study, values, update=update)
    _report_conflicts(report, record, conflicts)
    if not changed:
        report.add("unchanged", "study", label, record.source)
        return study
    try:
        study.full_clean(exclude=study.get_deferred_fields())  # what the query deferred, the record cannot set
    except ValidationError as exc:
        report.add("rejected", "study", label, f"{record.source}: {_messages(exc)}")
        return None
    study._change_reason = _change_reason(record, changed, update=update)
    study.save(update_fields=[*changed, "updated_at"])
    if "retraction_status" in changed:
        Claim.objects.filter(citations__study=study).mark_evidence_changed()
    report.add("updated", "study", label, f"{record.source}: {', '.join(changed)}")
    _after_study_change(study, was_retracted=was_retracted)
    return study


def _messages(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{name}: {' '.join(errors)}" for name, errors in exc.message_dict.items())
    return " ".join(exc.messages)


def _after_study_change(study: Study, *, was_retracted: bool) -> None:
    if study.is_retracted and not was_retracted:
        from reviews.services import claims_flag_retracted_reliance

        claims_flag_retracted_reliance(claims=Claim.objects.filter(citations__study=study))


@transaction.atomic
def study_set_retraction(
    *,
    study: Study,
    status: str,
    note: str = "",
    notice_doi: str = "",
    retraction_date: date | None = None,
    user: AbstractBaseUser | None = None,
) -> Study:
    """Record a retraction, expression of concern or correction; a newly retracted study flags the
    claims relying on it and sends them back for re-review. Any change of status is a change of the
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
    _after_study_change(study, was_retracted=was_retracted)
    return study


# One study or citation at a time: the API's writes (evidence/api/). Files go through bibliography_import.

_RETRACTION_FIELDS = ("retraction_status", "retraction_note", "retraction_doi", "retraction_date")


def _normalised_identifiers(values: dict[str, Any], *, exclude_pk: int | None = None) -> dict[str, Any]:
    """DOI and PMID stored normalised (evidence.identifiers), and each free for this study; a value that
    is not an identifier, or one another study already has, is refused on its field."""
    from evidence.identifiers import IdentifierError, normalize_doi, normalize_pmid

    values = dict(values)
    errors: dict[str, str] = {}
    for name, label, normalize in (("doi", "DOI", normalize_doi), ("pmid", "PMID", normalize_pmid)):
        if name not in values:
            continue
        try:
            values[name] = normalize(values[name])
        except IdentifierError as exc:
            errors[name] = str(exc)
            continue
        if values[name]:
            existing = Study.objects.filter(**{name: values[name]}).exclude(pk=exclude_pk).first()
            if existing is not None:
                errors[name] = f"{label} {values[name]} is already recorded for study {existing.pk}: {existing}."
    if errors:
        raise ValidationError(errors)
    return values


@transaction.atomic
def study_create(*, values: dict[str, Any], user: AbstractBaseUser | None = None) -> Study:
    """Create one study from field values (named as on Study). Raises ValidationError naming the fields."""
    values = _normalised_identifiers(values)
    study = Study(**values)
    study.full_clean()
    study._change_reason = "created"
    if user is not None:
        study._history_user = user
    try:
        # a savepoint: a concurrent write may have taken the DOI or PMID since we looked
        with transaction.atomic():
            study.save()
    except IntegrityError:
        raise ValidationError("Another study with this DOI or PMID was saved at the same time.") from None
    return study


@transaction.atomic
def study_update(*, study: Study, values: dict[str, Any], user: AbstractBaseUser | None = None) -> Study:
    """Change some of a study's fields; saves only what changed. A change of retraction status goes
    through study_set_retraction, so a study newly retracted flags the claims relying on it."""
    values = _normalised_identifiers(values, exclude_pk=study.pk)
    study = Study.objects.select_for_update().get(pk=study.pk)
    new_status = values.pop("retraction_status", study.retraction_status)
    _save_edits(study, values, user)
    if new_status != study.retraction_status:
        study_set_retraction(
            study=study,
            status=new_status,
            note=study.retraction_note,
            notice_doi=study.retraction_doi,
            retraction_date=study.retraction_date,
            user=user,
        )
    return study


def _save_edits(obj: Study | Citation, values: dict[str, Any], user: AbstractBaseUser | None) -> list[str]:
    """Set the values that differ, validate, and save only those fields, with who and what in the history.
    Returns the names of the fields changed (none: nothing is written)."""
    changed = _apply(obj, values)
    if changed:
        obj.full_clean(exclude=obj.get_deferred_fields())  # what the query deferred (search_vector) is not ours
        obj._change_reason = f"edited: {', '.join(changed)}"
        if user is not None:
            obj._history_user = user
        obj.save(update_fields=[*changed, "updated_at"])
    return changed


def _flag_if_relying_on_retracted(claim_id: int) -> None:
    from reviews.services import claims_flag_retracted_reliance

    claims_flag_retracted_reliance(claims=Claim.objects.filter(pk=claim_id))


@transaction.atomic
def citation_create(
    *, claim: Claim, study: Study, values: dict[str, Any], user: AbstractBaseUser | None = None
) -> Citation:
    """Link a study to a claim, recording who did; a claim now relying on a retracted study is flagged
    (as the admin's citation forms do). Raises ValidationError when the link exists or a value is bad."""
    citation = Citation(claim=claim, study=study, added_by=user, **values)
    citation.full_clean()
    citation._change_reason = "linked"
    try:
        with transaction.atomic():
            citation.save()
    except IntegrityError:
        raise ValidationError("This study is already cited for this claim.") from None
    Claim.objects.filter(pk=claim.pk).mark_evidence_changed()
    _flag_if_relying_on_retracted(claim.pk)
    return citation


@transaction.atomic
def citation_update(*, citation: Citation, values: dict[str, Any], user: AbstractBaseUser | None = None) -> Citation:
    """Change a citation's relation, note or directness; saves only what changed."""
    if _save_edits(citation, values, user):
        Claim.objects.filter(pk=citation.claim_id).mark_evidence_changed()
        _flag_if_relying_on_retracted(citation.claim_id)
    return citation


@transaction.atomic
def citation_delete(*, citation: Citation, user: AbstractBaseUser | None = None) -> None:
    """Unlink a study from a claim; the history keeps the link (reviewers see the evidence changed)."""
    citation._change_reason = "unlinked"
    if user is not None:
        citation._history_user = user
    citation.delete()
    Claim.objects.filter(pk=citation.claim_id).mark_evidence_changed()


# --- Bibliography files -----------------------------------------------------------------------------


def _fill_record(target: StudyRecord, other: StudyRecord) -> tuple[list[str], list[str]]:
    """Give ``target`` the values only ``other`` has; return (the fields filled, the fields where the two
    disagree)."""
    filled, differing = [], []
    for name, value in other.given_fields().items():
        if name == "citation_key":
            continue
        current = getattr(target, name)
        if current in _EMPTY:
            setattr(target, name, value)
            filled.append(name)
        elif value not in _EMPTY and value != current:
            differing.append(name)
    return filled, differing


class _Duplicates:
    """One record per work: later entries with an earlier one's DOI, PMID or title and year are merged
    into it (filling its gaps, never changing what it says) and reported as merged.

    Records come in file order, a chunk at a time, while the import writes the earlier ones. ``planned``
    holds the records whose batch has been looked up in the library, so that what the import decides
    for them rests on the values they had then; a later entry that fills a gap of one of those is noted
    in ``late`` (the record, and the fields filled) for _settle_late_fills()."""

    def __init__(self, report: ImportReport):
        self.report = report
        self.by_doi: dict[str, StudyRecord] = {}
        self.by_pmid: dict[str, StudyRecord] = {}
        self.by_title: dict[tuple[str, int | None], StudyRecord] = {}
        self.planned: set[int] = set()  # id() of the records looked up
        self.late: dict[int, tuple[StudyRecord, set[str]]] = {}

    def _register(self, target: StudyRecord) -> None:
        if target.doi:
            self.by_doi.setdefault(target.doi, target)
        if target.pmid:
            self.by_pmid.setdefault(target.pmid, target)
        if target.title:
            self.by_title.setdefault((normalize_title(target.title), target.year), target)

    def kept(self, record: StudyRecord) -> bool:
        """True if the record describes a work no earlier record does; otherwise it is merged into that
        record (or rejected, for a PMID that goes with another DOI) and reported."""
        target, why = None, ""
        if record.doi and record.doi in self.by_doi:
            target, why = self.by_doi[record.doi], f"same DOI {record.doi}"
        elif record.pmid and record.pmid in self.by_pmid:
            target, why = self.by_pmid[record.pmid], f"same PMID {record.pmid}"
            if record.doi and target.doi and record.doi != target.doi:
                self.report.add(
                    "rejected",
                    "study",
                    _label(record),
                    f"{record.source}: PMID {record.pmid} is also on {target.source}, with another DOI ({target.doi})",
                )
                return False
        elif record.title:
            candidate = self.by_title.get((normalize_title(record.title), record.year))
            if candidate is not None and not (record.doi and candidate.doi and record.doi != candidate.doi):
                target, why = candidate, "same title and year"
        if target is None:
            self._register(record)
            return True
        filled, differing = _fill_record(target, record)
        if filled and id(target) in self.planned:
            self.late.setdefault(id(target), (target, set()))[1].update(filled)
        detail = f"{record.source}: merged into {target.source} ({why})"
        if differing:
            detail += f"; kept the first entry's {', '.join(differing)}"
        self.report.add("merged", "study", _label(record), detail)
        self._register(target)
        return False


def _batches(chunks: Iterable[list[StudyRecord]], duplicates: _Duplicates) -> Iterator[list[StudyRecord]]:
    """The records of ``chunks`` that no earlier record describes, IMPORT_BATCH_SIZE at a time."""
    pending: list[StudyRecord] = []
    for chunk in chunks:
        pending += [record for record in chunk if duplicates.kept(record)]
        while len(pending) >= IMPORT_BATCH_SIZE:
            yield pending[:IMPORT_BATCH_SIZE]
            pending = pending[IMPORT_BATCH_SIZE:]
    if pending:
        yield pending


class _TitleIndex:
    """Normalised title and year → the stored studies that have them (lowest primary key first), as they
    were before the import: the title match is the last resort, after DOI and PMID, so a study that one
    record of the file renames is matched as it was.

    Read a batch at a time: query() says what to read for a batch's records, add() takes the rows,
    read while the import writes earlier batches (_Writer), so the studies it created (``created``, added
    as each batch is written) are left out again. The stored studies it changes are not written before
    the whole file has been read (_plan_matched).

    On PostgreSQL only the studies whose title key (study_title_key) is one of the batch's are read, through
    evidence_study_title_key_idx. Elsewhere (SQLite, for development) every title of the years the batch
    mentions is read and normalised.
    """

    def __init__(self) -> None:
        self._index: dict[tuple[str, int | None], list[tuple[int, str]]] = {}
        self._read: set[int] = set()
        self.created: set[int] = set()

    @staticmethod
    def query(records: list[StudyRecord]) -> QuerySet | None:
        """(pk, title, year, doi) of the stored studies these records' titles may find."""
        records = [record for record in records if record.title]
        if not records:
            return None
        studies = Study.objects.exclude(title="").order_by()
        if connection.vendor != "postgresql":
            years = {record.year for record in records if record.year is not None}
            condition = Q(year__in=years) if years else Q(pk__in=[])
            if any(record.year is None for record in records):
                condition |= Q(year__isnull=True)
            return studies.filter(condition).values_list("pk", "title", "year", "doi")
        keys = {key for record in records for key in title_keys(record.title or "", record.year)}
        # unordered: an ORDER BY pk lets PostgreSQL prefer walking the primary key to the title-key index;
        # each key's studies are sorted by add()
        found = studies.alias(title_key=study_title_key()).filter(title_key__in=keys)
        return found.values_list("pk", "title", "year", "doi")

    def add(self, rows: Iterable[tuple[int, str, int | None, str]]) -> None:
        touched = set()
        for pk, title, year, doi in rows:
            if pk not in self._read and pk not in self.created:
                self._read.add(pk)
                key = (normalize_title(title), year)
                self._index.setdefault(key, []).append((pk, doi))
                touched.add(key)
        for key in touched:
            self._index[key].sort()

    def candidates(self, record: StudyRecord) -> list[tuple[int, str]]:
        return self._index.get((normalize_title(record.title or ""), record.year), [])


@dataclass
class _Batch:
    """IMPORT_BATCH_SIZE (de-duplicated) records on their way through the import: looked up in the
    library (_identifier_query, _TitleIndex.query) and written (its new studies) by the _Writer, matched
    (_match) and planned (_plan) in Python; the records that found a stored study are
    planned and written once the whole file has been read (_plan_matched, _write_updates)."""

    records: list[StudyRecord]
    report: ImportReport  # this batch's lines, added to the import's report in file order
    by_doi: dict[str, int] = field(default_factory=dict)  # DOI → the stored study (primary key) that has it
    by_pmid: dict[str, int] = field(default_factory=dict)
    by_title: dict[int, tuple[int, str]] = field(default_factory=dict)  # index in records → (pk, DOI) by title
    to_create: list[tuple[Study, StudyRecord]] = field(default_factory=list)
    # (where in report.lines its lines go, the stored study's primary key, the record, found only by title,
    # the stored study's DOI)
    matched: list[tuple[int, int, StudyRecord, bool, str]] = field(default_factory=list)
    created_at: int = 0  # where in report.lines the lines of the new studies start
    to_update: list[tuple[Study, StudyRecord, list[str]]] = field(default_factory=list)
    newly_retracted: list[Study] = field(default_factory=list)
    # the _Writer's: the lookups' SQL and parameters, their rows, when they are in, a refused COPY
    lookups: list[tuple[str, Any] | None] = field(default_factory=list)
    found: list[list[Any]] = field(default_factory=list)
    looked_up: threading.Event = field(default_factory=threading.Event)
    refused: bool = False


def _identifier_query(records: list[StudyRecord]) -> QuerySet | None:
    """(pk, doi, pmid) of the stored studies that have one of these records' DOIs or PMIDs."""
    dois = {record.doi for record in records if record.doi}
    pmids = {record.pmid for record in records if record.pmid}
    if not (dois or pmids):
        return None
    # One query for both identifiers. The "not empty" conditions are those of the partial unique indexes
    # evidence_study_doi_unique and _pmid_unique: without them PostgreSQL cannot use those indexes and
    # reads the whole table (~50 ms a batch at 100,000 studies).
    by_identifier = (Q(doi__in=dois) & ~Q(doi="")) | (Q(pmid__in=pmids) & ~Q(pmid=""))
    return Study.objects.filter(by_identifier).order_by().values_list("pk", "doi", "pmid")


def _match(batch: _Batch, titles: _TitleIndex, found: list[tuple[int, str, str]]) -> None:
    """Which stored study each record of the batch describes: ``found`` are the rows of its
    _identifier_query(), and ``titles`` holds the rows of its title query."""
    dois = {record.doi for record in batch.records if record.doi}
    pmids = {record.pmid for record in batch.records if record.pmid}
    batch.by_doi = {doi: pk for pk, doi, _ in found if doi in dois}
    batch.by_pmid = {pmid: pk for pk, _, pmid in found if pmid in pmids}
    for index, record in enumerate(batch.records):
        if not record.title or (record.doi in batch.by_doi) or (record.pmid in batch.by_pmid):
            continue
        for pk, doi in titles.candidates(record):
            # two different DOIs mean two different works, however alike their titles
            if not (record.doi and doi and record.doi != doi):
                batch.by_title[index] = (pk, doi)
                break


def _plan(batch: _Batch, *, seen: dict[int, bool]) -> None:
    """Decide, without a query, what becomes of each record: created, merged or rejected, or (if it found
    a stored study) left for _plan_matched. ``seen`` holds the stored studies earlier records of the
    file were matched to (and whether a later one found them again): a record that finds one of them
    again, by another identifier, describes the same study."""
    report = batch.report
    for index, record in enumerate(batch.records):
        label = _label(record)
        doi_match = batch.by_doi.get(record.doi) if record.doi else None
        pmid_match = batch.by_pmid.get(record.pmid) if record.pmid else None
        if doi_match and pmid_match and doi_match != pmid_match:
            report.add(
                "rejected",
                "study",
                label,
                f"{record.source}: DOI {record.doi} belongs to study {doi_match} "
                f"but PMID {record.pmid} to study {pmid_match}",
            )
            continue
        by_title = batch.by_title.get(index)
        found = doi_match or pmid_match or (by_title[0] if by_title else None)
        if found is not None and found in seen:
            # two records of the file found the same stored study by different identifiers
            seen[found] = True
            report.add("merged", "study", label, f"{record.source}: describes the same stored study {found}")
            continue
        if found is None:
            values = record.given_fields()
            study = _new_study(values)
            study._change_reason = f"imported from {record.source}"
            if _valid(study, record, values, report, new=True):
                batch.to_create.append((study, record))
            continue
        seen[found] = False
        if doi_match or pmid_match:
            batch.matched.append((len(report.lines), found, record, False, ""))
        else:
            batch.matched.append((len(report.lines), found, record, True, by_title[1] if by_title else ""))


def _plan_matched(batch: _Batch, studies: dict[int, Study], *, update: bool) -> None:
    """What becomes of the records that found a stored study (``studies``, by primary key): updated,
    unchanged or rejected, and the values kept despite the record (conflicts). Their lines go where
    _plan left room for them."""
    for position, pk, record, _, _ in reversed(batch.matched):
        study = studies[pk]
        report = ImportReport()
        values = record.given_fields()
        was_retracted = study.is_retracted
        changed, conflicts = _merge_values(study, values, update=update)
        _report_conflicts(report, record, conflicts)
        if not changed:
            report.add("unchanged", "study", _label(record), record.source)
        elif _valid(study, record, values, report):
            study._change_reason = _change_reason(record, changed, update=update)
            batch.to_update.insert(0, (study, record, changed))
            if study.is_retracted and not was_retracted:
                batch.newly_retracted.insert(0, study)
        batch.report.lines[position:position] = report.lines


def _write_updates(batch: _Batch, user: AbstractBaseUser | None) -> None:
    """Write the batch's updates of stored studies, with their history rows."""
    report = batch.report
    to_update = batch.to_update
    if to_update:
        now = timezone.now()
        fields = sorted({name for _, _, changed in to_update for name in changed} | {"updated_at"})
        for study, _, _ in to_update:
            study.updated_at = now
        _update_with_history([s for s, _, _ in to_update], fields, user)
        for _study, record, changed in to_update:
            report.add("updated", "study", _label(record), f"{record.source}: {', '.join(changed)}")
        restated = [study.pk for study, _, changed in to_update if "retraction_status" in changed]
        if restated:
            Claim.objects.filter(citations__study__in=restated).mark_evidence_changed(now)


def _new_study(values: dict[str, Any]) -> Study:
    """Study(**values) for an import's new study, without Model.__init__'s walk over all 33 fields of
    Study for each one (0.2 s of a 10,000-record import): the fields' defaults, then the values, set
    as __init__ sets them. Study has no relations and nothing listens to its init signals; if that ever
    changes, this is Study(**values) again."""
    constants, factories = _study_defaults()
    if constants is None:
        return Study(**values)
    study = Study.__new__(Study)
    study._state = ModelState()
    attributes = study.__dict__
    attributes.update(constants)
    for name, factory in factories:
        if name not in values:
            attributes[name] = factory()
    attributes.update(values)
    return study


@functools.cache
def _study_defaults() -> tuple[dict[str, Any] | None, list[tuple[str, Callable[[], Any]]]]:
    """Study's default values (None if _new_study() cannot stand in for Study()), and the fields whose
    default is made anew for each study (a list, a dict)."""
    fields = Study._meta.concrete_fields
    if any(f.is_relation or f.attname != f.name for f in fields) or any(
        signal.has_listeners(Study) for signal in (pre_init, post_init)
    ):
        return None, []
    made = [f for f in fields if f.has_default() and callable(f.default)]
    constants = {f.attname: f.get_default() for f in fields if f not in made}
    return constants, [(f.attname, f.default) for f in made]


def _valid(
    study: Study, record: StudyRecord, given: dict[str, Any], report: ImportReport, *, new: bool = False
) -> bool:
    """Field validation (lengths, URL, choices) without the per-row uniqueness queries: the batch
    lookups above already know which DOIs and PMIDs are taken.

    A ``new`` study holds the record's values and the model's defaults, and only the former can be
    wrong, so those are checked first; full_clean() still runs whenever one fails, for its message.
    ``given`` is record.given_fields()."""
    # repr() writes a NUL as \x00: one pass at C speed over the record, the exact check only if it shows
    bad = [name for name, value in given.items() if holds_nul(value)] if "\\x00" in repr(given) else []
    if bad:
        report.add(
            "rejected", "study", _label(record), f"{record.source}: {', '.join(bad)} holds a NUL character (\\x00)"
        )
        return False
    if new and _given_fields_clean(study, given):
        return True
    try:
        # a field the query deferred (Study.search_vector) is not the import's to validate, and reading it
        # would cost a query per study
        study.full_clean(exclude=study.get_deferred_fields(), validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        report.add("rejected", "study", _label(record), f"{record.source}: {_messages(exc)}")
        return False
    return True


def _given_fields_clean(study: Study, names: Iterable[str]) -> bool:
    """Model.clean_fields() for these fields only (Study has no clean()): True if none is refused.

    A value that _plainly_valid() accepts is one field.clean() would return unchanged, so it is not
    cleaned again: for a 10,000-record file that was 0.7 s of the import."""
    checks = _field_checks()
    for name in names:
        field, attname, blank, empty_values, accepts = checks[name]
        value = getattr(study, attname)
        if value in empty_values:
            if blank:
                continue
        elif accepts is not None and accepts(value):
            continue
        try:
            setattr(study, attname, field.clean(value, study))
        except ValidationError:
            return False
    return True


@functools.cache
def _field_checks() -> dict[str, tuple[Field, str, bool, list[Any], Callable[[Any], bool] | None]]:
    """Study's fields by name, with what _given_fields_clean() needs of each."""
    return {f.name: (f, f.attname, f.blank, f.empty_values, _plainly_valid(f)) for f in Study._meta.concrete_fields}


def _json_plain(value: Any) -> bool:
    """What JSONField.validate() checks, without the rest of field.clean(): json.dumps() can write it."""
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def _plainly_valid(field: Field) -> Callable[[Any], bool] | None:
    """For a field whose validation is only a type, a length, a range or a choice, a check that accepts
    exactly the non-empty values field.clean() returns unchanged (False means "ask field.clean()", which
    may still accept or convert it); None for any other field (a URL, a timestamp)."""
    validators = field.validators
    if isinstance(field, CharField | TextField) and all(type(v) is MaxLengthValidator for v in validators):
        longest = field.max_length if field.max_length is not None else math.inf
        if field.choices:
            allowed = frozenset(str(value) for value, _ in field.flatchoices)
            return lambda value: type(value) is str and value in allowed and len(value) <= longest
        return lambda value: type(value) is str and len(value) <= longest
    if field.choices:
        return None
    if isinstance(field, JSONField) and field.encoder is None and not validators:
        return _json_plain
    if isinstance(field, BooleanField):
        return lambda value: type(value) is bool
    if isinstance(field, DateField) and not isinstance(field, DateTimeField) and not validators:
        return lambda value: type(value) is date
    if isinstance(field, IntegerField) and all(type(v) in (MinValueValidator, MaxValueValidator) for v in validators):
        low = max((v.limit_value for v in validators if type(v) is MinValueValidator), default=-math.inf)
        high = min((v.limit_value for v in validators if type(v) is MaxValueValidator), default=math.inf)
        return lambda value: type(value) is int and low <= value <= high
    return None


# Every column of a new study but Study.search_vector, which the database computes itself (a trigger,
# migration 0006).
def _insert_columns() -> list[Field]:
    return [column for column in Study._meta.concrete_fields if column.name != "search_vector"]


def _prepare_insert(studies: list[Study], ids: list[int]) -> None:
    """Give new studies their primary keys (taken from the sequence: allocate_ids) and the timestamps an
    INSERT would."""
    stamped = [c for c in _insert_columns() if isinstance(c, DateTimeField) and (c.auto_now or c.auto_now_add)]
    for study, pk in zip(studies, ids, strict=True):
        study.pk = pk
        for column in stamped:
            column.pre_save(study, add=True)  # created_at and updated_at


def _history_user(studies: list[Study], user: AbstractBaseUser | None) -> AbstractBaseUser | None:
    """Who the history rows of these studies name: ``user``, or simple_history's default (the request's
    user, kept per thread)."""
    return user or Study.history.model.get_default_history_user(studies[0])


@functools.cache
def _history_statement() -> str:
    """The statement that gives studies just inserted ("+") or updated ("~") their history rows, copied by
    the database from the rows as written (INSERT … SELECT), as bulk_create_with_history() and
    bulk_update_with_history(…, default_user=user) would build them: every tracked field, each study's
    change reason, one history_date for the batch. Its parameters: _history_params()."""
    history = Study.history.model
    meta = history._meta
    quote = connection.ops.quote_name
    columns = [quote(column.column) for column in history.tracked_fields]
    return (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(columns)}, {quote(meta.get_field('history_date').column)}, "
        f"{quote(meta.get_field('history_change_reason').column)}, {quote(meta.get_field('history_type').column)}, "
        f"{quote(meta.get_field('history_user').column)}) "
        f"SELECT {', '.join(f'study.{column}' for column in columns)}, %s, inserted.reason, %s, %s "
        "FROM unnest(%s::bigint[], %s::text[]) WITH ORDINALITY AS inserted (id, reason, position) "
        f"JOIN {quote(Study._meta.db_table)} AS study ON study.{quote(Study._meta.pk.column)} = inserted.id "
        "ORDER BY inserted.position"
    )


def _history_params(studies: list[Study], history_user: AbstractBaseUser | None, history_type: str) -> list[Any]:
    return [
        timezone.now(),
        history_type,
        history_user.pk if history_user is not None else None,
        [study.pk for study in studies],
        [get_change_reason_from_object(study) for study in studies],
    ]


def _update_with_history(studies: list[Study], names: list[str], user: AbstractBaseUser | None) -> None:
    """bulk_update_with_history(studies, Study, names, default_user=user), on PostgreSQL as one
    UPDATE … FROM (VALUES …) and the history rows copied from the updated rows: Django builds a CASE
    expression per row and field, which cost more than the 166 updates of the benchmark's file took to
    write (0.6 s)."""
    if connection.vendor != "postgresql":
        bulk_update_with_history(studies, Study, names, default_user=user)
        return
    _update_rows(studies, names)
    with connection.cursor() as cursor:
        cursor.execute(_history_statement(), _history_params(studies, _history_user(studies, user), "~"))


def _update_rows(studies: list[Study], names: list[str], *, history: str = "") -> None:
    """Write these fields of these studies in one UPDATE … FROM (VALUES …) (PostgreSQL). With ``history``
    "+", the history rows that recorded their creation are rewritten from the rows as they now are: for
    studies created by the same import (_settle_late_fills), so that the history shows them created as
    they are."""
    quote = connection.ops.quote_name
    columns = [Study._meta.get_field(name) for name in names]
    # text for the character columns: assigning it to varchar(n) refuses a longer value, where a cast to
    # varchar(n) would cut it short
    casts = ["text" if isinstance(c, CharField | TextField) else c.db_type(connection) for c in columns]
    row = "(%s::bigint, " + ", ".join(f"%s::{cast}" for cast in casts) + ")"
    table, pk = quote(Study._meta.db_table), quote(Study._meta.pk.column)
    sql = (
        f"UPDATE {table} AS study "
        f"SET {', '.join(f'{quote(c.column)} = changed.{quote(c.column)}' for c in columns)} "
        f"FROM (VALUES {', '.join([row] * len(studies))}) "
        f"AS changed (id, {', '.join(quote(c.column) for c in columns)}) "
        f"WHERE study.{pk} = changed.id"
    )
    params = [
        value
        for study in studies
        for value in (study.pk, *(c.get_db_prep_save(getattr(study, c.attname), connection) for c in columns))
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if history:
            meta = Study.history.model._meta
            cursor.execute(
                f"UPDATE {quote(meta.db_table)} AS history "
                f"SET {', '.join(f'{quote(c.column)} = study.{quote(c.column)}' for c in columns)} "
                f"FROM {table} AS study WHERE history.{pk} = study.{pk} AND study.{pk} = ANY(%s) "
                f"AND history.{quote(meta.get_field('history_type').column)} = %s",
                [[study.pk for study in studies], history],
            )


class _Writer:
    """An import's database work while its batches go by, in the order the main thread asks for it: each
    batch's lookups (look_up(): _identifier_query, _TitleIndex.query), then the writing of its new
    studies (write(): primary keys from the sequence, one COPY, their history rows, in a savepoint).

    On PostgreSQL a second thread does the work, on the import's own connection and inside its
    transaction, taking jobs from a queue as they come: the database works on one core while Python
    parses and plans on the other, and the main thread waits only for the lookups it needs (match()).
    Elsewhere (SQLite, for development) a lookup runs when it is asked for, and the new studies are
    written after the last batch (_finish).

    Safe because the main thread runs no query until close(). The lookups do not need the rows written
    before them: records are matched against the library as it was before the import (the new studies
    are left out again: _TitleIndex.created, which this thread adds to), and the file's duplicates were
    merged before their batch was planned. The thread uses the DB-API connection (psycopg2's may be
    shared between threads; Django's wrapper may not) and nothing of Django's connection, so its
    statements do not appear in Django's query log. A batch the database refuses is rolled back to its
    savepoint and left for _finish to write one study at a time."""

    def __init__(self, titles: _TitleIndex, user: AbstractBaseUser | None):
        self.titles, self.user = titles, user
        self.error: BaseException | None = None  # what stopped the thread
        self.jobs: queue.SimpleQueue[tuple[Callable[[Any, Any], None], Any] | None] | None = None
        if connection.vendor != "postgresql":
            return
        # who the history rows name, settled before the thread starts: a request's lazy user would run a
        # query when first read, and the main thread runs none while the thread works
        self.history_user = _history_user([Study()], user)
        columns = _insert_columns()
        self.statements = (copy_statement(Study, columns), _history_statement())
        self.columns, self.alias = columns, connection.alias
        self.refused_error = connection.Database.IntegrityError
        self.savepoints = itertools.count()
        self.jobs = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, args=(connection.connection,), daemon=True)
        self.thread.start()

    def look_up(self, batch: _Batch) -> None:
        """Ask for what the batch needs to be matched."""
        queries = (_identifier_query(batch.records), _TitleIndex.query(batch.records))
        batch.lookups = [query.query.sql_with_params() if query is not None else None for query in queries]
        if self.jobs is None:
            with connection.cursor() as cursor:
                self._look_up(cursor, batch)
        else:
            self.jobs.put((self._look_up, batch))

    def match(self, batch: _Batch) -> None:
        """Wait for the batch's lookups, then match it (_match)."""
        batch.looked_up.wait()
        self._raise()
        found, title_rows = batch.found
        self.titles.add(title_rows)
        _match(batch, self.titles, found)

    def write(self, batch: _Batch) -> None:
        """Ask for the batch's new studies to be written."""
        if self.jobs is not None and batch.to_create:
            studies = [study for study, _ in batch.to_create]
            self.jobs.put((self._write, (batch, studies, self.history_user)))

    def close(self) -> None:
        """Wait for every job asked for and stop the thread; raise what stopped it, if anything did."""
        self.abandon()
        self._raise()

    def abandon(self) -> None:
        """Stop the thread without looking at its outcome (the import is failing and will be rolled back,
        but the connection must be free first). Safe to call again."""
        if self.jobs is not None:
            self.jobs.put(None)
            self.thread.join()
            self.jobs = None

    def _raise(self) -> None:
        if self.error is not None:
            with connection.wrap_database_errors:  # psycopg2's error as Django's
                raise self.error

    def _run(self, dbapi_connection: Any) -> None:
        assert self.jobs is not None
        with dbapi_connection.cursor() as cursor:
            while (job := self.jobs.get()) is not None:
                work, argument = job
                try:
                    if self.error is None:
                        work(cursor, argument)
                except BaseException as exc:  # handed to the main thread by match() or close()
                    self.error = exc
                finally:
                    if isinstance(argument, _Batch):
                        argument.looked_up.set()  # a lookup's waiter wakes even after an error

    def _look_up(self, cursor: Any, batch: _Batch) -> None:
        results = []
        for lookup in batch.lookups:
            if lookup is not None:
                cursor.execute(*lookup)
            results.append(cursor.fetchall() if lookup is not None else [])
        batch.found = results
        batch.looked_up.set()

    def _write(self, cursor: Any, job: tuple[_Batch, list[Study], AbstractBaseUser | None]) -> None:
        batch, studies, history_user = job
        copy_sql, history_sql = self.statements
        savepoint = f"evidence_import_{next(self.savepoints)}"
        cursor.execute(f"SAVEPOINT {savepoint}")
        try:
            _prepare_insert(studies, allocate_ids(Study, len(studies), cursor))
            rows = ([getattr(study, column.attname) for column in self.columns] for study in studies)
            cursor.copy_expert(copy_sql, Lines(self.columns, rows), CHUNK_CHARS)
            cursor.execute(history_sql, _history_params(studies, history_user, "+"))
        except self.refused_error:
            cursor.execute(f"ROLLBACK TO SAVEPOINT {savepoint}")
            cursor.execute(f"RELEASE SAVEPOINT {savepoint}")
            for study in studies:
                study.pk = None
            batch.refused = True
            return
        cursor.execute(f"RELEASE SAVEPOINT {savepoint}")
        for study in studies:
            study._state.adding = False
            study._state.db = self.alias
        self.titles.created.update(study.pk for study in studies)


def _finish(batch: _Batch, user: AbstractBaseUser | None, *, update: bool) -> None:
    """Report the batch's new studies, once the _Writer is closed: written by it, or (if the database
    refused them, or elsewhere than PostgreSQL) written here."""
    batch.created_at = len(batch.report.lines)
    if connection.vendor != "postgresql":
        _create(batch.to_create, batch.report, user, update=update)
    elif batch.refused:
        _create_one_by_one(batch.to_create, batch.report, user, update=update)
    else:
        for _, record in batch.to_create:
            batch.report.add("created", "study", _label(record), record.source)


def _create(
    pairs: list[tuple[Study, StudyRecord]], report: ImportReport, user: AbstractBaseUser | None, *, update: bool
) -> None:
    """Insert a batch's new studies with their history in one go (elsewhere than PostgreSQL), row by row if
    the database refuses the batch."""
    if not pairs:
        return
    try:
        # a savepoint: if the database refuses the batch, each row is retried alone to name the culprit
        with transaction.atomic():
            bulk_create_with_history([study for study, _ in pairs], Study, default_user=user)
    except IntegrityError:
        _create_one_by_one(pairs, report, user, update=update)
        return
    for _, record in pairs:
        report.add("created", "study", _label(record), record.source)


def _create_one_by_one(
    pairs: list[tuple[Study, StudyRecord]], report: ImportReport, user: AbstractBaseUser | None, *, update: bool
) -> None:
    """Each new study of a batch the database refused, alone, to name the culprit."""
    for study, record in pairs:
        study.pk = None
        try:
            with transaction.atomic():
                if user is not None:
                    study._history_user = user
                study.save()
        except IntegrityError as exc:
            # A concurrent import may have committed this DOI or PMID since the batch was matched (our
            # insert waited for it): then the record completes that study, like any match.
            try:
                committed = study_match(record)
            except ValidationError:
                committed = None
            if committed is not None:
                study_upsert(record=record, report=report, user=user, update=update)
            else:
                report.add("rejected", "study", _label(record), f"{record.source}: the database refused it ({exc})")
            continue
        report.add("created", "study", _label(record), record.source)


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

    Raises BibliographyError, before anything is written, for a file that is empty, binary, too large,
    truncated or not a bibliography. Otherwise every entry ends up in the report: created, updated
    (empty fields filled; stored values replaced only with ``update``), unchanged, merged (a duplicate
    inside the file), conflict (a stored value kept) or rejected, each with its line or key and why.
    With ``dry_run`` the work is done and rolled back, so the report is exact; with ``strict`` a file
    with any rejected entry is rolled back whole and BibliographyRejected raised. ``progress`` is
    called with (records just handled, records in the file) after each batch, for a progress bar; it
    must not use the database (on PostgreSQL a second thread is using the connection meanwhile).

    Queries, per batch of IMPORT_BATCH_SIZE records: one to find them by DOI or PMID, one to read the
    stored studies whose title they may share, the new primary keys, the COPY of the new studies and
    their history rows (on PostgreSQL all from a second thread, while the main thread parses and plans
    the next records: _Writer); then once for the file, the stored studies that records found, and per
    batch their updates and the history rows of those. Nothing per record; a version bump after commit.
    How a BibTeX file is read a batch at a time and still comes out as if merged whole first:
    _import_records, _settle_late_fills.
    """
    with _collector_paused():
        return _bibliography_import(data, filename, format, user, dry_run, update, strict, progress)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused, and resumed (if it ran) afterwards.

    An import allocates millions of objects that all stay alive until it ends (the parsed file, its
    records, the studies), and the collector's full passes walk all of them again each time the heap
    has grown by a quarter, finding nothing: a third of the parsing time of a 10,000-record file.
    Reference counting still frees whatever the import drops. The collector is per process, so another
    thread's garbage cycles wait too, for the few seconds an import takes.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _bibliography_import(
    data: bytes | str,
    filename: str,
    format: str | None,
    user: AbstractBaseUser | None,
    dry_run: bool,
    update: bool,
    strict: bool,
    progress: Callable[[int, int], Any] | None,
) -> ImportReport:
    # On PostgreSQL a BibTeX file is read a batch at a time while the earlier batches are written
    # (_import_records); elsewhere nothing is written in the background, so there is nothing to overlap.
    streamed = connection.vendor == "postgresql"
    stream = stream_bibliography(
        data, filename=filename, format=format, chunk_size=IMPORT_BATCH_SIZE if streamed else None
    )
    report = ImportReport(dry_run=dry_run, format=stream.format)
    shown = _Progress(progress, stream.size)
    with transaction.atomic():
        start = transaction.savepoint()
        try:
            lines, newly_retracted = _import_records(stream, user, update, shown)
        except (_ReadWhole, StreamRestart):
            # rare (_settle_late_fills, bibtex.parse_stream): the file again, read and merged whole first
            transaction.savepoint_rollback(start)
            stream = stream_bibliography(data, filename=filename, format=format)
            lines, newly_retracted = _import_records(stream, user, update, _Progress(None, 0))
        report.lines += lines
        shown.advance(stream.size)
        if newly_retracted:
            from reviews.services import claims_flag_retracted_reliance

            for flag in claims_flag_retracted_reliance(
                claims=Claim.objects.filter(citations__study__in=newly_retracted).distinct()
            ):
                report.add("created", "flag", flag.claim.key or str(flag.claim_id), flag.note)
        if strict and report.of("rejected"):
            raise BibliographyRejected(report)
        if report.changed:
            # Bulk writes send no post_save signal, so the data version behind the public pages' ETags
            # and cached aggregates is bumped here: once, after the commit (a dry run drops it).
            caching.touch()
        if dry_run:
            transaction.set_rollback(True)
    return report


class _Progress:
    """bibliography_import's ``progress`` callback, called with (records just handled, records in the file)."""

    def __init__(self, callback: Callable[[int, int], Any] | None, total: int):
        self.callback, self.total, self.shown = callback, total, 0

    def advance(self, handled: int) -> None:
        """``handled`` records of the file are done: report those not reported yet."""
        handled = min(handled, self.total)
        if self.callback is not None and handled > self.shown:
            self.callback(handled - self.shown, self.total)
            self.shown = handled


class _ReadWhole(Exception):
    """A record already written must change in a way only a whole-file merge gets right (_settle_late_fills)."""


def _import_records(
    stream: RecordStream, user: AbstractBaseUser | None, update: bool, progress: _Progress
) -> tuple[list[ReportLine], list[Study]]:
    """Merge, match, plan and write the stream's records batch by batch; return the report's lines (the
    file's rejections, the duplicates merged, then each batch's lines) and the studies the file newly
    marked retracted.

    The main thread reads the file a batch at a time and merges its duplicates (_Duplicates); for each
    batch it asks the _Writer to look it up in the library, and while that runs it matches and plans the
    batch before (waiting for its lookups only if they are not in yet), then asks for its new studies to
    be written. The _Writer's thread works through those jobs in order on the import's connection, so
    the database looks up and writes while Python parses and plans. The records that found a stored
    study are planned and written last, once every duplicate in the file has completed them
    (_plan_matched), so every batch is matched against the library as it was before the import; a
    later duplicate that completes a record already planned is settled by _settle_late_fills."""
    merged = ImportReport()
    duplicates = _Duplicates(merged)
    titles = _TitleIndex()
    batches: list[_Batch] = []
    seen: dict[int, bool] = {}
    writer = _Writer(titles, user)

    def plan(batch: _Batch) -> None:
        writer.match(batch)
        _plan(batch, seen=seen)
        writer.write(batch)
        progress.advance(sum(len(each.records) for each in batches[:-1]) + len(merged.lines))

    try:
        for records in _batches(stream.chunks, duplicates):
            batches.append(_Batch(records, ImportReport()))
            writer.look_up(batches[-1])
            # from here on the batch's lookups stand for its records as they are: a later duplicate that
            # fills one of their gaps is settled at the end (_settle_late_fills)
            duplicates.planned.update(id(record) for record in records)
            if len(batches) > 1:
                plan(batches[-2])  # while the last batch is being looked up
        if batches:
            plan(batches[-1])
        writer.close()
    finally:
        writer.abandon()
    for batch in batches:
        _finish(batch, user, update=update)
    _settle_late_fills(duplicates.late, batches, titles, seen, user, update)
    lines = [ReportLine("rejected", "study", rejection.source, rejection.reason) for rejection in stream.rejected]
    lines += merged.lines
    newly_retracted: list[Study] = []
    studies = Study.objects.in_bulk([pk for batch in batches for _, pk, _, _, _ in batch.matched])
    for batch in batches:
        _plan_matched(batch, studies, update=update)
        _write_updates(batch, user)
        lines += batch.report.lines
        newly_retracted += batch.newly_retracted
    return lines, newly_retracted


def _settle_late_fills(
    late: dict[int, tuple[StudyRecord, set[str]]],
    batches: list[_Batch],
    titles: _TitleIndex,
    seen: dict[int, bool],
    user: AbstractBaseUser | None,
    update: bool,
) -> None:
    """Bring what the import decided for records that a later duplicate completed up to date with them.

    A later entry of the file fills the gaps of the first one that describes the same work
    (_Duplicates), possibly after that first one was planned. What comes out is what a file merged whole
    before anything was written gives:

    - a record written as a new study: the values filled go into its row and into the history row of
      its creation;
    - a record that found a stored study: it is planned at the end anyway (_plan_matched), with them;
    - a record that found a stored study only by its title, and now has a DOI that rules that study out
      (two different DOIs): it finds the next stored study with that title and no other DOI instead, or
      is created, unless another record of the file found either of the two.

    Anything else raises _ReadWhole, and the import starts again from the file, merged whole before
    anything is written: a filled title or year, for a record matched (or not) by title; a DOI or PMID
    another study holds; a value the new study refuses; a first entry that was rejected."""
    if not late:
        return
    created = {id(record): study for batch in batches for study, record in batch.to_create if study.pk is not None}
    matched = {
        id(record): (batch, pk, by_title, doi) for batch in batches for _, pk, record, by_title, doi in batch.matched
    }
    own: dict[int, int | None] = {}  # id() of a record → the study it found or created
    patched: list[Study] = []
    names: set[str] = set()
    # (batch, record, the stored study it found, the one it finds now (pk, DOI) or None)
    rematched: list[tuple[_Batch, StudyRecord, int, tuple[int, str] | None]] = []
    for record, filled in late.values():
        if id(record) in created:
            study = created[id(record)]
            pk, by_title, stored_doi = study.pk, True, ""
        elif id(record) in matched:
            batch, pk, by_title, stored_doi = matched[id(record)]
        else:
            raise _ReadWhole
        if by_title and {"title", "year"} & filled:
            raise _ReadWhole
        own[id(record)] = pk
        if id(record) in created:
            for name in filled:
                setattr(study, name, getattr(record, name))
            if not _valid(study, record, record.given_fields(), ImportReport(), new=True):
                raise _ReadWhole
            patched.append(study)
            names |= filled
        elif by_title and "doi" in filled and stored_doi not in ("", record.doi):
            # two different DOIs: the title no longer finds this study, but the next one with that title
            # and no other DOI, or none
            other = next(
                (candidate for candidate in titles.candidates(record) if candidate[1] in ("", record.doi)), None
            )
            if seen[pk] or (other is not None and other[0] in seen):
                raise _ReadWhole
            rematched.append((batch, record, pk, other))
            own[id(record)] = other[0] if other is not None else None
    # (record, "doi" or "pmid", the value filled): no other study may hold it
    identifiers = [
        (record, name, getattr(record, name))
        for record, filled in late.values()
        for name in ("doi", "pmid")
        if name in filled
    ]
    if identifiers:
        if len({(name, value) for _, name, value in identifiers}) < len(identifiers):
            raise _ReadWhole
        dois = [value for _, name, value in identifiers if name == "doi"]
        pmids = [value for _, name, value in identifiers if name == "pmid"]
        held = (Q(doi__in=dois) & ~Q(doi="")) | (Q(pmid__in=pmids) & ~Q(pmid=""))
        holders: dict[tuple[str, str], int] = {}
        for pk, doi, pmid in Study.objects.filter(held).values_list("pk", "doi", "pmid"):
            holders[("doi", doi)] = holders[("pmid", pmid)] = pk
        if any(holders.get((name, value), own[id(record)]) != own[id(record)] for record, name, value in identifiers):
            raise _ReadWhole
    if patched:
        _update_rows(patched, sorted(names), history="+")
    for batch, record, stored, other in rematched:
        del seen[stored]
        if other is not None:
            seen[other[0]] = False
            batch.matched = [
                (position, other[0], entry, True, other[1]) if entry is record else (position, pk, entry, by_title, doi)
                for position, pk, entry, by_title, doi in batch.matched
            ]
            continue
        values = record.given_fields()
        new = Study(**values)
        if not _valid(new, record, values, ImportReport(), new=True):
            raise _ReadWhole
        new._change_reason = f"imported from {record.source}"
        batch.matched = [entry for entry in batch.matched if entry[2] is not record]
        _create_late(batch, record, new, user, update=update)


def _create_late(
    batch: _Batch, record: StudyRecord, study: Study, user: AbstractBaseUser | None, *, update: bool
) -> None:
    """Create a study for a record of a batch already written (_settle_late_fills); its report line goes
    among the batch's other new studies, in file order."""
    order = {id(other): index for index, other in enumerate(batch.records)}
    before = sum(1 for _, other in batch.to_create if order[id(other)] < order[id(record)])
    report = ImportReport()
    _create([(study, record)], report, user, update=update)
    position = batch.created_at + before
    batch.report.lines[position:position] = report.lines
    batch.to_create.insert(before, (study, record))


class BibliographyRejected(Exception):
    """``strict`` import of a file with rejected entries; the transaction was rolled back."""

    def __init__(self, report: ImportReport):
        self.report = report
        super().__init__(f"{len(report.of('rejected'))} entries rejected; nothing was imported")


# --- Retraction notices -----------------------------------------------------------------------------


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
        if _RETRACTION_RANK[notice.status] > _RETRACTION_RANK[status]:
            status = notice.status
        elif _RETRACTION_RANK[notice.status] < _RETRACTION_RANK[status]:
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
        was_retracted = study.is_retracted
        study_set_retraction(
            study=study,
            status=status,
            note=note,
            notice_doi=values["retraction_doi"],
            retraction_date=values["retraction_date"],
            user=user,
        )
        report.add("updated", "study", label, f"{where}: {', '.join(changed)}")
        if study.is_retracted and not was_retracted:
            from reviews.models import Flag

            flagged = Flag.objects.filter(study=study, reason=Flag.Reason.RETRACTED_SOURCE, status=Flag.Status.OPEN)
            for key in flagged.values_list("claim__key", flat=True):
                report.add("created", "flag", key, f"relies on {label}, now retracted")


# --- Articles and claims ----------------------------------------------------------------------------


def _apply(obj: Any, values: dict[str, Any]) -> list[str]:
    """Set the values that differ; return the names of the fields changed."""
    changed = []
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed.append(name)
    return changed


@transaction.atomic
def article_revise(
    *, article: Article, text: str, headings: list[str], user: AbstractBaseUser | None = None, note: str = ""
) -> list[Claim]:
    """Replace an article's text, keeping the old version, and re-anchor its claims.

    Returns the claims whose quote is no longer in the text; they keep their old anchor and are sent
    back for re-review.
    """
    number = (article.revisions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    ArticleRevision.objects.create(
        article=article, number=number, text=article.text, headings=article.headings, created_by=user, note=note
    )
    article.text = text
    article.headings = headings
    article.save(update_fields=["text", "headings", "updated_at"])
    lost = []
    for claim in article.claims.all():
        anchor = anchoring.relocate(text, claim.quote, claim.prefix, claim.suffix, claim.start)
        if anchor is None:
            claim.status = Claim.Status.NEEDS_REREVIEW
            claim._change_reason = f"quote not found in revision {number + 1} of the text"
            claim.save(update_fields=["status", "updated_at"])
            Claim.objects.filter(pk=claim.pk).mark_evidence_changed()
            lost.append(claim)
            continue
        values = {
            "start": anchor.start,
            "end": anchor.end,
            "prefix": anchor.prefix,
            "suffix": anchor.suffix,
            "section": anchoring.section_at(text, headings, anchor.start),
        }
        changed = _apply(claim, values)
        if changed:
            claim._change_reason = "re-anchored to the revised text"
            claim.save(update_fields=[*changed, "updated_at"])
    return lost


def article_import(
    *, bundle: ArticleBundle, user: AbstractBaseUser | None = None, dry_run: bool = False, update: bool = False
) -> ImportReport:
    """Load an article file: its bibliography, the article, its claims and their citations.

    One transaction: either everything is written or nothing is. Claims are matched by key, citations
    by claim and study; what already matches is left untouched, so importing the same file twice
    changes nothing. With ``dry_run`` the work is done and then rolled back, so the report is exact.
    """
    report = ImportReport(dry_run=dry_run)
    with transaction.atomic():
        _article_import(bundle, user, update, report)
        if report.of("rejected"):
            raise ArticleImportRejected(report)
        if dry_run:
            transaction.set_rollback(True)
    return report


class ArticleImportRejected(Exception):
    """Something in the file could not be imported; the transaction was rolled back."""

    def __init__(self, report: ImportReport):
        self.report = report
        super().__init__("; ".join(f"{line.label}: {line.detail}" for line in report.of("rejected")))


def _article_import(bundle: ArticleBundle, user: AbstractBaseUser | None, update: bool, report: ImportReport) -> None:
    studies_by_key: dict[str, Study] = {}
    if bundle.bibliography is not None:
        for rejection in bundle.bibliography.rejected:
            report.add("rejected", "study", rejection.source, rejection.reason)
        for record in bundle.bibliography.records:
            study = study_upsert(record=record, report=report, user=user, update=update)
            if study is not None and record.citation_key:
                studies_by_key[record.citation_key] = study

    article = Article.objects.filter(slug=bundle.slug).first()
    meta = {
        "title": bundle.title,
        "author": bundle.author,
        "publisher": bundle.publisher,
        "url": bundle.url,
        "published_on": bundle.published_on,
    }
    if article is None:
        article = Article(slug=bundle.slug, text=bundle.text, headings=bundle.headings, **meta)
        try:
            article.full_clean()
        except ValidationError as exc:
            report.add("rejected", "article", bundle.slug, _messages(exc))
            return
        article.save()
        report.add("created", "article", bundle.slug)
    else:
        if article.text != bundle.text or article.headings != bundle.headings:
            article_revise(
                article=article, text=bundle.text, headings=bundle.headings, user=user, note="imported revision"
            )
            report.add("updated", "article", bundle.slug, "new revision of the text")
        changed = _apply(article, meta)
        if changed:
            article.save(update_fields=[*changed, "updated_at"])
            report.add("updated", "article", bundle.slug, ", ".join(changed))
        elif not report.of("updated", "article"):
            report.add("unchanged", "article", bundle.slug)

    existing = {claim.key: claim for claim in article.claims.exclude(key="")}
    for spec in bundle.claims:
        values = {
            "quote": spec.quote,
            "start": spec.anchor.start,
            "end": spec.anchor.end,
            "prefix": spec.anchor.prefix,
            "suffix": spec.anchor.suffix,
            "section": spec.section,
            "kind": spec.kind,
            "substance": spec.substance,
            "claim_type": spec.claim_type,
            "secondary_types": spec.secondary_types,
            "evidence_note": spec.evidence_note,
            "attributed_to": spec.attributed_to,
            "attribution_status": spec.attribution_status,
            "attribution_note": spec.attribution_note,
        }
        claim = existing.get(spec.key) if spec.key else None
        label = f"{bundle.slug}/{spec.key or spec.anchor.start}"
        if claim is None:
            claim = Claim(article=article, key=spec.key, **values)
            claim.save()
            report.add("created", "claim", label)
        else:
            changed = _apply(claim, values)
            if changed:
                claim._change_reason = "updated by article import"
                claim.save(update_fields=[*changed, "updated_at"])
                report.add("updated", "claim", label, ", ".join(changed))
            else:
                report.add("unchanged", "claim", label)
        _import_citations(claim, spec, studies_by_key, user, report, label)

    from reviews.services import claims_flag_retracted_reliance

    for flag in claims_flag_retracted_reliance(claims=article.claims.all()):
        report.add("created", "flag", f"{bundle.slug}/{flag.claim.key or flag.claim_id}", flag.note)


def _import_citations(claim, spec, studies_by_key, user, report, label) -> None:
    current = {citation.study_id: citation for citation in claim.citations.all()}
    touched = False
    for link in spec.citations:
        study = studies_by_key.get(link.study_key)
        if study is None:
            study = Study.objects.filter(citation_key=link.study_key).first()
        if study is None:
            report.add("rejected", "citation", f"{label} → {link.study_key}", "no study with this key")
            continue
        values = {"relation": link.relation, "note": link.note, "directness": link.directness}
        citation = current.get(study.pk)
        if citation is None:
            Citation.objects.create(claim=claim, study=study, added_by=user, **values)
            report.add("created", "citation", f"{label} → {link.study_key}")
            touched = True
            continue
        changed = _apply(citation, values)
        if changed:
            citation._change_reason = "updated by article import"
            citation.save(update_fields=[*changed, "updated_at"])
            report.add("updated", "citation", f"{label} → {link.study_key}", ", ".join(changed))
            touched = True
        else:
            report.add("unchanged", "citation", f"{label} → {link.study_key}")
    if touched:
        Claim.objects.filter(pk=claim.pk).mark_evidence_changed()
