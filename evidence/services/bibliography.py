"""Bibliography files (BibTeX, RIS, CSL-JSON) into the study library, one transaction per file."""

from __future__ import annotations

import functools
import gc
import itertools
import json
import math
import queue
import threading
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
    Field,
    IntegerField,
    JSONField,
    Q,
    QuerySet,
    TextField,
)
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history, get_change_reason_from_object

from evidence import caching
from evidence.bulk import CHUNK_CHARS, Lines, allocate_ids, copy_statement
from evidence.importers.detect import stream_bibliography
from evidence.importers.records import RecordStream, StreamRestart, StudyRecord
from evidence.models import Claim, Study
from evidence.services.common import error_messages
from evidence.services.reports import ImportReport, ReportLine
from evidence.services.retractions import after_retraction_change
from evidence.services.studies import (
    EMPTY_VALUES,
    change_reason,
    merge_values,
    normalize_title,
    record_label,
    report_conflicts,
    study_match,
    study_title_key,
    study_upsert,
    title_keys,
)
from evidence.storable import holds_nul

# Records matched and written per round trip to the database: a few queries per batch, whatever its size.
IMPORT_BATCH_SIZE = 500


def _fill_record(target: StudyRecord, other: StudyRecord) -> tuple[list[str], list[str]]:
    """Give ``target`` the values only ``other`` has; return (the fields filled, the fields where the two
    disagree)."""
    filled, differing = [], []
    for name, value in other.given_fields().items():
        if name == "citation_key":
            continue
        current = getattr(target, name)
        if current in EMPTY_VALUES:
            setattr(target, name, value)
            filled.append(name)
        elif value not in EMPTY_VALUES and value != current:
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
                    record_label(record),
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
        self.report.add("merged", "study", record_label(record), detail)
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
        label = record_label(record)
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
        changed, conflicts = merge_values(study, values, update=update)
        report_conflicts(report, record, conflicts)
        if not changed:
            report.add("unchanged", "study", record_label(record), record.source)
        elif _valid(study, record, values, report):
            study._change_reason = change_reason(record, changed, update=update)
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
            report.add("updated", "study", record_label(record), f"{record.source}: {', '.join(changed)}")
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
            "rejected",
            "study",
            record_label(record),
            f"{record.source}: {', '.join(bad)} holds a NUL character (\\x00)",
        )
        return False
    if new and _given_fields_clean(study, given):
        return True
    try:
        # a field the query deferred (Study.search_vector) is not the import's to validate, and reading it
        # would cost a query per study
        study.full_clean(exclude=study.get_deferred_fields(), validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        report.add("rejected", "study", record_label(record), f"{record.source}: {error_messages(exc)}")
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
            batch.report.add("created", "study", record_label(record), record.source)


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
        report.add("created", "study", record_label(record), record.source)


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
                report.add(
                    "rejected", "study", record_label(record), f"{record.source}: the database refused it ({exc})"
                )
            continue
        report.add("created", "study", record_label(record), record.source)


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
        report.lines += after_retraction_change(newly_retracted, user=user)
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
