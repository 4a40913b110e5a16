"""Machine-readable views of an article, linked from its page: its ClaimReview feed and its claims as W3C
Web Annotations, both JSON-LD (application/ld+json). Public pages like the others: a conditional GET
answers 304 while nothing changed (evidence.caching)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404

from evidence import claimreview
from evidence.caching import public_page
from evidence.jsonld import annotations as web_annotations
from evidence.models import Article, Claim
from reviews.claims import with_verdict

JSONLD = "application/ld+json"
# The Web Annotation Protocol's media type: JSON-LD with the annotation context as its profile.
ANNOTATION_JSONLD = 'application/ld+json; profile="http://www.w3.org/ns/anno.jsonld"'


def _jsonld(data: Any, content_type: str) -> JsonResponse:
    response = JsonResponse(data, safe=False, content_type=content_type, json_dumps_params={"ensure_ascii": False})
    response["Access-Control-Allow-Origin"] = "*"  # open data: any site's scripts may read it
    return response


def _claims(article: Article) -> list[Claim]:
    """The article's claims that stand in its current text: an orphan's quote is gone from it, so neither a
    ClaimReview of it nor an annotation selecting it would be true of the article."""
    anchored = Claim.objects.filter(article=article, anchor_state=Claim.AnchorState.ANCHORED)
    claims = list(with_verdict(anchored.with_evidence()).order_by("start", "pk"))
    for claim in claims:
        claim.article = article  # the claims' article is this one; saves a join per claim
    return claims


@public_page
def article_claimreview(request: HttpRequest, slug: str) -> HttpResponse:
    """A JSON-LD list of the schema.org ClaimReviews of the article's claims with a published verdict,
    each as the claim's page embeds it (evidence.claimreview); orphans are left out. Two queries: the
    article, its claims."""
    article = get_object_or_404(Article.objects.defer("text", "headings"), slug=slug)
    reviews = [claimreview.claim_review(claim, request) for claim in _claims(article) if claim.public_verdict]
    return _jsonld([review for review in reviews if review is not None], JSONLD)


@public_page
def article_annotations(request: HttpRequest, slug: str) -> HttpResponse:
    """Every claim of the article that stands in its current text as a W3C Web Annotation
    (evidence.jsonld.annotations); orphans are left out. Two queries."""
    article = get_object_or_404(Article.objects.defer("text", "headings"), slug=slug)
    collection = web_annotations.article_annotations(article, _claims(article), request)
    return _jsonld(collection, ANNOTATION_JSONLD)
