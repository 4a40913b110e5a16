"""Studies out as BibTeX, RIS and CSL-JSON, and claims out as CSV. Pure functions of what they are given.
Every CSV the project writes goes through csv_writer(), which neutralises formulas in every cell.

Every export re-imports to the same studies, field for field (tests/test_bibliography_export.py): the
fields a format has no slot for travel as the project's extras, which the importers read back —
BibTeX fields such as ``studydesign``, RIS ``M2`` (Zotero's Extra) lines ``key: value``, and CSL-JSON's
``custom`` object. Reference managers ignore what they do not know. Every CSL-JSON item we write validates
against the official CSL schema (tests/test_conformance.py).

Limits worth knowing: a study without a citation key is exported under ``study-<pk>``, which becomes
its key when the file is imported again; BibTeX collapses single line breaks inside a value (blank
lines survive as paragraph breaks); CSL name particles are folded into the family name.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, TextIO

from django.db.models import Prefetch, QuerySet

from evidence.importers import ris as ris_importer
from evidence.importers.csljson import CSL_NAME_PARTS, CSL_TYPES
from evidence.importers.records import DESIGN_SPELLING
from evidence.models import Citation, Claim, Study
from reviews.models import consensus_of

# --- CSL-JSON --------------------------------------------------------------------------------------------


def study_key(study: Study) -> str:
    return study.citation_key or f"study-{study.pk}"


def csl_names(study: Study) -> list[dict[str, str]]:
    """The authors as CSL names, with only the parts a CSL name has: the official schema allows no other
    key in a name (one the API let through, an ORCID say, would make the whole file invalid)."""
    return [{part: value for part, value in name.items() if part in CSL_NAME_PARTS} for name in study.authors]


def csl_type(study: Study) -> str:
    """The study's CSL item type; ``document``, CSL's type for any other document, for a type CSL does not
    have (the admin and the API take any text, and the schema allows only its own list)."""
    work_type = study.work_type or "article-journal"
    return work_type if work_type in CSL_TYPES else "document"


def csl_item(study: Study, *, extras: bool = True, internal_notes: bool = False) -> dict[str, Any]:
    """The study as a CSL-JSON item; with ``extras`` the project's fields are added in ``custom``."""
    item: dict[str, Any] = {"id": study_key(study), "type": csl_type(study)}
    item["title"] = study.title
    item["author"] = csl_names(study)
    for key, value in (
        ("container-title", study.container_title),
        ("publisher", study.publisher),
        ("volume", study.volume),
        ("issue", study.issue),
        ("page", study.pages),
        ("DOI", study.doi),
        ("PMID", study.pmid),
        ("ISBN", study.isbn),
        ("URL", study.url),
        ("abstract", study.abstract),
    ):
        if value:
            item[key] = value
    if study.year:
        item["issued"] = {"date-parts": [[p for p in (study.year, study.month, study.day) if p is not None]]}
    if not extras:
        return item
    if internal_notes and study.internal_note:
        item["note"] = study.internal_note  # a file's note is the curators' own (evidence.importers.records)
    item["custom"] = csl_custom(study, item)
    return item


def csl_custom(study: Study, item: dict[str, Any]) -> dict[str, Any]:
    """The project's fields CSL has no variable for, under the names the importer reads back
    (evidence.importers.csljson.EXTENSIONS). The official schema forbids keys beside CSL's variables
    (``additionalProperties: false``) and keeps ``custom`` for these, "preferred over the note field for
    storing custom data"; strict consumers refuse an item with any other key."""
    custom: dict[str, Any] = {}
    if item["type"] != (study.work_type or "article-journal"):
        custom["work_type"] = study.work_type  # the type CSL has no name for, kept for the round trip
    if item["author"] != list(study.authors):
        custom["authors"] = list(study.authors)  # the exact names, parts CSL has no place for included
    custom["study_design"] = DESIGN_SPELLING.get(study.design, study.design)
    custom["sample_size"] = study.sample_size
    if study.population:
        custom["population"] = study.population
    custom["retracted"] = study.is_retracted
    if study.lesser_notice:
        custom["retraction_status"] = study.lesser_notice
    if study.retraction_date:
        custom["retraction_date"] = study.retraction_date.isoformat()
    if study.retraction_doi:
        custom["retraction_doi"] = study.retraction_doi
    custom["retraction_note"] = study.retraction_note
    custom["verified"] = study.verified
    custom["verified_from"] = list(study.verified_from)
    custom["author_list_complete"] = study.author_list_complete
    custom["unconfirmed_leads"] = dict(study.unconfirmed_leads)
    if study.note:
        custom["public_note"] = study.note
    return custom


