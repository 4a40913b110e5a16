"""Template helpers for the review pages."""

from __future__ import annotations

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def page_url(context: template.Context, param: str, number: int) -> str:
    """The current URL's query string with ``param`` set to ``number``: several lists on one page each
    keep their own page (``{% querystring %}`` cannot take the parameter's name from a variable)."""
    query = context["request"].GET.copy()
    query[param] = number
    return f"?{query.urlencode()}"
