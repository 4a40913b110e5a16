"""Machine-readable views of an article, linked from its page: its ClaimReview feed and its claims as W3C
Web Annotations, both JSON-LD (application/ld+json); and the Atom feeds of published verdicts, site-wide
and per article (Django's syndication framework). Public pages like the others: a conditional GET
answers 304 while nothing changed (evidence.caching)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.contrib.syndication.views import Feed
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.templatetags.static import static
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from evidence import claimreview
from evidence.caching import FEEDS, article_scope, public_page
from evidence.jsonld import annotations as web_annotations
from evidence.models import Article, Claim
from evidence.status import status_for
from reviews.claims import published_verdict_events, with_verdict
from reviews.models import Certainty

JSONLD = "application/ld+json"
# The Web Annotation Protocol's media type: JSON-LD with the annotation context as its profile.
ANNOTATION_JSONLD = 'application/ld+json; profile="http://www.w3.org/ns/anno.jsonld"'


def _jsonld(data: Any, content_type: str, status: int = 200) -> JsonResponse:
    response = JsonResponse(
        data, safe=False, content_type=content_type, status=status, json_dumps_params={"ensure_ascii": False}
    )
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


@public_page(scopes=lambda slug, **_: [article_scope(slug)])
def article_claimreview(request: HttpRequest, slug: str) -> HttpResponse:
    """A JSON-LD list of the schema.org ClaimReviews of the article's claims with a published verdict,
    each as the claim's page embeds it (evidence.claimreview); orphans are left out. Two queries: the
    article, its claims."""
    article = get_object_or_404(Article.objects.defer("text", "headings"), slug=slug)
    reviews = [claimreview.claim_review(claim, request) for claim in _claims(article) if claim.public_verdict]
    return _jsonld([review for review in reviews if review is not None], JSONLD)


@public_page(scopes=lambda slug, **_: [article_scope(slug)])
def article_annotations(request: HttpRequest, slug: str) -> HttpResponse:
    """Every claim of the article that stands in its current text as a W3C Web Annotation
    (evidence.jsonld.annotations); orphans are left out. Two queries."""
    article = get_object_or_404(Article.objects.defer("text", "headings"), slug=slug)
    collection = web_annotations.article_annotations(article, _claims(article), request)
    return _jsonld(collection, ANNOTATION_JSONLD)


# --- Atom feeds of published verdicts --------------------------------------------------------------------------

FEED_ITEMS = 50


class VerdictFeed(Feed):
    """Every publication of a verdict, newest first: a first verdict, and each verdict published again after
    re-review: the claims' numbered verdict versions (reviews.claims.published_verdict_events, which leaves out
    orphans). Each entry links to the version's permalink; its id is a name-based UUID of the claim and the
    version's number, so a verdict published again is a new entry. Two queries at most: the article
    (per-article feed) and the events."""

    feed_type = Atom1Feed
    title = "Evidence review: published verdicts"
    subtitle = "Verdicts on claims in popular articles about medicine, as they are published and revised."
    author_name = "Evidence review"
    description_template = "evidence/feeds/verdict_summary.html"

    def link(self) -> str:
        return reverse("evidence:home")

    def feed_url(self) -> str:
        return reverse("evidence:verdict-feed")

    def events(self, article: Article | None) -> QuerySet:
        return published_verdict_events(article)[:FEED_ITEMS]

    def items(self) -> QuerySet:
        return self.events(None)

    def item_title(self, item: Any) -> str:
        status = status_for(item.verdict)
        certainty = Certainty(item.certainty).label.lower()
        return f"{status.label} ({certainty} certainty): “{item.claim.quote}”"

    def item_link(self, item: Any) -> str:
        return item.get_absolute_url()  # the verdict version's permalink

    def item_guid(self, item: Any) -> str:
        # the same on every host the site answers to, and new for each publication of the claim's verdict
        name = f"evidence-review:claim:{item.claim_id}:verdict:{item.number}"
        return uuid.uuid5(uuid.NAMESPACE_URL, name).urn

    item_guid_is_permalink = False

    def item_pubdate(self, item: Any) -> datetime:
        return item.published_at

    def item_updateddate(self, item: Any) -> datetime:
        return item.published_at

    def item_categories(self, item: Any) -> list[str]:
        return [status_for(item.verdict).label, item.claim.get_claim_type_display()]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["status"] = status_for(kwargs["item"].verdict)
        return context


class ArticleVerdictFeed(VerdictFeed):
    """The published verdicts on one article's claims."""

    def get_object(self, request: HttpRequest, slug: str) -> Article:
        return get_object_or_404(Article.objects.defer("text", "headings"), slug=slug)

    def title(self, article: Article) -> str:
        return f"Evidence review: verdicts on “{article.title}”"

    def link(self, article: Article) -> str:
        return article.get_absolute_url()

    def feed_url(self, article: Article) -> str:
        return reverse("evidence:article-verdict-feed", args=[article.slug])

    def items(self, article: Article) -> QuerySet:
        return self.events(article)


verdict_feed = public_page(VerdictFeed(), scopes=lambda **_: [FEEDS])
article_verdict_feed = public_page(ArticleVerdictFeed(), scopes=lambda **_: [FEEDS])


@public_page
def annotations_for_url(request: HttpRequest) -> HttpResponse:
    """The Web Annotations of the article published at ``?url=`` (its publisher's address, as the article
    records it; a trailing slash and a #fragment do not matter): what /embed/overlay.js reads on the
    publisher's page. Missing url 400, no article at that address 404, each with a JSON error. Two queries."""
    url = request.GET.get("url", "").split("#")[0].strip()
    if not url:
        return _jsonld({"error": "url is required: the address of an article's page"}, JSONLD, status=400)
    candidates = {url, url.rstrip("/"), url.rstrip("/") + "/"}
    article = Article.objects.defer("text", "headings").filter(url__in=candidates).order_by("pk").first()
    if article is None:
        return _jsonld({"error": "no article of ours is published at this address"}, JSONLD, status=404)
    collection = web_annotations.article_annotations(article, _claims(article), request)
    return _jsonld(collection, ANNOTATION_JSONLD)


def overlay_script(request: HttpRequest) -> HttpResponse:
    """/embed/overlay.js, the stable address publishers and bookmarklets use, sends them to the script's
    current static file (hashed per release, so it is cached for as long as it is the same)."""
    return HttpResponseRedirect(static("js/overlay.js"))
