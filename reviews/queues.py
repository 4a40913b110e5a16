"""The work queues of the reviewer's page and the editor's desk: reads that own their joins.

Each function returns a QuerySet that a page slices and counts, so every queue costs two queries (the
count and the page) whatever the number of claims; the reviewer's page asks its three lists together, in
two queries for the three (reviewer_queue). Nothing here writes; a queue is a question asked of the data,
never a stored flag ("claims with no supporting study" is a query, not a Flag); the one stored moment it
reads, Claim.evidence_changed_at, the services keep.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.paginator import Page, Paginator
from django.db import connections, router
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Exists,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber
from django.db.models.lookups import Exact

from evidence.models import Article, Citation, Claim, DataVersion, subquery_count
from reviews.access import reviewed_by
from reviews.claims import open_flag_count
from reviews.consensus import REVIEWS_REQUIRED
from reviews.models import (
    AssignmentStatus,
    Flag,
    ReaderReport,
    Review,
    ReviewAssignment,
    ReviewQuerySet,
    decision_expressions,
    evidence_changed_since_review,
    readjudication_needed,
)


def for_queue(claims: QuerySet[Claim]) -> QuerySet[Claim]:
    """Everything a queue row shows: the article (without its long text), the consensus row and the
    number of reviews and open flags, in the one query that fetches the page."""
    return (
        claims.select_related("article", "consensus")
        .defer("article__text", "article__headings")
        .annotate(
            n_reviews=Coalesce("consensus__n_reviews", Value(0)),
            n_open_flags=open_flag_count(),
        )
    )


# --- The reviewer's queue -----------------------------------------------------------------------------------

# Claims sent back for re-review first, then those with the fewest reviews, then in the order of the claim list.
WAITING_ORDER = ("-sent_back", "n_reviews", "article__title", "article_id", "start")
REVIEWER_LISTS = ("waiting", "changed", "reviewed")
# What the reviewer's page shows of a claim (templates/reviews/includes/queue_lists.html and claim_row.html).
QUEUE_ROW_FIELDS = ("key", "quote", "section", "status", "start", "evidence_changed_at", "article__title")


def awaiting_my_review(reviewer: AbstractBaseUser) -> QuerySet[Claim]:
    """Claims still being reviewed that this reviewer has not rated: those sent back for re-review
    first, then those with the fewest reviews, so that every claim gets its reviewers."""
    return (
        for_queue(_unreviewed_by(reviewer))
        .annotate(
            sent_back=Case(
                When(status=Claim.Status.NEEDS_REREVIEW, then=True), default=False, output_field=BooleanField()
            )
        )
        .order_by(*WAITING_ORDER)
    )


def _unreviewed_by(reviewer: AbstractBaseUser | int) -> QuerySet[Claim]:
    # a review in an earlier round does not count: a claim in a new round waits for the reviewer again
    mine = Review.objects.filter(claim=OuterRef("pk"), reviewer=reviewer, round=OuterRef("consensus__round"))
    return Claim.objects.exclude(status=Claim.Status.PUBLISHED).exclude(Exists(mine))


def my_reviews(reviewer: AbstractBaseUser) -> ReviewQuerySet:
    """The reviewer's reviews in their claims' current rounds, most recently saved first, each marked
    ``evidence_changed``."""
    return (
        Review.objects.by(reviewer)
        .current()
        .with_evidence_changed()
        .select_related("claim__article")
        .defer("claim__article__text", "claim__article__headings")
        .order_by("-updated_at", "-pk")
    )


def evidence_changed_since_my_review(reviewer: AbstractBaseUser) -> ReviewQuerySet:
    """The reviewer's reviews whose claim's evidence changed after they saved them (the rule is in
    ReviewQuerySet.with_evidence_changed), oldest first: the longest-stale comes first."""
    return my_reviews(reviewer).evidence_changed().order_by("updated_at", "pk")


@dataclass(frozen=True)
class ReviewerQueue:
    """The reviewer's page: awaiting_my_review() as a page of claims, evidence_changed_since_my_review()
    and my_reviews() as pages of reviews (each with its claim and ``evidence_changed``)."""

    waiting: Page
    changed: Page
    reviewed: Page


@dataclass(frozen=True)
class ListSizes:
    """The data version (evidence.caching) and the length of each of the reviewer's lists, read together;
    ``lengths`` is None when the version is still the one the caller already had lists for."""

    version: int
    lengths: dict[str, int] | None


def list_sizes(reviewer: AbstractBaseUser, *, unless_version: int | None = None) -> ListSizes:
    """The data version and the length of each list (and of the reviewer's assignments still to do,
    "assigned"), in one query: the reviewer's own row with the version and a count of each list. With
    ``unless_version``, the counts are made only if the version moved (CASE evaluates its branches
    lazily: the counting subqueries do not run otherwise)."""
    alias = router.db_for_read(Review)
    sql, params = _list_sizes_statement(alias, reviewer.pk, unless_version)
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        row = dict(zip([column[0] for column in cursor.description], cursor.fetchone(), strict=True))
    lengths = {name: row[name] for name in (*REVIEWER_LISTS, "assigned")}
    return ListSizes(row["version"], None if lengths["waiting"] is None else lengths)


@functools.lru_cache(maxsize=1024)
def _list_sizes_statement(alias: str, reviewer_pk: int, unless_version: int | None) -> tuple[str, tuple]:
    """list_sizes()'s query as SQL, built once per reviewer and known version in each worker: while
    nothing changes, building and compiling it through the ORM costs more than the database takes to
    answer it (docs/performance.md), so the kept lists of reviews.views.queue stay cheap."""
    version = Coalesce(Subquery(DataVersion.objects.filter(pk=1).values("version")[:1]), Value(0))
    mine = Review.objects.filter(reviewer_id=reviewer_pk).current()
    counts = {
        "waiting": subquery_count(_unreviewed_by(reviewer_pk)),
        "changed": subquery_count(mine.evidence_changed()),
        "reviewed": subquery_count(mine),
        # the reviewer's assignments still to do, listed first (my_assignments)
        "assigned": subquery_count(ReviewAssignment.objects.filter(reviewer_id=reviewer_pk).outstanding()),
    }
    if unless_version is not None:
        same = Exact(version, Value(unless_version))
        counts = {
            name: Case(When(same, then=Value(None)), default=count, output_field=IntegerField())
            for name, count in counts.items()
        }
    query = get_user_model().objects.using(alias).filter(pk=reviewer_pk).values(version=version, **counts).query
    return query.get_compiler(alias).as_sql()


def reviewer_queue(
    reviewer: AbstractBaseUser, numbers: Mapping[str, Any], per_page: int, lengths: dict[str, int] | None = None
) -> ReviewerQueue:
    """The three lists of the reviewer's page, each paginated on its own (``numbers`` maps "waiting",
    "changed" and "reviewed" to the page asked for, as Paginator.get_page() takes it), in two queries
    whatever their sizes: the lists' lengths (list_sizes(), unless given), and the rows of their pages.

    The same rows in the same order as slicing the three QuerySets above (tests/test_reviews_views.py
    compares them), without their six queries: the expensive part of each list is finding its page
    (sorting every unpublished claim; comparing every review with its claim), and that happens once.
    """
    if lengths is None:
        lengths = list_sizes(reviewer).lengths
    pages = {name: Paginator(range(lengths[name]), per_page).get_page(numbers.get(name)) for name in REVIEWER_LISTS}
    bounds = {name: (page.start_index() - 1, page.end_index()) for name, page in pages.items() if page.object_list}
    rows: dict[str, list[Claim]] = {name: [] for name in REVIEWER_LISTS}
    if bounds:
        for claim in _page_rows(reviewer, bounds):
            rows[claim.queue_list].append(claim)
    waiting = sorted(rows["waiting"], key=lambda claim: claim.queue_rank)
    changed, reviewed = (
        [_review_of(claim, reviewer) for claim in sorted(rows[name], key=lambda claim: claim.queue_rank)]
        for name in ("changed", "reviewed")
    )
    return ReviewerQueue(
        waiting=Page(waiting, pages["waiting"].number, pages["waiting"].paginator),
        changed=Page(changed, pages["changed"].number, pages["changed"].paginator),
        reviewed=Page(reviewed, pages["reviewed"].number, pages["reviewed"].paginator),
    )


def _page_rows(reviewer: AbstractBaseUser, bounds: dict[str, tuple[int, int]]) -> list[Claim]:
    """The claims on the pages of the lists named in ``bounds`` (list → rows [start, end) of it), in one
    UNION ALL of one part per list. Each part is the claims whose primary key is in that list's page (a
    sliced subquery: the sort happens there, once), with the reviewer's review of them joined, the list's
    name (``queue_list``) and their position in the page (``queue_rank``, numbered in the list's own
    order, so that the database's collation orders the article titles). A claim on two pages (a changed
    review on the first page of both review lists) comes twice."""
    mine = Review.objects.by(reviewer).current()
    ids = {
        "waiting": awaiting_my_review(reviewer).values("pk"),
        "changed": mine.evidence_changed().order_by("updated_at", "pk").values("claim_id"),
        "reviewed": mine.order_by("-updated_at", "-pk").values("claim_id"),
    }
    rank = {
        "waiting": [F(field[1:]).desc() if field.startswith("-") else F(field).asc() for field in WAITING_ORDER],
        "changed": [F("review__updated_at").asc(), F("review__id").asc()],
        "reviewed": [F("review__updated_at").desc(), F("review__id").desc()],
    }
    # the columns every part shares, resolved once and copied into each part
    rows = (
        Claim.objects.select_related("article")
        .only(*QUEUE_ROW_FIELDS)
        .annotate(
            review=FilteredRelation(
                "reviews", condition=Q(reviews__reviewer=reviewer, reviews__round=F("consensus__round"))
            )
        )
        .annotate(
            n_reviews=Coalesce("consensus__n_reviews", Value(0)),
            n_open_flags=open_flag_count(),
            sent_back=Case(
                When(status=Claim.Status.NEEDS_REREVIEW, then=True), default=False, output_field=BooleanField()
            ),
            review_id=F("review__id"),
            review_certainty=F("review__certainty"),
            review_verdict=F("review__verdict"),
            review_updated_at=F("review__updated_at"),
            evidence_changed=Case(
                When(evidence_changed_since_review(claim="", review="review__"), then=True),
                default=False,
                output_field=BooleanField(),
            ),
        )
        .order_by()  # a part of a UNION may not be ordered on SQLite; queue_rank says the order
    )
    parts = [
        rows.filter(pk__in=ids[name][start:end]).annotate(
            queue_list=Value(name, output_field=CharField()), queue_rank=Window(RowNumber(), order_by=rank[name])
        )
        for name, (start, end) in bounds.items()
    ]
    return list(parts[0].union(*parts[1:], all=True))


def _review_of(claim: Claim, reviewer: AbstractBaseUser) -> Review:
    """The reviewer's review of a claim from _page_rows(), as my_reviews() gives it: with its claim (and
    the claim's article) and ``evidence_changed``, for the template."""
    review = Review(
        pk=claim.review_id,
        claim=claim,
        reviewer=reviewer,
        certainty=claim.review_certainty,
        verdict=claim.review_verdict,
        updated_at=claim.review_updated_at,
    )
    review.evidence_changed = claim.evidence_changed
    return review


