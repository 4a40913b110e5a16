"""The Retraction Watch data set, as Crossref distributes it (a CSV), into RetractionNotices.

Streams: rows are read one at a time from any iterable of lines, so the full data set (tens of
thousands of rows) never sits in memory. Pure: matching the notices to studies is the service's job.

The export's own conventions: dates are US-style ``8/10/2024 0:00``; a missing PubMed ID is ``0``
and a missing DOI ``unavailable``; reasons are ``+Reason one;+Reason two;``; the header (and every
row) may end with a comma, i.e. an empty last column.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

from evidence.identifiers import IdentifierError, normalize_doi, normalize_pmid
from evidence.importers.records import BibliographyError, Rejection

REQUIRED_COLUMNS = (
    "Record ID",
    "RetractionDate",
    "RetractionDOI",
    "OriginalPaperDOI",
    "OriginalPaperPubMedID",
    "RetractionNature",
    "Reason",
)
# RetractionNature → Study.RetractionStatus; a reinstatement is reported for a curator, not applied.
NATURES = {
    "retraction": "retracted",
    "expression of concern": "expression_of_concern",
    "correction": "corrected",
    "reinstatement": None,
}
_ABSENT = {"", "0", "unavailable", "not available", "na", "n/a", "none"}


class RetractionFileError(BibliographyError):
    """The file is not the Retraction Watch CSV; nothing is imported."""


@dataclass(frozen=True)
class RetractionNotice:
    source: str  # "line 12"
    record_id: str
    nature: str  # as written: Retraction, Expression of concern, Correction, Reinstatement
    status: str | None  # the Study.RetractionStatus it means; None for a reinstatement
    date: date | None
    notice_doi: str
    original_doi: str
    original_pmid: str
    reason: str
    title: str = ""


def parse_date(value: str) -> date | None:
    """``8/10/2024 0:00``, ``8/10/2024`` or ``2024-08-10``; None when empty or unreadable."""
    value = value.strip()
    for pattern in ("%m/%d/%Y %H:%M", "%m/%d/%Y", "%Y-%m-%d", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    return None


def _identifier(value: str, normalize) -> str:
    value = (value or "").strip()
    if value.lower() in _ABSENT:
        return ""
    try:
        return normalize(value)
    except IdentifierError:
        return ""


def reasons(value: str) -> str:
    """``+Concerns/Issues About Data;+Paper Mill;`` → ``Concerns/Issues About Data; Paper Mill``."""
    return "; ".join(part.strip().lstrip("+").strip() for part in value.split(";") if part.strip().lstrip("+"))


def read(lines: Iterable[str]) -> Iterator[RetractionNotice | Rejection]:
    """Each row as a RetractionNotice, or a Rejection for a row that names no paper or no nature.

    Raises RetractionFileError when the header lacks the columns this import needs.
    """
    reader = csv.DictReader(lines)
    try:
        header = reader.fieldnames
    except csv.Error as exc:
        raise RetractionFileError(f"not a CSV file: {exc}") from None
    if not header:
        raise RetractionFileError("the file is empty")
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        raise RetractionFileError(
            f"not the Retraction Watch CSV: the header lacks {', '.join(missing)} "
            "(expected Record ID,Title,…,OriginalPaperDOI,OriginalPaperPubMedID,RetractionNature,Reason,…)"
        )
    try:
        for row in reader:
            source = f"line {reader.line_num}"
            nature = (row.get("RetractionNature") or "").strip()
            doi = _identifier(row.get("OriginalPaperDOI") or "", normalize_doi)
            pmid = _identifier(row.get("OriginalPaperPubMedID") or "", normalize_pmid)
            if nature.lower() not in NATURES:
                yield Rejection(source, f"unknown RetractionNature {nature!r}")
                continue
            if not doi and not pmid:
                yield Rejection(source, "names no paper: no original DOI or PubMed ID")
                continue
            yield RetractionNotice(
                source=source,
                record_id=(row.get("Record ID") or "").strip(),
                nature=nature,
                status=NATURES[nature.lower()],
                date=parse_date(row.get("RetractionDate") or ""),
                notice_doi=_identifier(row.get("RetractionDOI") or "", normalize_doi),
                original_doi=doi,
                original_pmid=pmid,
                reason=reasons(row.get("Reason") or ""),
                title=(row.get("Title") or "").strip(),
            )
    except csv.Error as exc:
        raise RetractionFileError(f"line {reader.line_num}: {exc}") from None
