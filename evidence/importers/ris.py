"""RIS (Zotero's, EndNote's and PubMed's) into StudyRecords, with rispy.

rispy reads the tags of one record; this module finds the records first (TY … ER), so that each one
is reported by the line it starts on and a file cut off inside a record is refused as truncated
instead of silently losing its last record.

Where each tool puts things:

- PubMed: ``AN`` is the PMID when ``DB`` says PubMed/MEDLINE; titles end with a full stop that is not
  part of the title; end pages are abbreviated (``SP 351`` ``EP 4`` is 351-354); ``JF``/``JO`` the
  journal, ``Y1``/``PY`` the date.
- Zotero: ``T2`` the journal, ``DA`` 2000/02/15/, ``AN`` an archive location (not a PMID), ``M2``
  its Extra field, where ``PMID: 123`` and our exporter's ``key: value`` extras live.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

import rispy
from rispy.config import LIST_TYPE_TAGS, TAG_KEY_MAPPING

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

# RIS reference type → CSL type, and back for the exporter (first RIS type listed wins).
TYPES: dict[str, str] = {
    "JOUR": "article-journal",
    "JFULL": "article-journal",
    "EJOUR": "article-journal",
    "ABST": "article-journal",
    "INPR": "article-journal",
    "BOOK": "book",
    "EBOOK": "book",
    "EDBOOK": "book",
    "CHAP": "chapter",
    "ECHAP": "chapter",
    "RPRT": "report",
    "GOVDOC": "report",
    "STAND": "report",
    "ELEC": "webpage",
    "THES": "thesis",
    "CPAPER": "paper-conference",
    "CONF": "paper-conference",
    "MGZN": "article-magazine",
    "NEWS": "article-newspaper",
    "DATA": "dataset",
    "PAT": "patent",
    "MANSCPT": "manuscript",
    "UNPB": "manuscript",
    "BILL": "bill",
    "CASE": "legal_case",
    "STAT": "legislation",
    "MPCT": "motion_picture",
    "MAP": "map",
    "PCOMM": "personal_communication",
    "BLOG": "post-weblog",
    "DICT": "entry-dictionary",
    "ENCYC": "entry-encyclopedia",
    "PAMP": "pamphlet",
    "ART": "graphic",
    "SOUND": "song",
    "SLIDE": "speech",
    "GEN": "article",
}

# Tags that may repeat, read as lists (rispy keeps only the first of any other repeated tag).
LIST_TAGS = [*LIST_TYPE_TAGS, "M2", "UR"]
MAPPING = {**TAG_KEY_MAPPING, "M2": "extra", "DB": "name_of_database", "U2": "user2"}
# The specification says "TY  - " (two spaces); some tools write one, and a few drop the trailing space.
_TAG_LINE = re.compile(r"^([A-Z][A-Z0-9]) {1,2}-(?: (.*)|$)")
_PUBMED = re.compile(r"pubmed|medline|\bnlm\b", re.I)
_EXTRA_LINE = re.compile(r"^([A-Za-z][A-Za-z0-9_ -]*):\s?(.*)$", re.S)


def _records(text: str) -> list[tuple[int, str]]:
    """(first line number, text) of each TY … ER record. BibliographyError for a truncated file."""
    records: list[tuple[int, str]] = []
    start: int | None = None
    lines: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _TAG_LINE.match(line)
        tag = match.group(1) if match else None
        if match:
            line = f"{tag}  - {match.group(2) or ''}"  # the form rispy reads
        if tag == "TY":
            if start is not None:
                raise BibliographyError(f"the record that starts at line {start} has no ER line before line {number}")
            start, lines = number, [line]
        elif tag == "ER":
            if start is None:
                raise BibliographyError(f"line {number}: ER without a TY record before it")
            lines.append(line)
            records.append((start, "\n".join(lines)))
            start, lines = None, []
        elif start is not None:
            lines.append(line)
        elif line.strip() and not re.match(r"^\d+\.$|^Provider:|^Database:|^Content:", line.strip()):
            raise BibliographyError(f"line {number} stands outside any TY … ER record: {line.strip()[:60]!r}")
    if start is not None:
        raise BibliographyError(
            f"the file ends inside the record that starts at line {start} (no ER line): it looks truncated"
        )
    if not records:
        raise BibliographyError("no RIS records found (expected lines such as 'TY  - JOUR' … 'ER  - ')")
    return records


def parse(text: str) -> ParseResult:
    result = ParseResult()
    parser = rispy.RisParser(mapping=MAPPING, list_tags=LIST_TAGS, enforce_list_tags=False)
    for index, (line, chunk) in enumerate(_records(text), start=1):
        source = f"line {line} (record {index})"
        try:
            parsed = parser.parse(chunk)
            if len(parsed) != 1:
                raise EntryError("cannot be read as one RIS record")
            result.records.append(ris_record(parsed[0], source))
        except EntryError as exc:
            result.rejected.append(Rejection(source, str(exc)))
    return result


def _one(entry: dict[str, Any], *keys: str) -> str | None:
    """The first of ``keys`` the record has, as one stripped text (a repeated tag: its first value)."""
    for key in keys:
        value = entry.get(key)
        if isinstance(value, list):
            value = next((v for v in value if v and v.strip()), None)
        if value is not None and str(value).strip():
            return str(value).strip()
    return None


def _all(entry: dict[str, Any], key: str) -> list[str]:
    value = entry.get(key)
    if value is None:
        return []
    return [str(v).strip() for v in (value if isinstance(value, list) else [value]) if str(v).strip()]


def parse_name(value: str) -> dict[str, str]:
    """RIS names are "Family, Given, Suffix"; a name without a comma is an institution's."""
    parts = [part.strip() for part in value.split(",")]
    if len(parts) == 1:
        return {"literal": parts[0]}
    name = {"family": parts[0]}
    if parts[1]:
        name["given"] = parts[1]
    if len(parts) > 2 and any(parts[2:]):
        name["suffix"] = ", ".join(p for p in parts[2:] if p)
    if not name["family"]:
        raise EntryError(f"the author {value!r} has no family name")
    return name


