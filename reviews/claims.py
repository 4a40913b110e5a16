"""Claims as readers see them: the evidence (evidence's ClaimQuerySet) with what the review workflow says of
each, its published verdict and its open flags. The claim list, the article page, the maps, the API, the
feeds and the exports read claims through these, so "published verdict" and "has an open flag" mean the
same everywhere; the Atom feeds read each publication of a verdict through published_verdict_events().
"""

from __future__ import annotations

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Coalesce

from evidence.models import Article, Claim, subquery_count
from reviews.models import Flag, Verdict, VerdictVersion


def has_open_flag() -> Exists:
    """Each claim of the query has an open flag (FlagQuerySet.open)."""
    return Exists(Flag.objects.open_on_claim(OuterRef("pk")))


def open_flag_count() -> Coalesce:
    """How many open flags each claim of the query has; a correlated COUNT, so the outer query stays a
    plain claim list."""
    return subquery_count(Flag.objects.open_on_claim(OuterRef("pk")))


def with_verdict(claims: QuerySet[Claim]) -> QuerySet[Claim]:
    """Annotate ``public_verdict`` and ``public_certainty`` ("" until a verdict is published),
    ``verdict_published_at`` and ``n_open_flags``: what readers are told of each claim's review."""
    return claims.annotate(
        public_verdict=Coalesce(F("consensus__published_verdict"), Value("")),
        public_certainty=Coalesce(F("consensus__published_certainty"), Value("")),
        verdict_published_at=F("consensus__published_at"),
        n_open_flags=open_flag_count(),
    )


def for_readers(claims: QuerySet[Claim] | None = None) -> QuerySet[Claim]:
    """Everything the claim list, the article page and the API show of a claim, in one query: its
    article, its evidence counts (ClaimQuerySet.with_evidence) and its verdict (with_verdict)."""
    claims = Claim.objects.all() if claims is None else claims
    return with_verdict(claims.with_evidence()).select_related("article")


def published_verdict_events(article: Article | None = None) -> QuerySet[VerdictVersion]:
    """Each publication of a verdict, newest first: the claim's numbered verdict versions (a first verdict,
    and each verdict published again after re-review), as they were published. The Atom feeds read verdicts
    through this one function.

    An orphan's verdicts are left out (its quote is gone from the article, so its verdict is on words the
    article no longer says), as are claims of other articles when ``article`` is given. One query, with each
    version's claim and article joined in.
    """
    events = (
        VerdictVersion.objects.filter(claim__anchor_state=Claim.AnchorState.ANCHORED)
        .select_related("claim__article")
        .order_by("-published_at", "-pk")
    )
    return events if article is None else events.filter(claim__article=article)


def published_verdict_counts(article: OuterRef | Article | int) -> dict[str, Coalesce]:
    """Per article of an outer query (``OuterRef("pk")``): how many of its claims standing in its text carry
    each published verdict, as ``n_<verdict>`` annotations, and ``n_unreviewed``, those with none yet. Orphans
    are not counted, as on the article page. Correlated counts, so a page of articles stays one query."""
    anchored = Claim.objects.filter(article=article, anchor_state=Claim.AnchorState.ANCHORED)
    counts = {
        f"n_{verdict}": subquery_count(anchored.filter(consensus__published_verdict=verdict))
        for verdict in Verdict.values
    }
    published = Q(consensus__published_verdict__in=Verdict.values)
    counts["n_unreviewed"] = subquery_count(anchored.exclude(published))
    return counts
