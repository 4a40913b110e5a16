"""Template helpers for the review pages, and for the public pages that show what the review workflow knows
(evidence's templates load these; evidence's code never imports reviews)."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from reviews import models as reviews_models
from reviews.access import may_edit, may_review

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


@register.simple_tag(takes_context=True)
def claim_work_links(context: template.Context, claim: Any) -> list[tuple[str, str]]:
    """The signed-in user's ways into the claim's work, as (label, URL): "Review this claim" for one who may
    review it (may_review), "Open in the editor's desk" for an editor (may_edit). None for a reader. The
    public claim page shows them; it is cached whole only for signed-out readers, and it answers signed-in
    users without an ETag, so one person's links never reach another (evidence.caching.public_page)."""
    user = context["request"].user
    links = []
    if may_review(user, claim):
        links.append(("Review this claim", reverse("reviews:review-claim", args=[claim.pk])))
    if may_edit(user):
        links.append(("Open in the editor's desk", reverse("reviews:editor-claim", args=[claim.pk])))
    return links
