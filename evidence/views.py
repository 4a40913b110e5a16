"""Public pages for readers. Thin: read through QuerySet methods and FilterSets, render a template.

Each page runs a fixed number of queries whatever the number of claims, studies and reviews; the
docstrings say which, and tests/test_public_pages.py pins them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.paginator import Paginator
from django.db.models import Count, F, OuterRef, Value
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from evidence import caching, claimreview, maps
from evidence.article_text import blocks, changes, claim_context
from evidence.caching import article_scope, claim_scope, public_page, study_scope
from evidence.changelog import claim_changelog
from evidence.citations import stored_citations
from evidence.filters import ClaimFilter, StudyFilter
from evidence.models import Article, ArticleRevision, Citation, Claim, Relation, Study, subquery_count
from evidence.status import LEGEND, STATUSES
from reviews.claims import for_readers, published_verdict_counts, with_verdict
from reviews.models import Review, ReviewRound, VerdictVersion, consensus_of

ARTICLES_PER_PAGE = 20
CLAIMS_PER_PAGE = 25
STUDIES_PER_PAGE = 25
CITATIONS_PER_PAGE = 25
RELATION_ORDER = [Relation.SUPPORTS, Relation.MIXED, Relation.CONTRADICTS, Relation.CONTEXT]
# Marks, beside the verdict's symbol, a claim that relies on a retracted study (article page and legend).
RETRACTED_SYMBOL = "⚠"


@public_page
def home(request: HttpRequest) -> HttpResponse:
    """The articles under review, newest first, each with its source and how many of its claims carry each
    verdict. Two queries (count and page) whatever their number."""
    # Correlated counts run for the page's 20 articles only; Count("claims") would group every claim.
    # Undated articles come last on every database (PostgreSQL sorts NULL first when descending).
    articles = (
        Article.objects.defer("text", "headings")
        .annotate(
            n_claims=subquery_count(Claim.objects.filter(article=OuterRef("pk"))),
            **published_verdict_counts(OuterRef("pk")),
        )
        .order_by(F("published_on").desc(nulls_last=True), "-created_at", "pk")
    )
    page = Paginator(articles, ARTICLES_PER_PAGE).get_page(request.GET.get("page"))
    for article in page.object_list:
        # (status, count) in the legend's order, for the verdicts the article has
        article.verdicts = [
            (status, getattr(article, f"n_{status.key}")) for status in LEGEND if getattr(article, f"n_{status.key}")
        ]
    return render(request, "evidence/home.html", {"page": page})


@public_page(scopes=lambda slug, **_: [article_scope(slug)])
def article_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """The article with every claim marked by its evidence status, and below it the orphans: claims whose
    quote a revision of the text no longer holds, never marked in it. Three queries (the article, its
    claims, the dates of its revisions) when the data changed since the last request, none but the version
    read otherwise."""
    version, _ = caching.request_version(request)

    def compute() -> dict[str, Any] | None:
        article = Article.objects.filter(slug=slug).first()
        if article is None:
            return None
        claims = list(with_verdict(Claim.objects.filter(article=article).with_evidence()).order_by("start"))
        revisions = _revision_dates(article)
        for claim in claims:
            claim.article = article  # the claims' article is this one; saves a join
        anchored = [claim for claim in claims if not claim.is_orphaned]
        orphans = [claim for claim in claims if claim.is_orphaned]
        for claim in orphans:
            # the revision that lost it replaced the text it was last found in, at that text's created_at
            claim.lost_in, claim.lost_at = claim.anchor_revision + 1, revisions.get(claim.anchor_revision)
        return {
            "article": article,
            "blocks": blocks(article.text, article.headings, anchored, title=article.title),
            "claims": anchored,
            "orphans": orphans,
            "revised": _last_revision(revisions),
            # the text as it stands: an orphan's verdict was on words it no longer says
            "summary": maps.distribution(anchored),
        }

    context = caching.cached(f"article-page:{slug}", compute, version)
    if context is None:
        raise Http404("No such article.")
    extra = {"legend": LEGEND, "version": version, "retracted_symbol": RETRACTED_SYMBOL}
    return render(request, "evidence/article_detail.html", {**context, **extra})


def _revision_dates(article: Article) -> dict[int, datetime]:
    """Each kept revision's number → when its text was replaced by the next one. One query, no texts."""
    return dict(ArticleRevision.objects.filter(article=article).values_list("number", "created_at"))


@dataclass(frozen=True)
class Revision:
    """A version of an article's text as readers see it: number 1 is the text as first published."""

    number: int
    at: datetime | None  # when it replaced the one before; None for the first