def to_csljson(studies: Iterable[Study], *, internal_notes: bool = False) -> str:
    """CSL-JSON; the curators' internal notes only when asked (see EXPORTERS)."""
    items = [csl_item(study, internal_notes=internal_notes) for study in studies]
    return json.dumps(items, ensure_ascii=False, indent=2) + "\n"


# --- BibTeX ------------------------------------------------------------------------------------------------

BIBTEX_TYPES = {
    "article-journal": "article",
    "book": "book",
    "chapter": "incollection",
    "paper-conference": "inproceedings",
    "report": "techreport",
    "thesis": "phdthesis",
    "manuscript": "unpublished",
    "pamphlet": "booklet",
    "article": "misc",
}
MONTH_MACROS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "%": r"\%",
    "&": r"\&",
    "#": r"\#",
    "_": r"\_",
    "$": r"\$",
    "~": r"\textasciitilde{}",
}


def latex_escape(text: str) -> str:
    """Text to LaTeX that decodes back to the same text (UTF-8 kept as it is, as Zotero does)."""
    escaped = "".join(_LATEX_SPECIALS.get(char, char) for char in text)
    # --, ``, '' and !` are ligatures in LaTeX; an empty group keeps them as typed
    for pair in ("--", "``", "''", "!`", "?`"):
        while pair in escaped:
            escaped = escaped.replace(pair, pair[0] + "{}" + pair[1])
    return escaped


def verbatim_escape(text: str, specials: str = "\\{}%&#_$") -> str:
    r"""For identifier-like fields, whose importer only drops escaping backslashes (``\_`` → ``_``)."""
    return "".join("\\" + char if char in specials else char for char in text)


def _bibtex_name(name: dict[str, str]) -> str:
    if "literal" in name and not name.get("family"):
        return "{" + latex_escape(name["literal"]) + "}"
    family = " ".join(p for p in (name.get("non-dropping-particle"), name.get("family")) if p)
    given = " ".join(p for p in (name.get("given"), name.get("dropping-particle")) if p)
    suffix = name.get("suffix", "")

    def part(text: str) -> str:
        escaped = latex_escape(text)
        # a comma or a lone "and" would split the name or the author list
        return "{" + escaped + "}" if ("," in text or re.search(r"\band\b", text, re.I)) else escaped

    if suffix:
        return f"{part(family)}, {part(suffix)}, {part(given)}"
    if given:
        return f"{part(family)}, {part(given)}"
    # "Al Jurdi, {}": without the empty given name BibTeX would read "Al" as a first name
    return f"{part(family)}, {{}}" if " " in family else part(family)