def parse_date(value: str) -> tuple[int | None, int | None, int | None]:
    """RIS dates: 2000, 2000/02/15/, 2000/02//, 2000-02-15, 2000/02/15/Spring."""
    match = re.match(r"^\s*(\d{4})(?:[/-](\d{1,2})?(?:[/-](\d{1,2})?)?)?", value)
    if not match:
        raise EntryError(f"date {value!r} has no year")
    year, month, day = (int(g) if g else None for g in match.groups())
    if not 1000 <= year <= 2999:  # type: ignore[operator]
        raise EntryError(f"year {year} is out of range")
    if month is not None and not 1 <= month <= 12:
        raise EntryError(f"date {value!r} has no month {month}")
    if day is not None and not 1 <= day <= 31:
        raise EntryError(f"date {value!r} has no day {day}")
    return year, month, day


def join_pages(start: str | None, end: str | None) -> str | None:
    """SP and EP as one range, expanding PubMed's abbreviated end page (351 and 4 → 351-354)."""
    if not start:
        return end
    start = re.sub(r"\s*(?:-+|–|—)\s*", "-", start)
    if not end or "-" in start:
        return start
    if start.isdigit() and end.isdigit() and len(end) < len(start):
        expanded = start[: len(start) - len(end)] + end
        if int(expanded) >= int(start):
            end = expanded
    return f"{start}-{end}"


def _extras(entry: dict[str, Any]) -> dict[str, str]:
    """``key: value`` lines of the Extra field (M2), keys in lower case with spaces as underscores."""
    extras: dict[str, str] = {}
    for line in _all(entry, "extra"):
        match = _EXTRA_LINE.match(line)
        if match:
            extras.setdefault(match.group(1).strip().lower().replace(" ", "_"), match.group(2).strip())
    return extras


def _extra_value(raw: str) -> Any:
    """Our exporter JSON-encodes anything that is not a plain one-line text."""
    if raw[:1] in '[{"' or raw in {"true", "false", "null"} or re.fullmatch(r"-?\d+(\.\d+)?", raw):
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return raw
    return raw


