"""The work queues of the reviewer's page and the editor's desk: reads that own their joins.

Each function returns a QuerySet that a page slices and counts, so every queue costs two queries (the
count and the page) whatever the number of claims. Nothing here writes; a queue is a question asked of
the data, never a stored flag ("claims with no supporting study" is a query, not a Flag).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from evidence.models import Citation, Claim, Study
from reviews.consensus import REVIEWS_REQUIRED
from reviews.models import Flag, Review, ReviewQuerySet, decision_expressions
from reviews.services import RELIANT_RELATIONS


def _open_flag_count() -> Coalesce:
    # a correlated COUNT rather than a join + GROUP BY: the outer query stays a plain claim list
    per_claim = (
        Flag.objects.open().filter(claim=OuterRef("pk")).order_by().values("claim").annotate(n=Count("pk")).values("n")
    )
    return Coalesce(Subquery(per_claim, output_field=IntegerField()), Value(0))


def for_queue(claims: QuerySet[Claim]) -> QuerySet[Claim]:
    """Everything a queue row shows: the article (without its long text), the consensus row and the
    number of reviews and open flags, in the one query that fetches the page."""
    return (
        claims.select_related("article", "consensus")
        .defer("article__text", "article__headings")
        .annotate(
            n_reviews=Coalesce("consensus__n_reviews", Value(0)),
            n_open_flags=_open_flag_count(),
        )
    )


# --- The reviewer's queue -----------------------------------------------------------------------------------


def awaiting_my_review(reviewer: AbstractBaseUser) -> QuerySet[Claim]:
    """Claims still being reviewed that this reviewer has not rated: those sent back for re-review
    first, then those with the fewest reviews, so that every claim gets its reviewers."""
    mine = Review.objects.filter(claim=OuterRef("pk"), reviewer=reviewer)
    return (
        for_queue(Claim.objects.exclude(status=Claim.Status.PUBLISHED).exclude(Exists(mine)))
        .annotate(
            sent_back=Case(
                When(status=Claim.Status.NEEDS_REREVIEW, then=True), default=False, output_field=BooleanField()
            )
        )
        .order_by("-sent_back", "n_reviews", "article__title", "article_id", "start")
    )


def my_reviews(reviewer: AbstractBaseUser) -> ReviewQuerySet:
    """The reviewer's reviews, most recently saved first, each marked ``evidence_changed``."""
    return (
        Review.objects.by(reviewer)
        .with_evidence_changed()
        .select_related("claim__article")
        .defer("claim__article__text", "claim__article__headings")
        .order_by("-updated_at", "-pk")
    )


def evidence_changed_since_my_review(reviewer: AbstractBaseUser) -> ReviewQuerySet:
    """The reviewer's reviews whose claim's evidence changed after they saved them (the rule is in
    ReviewQuerySet.with_evidence_changed), oldest first: the longest-stale comes first."""
    return my_reviews(reviewer).filter(evidence_changed=True).order_by("updated_at", "pk")


# --- The editor's desk ------------------------------------------------------------------------------------


def open_flags() -> QuerySet[Flag]:
    return Flag.objects.open().for_desk().defer("claim__article__text", "claim__article__headings")


def without_supporting_study() -> QuerySet[Claim]:
    """Unpublished claims that no cited study supports: mixed, contradicting or context studies only, or
    none at all. A retracted study supports nothing (as on the public pages), so a claim whose only
    support was retracted is here as well as in the retracted queue."""
    supporting = Citation.objects.filter(claim=OuterRef("pk"), relation=Citation.Relation.SUPPORTS).exclude(
        study__retraction_status=Study.RetractionStatus.RETRACTED
    )
    return for_queue(Claim.objects.exclude(status=Claim.Status.PUBLISHED).exclude(Exists(supporting))).order_by(
        "article__title", "article_id", "start"
    )


