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