# --- The editor's desk ------------------------------------------------------------------------------------


def open_flags() -> QuerySet[Flag]:
    return Flag.objects.open().for_desk().defer("claim__article__text", "claim__article__headings")


def open_reader_reports() -> QuerySet[ReaderReport]:
    """Readers' reports still open, newest first, each with its claim and article (without the article's
    text) in the same query; the index reviews_report_status_idx serves it."""
    return (
        ReaderReport.objects.filter(status=ReaderReport.Status.OPEN)
        .select_related("claim__article")
        .defer("claim__article__text", "claim__article__headings")
        .order_by("-created_at", "-pk")
    )


def without_supporting_study() -> QuerySet[Claim]:
    """Unpublished claims that no cited study supports: mixed, contradicting or context studies only, or
    none at all. A retracted study supports nothing (as on the public pages), so a claim whose only
    support was retracted is here as well as in the retracted queue."""
    supporting = Citation.objects.supporting().filter(claim=OuterRef("pk"))
    return for_queue(Claim.objects.exclude(status=Claim.Status.PUBLISHED).exclude(Exists(supporting))).order_by(
        "article__title", "article_id", "start"
    )


def relying_on_retracted_study() -> QuerySet[Claim]:
    """Claims citing a retracted study as supporting or mixed evidence, whatever their status: readers
    may be looking at a verdict that rests on it. Claims with an open flag come first."""
    return for_queue(Claim.objects.relying_on_retracted()).order_by(
        "-n_open_flags", "article__title", "article_id", "start"
    )