def relying_on_retracted_study() -> QuerySet[Claim]:
    """Claims citing a retracted study as supporting or mixed evidence, whatever their status: readers
    may be looking at a verdict that rests on it. Claims with an open flag come first."""
    reliant = Citation.objects.filter(
        claim=OuterRef("pk"),
        relation__in=RELIANT_RELATIONS,
        study__retraction_status=Study.RetractionStatus.RETRACTED,
    )
    return for_queue(Claim.objects.filter(Exists(reliant))).order_by(
        "-n_open_flags", "article__title", "article_id", "start"
    )


def disputed() -> QuerySet[Claim]:
    """Claims whose reviewers disagree (certainties two or more levels apart, or verdicts split) and
    that no editor has adjudicated yet."""
    return for_queue(Claim.objects.filter(consensus__disputed=True, consensus__adjudicated_at__isnull=True)).order_by(
        "-consensus__certainty_spread", "article__title", "article_id", "start"
    )


def awaiting_reviews() -> QuerySet[Claim]:
    """Unpublished claims that need more reviews: fewer than REVIEWS_REQUIRED and not adjudicated, or
    sent back for re-review."""
    too_few = Q(consensus__isnull=True) | Q(
        consensus__n_reviews__lt=REVIEWS_REQUIRED, consensus__adjudicated_at__isnull=True
    )
    return for_queue(
        Claim.objects.exclude(status=Claim.Status.PUBLISHED).filter(too_few | Q(status=Claim.Status.NEEDS_REREVIEW))
    ).order_by("n_reviews", "article__title", "article_id", "start")


def ready_to_publish() -> QuerySet[Claim]:
    """Claims an editor can publish now and whose readers do not yet see that decision: never
    published, or the decision changed since. The SQL form of reviews.consensus.publish_blockers()."""
    decided = Q(consensus__adjudicated_at__isnull=False) | Q(
        consensus__n_reviews__gte=REVIEWS_REQUIRED, consensus__disputed=False
    )
    claims = (
        Claim.objects.exclude(status=Claim.Status.NEEDS_REREVIEW)
        .filter(decided)
        .annotate(**decision_expressions("consensus__"))
    )
    unpublished = (
        Q(consensus__published_at__isnull=True)
        | ~Q(status=Claim.Status.PUBLISHED)
        | ~Q(consensus__published_verdict=F("decision_verdict"))
        | ~Q(consensus__published_certainty=F("decision_certainty"))
    )
    return for_queue(claims.filter(unpublished)).order_by("article__title", "article_id", "start")


@dataclass(frozen=True)
class Queue:
    """One queue of the editor's desk: its slug (for its own page), title, explanation and QuerySet."""

    slug: str
    title: str
    help: str
    items: QuerySet
    kind: str = "claims"  # or "flags"


def desk_queues() -> list[Queue]:
    """The editor's desk, in the order an editor works through it."""
    return [
        Queue("flags", "Open flags", "Flags raised by editors or by the system, newest first.", open_flags(), "flags"),
        Queue(
            "disputed",
            "Disputed claims",
            "Reviewers' certainties two or more levels apart, or their verdicts split. Adjudicate them.",
            disputed(),
        ),
        Queue(
            "retracted",
            "Relying on a retracted study",
            "Claims citing a retracted study as supporting or mixed evidence.",
            relying_on_retracted_study(),
        ),
        Queue(
            "unsupported",
            "No supporting study",
            "Unpublished claims that no cited study supports.",
            without_supporting_study(),
        ),
        Queue(
            "awaiting",
            "Awaiting reviews",
            f"Fewer than {REVIEWS_REQUIRED} reviews, or sent back for re-review.",
            awaiting_reviews(),
        ),
        Queue(
            "publish",
            "Ready to publish",
            "Agreed or adjudicated, and not yet published as it stands.",
            ready_to_publish(),
        ),
    ]


def desk_queue(slug: str) -> Queue | None:
    return next((queue for queue in desk_queues() if queue.slug == slug), None)