def _bibtex_entry(study: Study, internal_notes: bool = False) -> str:
    work_type = study.work_type or "article-journal"
    entry_type = BIBTEX_TYPES.get(work_type, "misc")
    fields: list[tuple[str, str]] = []

    def add(key: str, value: str, *, raw: bool = False) -> None:
        fields.append((key, value if raw else "{" + value + "}"))

    if study.authors:
        add("author", " and ".join(_bibtex_name(name) for name in study.authors))
    if study.title:
        # double braces keep the title's capitals from a style's case changes, as the seed file does
        add("title", "{" + latex_escape(study.title) + "}")
    if study.container_title:
        key = {"article": "journal", "incollection": "booktitle", "inproceedings": "booktitle"}.get(
            entry_type, "howpublished"
        )
        add(key, latex_escape(study.container_title))
    if study.publisher:
        key = {"techreport": "institution", "phdthesis": "school"}.get(entry_type, "publisher")
        add(key, latex_escape(study.publisher))
    if study.year:
        add("year", str(study.year))
    if study.month:
        add("month", MONTH_MACROS[study.month - 1], raw=True)
    if study.year and study.month and study.day:
        add("date", f"{study.year:04d}-{study.month:02d}-{study.day:02d}")
    for key, value in (("volume", study.volume), ("number", study.issue)):
        if value:
            add(key, latex_escape(value))
    if study.pages:
        # 351-354 is written 351--354, BibTeX's page range (an en dash); the importer reads it back
        parts = study.pages.split("-")
        add("pages", "--".join(latex_escape(p) for p in parts) if len(parts) == 2 else latex_escape(study.pages))
    for key, value in (("doi", study.doi), ("pmid", study.pmid), ("url", study.url), ("isbn", study.isbn)):
        if value:
            add(key, verbatim_escape(value, "\\{}"))
    if study.abstract:
        add("abstract", latex_escape(study.abstract))
    # the project's extras, named as in the seed studies.bib
    if BIBTEX_TYPES.get(work_type) is None:  # the entry type alone would not say it
        add("csltype", work_type)
    add("studydesign", DESIGN_SPELLING.get(study.design, study.design))
    if study.sample_size is not None:
        add("samplesize", str(study.sample_size))
    if study.population:
        add("population", latex_escape(study.population))
    add("retracted", "true" if study.is_retracted else "false")
    if study.lesser_notice:
        add("retractionstatus", study.lesser_notice)
    if study.retraction_date:
        add("retractiondate", study.retraction_date.isoformat())
    if study.retraction_doi:
        add("retractiondoi", verbatim_escape(study.retraction_doi, "\\{}"))
    if study.retraction_note:
        add("retractionnote", latex_escape(study.retraction_note))
    add("verified", "true" if study.verified else "false")
    add("authorlistcomplete", "true" if study.author_list_complete else "false")
    if study.verified_from:
        sources = list(study.verified_from)
        joined = " | ".join(sources)
        # " | " separates the sources; if one of them holds it, the list goes as JSON instead
        plain = not any(" | " in s or s != s.strip() or not s for s in sources) and not joined.startswith("[")
        add("verifiedfrom", verbatim_escape(joined if plain else json.dumps(sources, ensure_ascii=False)))
    if study.unconfirmed_leads:
        add("unconfirmedleads", verbatim_escape(json.dumps(study.unconfirmed_leads, ensure_ascii=False)))
    if study.note:
        add("publicnote", latex_escape(study.note))
    if internal_notes and study.internal_note:
        add("note", latex_escape(study.internal_note))  # a file's note is the curators' own
    body = ",\n".join(f"  {key} = {value}" for key, value in fields)
    return f"@{entry_type}{{{_bibtex_key(study)},\n{body}\n}}\n"


def _bibtex_key(study: Study) -> str:
    # BibTeX keys cannot hold spaces, commas, braces or quotes
    return re.sub(r"[\s,{}()\"#%'=\\]", "_", study_key(study))


def to_bibtex(studies: Iterable[Study], *, internal_notes: bool = False) -> str:
    """BibTeX; the curators' internal notes only when asked (see EXPORTERS)."""
    header = "% Exported by evidence-review. Non-standard fields (studydesign, verified, …) are the project's.\n\n"
    return header + "\n".join(_bibtex_entry(study, internal_notes) for study in studies)


# --- RIS ------------------------------------------------------------------------------------------------------

RIS_TYPES: dict[str, str] = {}
for _tag, _csl in ris_importer.TYPES.items():
    RIS_TYPES.setdefault(_csl, _tag)


def _ris_name(name: dict[str, str]) -> str:
    if "literal" in name and not name.get("family"):
        return name["literal"]
    parts = [name.get("family", ""), name.get("given", "")]
    if name.get("suffix"):
        parts.append(name["suffix"])
    return ", ".join(parts)


