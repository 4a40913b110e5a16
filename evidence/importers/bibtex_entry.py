"""One BibTeX entry, as bibtexparser and its middlewares leave it (evidence.importers.bibtex), into a StudyRecord.

LaTeX is decoded per field: prose fields (title, journal, names, note …) through pylatexenc, the decoder
bibtexparser's LatexDecodingMiddleware uses, so ``{\\'e}`` becomes é and ``--`` an en dash (a value in which
pylatexenc would find nothing but plain characters is taken as it is, unwalked); identifier-like
fields (DOI, URL, the project's ``verifiedfrom``) only lose their escaping backslashes, because ``--`` or
``~`` in a URL is literal.

Besides the standard fields, the project's extras written by our exporter and by the seed studies.bib
are read back: ``studydesign``, ``samplesize``, ``population``, ``retracted``, ``retractionstatus``,
``retractiondate``, ``retractiondoi``, ``retractionnote``, ``verified``, ``verifiedfrom`` (`` | ``
separated, or a JSON list), ``authorlistcomplete``, ``unconfirmedleads`` (JSON), ``csltype`` (the CSL
type when the entry type cannot say it) and ``date``/``day`` for the full publication date.
"""

from __future__ import annotations

import functools
import json
import re
from datetime import date
from typing import Any

from bibtexparser.middlewares.names import NameParts
from bibtexparser.model import Entry
from pylatexenc import latexwalker
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db
from pylatexenc.macrospec import LatexContextDb

from evidence.identifiers import IdentifierError, normalize_doi, normalize_pmid
from evidence.importers.records import EntryError, StudyRecord, design_value, retraction_value

# BibTeX entry type → CSL type. Unknown types are kept as "article" (CSL's generic type), as
# citeproc-py reads @misc.
ENTRY_TYPES: dict[str, str] = {
    "article": "article-journal",
    "book": "book",
    "booklet": "pamphlet",
    "inbook": "chapter",
    "incollection": "chapter",
    "inproceedings": "paper-conference",
    "conference": "paper-conference",
    "manual": "report",
    "mastersthesis": "thesis",
    "phdthesis": "thesis",
    "thesis": "thesis",
    "proceedings": "book",
    "techreport": "report",
    "report": "report",
    "unpublished": "manuscript",
    "online": "webpage",
    "electronic": "webpage",
    "www": "webpage",
    "misc": "article",
}

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}

# Fields whose value is an identifier or a list of sources: no LaTeX decoding beyond escapes.
VERBATIM_FIELDS = {"doi", "url", "pmid", "isbn", "eprint", "verifiedfrom", "unconfirmedleads", "file", "date"}
NAME_FIELDS = ("author",)
_ESCAPED = re.compile(r"\\([\\{}%&#_$~^])")


def _decoder() -> LatexNodes2Text:
    """pylatexenc configured as bibtexparser's LatexDecodingMiddleware configures it."""
    context = get_default_latex_context_db()
    context.add_context_category("evidence-bibtex", prepend=True, macros=[MacroTextSpec("url", simplify_repl="%s")])
    return LatexNodes2Text(latex_context=context, keep_braced_groups=False, math_mode="verbatim")


def _parsing_context() -> LatexContextDb:
    """pylatexenc's default parsing database with its categories merged into one, built once.

    The walker asks the database, at every character of a value, whether a "special" (--, ~, two
    backquotes …) starts there, and the database looks through each of its seven categories in turn, most
    of them without a special. One category holding the same definitions answers the same (for a name, the
    first category's definition; for specials, the longest match, then the first) in fewer steps. Built
    once: latex_to_text() hands its keyword arguments to the LatexWalker it makes, which otherwise builds
    pylatexenc's whole default database again for every value.
    """
    default = latexwalker.get_default_latex_context_db()
    macros: dict[str, Any] = {}
    environments: dict[str, Any] = {}
    specials: dict[str, Any] = {}
    for spec in default.iter_macro_specs():
        macros.setdefault(spec.macroname, spec)
    for spec in default.iter_environment_specs():
        environments.setdefault(spec.environmentname, spec)
    for spec in default.iter_specials_specs():
        specials.setdefault(spec.specials_chars, spec)
    merged = LatexContextDb()
    merged.add_context_category(
        "default",
        macros=list(macros.values()),
        environments=list(environments.values()),
        specials=list(specials.values()),
    )
    merged.set_unknown_macro_spec(default.unknown_macro_spec)
    merged.set_unknown_environment_spec(default.unknown_environment_spec)
    merged.set_unknown_specials_spec(default.unknown_specials_spec)
    return merged


