"""Studies: matching a record to the library, creating, completing and editing one study."""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Func, Q, TextField, Value
from django.db.models.functions import Cast, Coalesce, Left, Lower

from evidence import designs
from evidence.identifiers import IdentifierError, normalize_doi, normalize_pmid
from evidence.importers.records import StudyRecord
from evidence.models import Claim, Study
from evidence.services.common import error_messages, save_edits
from evidence.services.reports import Difference, ImportReport
from evidence.services.retractions import after_retraction_change, study_set_retraction

EMPTY_VALUES: tuple[Any, ...] = ("", None, [], {})
# A study's defaults that a record may replace as if they were empty.
REPLACEABLE_DEFAULTS = {"retraction_status": Study.RetractionStatus.NONE}


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


def record_label(record: StudyRecord) -> str:
    return record.citation_key or record.doi or record.pmid or (record.title or "")[:60] or record.source


@dataclass(frozen=True)
class Match:
    """The stored study a record describes (``pk``), how it was found (``by``: "doi", "pmid" or "title"),
    or why it cannot be matched (``refused``); all empty for a record no stored study describes."""

    pk: int | None = None
    by: str = ""
    refused: str = ""


def studies_match(records: Sequence[StudyRecord]) -> list[Match]:
    """The stored study each record describes: by DOI, then PMID, then normalised title with year. The
    one matching rule, for one record (study_match) and for a file's batches (bibliography_import).

    A record whose DOI and PMID belong to two different studies is refused. By title, of the stored
    studies with the record's normalised title and year, the first stored (lowest primary key) whose DOI
    is empty or the record's: two different DOIs mean two different works, however alike their titles.
    At most two queries, whatever the number of records: the DOIs and PMIDs, then the titles
    (_title_candidates).
    """
    dois = {record.doi for record in records if record.doi}
    pmids = {record.pmid for record in records if record.pmid}
    by_doi: dict[str, int] = {}
    by_pmid: dict[str, int] = {}
    if dois or pmids:
        # The "not empty" conditions are those of the partial unique indexes evidence_study_doi_unique and
        # _pmid_unique: without them PostgreSQL cannot use those indexes and reads the whole table.
        held = (Q(doi__in=dois) & ~Q(doi="")) | (Q(pmid__in=pmids) & ~Q(pmid=""))
        for pk, doi, pmid in Study.objects.filter(held).order_by().values_list("pk", "doi", "pmid"):
            if doi in dois:
                by_doi[doi] = pk
            if pmid in pmids:
                by_pmid[pmid] = pk
    matches: list[Match] = []
    by_title: list[int] = []  # the records that no identifier matched, by index
    for record in records:
        doi_match = by_doi.get(record.doi) if record.doi else None
        pmid_match = by_pmid.get(record.pmid) if record.pmid else None
        if doi_match and pmid_match and doi_match != pmid_match:
            why = f"DOI {record.doi} belongs to study {doi_match} but PMID {record.pmid} to study {pmid_match}"
            matches.append(Match(refused=why))
        elif doi_match or pmid_match:
            matches.append(Match(pk=doi_match or pmid_match, by="doi" if doi_match else "pmid"))
        else:
            matches.append(Match())
            if record.title:
                by_title.append(len(matches) - 1)
    titles = _title_candidates([records[index] for index in by_title])
    for index in by_title:
        record = records[index]
        candidates = titles.get((normalize_title(record.title or ""), record.year), [])
        found = next((pk for pk, doi in candidates if not (record.doi and doi and doi != record.doi)), None)
        if found is not None:
            matches[index] = Match(pk=found, by="title")
    return matches


def _title_candidates(records: Sequence[StudyRecord]) -> dict[tuple[str, int | None], list[tuple[int, str]]]:
    """(normalised title, year) → (pk, DOI) of the stored studies that have them, lowest primary key first,
    for the titles of these records (each has one).

    On PostgreSQL, only the studies whose title key (study_title_key) is one of the records' are read,
    through evidence_study_title_key_idx. Elsewhere (SQLite, for development) every title of the years the
    records name is read; normalize_title() decides in both cases.
    """
    if not records:
        return {}
    studies = Study.objects.exclude(title="").order_by()
    if connection.vendor == "postgresql":
        keys = {key for record in records for key in title_keys(record.title or "", record.year)}
        studies = studies.alias(title_key=study_title_key()).filter(title_key__in=keys)
    else:
        years = {record.year for record in records if record.year is not None}
        condition = Q(year__in=years) if years else Q(pk__in=[])
        if any(record.year is None for record in records):
            condition |= Q(year__isnull=True)
        studies = studies.filter(condition)
    found: dict[tuple[str, int | None], list[tuple[int, str]]] = {}
    for pk, title, year, doi in studies.values_list("pk", "title", "year", "doi"):
        found.setdefault((normalize_title(title), year), []).append((pk, doi))
    for candidates in found.values():
        candidates.sort()
    return found


def study_match(record: StudyRecord) -> Study | None:
    """The existing study a record describes (studies_match: by DOI, then PMID, then normalised title
    with year), read whole.

    Raises ValidationError when the DOI and the PMID point at two different studies.
    """
    (match,) = studies_match([record])
    if match.refused:
        raise ValidationError(match.refused)
    return Study.objects.get(pk=match.pk) if match.pk is not None else None


