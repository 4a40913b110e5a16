"""Plain records that every bibliography parser produces and the import service consumes.

Parsers never touch the database: they turn a file into StudyRecords (fields named as on
``evidence.Study``) and Rejections (an entry that could not be read, with where and why).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date
from typing import Any

# Study designs as reference files spell them (CSL-JSON extras, BibTeX fields, RIS notes), mapped to
# Study.Design values. Keys are compared in lower case with spaces, hyphens and underscores unified.
DESIGN_ALIASES: dict[str, str] = {
    "meta analysis": "meta_analysis",
    "metaanalysis": "meta_analysis",
    "systematic review": "systematic_review",
    "rct": "rct",
    "randomized controlled trial": "rct",
    "randomised controlled trial": "rct",
    "cohort": "cohort",
    "cohort study": "cohort",
    "case control": "case_control",
    "case series": "case_series",
    "cross sectional": "cross_sectional",
    "preclinical": "preclinical",
    "review": "review",
    "narrative review": "review",
    "regulatory": "regulatory",
    "regulatory document": "regulatory",
    "other": "other",
}


# How exports spell each Study.Design value: the seed files' spelling, and each maps back through
# design_value(), so an export re-imports to the same design.
DESIGN_SPELLING: dict[str, str] = {
    "meta_analysis": "meta-analysis",
    "systematic_review": "systematic review",
    "rct": "RCT",
    "cohort": "cohort",
    "case_control": "case-control",
    "case_series": "case series",
    "cross_sectional": "cross-sectional",
    "preclinical": "preclinical",
    "review": "review",
    "regulatory": "regulatory document",
    "other": "other",
}

RETRACTION_STATUSES = ("none", "retracted", "expression_of_concern", "corrected")


def retraction_value(raw: str | None) -> str | None:
    """The Study.RetractionStatus value for a status as written in a file; None when unknown."""
    if raw is None:
        return None
    key = "_".join(str(raw).lower().replace("-", " ").split())
    aliases = {"": "none", "not_retracted": "none", "eoc": "expression_of_concern", "correction": "corrected"}
    key = aliases.get(key, key)
    return key if key in RETRACTION_STATUSES else None


def design_value(raw: str | None) -> str | None:
    """The Study.Design value for a design as written in a file; None when it is not one we know."""
    if raw is None:
        return None
    key = " ".join(str(raw).lower().replace("-", " ").replace("_", " ").split())
    if not key:
        return ""
    return DESIGN_ALIASES.get(key)


@dataclass(slots=True)
class StudyRecord:
    """One bibliographic entry, with fields named as on evidence.Study.

    ``None`` for a scalar means the file did not say; "" means it said nothing is known. Only fields the
    file actually gave are applied to an existing study. Slots, not a dict per record: an import holds
    every record of its file at once.
    """

    source: str  # where the entry stands in its file: "line 12", "entry 3", "key berman2000"
    citation_key: str = ""
    work_type: str | None = None
    title: str | None = None
    authors: list[dict[str, str]] | None = None
    author_list_complete: bool | None = None
    container_title: str | None = None
    publisher: str | None = None
    year: int | None = None
    month: int | None = None
    day: int | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    doi: str | None = None
    pmid: str | None = None
    isbn: str | None = None
    url: str | None = None
    abstract: str | None = None
    design: str | None = None
    sample_size: int | None = None
    population: str | None = None
    retraction_status: str | None = None
    retraction_date: date | None = None
    retraction_doi: str | None = None
    retraction_note: str | None = None
    verified: bool | None = None
    verified_from: list[str] | None = None
    unconfirmed_leads: dict[str, Any] | None = None
    # A file's note (CSL note, BibTeX note, RIS N1: Zotero's Extra and notes) is the curator's own
    # record-keeping, never a text for readers: it goes to the study's internal note. The note readers see
    # travels only in our own files, under a name of ours (CSL custom public_note, BibTeX publicnote, RIS
    # extra public_note), so an export read back puts each note where it was.
    note: str | None = None
    internal_note: str | None = None
    warnings: list[str] = field(default_factory=list)

    def given_fields(self) -> dict[str, Any]:
        """The study fields this record sets, i.e. every field that is not None."""
        values = {name: getattr(self, name) for name in _STUDY_FIELDS}
        return {name: value for name, value in values.items() if value is not None}


# StudyRecord's fields that are Study's, in declaration order (dataclasses.fields() is slow to call per record).
_STUDY_FIELDS = tuple(f.name for f in dataclasses.fields(StudyRecord) if f.name not in {"source", "warnings"})


class EntryError(ValueError):
    """One entry of a file cannot be imported; the message says why. Every parser raises it for an entry
    and turns it into a Rejection."""


@dataclass(frozen=True)
class Rejection:
    """An entry that was not imported, and why."""

    source: str
    reason: str


@dataclass
class ParseResult:
    records: list[StudyRecord] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    format: str = ""  # bibtex, ris or csljson: set by evidence.importers.detect


class BibliographyError(ValueError):
    """The file as a whole cannot be read as a bibliography; nothing is imported."""