def _plain_line(value: str) -> bool:
    return "\n" not in value and "\r" not in value and value == value.strip()


def _extra(key: str, value: Any) -> str:
    """One ``key: value`` line of the Extra field; JSON for anything not a plain one-line text."""
    plain = (
        isinstance(value, str)
        and _plain_line(value)
        and value[:1] not in '[{"'
        and value not in {"true", "false", "null"}
        and not re.fullmatch(r"-?\d+(\.\d+)?", value)
    )
    return f"M2  - {key}: {value if plain else json.dumps(value, ensure_ascii=False)}"


def _ris_record(study: Study, internal_notes: bool = False) -> list[str]:
    work_type = study.work_type or "article-journal"
    ris_type = RIS_TYPES.get(work_type, "GEN")
    lines = [f"TY  - {ris_type}", f"ID  - {study_key(study)}"]
    extras: list[str] = []

    def text(tag: str, key: str, value: str) -> None:
        if not value:
            return
        if _plain_line(value):
            lines.append(f"{tag}  - {value}")
        else:
            extras.append(_extra(key, value))

    text("TI", "title", study.title)
    names = list(study.authors)
    if all(ris_importer.parse_name(_ris_name(name)) == name for name in names):
        lines += [f"AU  - {_ris_name(name)}" for name in names]
    else:
        # a name RIS cannot say exactly (a comma inside an institution's name, say): the AU lines
        # are still written for other tools, and the exact names travel in the Extra field
        lines += [
            f"AU  - {_ris_name(name).replace(',', '') if 'literal' in name else _ris_name(name)}" for name in names
        ]
        extras.append(_extra("authors", names))
    if ris_type not in {"BOOK", "RPRT"}:
        text("T2", "container_title", study.container_title)
    elif study.container_title:
        extras.append(_extra("container_title", study.container_title))
    if study.year:
        lines.append(f"PY  - {study.year}")
        if study.month:
            lines.append(f"DA  - {study.year:04d}/{study.month:02d}/{f'{study.day:02d}' if study.day else ''}/")
    text("VL", "volume", study.volume)
    text("IS", "issue", study.issue)
    if study.pages:
        start, _, end = study.pages.partition("-")
        if end and ris_importer.join_pages(start, end) == study.pages and "-" not in end:
            lines += [f"SP  - {start}", f"EP  - {end}"]
        else:
            lines.append(f"SP  - {study.pages}")
    text("PB", "publisher", study.publisher)
    if study.isbn:
        lines.append(f"SN  - {study.isbn}")
    text("DO", "doi", study.doi)
    text("UR", "url", study.url)
    text("AB", "abstract", study.abstract)
    if internal_notes:
        text("N1", "note", study.internal_note)  # a file's note is the curators' own
    if study.pmid:
        extras.append(f"M2  - PMID: {study.pmid}")
    if RIS_TYPES.get(work_type) is None or ris_importer.TYPES.get(ris_type) != work_type:
        extras.append(_extra("csl_type", work_type))
    extras.append(_extra("study_design", DESIGN_SPELLING.get(study.design, study.design)))
    if study.sample_size is not None:
        extras.append(_extra("sample_size", study.sample_size))
    if study.population:
        extras.append(_extra("population", study.population))
    extras.append(_extra("retracted", study.is_retracted))
    if study.lesser_notice:
        extras.append(_extra("retraction_status", study.lesser_notice))
    if study.retraction_date:
        extras.append(_extra("retraction_date", study.retraction_date.isoformat()))
    if study.retraction_doi:
        extras.append(_extra("retraction_doi", study.retraction_doi))
    if study.retraction_note:
        extras.append(_extra("retraction_note", study.retraction_note))
    extras.append(_extra("verified", study.verified))
    extras.append(_extra("author_list_complete", study.author_list_complete))
    if study.verified_from:
        extras.append(_extra("verified_from", list(study.verified_from)))
    if study.unconfirmed_leads:
        extras.append(_extra("unconfirmed_leads", dict(study.unconfirmed_leads)))
    if study.note:
        extras.append(_extra("public_note", study.note))
    return [*lines, *extras, "ER  - "]