def _is_empty(study: Study, name: str) -> bool:
    value = getattr(study, name)
    return value in EMPTY_VALUES or (name in REPLACEABLE_DEFAULTS and value == REPLACEABLE_DEFAULTS[name])


def merge_values(study: Study, values: dict[str, Any], *, update: bool) -> tuple[list[str], list[str]]:
    """Apply a record's values to a matched study: fill what is empty, and replace what differs only
    with ``update``. Returns (fields changed, fields kept despite a different value in the record)."""
    changed: list[str] = []
    conflicts: list[str] = []
    for name, value in values.items():
        current = getattr(study, name)
        if current == value or (value in EMPTY_VALUES and name != "citation_key"):
            continue
        if name == "citation_key" and current:
            continue  # the first library's key stays; keys are labels, not identity
        if _is_empty(study, name) or update:
            setattr(study, name, value)
            changed.append(name)
        else:
            conflicts.append(name)
    return changed, conflicts


def change_reason(record: StudyRecord, changed: list[str], *, update: bool) -> str:
    if update:
        # --update is the one way an import replaces stored values; the history says it was asked for
        return f"replaced with --update from {record.source}: {', '.join(changed)}"
    return f"completed from {record.source}: {', '.join(changed)}"


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def report_conflicts(
    report: ImportReport, record: StudyRecord, study: Study, values: dict[str, Any], conflicts: list[str]
) -> None:
    """A line naming the fields where the stored study keeps its value, each with both values. How to
    replace them is the caller's to say (the command's --update, the upload page's "Replace stored values")."""
    if conflicts:
        report.add(
            "conflict",
            "study",
            record_label(record),
            f"{record.source}: kept the stored {', '.join(conflicts)}",
            title=study.display_title,
            differences=tuple(
                Difference(name, _as_text(getattr(study, name)), _as_text(values[name])) for name in conflicts
            ),
        )


def created_detail(record: StudyRecord) -> str:
    """What a created study's report line adds: a design left unclassified, and the one suggested."""
    if record.design is not None:
        return ""
    suggestion = designs.suggest(record.title or "", record.work_type or "")
    return f"design not yet classified{f'; suggested: {suggestion}' if suggestion else ''}"


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
    label = record_label(record)
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
            report.add("rejected", "study", label, f"{record.source}: {error_messages(exc)}")
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
            detail = created_detail(record)
            report.add(
                "created",
                "study",
                label,
                f"{record.source}: {detail}" if detail else record.source,
                title=study.display_title,
            )
            return study  # new: no claim cites it yet

    was_retracted = study.is_retracted
    changed, conflicts = merge_values(study, values, update=update)
    report_conflicts(report, record, study, values, conflicts)
    if not changed:
        report.add("unchanged", "study", label, record.source)
        return study
    try:
        study.full_clean(exclude=study.get_deferred_fields())  # what the query deferred, the record cannot set
    except ValidationError as exc:
        report.add("rejected", "study", label, f"{record.source}: {error_messages(exc)}")
        return None
    study._change_reason = change_reason(record, changed, update=update)
    study.save(update_fields=[*changed, "updated_at"])
    if "retraction_status" in changed:
        Claim.objects.filter(citations__study=study).mark_evidence_changed()
    report.add("updated", "study", label, f"{record.source}: {', '.join(changed)}")
    if not was_retracted:
        report.lines += after_retraction_change([study], user=user)
    return study


# One study or citation at a time: the API's writes (evidence/api/). Files go through bibliography_import.

IDENTIFIERS = {"doi": ("DOI", normalize_doi), "pmid": ("PMID", normalize_pmid)}


def study_identifier_clean(name: str, value: str | None, *, exclude_pk: int | None = None) -> str:
    """A study's DOI or PMID (``name``) as stored: normalised (evidence.identifiers), and free, that is held
    by no other study than ``exclude_pk``. Raises ValidationError naming the study that holds it (the
    unique constraint would only say that some constraint was violated). The one check the study form,
    the API and the services share."""
    label, normalize = IDENTIFIERS[name]
    try:
        value = normalize(value)
    except IdentifierError as exc:
        raise ValidationError(str(exc)) from None
    if value:
        existing = Study.objects.filter(**{name: value}).exclude(pk=exclude_pk).first()
        if existing is not None:
            raise ValidationError(f"{label} {value} is already recorded for study {existing.pk}: {existing}.")
    return value


def _normalised_identifiers(values: dict[str, Any], *, exclude_pk: int | None = None) -> dict[str, Any]:
    """``values`` with their DOI and PMID cleaned (study_identifier_clean); errors on their fields."""
    values = dict(values)
    errors: dict[str, list[str]] = {}
    for name in IDENTIFIERS:
        if name in values:
            try:
                values[name] = study_identifier_clean(name, values[name], exclude_pk=exclude_pk)
            except ValidationError as exc:
                errors[name] = exc.messages
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
    save_edits(study, values, user)
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
