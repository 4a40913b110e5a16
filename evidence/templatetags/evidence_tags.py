"""Template helpers for the public pages."""

from __future__ import annotations

import html
import json
from typing import Any

from django import template
from django.forms import BoundField
from django.utils.html import format_html
from django.utils.safestring import SafeData, SafeString

from evidence.status import EvidenceStatus, status_for
from reviews.models import Certainty

register = template.Library()

# json_script's escaping: nothing inside the JSON can close the <script> element or open a comment.
_JSON_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


@register.filter
def jsonld(data: Any) -> SafeString:
    """Render a dict as a JSON-LD <script> element, escaped like Django's json_script."""
    if not data:
        return SafeString("")
    payload = json.dumps(data, ensure_ascii=False, indent=2).translate(_JSON_ESCAPES)
    return format_html('<script type="application/ld+json">{}</script>', SafeString(payload))


@register.simple_tag
def select_options(field: BoundField) -> SafeString:
    """The ``<option>`` elements of a select field, the current value selected, written in one loop.

    Django's Select widget renders a template per option, and a template loop over the choices costs
    nearly as much: with 200 articles to choose from, this loop is the cheaper way to write the claim
    list's filter form (docs/performance.md). Values and labels are escaped as ``{{ }}``
    escapes them (conditional_escape(), which is html.escape() for anything not marked safe)."""
    current = field.value()
    current = "" if current is None else str(current)
    options = []
    for value, text in field.field.choices:
        value = str(value)
        selected = " selected" if value == current else ""
        options.append(f'<option value="{_escaped(value)}"{selected}>{_escaped(text)}</option>')
    return SafeString("".join(options))


def _escaped(text: Any) -> str:
    return text if isinstance(text, SafeData) else html.escape(str(text))


@register.inclusion_tag("includes/status_badge.html")
def status_badge(status: EvidenceStatus | str | None, certainty: str = "", size: str = "") -> dict[str, Any]:
    """The evidence status as colour, symbol and words; certainty appended when given."""
    if not isinstance(status, EvidenceStatus):
        status = status_for(status)
    return {"status": status, "certainty": certainty_label(certainty), "size": size}


@register.filter
def certainty_label(certainty: str | None) -> str:
    """A certainty value ("very_low") as words ("Very low"); "" for none."""
    return str(Certainty(certainty).label) if certainty in Certainty.values else ""


@register.filter
def authors_short(authors: list[dict[str, str]] | None, limit: int = 3) -> str:
    """ "Berman RM, Cappiello A, Anand A, et al." style, organisations as written."""
    if not authors:
        return ""
    names = []
    for author in authors[:limit]:
        if author.get("literal"):
            names.append(author["literal"])
            continue
        initials = "".join(part[0] for part in author.get("given", "").replace("-", " ").split() if part[:1].isalpha())
        names.append(f"{author.get('family', '')} {initials}".strip())
    more = ", et al." if len(authors) > limit else ""
    return ", ".join(names) + more


@register.filter
def author_name(author: dict[str, str]) -> str:
    if author.get("literal"):
        return author["literal"]
    parts = [author.get("given", ""), author.get("non-dropping-particle", ""), author.get("family", "")]
    name = " ".join(part for part in parts if part)
    return f"{name}, {author['suffix']}" if author.get("suffix") else name