def _adjudicated_by_a_reviewer() -> Q:
    """The claim's adjudicator reviewed it in its current round: the adjudication does not count
    (separation of duties; reviews.consensus.publish_blockers)."""
    return Q(
        Exists(
            Review.objects.current().filter(
                claim_id=OuterRef("pk"), reviewer_id=OuterRef("consensus__adjudicated_by_id")
            )
        )
    )


def disputed() -> QuerySet[Claim]:
    """Claims whose reviewers disagree (certainties two or more levels apart, or verdicts split) and
    that no editor has adjudicated since: never adjudicated, or a review was saved after the
    adjudication (the editor decided on reviews that have since changed, and should look again), or
    adjudicated by one of the claim's own reviewers (which does not count)."""
    undecided = (
        Q(consensus__adjudicated_at__isnull=True, consensus__disputed=True)
        | readjudication_needed("consensus__")
        | (Q(consensus__disputed=True) & _adjudicated_by_a_reviewer())
    )
    return for_queue(Claim.objects.filter(undecided)).order_by(
        "-consensus__certainty_spread", "article__title", "article_id", "start"
    )


def awaiting_reviews() -> QuerySet[Claim]:
    """Unpublished claims that need more reviews: fewer than REVIEWS_REQUIRED (adjudicated or not: an
    adjudication does not stand in for reviewers), or sent back for re-review."""
    too_few = Q(consensus__isnull=True) | Q(consensus__n_reviews__lt=REVIEWS_REQUIRED)
    return for_queue(
        Claim.objects.exclude(status=Claim.Status.PUBLISHED).filter(too_few | Q(status=Claim.Status.NEEDS_REREVIEW))
    ).order_by("n_reviews", "article__title", "article_id", "start")


