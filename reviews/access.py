"""Who may do what in the review workflow: the permission names, and the blind-review rule.

Roles are groups holding model permissions (reviews/migrations/0003_roles.py); views, the admin and the
API check these same permissions, so a role means the same thing everywhere. Who may read which reviews
is review_visibility(), the one rule every page, API call and export applies.
"""

from __future__ import annotations

from collections.abc import Callable
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

# Every editor's page shows all reviews of the claim, so each needs both permissions, plus its action's own.
EDITOR_PAGE = (DESK, SEE_ALL_REVIEWS)


def claim_reviews_readable(user: AbstractBaseUser | AnonymousUser, claim: str = "") -> Q:
    """Whether ``user`` may read every review of a claim, as a condition: the blind-review rule.

    - Anyone: when the claim's verdict is published and it is not back in review (reviews_are_public).
    - A reviewer (reviews.add_review): also once they have submitted their own review of the claim:
      blind until then.
    - An editor (reviews.view_others_reviews): always.

    ``claim`` reaches the claim from the query's model: ``""`` from a claim, ``"claim__"`` from a review.
    """
    if user.has_perm(SEE_ALL_REVIEWS):
        return Q(**{f"{claim}pk__isnull": False})
    readable = reviews_are_public(claim)
    if user.is_authenticated and user.has_perm(REVIEW):
        claim_pk = OuterRef("claim_id" if claim else "pk")
        readable |= Q(Exists(Review.objects.filter(claim_id=claim_pk, reviewer=user)))
    return readable


def review_visibility(user: AbstractBaseUser | AnonymousUser) -> Q:
    """Which reviews ``user`` may read, as a condition on reviews: those of the claims whose reviews they
    may read (claim_reviews_readable), and their own."""
    visible = claim_reviews_readable(user, "claim__")
    if user.is_authenticated:
        visible |= Q(reviewer=user)
    return visible


def visible_reviews(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Review]:
    """The reviews ``user`` may read (review_visibility)."""
    return Review.objects.filter(review_visibility(user))


def others_reviews_readable(user: AbstractBaseUser | AnonymousUser, claim: Claim) -> bool:
    """Whether ``user`` may read the other reviews of ``claim`` (claim_reviews_readable); one query."""
    return Claim.objects.filter(pk=claim.pk).filter(claim_reviews_readable(user)).exists()


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
