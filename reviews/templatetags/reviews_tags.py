"""Template helpers for the review pages."""

from __future__ import annotations

from typing import Any

from django import template

from reviews import models as reviews_models

register = template.Library()


@register.simple_tag(takes_context=True)
def page_url(context: template.Context, param: str, number: int) -> str:
    """The current URL's query string with ``param`` set to ``number``: several lists on one page each
    keep their own page (``{% querystring %}`` cannot take the parameter's name from a variable)."""
    query = context["request"].GET.copy()
    query[param] = number
    return f"?{query.urlencode()}"


@register.filter
def reviewer_letter(number: int) -> str:
    """A claim's n-th reviewer as readers call one who keeps their profile private: 1 → A, 2 → B, 27 → AA."""
    letters = ""
    n = int(number)
    while n > 0:
        n, rest = divmod(n - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


@register.filter
def public_profile(user: Any) -> Any:
    """The reviewer's public profile, or None (reviews.models.public_profile: the one rule)."""
    return reviews_models.public_profile(user)