def _last_revision(revisions: dict[int, datetime]) -> Revision | None:
    """The current text's revision, when the text was ever revised."""
    if not revisions:
        return None
    last = max(revisions)
    return Revision(last + 1, revisions[last])


@public_page(scopes=lambda slug, **_: [article_scope(slug)])
def article_revision(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """What revision ``number`` of the article's text changed: the text, with what it removed from revision
    ``number - 1`` and what it added (evidence.article_text.changes). Three queries: the article, the kept
    revisions' dates and notes, the two texts compared."""
    article = get_object_or_404(Article, slug=slug)
    kept = list(article.revisions.order_by("number").values("number", "created_at", "note"))
    current = len(kept) + 1
    if not 2 <= number <= current:
        raise Http404("No such revision of the article.")
    texts = dict(article.revisions.filter(number__in=[number - 1, number]).values_list("number", "text"))
    texts[current] = article.text
    before = kept[number - 2]  # the revision this one replaced: when, and the note said why
    versions = [Revision(1, None), *(Revision(row["number"] + 1, row["created_at"]) for row in kept)]
    context = {
        "article": article,
        "number": number,
        "current": current,
        "at": before["created_at"],
        "note": before["note"],
        "changes": changes(texts[number - 1], texts[number]),
        "versions": versions,
    }
    return render(request, "evidence/article_revision.html", context)


MAP_GROUPINGS = {"section": "Section", "substance": "Substance"}


@public_page(scopes=lambda slug, **_: [article_scope(slug)])
def article_map(request: HttpRequest, slug: str) -> HttpResponse:
    """The article's claims against study designs. Three queries (article, claims, their citations) when
    the data changed since the last request, none but the version read otherwise."""
    by = request.GET.get("group") if request.GET.get("group") in MAP_GROUPINGS else "section"
    version, _ = caching.request_version(request)

    def compute() -> dict[str, Any] | None:
        article = Article.objects.filter(slug=slug).first()
        if article is None:
            return None
        claims = list(with_verdict(Claim.objects.filter(article=article).with_evidence()).order_by("start"))
        citations = Citation.objects.filter(claim__article=article).values(
            "claim_id", "relation", "study__design", "study__retraction_status"
        )
        rows = maps.claim_rows(claims, citations)
        return {
            "article": article,
            "groups": maps.group_rows(rows, by),
            "totals": maps.column_totals(rows),
            "summary": maps.distribution(claims),
            "n_empty": sum(1 for row in rows if row.empty),
        }

    context = caching.cached(f"article-map:{slug}:{by}", compute, version)
    if context is None:
        raise Http404("No such article.")
    context = {
        **context,
        "columns": maps.DESIGN_COLUMNS,
        "group_by": by,
        "groupings": MAP_GROUPINGS,
        "legend": LEGEND,
        "version": version,
        "retracted_symbol": RETRACTED_SYMBOL,
    }
    return render(request, "evidence/article_map.html", context)


@public_page
def gap_map(request: HttpRequest) -> HttpResponse:
    """Substances against claim types across all articles, with verdicts. One aggregate query."""
    counts = (
        Claim.objects.values("substance", "claim_type")
        .annotate(verdict=Coalesce(F("consensus__published_verdict"), Value("")))
        .values("substance", "claim_type", "verdict")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return render(request, "evidence/gap_map.html", {"map": maps.gap_map(counts), "legend": LEGEND})


@public_page
def claim_list(request: HttpRequest) -> HttpResponse:
    """Filtered, searched, sorted, paginated claims. Four queries: the article and substance choices of
    the filter form, the count, the page."""
    claims = ClaimFilter(request.GET, queryset=for_readers(), request=request)
    page = Paginator(claims.qs, CLAIMS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "evidence/claim_list.html", {"filter": claims, "page": page, "legend": LEGEND})


@public_page(scopes=lambda pk, **_: [claim_scope(pk)])
def claim_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One claim with its evidence. Eight queries: the claim (with article, consensus and published
    version), its citations with their studies, its flags, the published reviews, its verdict versions, its
    re-review rounds, and the claim's and citations' history; a ninth for an orphan, the revision of the
    text it was last found in (claim_context)."""
    claim = get_object_or_404(
        with_verdict(Claim.objects.with_evidence()).select_related(
            "article", "consensus__published_version", "consensus__adjudicated_by"
        ),
        pk=pk,
    )
    article = claim.article
    consensus = consensus_of(claim)
    # the studies without their search vectors, which only the database's search reads
    citations = list(
        claim.citations.select_related("study")
        .defer("study__search_vector")
        .order_by("-study__year", "study__title", "pk")
    )
    formatted = stored_citations(c.study for c in citations)
    for citation in citations:
        citation.formatted = formatted[citation.study_id]
    groups = [(relation, [c for c in citations if c.relation == relation]) for relation in RELATION_ORDER]
    flags = list(claim.flags.select_related("raised_by", "resolved_by", "study").order_by("-raised_at"))
    published = consensus is not None and consensus.is_published
    # the reviews anyone may read (reviews.models.reviews_are_public): those of the rounds whose verdict was
    # published, none of a re-review round still open; with each reviewer's profile: readers see the name
    # only of one who opted in, else "Reviewer A"
    reviews = list(
        Review.objects.public()
        .filter(claim=claim)
        .select_related("reviewer", "reviewer__reviewer_profile")
        .order_by("-round", "created_at")
    )
    versions = list(claim.verdict_versions.order_by("-number"))
    rounds = list(ReviewRound.objects.filter(claim=claim).order_by("number"))
    claim_history = list(claim.history.select_related("history_user").order_by("history_date", "history_id"))
    citation_history = list(
        Citation.history.filter(claim_id=claim.pk).select_related("history_user").order_by("history_date", "history_id")
    )
    study_labels = {c.study_id: str(c.study) for c in citations}
    changelog = claim_changelog(
        claim_history=claim_history,
        citation_history=citation_history,
        flags=flags,
        reviews=reviews,
        versions=versions,
        rounds=rounds,
        study_labels=study_labels,
    )
    context = claim_context(claim)
    context = {
        "claim": claim,
        "article": article,
        "consensus": consensus if published else None,
        # the figures readers see are the published version's, never the live round's
        "verdict": consensus.published_version if published else None,
        "earlier_verdicts": versions[1:],
        # "Under re-review since <date>: <reason>" over the published verdict
        "rereview": rounds[-1] if published and consensus.under_rereview and rounds else None,
        "status": claim.evidence_status,
        "groups": groups,
        "n_citations": len(citations),
        "open_flags": [f for f in flags if f.is_open],
        "closed_flags": [f for f in flags if not f.is_open],
        "reviews": reviews,
        "changelog": changelog,
        "context_before": context.before,
        "context_after": context.after,
        # for an orphan: the revision the words around it come from, and when a revision lost it
        "context_revision": context.revision,
        "lost_at": context.lost_at,
        "claim_review": claimreview.claim_review(claim, request),
        "statuses": STATUSES,
    }
    return render(request, "evidence/claim_detail.html", context)


@public_page(scopes=lambda pk, **_: [claim_scope(pk)])
def claim_verdict(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    """One published verdict version of a claim, as readers saw it: its permalink. Three queries: the
    version with its claim and article, the claim's versions (for the others' links), the round's public
    reviews."""
    version = get_object_or_404(
        VerdictVersion.objects.select_related("claim__article").defer("claim__article__text"),
        claim_id=pk,
        number=number,
    )
    claim = version.claim
    versions = list(claim.verdict_versions.order_by("-number").only("pk", "claim_id", "number", "published_at"))
    reviews = list(
        Review.objects.public()
        .filter(claim=claim, round=version.round)
        .select_related("reviewer", "reviewer__reviewer_profile")
        .order_by("created_at")
    )
    context = {
        "claim": claim,
        "article": claim.article,
        "version": version,
        "latest": versions[0],
        "versions": versions,
        "reviews": reviews,
    }
    return render(request, "evidence/claim_verdict.html", context)


@public_page
def study_list(request: HttpRequest) -> HttpResponse:
    """Filtered, searched, sorted, paginated studies. Two queries: the count and the page."""
    # without the abstracts, which the list does not show (the largest of a study's columns)
    studies = Study.objects.defer("abstract").annotate(
        n_claims=subquery_count(Citation.objects.filter(study=OuterRef("pk")))
    )
    filtered = StudyFilter(request.GET, queryset=studies)
    page = Paginator(filtered.qs, STUDIES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "evidence/study_list.html", {"filter": filtered, "page": page})


@public_page(scopes=lambda pk, **_: [study_scope(pk)])
def study_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A study and the claims that cite it, a page at a time (a popular trial is cited hundreds of
    times). Three queries: the study, the citation count, the page of citations with their claims."""
    study = get_object_or_404(Study.objects.with_references(), pk=pk)
    citations = study.citations.select_related("claim__article").order_by("claim__article__title", "claim__start", "pk")
    page = Paginator(citations, CITATIONS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"study": study, "page": page, "formatted": stored_citations([study])[study.pk]}
    return render(request, "evidence/study_detail.html", context)