def ready_to_publish() -> QuerySet[Claim]:
    """Claims an editor who did not review them can publish now and whose readers do not yet see that
    decision: never published, or the decision changed since. The SQL form of
    reviews.consensus.publish_blockers(); for_editor() marks those the editor looking reviewed."""
    adjudicated = (
        Q(consensus__adjudicated_at__isnull=False)
        & ~readjudication_needed("consensus__")
        & ~_adjudicated_by_a_reviewer()
    )
    decided = adjudicated | Q(consensus__adjudicated_at__isnull=True, consensus__disputed=False)
    claims = (
        Claim.objects.exclude(status=Claim.Status.NEEDS_REREVIEW)
        .exclude(anchor_state=Claim.AnchorState.ORPHANED)
        .filter(decided, consensus__n_reviews__gte=REVIEWS_REQUIRED)
        .annotate(**decision_expressions("consensus__"))
    )
    unpublished = (
        Q(consensus__published_at__isnull=True)
        | ~Q(status=Claim.Status.PUBLISHED)
        | ~Q(consensus__published_verdict=F("decision_verdict"))
        | ~Q(consensus__published_certainty=F("decision_certainty"))
    )
    return for_queue(claims.filter(unpublished)).order_by("article__title", "article_id", "start")


def anchors_lost() -> QuerySet[Claim]:
    """Orphans: claims whose quote a revision of their article's text no longer holds, whatever their status
    (readers may see a verdict on words the article no longer says). Those with a suggested passage first
    (one click re-anchors them), then by article. The partial index evidence_claim_orphaned_idx finds them."""
    suggested = Case(When(anchor_suggestion__isnull=False, then=True), default=False, output_field=BooleanField())
    return (
        for_queue(Claim.objects.filter(anchor_state=Claim.AnchorState.ORPHANED))
        .annotate(suggested=suggested)
        .order_by("-suggested", "article__title", "article_id", "start")
    )


