"""Who may do what in the review workflow: the permission names, and the blind-review rule.

Roles are groups holding model permissions (reviews/migrations/0003_roles.py); views, the admin and
(later) the API check these same permissions, so a role means the same thing everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from reviews.models import Review

REVIEW = "reviews.add_review"  # Reviewers: rate claims, edit their own reviews
SEE_ALL_REVIEWS = "reviews.view_others_reviews"  # Editors: read every review at any time
DESK = "reviews.view_consensus"  # Editors: the editor's desk and its claim pages
RAISE_FLAG = "reviews.add_flag"
CLOSE_FLAG = "reviews.change_flag"
ADJUDICATE = "reviews.adjudicate_claim"
PUBLISH = "reviews.publish_verdict"


def can_see_others_reviews(user: AbstractBaseUser | AnonymousUser, own_review: Review | None) -> bool:
    """Blind review: a reviewer sees other reviewers' ratings of a claim only once they have submitted
    their own; editors (view_others_reviews) see them always."""
    return user.has_perm(SEE_ALL_REVIEWS) or (own_review is not None and own_review.reviewer_id == user.pk)


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
