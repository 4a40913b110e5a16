"""Who may do what in the review workflow: the permission names, and the blind-review rule.

Roles are groups holding model permissions (reviews/migrations/0003_roles.py); views, the admin and the
API check these same permissions, so a role means the same thing everywhere. Who may read which reviews
is review_visibility(), the one rule every page, API call and export applies. Who may not adjudicate or
publish a claim is current_round_reviewers(): separation of duties. Who may read and write a claim's
discussion, and be told of a mention in it, is may_discuss(); who is offered a claim's review form and its
editor's page from the public claim page, may_review() and may_edit().
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest, HttpResponse

from evidence.models import Claim
from reviews.models import Review, reviews_are_public

REVIEW = "reviews.add_review"  # Reviewers: rate claims, edit their own reviews
SEE_ALL_REVIEWS = "reviews.view_others_reviews"  # Editors: read every review at any time
DESK = "reviews.view_consensus"  # Editors: the editor's desk and its claim pages
RAISE_FLAG = "reviews.add_flag"
CLOSE_FLAG = "reviews.change_flag"
ADJUDICATE = "reviews.adjudicate_claim"
PUBLISH = "reviews.publish_verdict"
CLOSE_REPORT = "reviews.change_readerreport"  # Editors: close a reader's report
ASSIGN = "reviews.assign_reviewers"  # Editors: assign reviewers to claims (reviews.services.assignments)

# Every editor's page shows all reviews of the claim, so each needs both permissions, plus its action's own.
EDITOR_PAGE = (DESK, SEE_ALL_REVIEWS)


def claim_reviews_readable(user: AbstractBaseUser | AnonymousUser) -> Q:
    """Whether ``user`` may read the reviews of a claim's current round, as a condition on claims: the
    blind-review rule, round by round.

    - Anyone: once the round's verdict is published (reviews_are_public).
    - A reviewer (reviews.add_review): also once they have submitted their own review in this round: blind
      until then, in every round (a review in an earlier round does not open the new one).
    - An editor (reviews.view_others_reviews): always.
    """
    if user.has_perm(SEE_ALL_REVIEWS):
        return Q(pk__isnull=False)
    readable = reviews_are_public()
    if user.is_authenticated and user.has_perm(REVIEW):
        mine = Review.objects.filter(claim_id=OuterRef("pk"), round=OuterRef("consensus__round"), reviewer=user)
        readable |= Q(Exists(mine))
    return readable


def review_visibility(user: AbstractBaseUser | AnonymousUser) -> Q:
    """Which reviews ``user`` may read, as a condition on reviews: the same rule for each review's own
    round (the reviews of published rounds are public; a reviewer reads a round's reviews once they have
    submitted in that round; an editor reads all), and their own."""
    if user.has_perm(SEE_ALL_REVIEWS):
        return Q(pk__isnull=False)
    visible = reviews_are_public("claim__")
    if user.is_authenticated:
        visible |= Q(reviewer=user)
        if user.has_perm(REVIEW):
            mine = Review.objects.filter(claim_id=OuterRef("claim_id"), round=OuterRef("round"), reviewer=user)
            visible |= Q(Exists(mine))
    return visible


def visible_reviews(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Review]:
    """The reviews ``user`` may read (review_visibility)."""
    return Review.objects.filter(review_visibility(user))


def others_reviews_readable(user: AbstractBaseUser | AnonymousUser, claim: Claim) -> bool:
    """Whether ``user`` may read the other reviews of ``claim`` (claim_reviews_readable); one query."""
    return Claim.objects.filter(pk=claim.pk).filter(claim_reviews_readable(user)).exists()


# --- Separation of duties ---------------------------------------------------------------------------------
# Nobody adjudicates or publishes a claim they reviewed in its current round (reviews.services refuses it; the
# editor's pages, the admin and the API show the refusal). The round is ReviewQuerySet.current().


def current_round_reviewers(claims: Iterable[Claim | int]) -> dict[int, set[int]]:
    """The primary keys of the people who reviewed each claim in its current round, by claim id (a claim
    nobody reviewed is missing). One query whatever the number of claims."""
    ids = [claim.pk if isinstance(claim, Claim) else claim for claim in claims]
    reviewers: dict[int, set[int]] = {}
    for claim_id, reviewer_id in (
        Review.objects.current().filter(claim__in=ids).values_list("claim_id", "reviewer_id").order_by()
    ):
        reviewers.setdefault(claim_id, set()).add(reviewer_id)
    return reviewers


def reviewed_current_round(user: AbstractBaseUser | AnonymousUser, claim: Claim) -> bool:
    """Whether ``user`` reviewed ``claim`` in its current round, so may neither adjudicate nor publish it."""
    return user.is_authenticated and user.pk in current_round_reviewers([claim]).get(claim.pk, set())


def reviewed_by(user: AbstractBaseUser | AnonymousUser) -> Exists:
    """reviewed_current_round() for each claim of a query of claims, as a condition (the desk's mark)."""
    return Exists(Review.objects.current().filter(claim_id=OuterRef("pk"), reviewer_id=user.pk))


ADJUDICATE_REFUSAL = (
    "You reviewed this claim in its current round, and nobody adjudicates a claim they reviewed: "
    "an editor who did not review it must decide."
)
PUBLISH_REFUSAL = (
    "you reviewed it in its current round, and nobody publishes a claim they reviewed: "
    "an editor who did not review it must publish it"
)


def role_required(*perms: str) -> Callable:
    """Anonymous visitors are sent to sign in; signed-in users without every permission get a 403."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def checked(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.has_perms(perms):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return login_required(checked)

    return decorator


# --- Working on a claim: its review, its editor's page, its discussion -------------------------------------


def may_review(user: AbstractBaseUser | AnonymousUser, claim: Claim) -> bool:
    """Whether ``user`` may rate ``claim``: a reviewer (the review page's own check, role_required(REVIEW)).
    Every reviewer may rate every claim today; a rule that narrows it (assignments) belongs here, where the
    public claim page's "Review this claim" link asks."""
    return user.has_perm(REVIEW)


def may_edit(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether ``user`` may open the editor's page of a claim (the page's own check, EDITOR_PAGE)."""
    return user.has_perms(EDITOR_PAGE)


def may_discuss(user: AbstractBaseUser | AnonymousUser, claim: Claim) -> bool:
    """Whether ``user`` may read and write ``claim``'s discussion, and be told of a mention in it: the one
    rule the pages, the posting service and the mention emails apply.

    - An editor (EDITOR_PAGE): always; they read every review at any time.
    - A reviewer (reviews.add_review): once they have submitted a review in the claim's current round
      (reviewed_current_round). Blind until then, as the round's reviews are: a review in an earlier round
      does not open the discussion of a new one. Until then they are not shown the thread, its length,
      nor whether it exists.
    - Anyone else (readers, curators, anonymous visitors): never; the discussion is not public.

    No query for an editor once their permissions are loaded; one for a reviewer.
    """
    if not user.is_authenticated:
        return False
    if may_edit(user):
        return True
    return user.has_perm(REVIEW) and reviewed_current_round(user, claim)