_DECODER = _decoder()
_PARSE_FLAGS = {"latex_context": _parsing_context()}
# What pylatexenc's walker reads as anything but plain text: a macro (\), a group ({ }), math ($), a comment
# (%), and the specials of its parsing database (~, --, ``, & …). A value with none of them is a run of
# characters that pylatexenc gives back as they are, so it is not walked one character at a time.
_LATEX = re.compile(
    "|".join(
        [r"[\\{}$%]", *(re.escape(spec.specials_chars) for spec in _PARSE_FLAGS["latex_context"].iter_specials_specs())]
    )
)


def decode_latex(value: str, *, paragraphs: bool = False) -> str:
    """LaTeX to Unicode text; whitespace collapsed (blank lines kept as paragraph breaks if asked).
    EntryError for a value pylatexenc cannot read."""
    if not _LATEX.search(value):
        return _tidy(value, paragraphs)
    if len(value) <= _RECURRING:
        return _decode_recurring(value, paragraphs)
    return _decode(value, paragraphs)


def _decode(value: str, paragraphs: bool) -> str:
    try:
        text = _DECODER.latex_to_text(value, **_PARSE_FLAGS)
    except (AttributeError, TypeError, IndexError):
        # pylatexenc's tolerant mode still fails on a macro that takes arguments and has none ("\title")
        raise EntryError(f"cannot be read as LaTeX: {value[:60]!r}") from None
    return _tidy(text, paragraphs)


def _tidy(text: str, paragraphs: bool) -> str:
    text = text.replace("\xa0", " ")
    if paragraphs:
        parts = [" ".join(p.split()) for p in re.split(r"\n[ \t]*\n", text)]
        return "\n\n".join(p for p in parts if p)
    return " ".join(text.split())


# Names, journals, publishers, years and flags recur from entry to entry; titles and abstracts do not. The
# decoding of a value depends on nothing but its text.
_RECURRING = 100
_decode_recurring = functools.lru_cache(maxsize=8192)(_decode)


def unescape_verbatim(value: str) -> str:
    r"""Drop the backslash of escaped specials (``\_`` → ``_``) and nothing else."""
    return " ".join(_ESCAPED.sub(r"\1", value).split()) if "\n" in value else _ESCAPED.sub(r"\1", value).strip()


# --- The values of an entry ----------------------------------------------------------------------------------


def _names(parts_list: list[Any]) -> list[dict[str, str]]:
    names = []
    for parts in parts_list:
        if not isinstance(parts, NameParts):
            raise EntryError(f"cannot read the author {parts!r}")
        if parts.last == ["others"] and not (parts.first or parts.von or parts.jr):
            continue  # "and others": the list is incomplete, which author_list_complete records
        # {U.S. Food and Drug Administration}: one braced token and nothing else is an institution
        if len(parts.last) == 1 and not (parts.first or parts.von or parts.jr):
            token = parts.last[0]
            if token.startswith("{") and token.endswith("}") and _balanced(token[1:-1]):
                names.append({"literal": decode_latex(token[1:-1])})
                continue
        family = decode_latex(" ".join([*parts.von, *parts.last]))
        given = decode_latex(" ".join(parts.first))
        suffix = decode_latex(" ".join(parts.jr))
        if not family:
            raise EntryError(f"an author has no family name ({given!r})")
        name = {"family": family}
        if given:
            name["given"] = given
        if suffix:
            name["suffix"] = suffix
        names.append(name)
    return names


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def _bool(value: str, name: str) -> bool | None:
    lowered = value.strip().lower()
    if lowered in {"true", "yes", "1"}:
        return True
    if lowered in {"false", "no", "0"}:
        return False
    if lowered in {"", "null"}:
        return None
    raise EntryError(f"{name} = {value!r} is not true or false")