def to_ris(studies: Iterable[Study], *, internal_notes: bool = False) -> str:
    """RIS; the curators' internal notes only when asked (see EXPORTERS)."""
    records = ["\n".join(_ris_record(study, internal_notes)) for study in studies]
    return "\n\n".join(records) + "\n" if records else ""


# Each writes the note readers see under a name of ours (CSL custom public_note, BibTeX publicnote, RIS extra
# public_note), and the curators' internal note in the file's own note field only with internal_notes=True
# (export_bibliography --internal-notes, export_dataset --internal-notes; never a reader's download): the
# importers read a file's note as an internal note, so an export read back puts each note where it was.
EXPORTERS = {"bibtex": to_bibtex, "ris": to_ris, "csljson": to_csljson}
EXTENSIONS = {"bibtex": "bib", "ris": "ris", "csljson": "json"}
CONTENT_TYPES = {
    "bibtex": "application/x-bibtex; charset=utf-8",
    "ris": "application/x-research-info-systems; charset=utf-8",
    "csljson": "application/vnd.citationstyles.csl+json; charset=utf-8",
}


# --- CSV ------------------------------------------------------------------------------------------------------

# A cell starting with one of these is run as a formula by spreadsheets (CSV injection: =HYPERLINK(...) in
# a title sends a reader's data elsewhere when clicked); a tab or carriage return can hide one.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A cell a spreadsheet shows as written: text that could start a formula gets a leading apostrophe,
    as OWASP recommends; numbers stay numbers (-5 is a value, not a formula); None is an empty cell."""
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal):  # bool is an int
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class CSVWriter:
    """csv.writer for files people open in spreadsheets: every cell goes through csv_cell, lines end in
    CRLF (RFC 4180). The one way this project writes CSV; build it with csv_writer()."""

    def __init__(self, out: TextIO):
        self._writer = csv.writer(out, lineterminator="\r\n")

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([csv_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(out: TextIO) -> CSVWriter:
    """The shared CSV writer over ``out`` (a text file opened with newline="", or a StringIO)."""
    return CSVWriter(out)


# --- Claims CSV ------------------------------------------------------------------------------------------------

CLAIM_COLUMNS = [
    "article",
    "claim_key",
    "quote",
    "section",
    "substance",
    "claim_type",
    "status",
    "published_verdict",
    "published_certainty",
    "cited_dois",
    "cited_pmids",
    "cited_keys",
]


def claims_csv(claims: Iterable[Claim]) -> str:
    """One row per claim with its published verdict and certainty (blank until an editor publishes)
    and the identifiers of the studies it cites. Expects ``for_claims_csv``-style prefetching:
    the claim's article, consensus and citations with their studies (see claims_for_csv)."""
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(CLAIM_COLUMNS)
    for claim in claims:
        consensus = consensus_of(claim)
        studies = [citation.study for citation in claim.citations.all()]
        writer.writerow(
            [
                claim.article.slug,
                claim.key,
                claim.quote,
                claim.section,
                claim.substance,
                claim.claim_type,
                claim.status,
                consensus.published_verdict if consensus else "",
                consensus.published_certainty if consensus else "",
                "; ".join(sorted({s.doi for s in studies if s.doi})),
                "; ".join(sorted({s.pmid for s in studies if s.pmid})),
                "; ".join(sorted({s.citation_key for s in studies if s.citation_key})),
            ]
        )
    return out.getvalue()


def claims_for_csv(claims: QuerySet[Claim]) -> QuerySet[Claim]:
    """The claims with everything claims_csv reads: two queries whatever their number."""
    citations = Citation.objects.select_related("study").only(
        "claim_id", "study__doi", "study__pmid", "study__citation_key"
    )
    claims = claims.select_related("article", "consensus").prefetch_related(Prefetch("citations", queryset=citations))
    # keep an order the caller chose (the claim list's sort); otherwise by article and position
    return claims if claims.query.order_by else claims.order_by("article__slug", "start")
