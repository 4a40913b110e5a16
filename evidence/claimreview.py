"""schema.org ClaimReview for a claim with a published verdict (https://schema.org/ClaimReview).

One builder for the claim page's embedded JSON-LD and the per-article feed, so both say the same.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from evidence.models import Claim
from evidence.status import status_for

SITE_NAME = "Evidence review"
# The verdict on an ordinal 1–4 rating scale, worst to best, as fact-checkers' ClaimReviews use one.
RATING = {"contradicted": 1, "unsupported": 2, "partly_supported": 3, "supported": 4}
CERTAINTY_LABEL = {"high": "high", "moderate": "moderate", "low": "low", "very_low": "very low"}


def claim_review(claim: Claim, request: HttpRequest) -> dict[str, Any] | None:
    """The ClaimReview object, or None while the claim has no published verdict, and for an orphan: the
    article no longer says what the review reviewed (its ``claimReviewed`` would quote words it does not
    hold), until an editor anchors it again.

    Needs ``claim`` from ``reviews.claims.with_verdict()`` and ``claim.article`` loaded.
    """
    verdict, certainty = claim.public_verdict, claim.public_certainty
    if not verdict or claim.verdict_published_at is None or claim.is_orphaned:
        return None
    article = claim.article
    appearance: dict[str, Any] = {
        "@type": "Article",
        "headline": article.title,
        "url": article.url or request.build_absolute_uri(article.get_absolute_url()),
    }
    if article.author:
        appearance["author"] = {"@type": "Person", "name": article.author}
    if article.publisher:
        appearance["publisher"] = {"@type": "Organization", "name": article.publisher}
    if article.published_on:
        appearance["datePublished"] = article.published_on.isoformat()
    # who made the claim and when, as Google recommends for the Claim: the article's author (its publisher
    # when it names none), left out when we know neither, as Google asks
    claim_node: dict[str, Any] = {"@type": "Claim", "appearance": appearance, "firstAppearance": appearance}
    if article.author:
        claim_node["author"] = {"@type": "Person", "name": article.author}
    elif article.publisher:
        claim_node["author"] = {"@type": "Organization", "name": article.publisher}
    if article.published_on:
        claim_node["datePublished"] = article.published_on.isoformat()
    label = status_for(verdict).label
    if certainty:
        label = f"{label} ({CERTAINTY_LABEL[certainty]} certainty evidence)"
    return {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "url": request.build_absolute_uri(claim.get_absolute_url()),
        "claimReviewed": claim.quote,
        "itemReviewed": claim_node,
        "author": {"@type": "Organization", "name": SITE_NAME, "url": request.build_absolute_uri("/")},
        "datePublished": claim.verdict_published_at.date().isoformat(),
        "reviewRating": {
            "@type": "Rating",
            "ratingValue": RATING[verdict],
            "bestRating": max(RATING.values()),
            "worstRating": min(RATING.values()),
            "alternateName": label,
        },
    }