def ris_record(entry: dict[str, Any], source: str) -> StudyRecord:
    extras = {key: _extra_value(value) for key, value in _extras(entry).items()}
    from_pubmed = bool(_PUBMED.search(_one(entry, "name_of_database", "database_provider") or ""))
    record = StudyRecord(source=source)
    record.citation_key = _one(entry, "id") or ""
    ris_type = (_one(entry, "type_of_reference") or "GEN").upper()
    record.work_type = str(extras.get("csl_type") or TYPES.get(ris_type, "article"))

    title = _one(entry, "title", "primary_title") or ""
    if from_pubmed and title.endswith(".") and not title.endswith(".."):
        title = title[:-1]  # MEDLINE ends every title with a full stop
    record.title = _text_extra(extras, "title", title)

    if isinstance(extras.get("authors"), list):
        record.authors = _json_names(extras["authors"])
    else:
        names = _all(entry, "authors") or _all(entry, "first_authors")
        if names:
            record.authors = [parse_name(name) for name in names]
    if ris_type not in {"BOOK", "EBOOK", "EDBOOK", "RPRT"}:
        record.container_title = _one(
            entry, "secondary_title", "alternate_title3", "journal_name", "alternate_title2", "alternate_title1"
        )
    record.publisher = _one(entry, "publisher")

    date_text = _one(entry, "date")
    year_text = _one(entry, "year", "publication_year")
    if year_text:
        record.year = parse_date(year_text)[0]
        if "/" in year_text or "-" in year_text:
            _, record.month, record.day = parse_date(year_text)
    if date_text:
        year, month, day = parse_date(date_text)
        record.year = record.year or year
        if year == record.year and month is not None:
            record.month, record.day = month, day

    record.volume = _one(entry, "volume")
    record.issue = _one(entry, "number")
    record.pages = join_pages(_one(entry, "start_page"), _one(entry, "end_page"))
    urls = _all(entry, "urls")
    record.url = urls[0] if urls else None
    record.abstract = _text_extra(extras, "abstract", _one(entry, "abstract", "notes_abstract"))
    notes = _all(entry, "notes")
    record.internal_note = _text_extra(extras, "note", "\n\n".join(notes) if notes else None)
    if ris_type in {"BOOK", "EBOOK", "EDBOOK", "CHAP", "ECHAP"}:
        record.isbn = _one(entry, "issn")

    try:
        doi = _one(entry, "doi")
        if doi is None:
            # EndNote and older PubMed exports put the DOI in M3
            m3 = _one(entry, "type_of_work")
            doi = m3 if m3 and re.match(r"^(?:doi:\s*|https?://(?:dx\.)?doi\.org/)?10\.\d{4,9}/", m3, re.I) else None
        record.doi = normalize_doi(doi) if doi is not None else None
        pmid = extras.get("pmid")
        if pmid is None and from_pubmed:
            pmid = _one(entry, "accession_number")
        record.pmid = normalize_pmid(str(pmid)) if pmid is not None else None
    except IdentifierError as exc:
        raise EntryError(str(exc)) from None
    if not (record.title or record.doi or record.pmid):
        raise EntryError("the record has no title, DOI or PMID to identify it")
    _project_extras(record, extras)
    return record


def _text_extra(extras: dict[str, Any], key: str, fallback: str | None) -> str | None:
    """A value the exporter moved to the Extra field because RIS cannot hold its line breaks."""
    value = extras.get(key)
    return value if isinstance(value, str) else fallback


def _json_names(value: list[Any]) -> list[dict[str, str]]:
    names = []
    for name in value:
        if not isinstance(name, dict) or not (name.get("family") or name.get("literal")):
            raise EntryError("the authors in the Extra field must be CSL names with family or literal")
        names.append({k: str(v) for k, v in name.items() if isinstance(v, str)})
    return names


def _project_extras(record: StudyRecord, extras: dict[str, Any]) -> None:
    if "study_design" in extras:
        design = design_value(str(extras["study_design"]))
        if design is None:
            raise EntryError(f"unknown study design {extras['study_design']!r}")
        record.design = design or None
    size = extras.get("sample_size")
    if size is not None:
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise EntryError(f"sample_size {size!r} is not a whole number")
        record.sample_size = size
    if isinstance(extras.get("population"), str):
        record.population = extras["population"]
    if "retracted" in extras:
        if not isinstance(extras["retracted"], bool):
            raise EntryError("retracted must be true or false")
        record.retraction_status = "retracted" if extras["retracted"] else "none"
    if "retraction_status" in extras:
        status = retraction_value(str(extras["retraction_status"]))
        if status is None:
            raise EntryError(f"unknown retraction status {extras['retraction_status']!r}")
        record.retraction_status = status
    if extras.get("retraction_date"):
        try:
            record.retraction_date = date.fromisoformat(str(extras["retraction_date"]))
        except ValueError:
            raise EntryError(f"retraction_date {extras['retraction_date']!r} is not a date") from None
    if extras.get("retraction_doi"):
        try:
            record.retraction_doi = normalize_doi(str(extras["retraction_doi"]))
        except IdentifierError as exc:
            raise EntryError(f"retraction_doi: {exc}") from None
    if isinstance(extras.get("retraction_note"), str):
        record.retraction_note = extras["retraction_note"]
    if isinstance(extras.get("public_note"), str):
        record.note = extras["public_note"]
    for key in ("verified", "author_list_complete"):
        if key in extras:
            if not isinstance(extras[key], bool):
                raise EntryError(f"{key} must be true or false")
            setattr(record, key, extras[key])
    if "verified_from" in extras:
        sources = extras["verified_from"]
        if not (isinstance(sources, list) and all(isinstance(s, str) for s in sources)):
            raise EntryError("verified_from must be a JSON list of texts")
        record.verified_from = sources
    if "unconfirmed_leads" in extras:
        if not isinstance(extras["unconfirmed_leads"], dict):
            raise EntryError("unconfirmed_leads must be a JSON object")
        record.unconfirmed_leads = extras["unconfirmed_leads"]