def _month(value: str) -> int:
    raw = value.strip().lower().rstrip(".")
    if raw.isdigit() and 1 <= int(raw) <= 12:
        return int(raw)
    if raw in MONTHS:
        return MONTHS[raw]
    raise EntryError(f"month = {value!r} is not a month")


def _date(value: str) -> tuple[int, int | None, int | None]:
    """A biblatex date (YYYY, YYYY-MM or YYYY-MM-DD)."""
    match = re.fullmatch(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?", value.strip())
    if not match:
        raise EntryError(f"date = {value!r} is not YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = (int(g) if g else None for g in match.groups())
    if month is not None and not 1 <= month <= 12:
        raise EntryError(f"date = {value!r} has no month {month}")
    if day is not None and not 1 <= day <= 31:
        raise EntryError(f"date = {value!r} has no day {day}")
    return year, month, day  # type: ignore[return-value]


def _year(value: str) -> int:
    match = re.fullmatch(r"\s*(\d{4})\s*", value)
    if not match or not 1000 <= int(match.group(1)) <= 2999:
        raise EntryError(f"year = {value!r} is not a year")
    return int(match.group(1))


def normalize_pages(value: str) -> str:
    """351--354, 351–354 and 351 - 354 are all stored as 351-354."""
    return re.sub(r"\s*(?:-+|–|—)\s*", "-", value.strip())


def _verified_from(value: str) -> list[str]:
    value = value.strip()
    if value.startswith("[") and value.endswith("]"):
        try:
            sources = json.loads(value)
        except json.JSONDecodeError:
            sources = None
        if isinstance(sources, list) and all(isinstance(s, str) for s in sources):
            return sources
    return [part.strip() for part in value.split(" | ") if part.strip()] if value else []


def entry_record(entry: Entry, source: str) -> StudyRecord:
    undefined = entry.parser_metadata.get("undefined_strings")
    if undefined:
        raise EntryError(f"undefined @string (or unbalanced value) in {', '.join(undefined)}")
    raw: dict[str, Any] = {}
    for field in entry.fields:
        key = field.key.lower()
        if key in raw:
            raise EntryError(f"the field {key!r} is given twice")
        raw[key] = field.value

    def text(key: str, *, paragraphs: bool = False) -> str | None:
        value = raw.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise EntryError(f"{key} cannot be read")
        if key in VERBATIM_FIELDS:
            return unescape_verbatim(value)
        return decode_latex(value, paragraphs=paragraphs)

    entry_type = entry.entry_type.lower()
    record = StudyRecord(source=source, citation_key=entry.key)
    csl_type = text("csltype")
    record.work_type = csl_type or ENTRY_TYPES.get(entry_type, "article")
    record.title = text("title") or ""
    if "author" in raw:
        record.authors = _names(raw["author"])
    container = text("journal") or text("journaltitle") or text("booktitle")
    howpublished = text("howpublished")
    if howpublished and re.match(r"https?://", howpublished):
        record.url = howpublished
    elif howpublished and container is None:
        container = howpublished
    record.container_title = container
    record.publisher = text("publisher") or text("institution") or text("school") or text("organization")

    if raw.get("date"):
        record.year, record.month, record.day = _date(text("date") or "")
    else:
        if raw.get("year"):
            record.year = _year(text("year") or "")
        if raw.get("month"):
            record.month = _month(text("month") or "")
        if raw.get("day"):
            day = (text("day") or "").strip()
            if not (day.isdigit() and 1 <= int(day) <= 31):
                raise EntryError(f"day = {day!r} is not a day of the month")
            record.day = int(day)
    record.volume = text("volume")
    record.issue = text("number") if "number" in raw else text("issue")
    pages = text("pages")
    record.pages = normalize_pages(pages) if pages is not None else None
    url = text("url")
    if url is not None:
        record.url = url
    record.isbn = text("isbn")
    record.abstract = text("abstract", paragraphs=True)
    record.internal_note = text("note", paragraphs=True)
    try:
        doi = text("doi")
        record.doi = normalize_doi(doi) if doi is not None else None
        pmid = text("pmid")
        if pmid is None and (text("eprinttype") or "").lower() == "pubmed":
            pmid = text("eprint")
        if pmid is None and record.internal_note:
            # Zotero keeps the PMID in its Extra field, which its BibTeX export writes to note; the
            # line is an identifier, not a note
            found = re.search(r"^PMID:\s*(\d+)\s*$", record.internal_note, re.M)
            if found:
                pmid = found.group(1)
                record.internal_note = (
                    record.internal_note[: found.start()] + record.internal_note[found.end() :]
                ).strip() or None
        record.pmid = normalize_pmid(pmid) if pmid is not None else None
    except IdentifierError as exc:
        raise EntryError(str(exc)) from None
    if not (record.title or record.doi or record.pmid):
        raise EntryError("the entry has no title, DOI or PMID to identify it")

    _extras(record, text)
    return record


def _extras(record: StudyRecord, text: Any) -> None:
    """The project's own fields, as the exporter and the seed studies.bib write them."""
    design = text("studydesign")
    if design is not None:
        value = design_value(design)
        if value is None:
            raise EntryError(f"unknown study design {design!r}")
        record.design = value or None
    size = text("samplesize")
    if size is not None and size.strip().lower() not in {"", "null"}:
        if not size.strip().isdigit():
            raise EntryError(f"samplesize = {size!r} is not a whole number")
        record.sample_size = int(size)
    record.population = text("population", paragraphs=True)
    retracted = text("retracted")
    if retracted is not None:
        flag = _bool(retracted, "retracted")
        if flag is not None:
            record.retraction_status = "retracted" if flag else "none"
    status = text("retractionstatus")
    if status is not None:
        value = retraction_value(status)
        if value is None:
            raise EntryError(f"unknown retraction status {status!r}")
        record.retraction_status = value
    notice_date = text("retractiondate")
    if notice_date:
        try:
            record.retraction_date = date.fromisoformat(notice_date.strip())
        except ValueError:
            raise EntryError(f"retractiondate = {notice_date!r} is not a date (YYYY-MM-DD)") from None
    notice_doi = text("retractiondoi")
    if notice_doi is not None:
        try:
            record.retraction_doi = normalize_doi(unescape_verbatim(notice_doi))
        except IdentifierError as exc:
            raise EntryError(f"retractiondoi: {exc}") from None
    record.retraction_note = text("retractionnote", paragraphs=True)
    record.note = text("publicnote", paragraphs=True)
    for key, attr in (("verified", "verified"), ("authorlistcomplete", "author_list_complete")):
        value = text(key)
        if value is not None:
            setattr(record, attr, _bool(value, key))
    sources = text("verifiedfrom")
    if sources is not None:
        record.verified_from = _verified_from(sources)
    leads = text("unconfirmedleads")
    if leads is not None and leads.strip():
        try:
            parsed = json.loads(leads)
        except json.JSONDecodeError as exc:
            raise EntryError(f"unconfirmedleads is not JSON: {exc.msg}") from None
        if not isinstance(parsed, dict):
            raise EntryError("unconfirmedleads must be a JSON object")
        record.unconfirmed_leads = parsed
