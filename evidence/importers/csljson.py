"""CSL-JSON (Zotero's "CSL JSON" export, citeproc's input) into StudyRecords.

Besides the CSL variables, the project's own extras are read when present: ``study_design``,
``sample_size``, ``population``, ``retracted`` with ``retraction_note`` (and, for an expression of
concern or a correction, ``retraction_status``; ``retraction_date`` and ``retraction_doi`` for the
notice), ``verified`` with ``verified_from``, ``author_list_complete``, ``unconfirmed_leads`` and
``note``.
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


def parse_item(item: Any, source: str) -> StudyRecord:
    if not isinstance(item, dict):
        raise EntryError("an item must be a JSON object")
    title = _text(item, "title") or ""
    record = StudyRecord(source=source, title=title)
    record.citation_key = _text(item, "id") or ""
    record.work_type = _text(item, "type") or None
    if "author" in item:
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
    if "study_design" in item:
        design = design_value(_text(item, "study_design"))
        if design is None:
            raise EntryError(f"unknown study design {item['study_design']!r}")
        record.design = design or None
    if item.get("sample_size") is not None:
        size = item["sample_size"]
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise EntryError(f"sample_size {size!r} is not a whole number")
        record.sample_size = size
    record.population = _text(item, "population")
    retracted = _bool(item, "retracted")
    if retracted is not None:
        record.retraction_status = "retracted" if retracted else "none"
    if "retraction_status" in item:
        status = retraction_value(_text(item, "retraction_status"))
        if status is None:
            raise EntryError(f"unknown retraction_status {item['retraction_status']!r}")
        record.retraction_status = status
    notice_date = _text(item, "retraction_date")
    if notice_date:
        try:
            record.retraction_date = date.fromisoformat(notice_date)
        except ValueError:
            raise EntryError(f"retraction_date {notice_date!r} is not a date (YYYY-MM-DD)") from None
    try:
        notice_doi = _text(item, "retraction_doi")
        record.retraction_doi = normalize_doi(notice_doi) if notice_doi is not None else None
    except IdentifierError as exc:
        raise EntryError(f"retraction_doi: {exc}") from None
    record.retraction_note = _text(item, "retraction_note")
    record.verified = _bool(item, "verified")
    record.author_list_complete = _bool(item, "author_list_complete")
    if "verified_from" in item:
        sources = item["verified_from"]
        if not (isinstance(sources, list) and all(isinstance(s, str) for s in sources)):
            raise EntryError("'verified_from' must be a list of texts")
        record.verified_from = sources
    if item.get("unconfirmed_leads") is not None:
        if not isinstance(item["unconfirmed_leads"], dict):
            raise EntryError("'unconfirmed_leads' must be an object")
        record.unconfirmed_leads = item["unconfirmed_leads"]
    record.note = _text(item, "note")
    return record