@dataclass(frozen=True)
class Queue:
    """One queue of the editor's desk: its slug (for its own page), title, explanation and QuerySet."""

    slug: str
    title: str
    help: str
    items: QuerySet
    kind: str = "claims"  # or "flags", "reports"


def desk_queues() -> list[Queue]:
    """The editor's desk, in the order an editor works through it."""
    return [
        Queue("flags", "Open flags", "Flags raised by editors or by the system, newest first.", open_flags(), "flags"),
        Queue(
            "reports",
            "Reader reports",
            "Problems readers reported from a claim's page, newest first. Reply if they left an address; raise a "
            "flag if the report shows a problem; then close it.",
            open_reader_reports(),
            "reports",
        ),
        Queue(
            "anchors-lost",
            "Anchors lost",
            "Claims whose quote a revision of the article no longer holds. Accept the suggested passage or "
            "quote the claim again in the current text; until then it cannot be published.",
            anchors_lost(),
        ),
        Queue(
            "disputed",
            "Disputed claims",
            "Reviewers' certainties two or more levels apart, or their verdicts split, and not adjudicated since "
            "the reviews last changed. Adjudicate them.",
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
            f"Fewer than {REVIEWS_REQUIRED} reviews (an adjudication does not replace them), or sent back for "
            "re-review.",
            awaiting_reviews(),
        ),
        Queue(
            "publish",
            "Ready to publish",
            f"{REVIEWS_REQUIRED} reviews or more, agreed or adjudicated, and not yet published as it stands. "
            "A claim you reviewed is for another editor to publish.",
            ready_to_publish(),
        ),
    ]


def desk_queue(slug: str) -> Queue | None:
    return next((queue for queue in desk_queues() if queue.slug == slug), None)


def for_editor(queue: Queue, editor: AbstractBaseUser) -> Queue:
    """The queue as ``editor`` sees it: each claim marked ``reviewed_by_you`` when they reviewed it in its
    current round, so may neither adjudicate nor publish it (reviews.access.reviewed_by)."""
    if queue.kind != "claims":
        return queue
    return replace(queue, items=queue.items.annotate(reviewed_by_you=reviewed_by(editor)))


# --- Assignments ----------------------------------------------------------------------------------------------


def my_assignments(
    reviewer: AbstractBaseUser, *, q: str = "", article: Article | None = None, status: str = ""
) -> QuerySet[ReviewAssignment]:
    """The reviewer's assignments in their claims' current rounds, the earliest due first: those still to
    do (open or overdue) unless ``status`` asks for another; searched in the claim's text (``q``) and
    narrowed to one article. One query, with each claim and its article."""
    assignments = ReviewAssignment.objects.filter(reviewer=reviewer).current().for_list()
    if status:
        assignments = assignments.filter(derived_status=status)
    else:
        assignments = assignments.filter(derived_status__in=[AssignmentStatus.OPEN, AssignmentStatus.OVERDUE])
    if q:
        assignments = assignments.filter(claim__quote__icontains=q)
    if article is not None:
        assignments = assignments.filter(claim__article=article)
    return assignments.order_by("due_date", "claim__article__title", "claim__start", "pk")


def waiting_matching(reviewer: AbstractBaseUser, *, q: str = "", article: Article | None = None) -> QuerySet[Claim]:
    """awaiting_my_review(), searched in the claim's text and narrowed to one article."""
    claims = awaiting_my_review(reviewer)
    if q:
        claims = claims.filter(quote__icontains=q)
    if article is not None:
        claims = claims.filter(article=article)
    return claims


def overdue_assignments() -> QuerySet[ReviewAssignment]:
    """Assignments past their due date whose reviewer has not submitted in the current round, the most
    overdue first: the editor's desk shows them."""
    return ReviewAssignment.objects.overdue().for_list().order_by("due_date", "pk")


def claim_assignments(claim: Claim) -> list[ReviewAssignment]:
    """The claim's assignments in its current round, with their status; one query."""
    return list(ReviewAssignment.objects.filter(claim=claim).current().for_list().order_by("due_date", "pk"))
