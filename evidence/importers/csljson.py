"""CSL-JSON (Zotero's "CSL JSON" export, citeproc's input) into StudyRecords.

Besides the CSL variables, the project's own extras are read from the item's ``custom`` object, where our
exports put them (the official CSL schema allows no other key beside its variables): ``study_design``,
``sample_size``, ``population``, ``retracted`` with ``retraction_note`` (and, for an expression of concern
or a correction, ``retraction_status``; ``retraction_date`` and ``retraction_doi`` for the notice),
``verified`` with ``verified_from``, ``author_list_complete`` and ``unconfirmed_leads``; and, when the
export had to change them to be valid CSL, the study's own ``work_type`` and exact ``authors``. Files
written before the extras moved into ``custom`` (the seed's studies.json among them) have them beside the
CSL variables: they are read there too. ``note`` is CSL's own variable.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from evidence.identifiers import IdentifierError, normalize_doi, normalize_pmid
from evidence.importers.records import (
    BibliographyError,
    EntryError,
    ParseResult,
    Rejection,
    StudyRecord,
    design_value,
    retraction_value,
)

NAME_PARTS = ("family", "given", "suffix", "literal", "non-dropping-particle", "dropping-particle")
# Every key a CSL name may have (csl-data.json's name-variable, additionalProperties false).
CSL_NAME_PARTS = frozenset({*NAME_PARTS, "comma-suffix", "static-ordering", "parse-names"})
# CSL 1.0.2's item types, the only values csl-data.json allows for "type" (tests/test_conformance.py checks
# this list against the vendored schema).
CSL_TYPES = frozenset(
    {
        "article", "article-journal", "article-magazine", "article-newspaper", "bill", "book", "broadcast",
        "chapter", "classic", "collection", "dataset", "document", "entry", "entry-dictionary",
        "entry-encyclopedia", "event", "figure", "graphic", "hearing", "interview", "legal_case",
        "legislation", "manuscript", "map", "motion_picture", "musical_score", "pamphlet", "paper-conference",
        "patent", "performance", "periodical", "personal_communication", "post", "post-weblog", "regulation",
        "report", "review", "review-book", "software", "song", "speech", "standard", "thesis", "treaty",
        "webpage",
    }
)  # fmt: skip
# The project's fields, read from "custom" and, in files written before they moved there, from beside the
# CSL variables. "work_type" and "authors" only ever travel in "custom".
EXTENSIONS = (
    "study_design",
    "sample_size",
    "population",
    "retracted",
    "retraction_status",
    "retraction_date",
    "retraction_doi",
    "retraction_note",
    "verified",
    "verified_from",
    "author_list_complete",
    "unconfirmed_leads",
    "public_note",
)


def parse(text: str) -> ParseResult:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        # an unterminated string or a value missing at the very end: the download was cut off
        truncated = exc.msg.startswith("Unterminated string") or exc.pos >= len(text.rstrip())
        ending = " (the file ends early: it looks truncated)" if truncated else ""
        raise BibliographyError(f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}{ending}") from None
    except RecursionError:
        raise BibliographyError("not valid CSL-JSON: nested too deeply") from None
    if isinstance(data, dict):
        # a single item, as some tools export one record
        data = [data]
    if not isinstance(data, list):
        raise BibliographyError("CSL-JSON must be a list of items (or a single item object)")
    if not data:
        raise BibliographyError("the CSL-JSON list holds no items")
    result = ParseResult()
    for index, item in enumerate(data, start=1):
        source = f"entry {index}"
        if isinstance(item, dict) and isinstance(item.get("id"), str | int):
            source = f"entry {index} (id {item['id']})"
        try:
            result.records.append(parse_item(item, source))
        except EntryError as exc:
            result.rejected.append(Rejection(source, str(exc)))
    return result


def _text(item: dict[str, Any], key: str) -> str | None:
    value = item.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise EntryError(f"{key!r} must be text, not {type(value).__name__}")
    return str(value).strip()


def _names(value: Any) -> list[dict[str, str]]:
    if not isinstance(value, list):
        raise EntryError("'author' must be a list of names")
    names = []
    for name in value:
        if not isinstance(name, dict):
            raise EntryError("each author must be an object with family/given or literal")
        clean = {part: str(name[part]).strip() for part in NAME_PARTS if isinstance(name.get(part), str)}
        if not (clean.get("family") or clean.get("literal")):
            raise EntryError(f"author {name!r} has neither a family name nor a literal name")
        names.append(clean)
    return names


def _date_parts(value: Any) -> tuple[int | None, int | None, int | None]:
    if not isinstance(value, dict):
        raise EntryError("'issued' must be a CSL date object")
    parts = value.get("date-parts")
    if parts is None:
        raw = value.get("raw") or value.get("literal")
        if isinstance(raw, str) and raw[:4].isdigit():
            return int(raw[:4]), None, None
        raise EntryError("'issued' has no date-parts and no readable year")
    if not (isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]):
        raise EntryError("'issued.date-parts' must look like [[year, month, day]]")
    numbers: list[int | None] = []
    for part in parts[0][:3]:
        try:
            numbers.append(int(part))
        except (TypeError, ValueError):
            raise EntryError(f"'issued.date-parts' holds {part!r}, not a number") from None
    numbers += [None] * (3 - len(numbers))
    year, month, day = numbers
    if year is not None and not 1000 <= year <= 2999:
        raise EntryError(f"year {year} is out of range")
    if month is not None and not 1 <= month <= 12:
        raise EntryError(f"month {month} is out of range")
    if day is not None and not 1 <= day <= 31:
        raise EntryError(f"day {day} is out of range")
    return year, month, day


def _bool(item: dict[str, Any], key: str) -> bool | None:
    value = item.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise EntryError(f"{key!r} must be true, false or null")


def _extensions(item: dict[str, Any]) -> dict[str, Any]:
    """The project's fields of the item: its ``custom`` object, and the extensions an older file has beside
    the CSL variables. A field given in both places must say the same in both."""
    custom = item.get("custom")
    if custom is None:
        custom = {}
    if not isinstance(custom, dict):
        raise EntryError("'custom' must be an object")
    found = {key: item[key] for key in EXTENSIONS if key in item}
    for key, value in custom.items():
        if key in found and found[key] != value:
            raise EntryError(f"{key!r} is given twice, beside the CSL variables and in 'custom', with different values")
        found[key] = value
    return found


def _exact_names(value: Any) -> list[dict[str, str]]:
    if not (
        isinstance(value, list)
        and all(isinstance(name, dict) and name and all(isinstance(v, str) for v in name.values()) for name in value)
    ):
        raise EntryError("'custom.authors' must be a list of names, each an object of texts")
    return value


def parse_item(item: Any, source: str) -> StudyRecord:
    if not isinstance(item, dict):
        raise EntryError("an item must be a JSON object")
    extras = _extensions(item)
    title = _text(item, "title") or ""
    record = StudyRecord(source=source, title=title)
    record.citation_key = _text(item, "id") or ""
    record.work_type = _text(extras, "work_type") or _text(item, "type") or None
    if "authors" in extras:
        record.authors = _exact_names(extras["authors"])
    elif "author" in item:
        record.authors = _names(item["author"])
    record.container_title = _text(item, "container-title")
    record.publisher = _text(item, "publisher")
    if "issued" in item:
        record.year, record.month, record.day = _date_parts(item["issued"])
    record.volume = _text(item, "volume")
    record.issue = _text(item, "issue")
    record.pages = _text(item, "page")
    record.isbn = _text(item, "ISBN")
    record.url = _text(item, "URL")
    record.abstract = _text(item, "abstract")
    try:
        doi = _text(item, "DOI")
        record.doi = normalize_doi(doi) if doi is not None else None
        pmid = _text(item, "PMID")
        record.pmid = normalize_pmid(pmid) if pmid is not None else None
    except IdentifierError as exc:
        raise EntryError(str(exc)) from None
    if not (record.title or record.doi or record.pmid):
        raise EntryError("the item has no title, DOI or PMID to identify it")

    # The project's extras.
    if "study_design" in extras:
        design = design_value(_text(extras, "study_design"))
        if design is None:
            raise EntryError(f"unknown study design {extras['study_design']!r}")
        record.design = design or None
    if extras.get("sample_size") is not None:
        size = extras["sample_size"]
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise EntryError(f"sample_size {size!r} is not a whole number")
        record.sample_size = size
    record.population = _text(extras, "population")
    retracted = _bool(extras, "retracted")
    if retracted is not None:
        record.retraction_status = "retracted" if retracted else "none"
    if "retraction_status" in extras:
        status = retraction_value(_text(extras, "retraction_status"))
        if status is None:
            raise EntryError(f"unknown retraction_status {extras['retraction_status']!r}")
        record.retraction_status = status
    notice_date = _text(extras, "retraction_date")
    if notice_date:
        try:
            record.retraction_date = date.fromisoformat(notice_date)
        except ValueError:
            raise EntryError(f"retraction_date {notice_date!r} is not a date (YYYY-MM-DD)") from None
    try:
        notice_doi = _text(extras, "retraction_doi")
        record.retraction_doi = normalize_doi(notice_doi) if notice_doi is not None else None
    except IdentifierError as exc:
        raise EntryError(f"retraction_doi: {exc}") from None
    record.retraction_note = _text(extras, "retraction_note")
    record.verified = _bool(extras, "verified")
    record.author_list_complete = _bool(extras, "author_list_complete")
    if "verified_from" in extras:
        sources = extras["verified_from"]
        if not (isinstance(sources, list) and all(isinstance(s, str) for s in sources)):
            raise EntryError("'verified_from' must be a list of texts")
        record.verified_from = sources
    if extras.get("unconfirmed_leads") is not None:
        if not isinstance(extras["unconfirmed_leads"], dict):
            raise EntryError("'unconfirmed_leads' must be an object")
        record.unconfirmed_leads = extras["unconfirmed_leads"]
    record.note = _text(extras, "public_note")
    record.internal_note = _text(item, "note")
    return record
