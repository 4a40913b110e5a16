"""Template helpers for the review pages."""

from __future__ import annotations

from typing import Any

from django import template

from evidence.models import Claim
from reviews.forms import ReaderReportForm

register = template.Library()


@register.simple_tag(takes_context=True)
def page_url(context: template.Context, param: str, number: int) -> str:
    """The current URL's query string with ``param`` set to ``number``: several lists on one page each
    keep their own page (``{% querystring %}`` cannot take the parameter's name from a variable)."""
    query = context["request"].GET.copy()
    query[param] = number
    return f"?{query.urlencode()}"


@register.inclusion_tag("reviews/includes/report_form.html", takes_context=True)
def reader_report_form(context: template.Context, claim: Claim) -> dict[str, Any]:
    """The "Report a problem" form of a claim's page (reviews.views.report_submit receives it)."""
    return {"claim": claim, "form": ReaderReportForm(), "csrf_token": context.get("csrf_token")}


@register.filter
def reviewer_letter(number: int) -> str:
    """A claim's n-th reviewer as readers call one who keeps their profile private: 1 → A, 2 → B, 27 → AA."""
    letters = ""
    n = int(number)
    while n > 0:
        n, rest = divmod(n - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters
