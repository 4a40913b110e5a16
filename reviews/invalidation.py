"""Which public pages each write of the review workflow retires (evidence.caching): receivers of its models'
signals, connected in ReviewsConfig.ready(). Whether readers see a write is decided by the workflow's own
named rules, never a copy of them: a review by reviews_are_public() (blind until its round's verdict is
published), a consensus by whether the save touched its published fields (verdicts.PUBLISHED_FIELDS, the
only ones readers are shown) or its round (a published claim sent back shows a banner). A write readers
cannot see retires no page (caching.touch_unseen: only the work pages' data version moves).
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save, pre_delete

from evidence.caching import FEEDS, LISTS, retire, touch_unseen
from evidence.models import Claim
from reviews.models import Consensus, Flag, Review, ReviewAssignment, ReviewerProfile, reviews_are_public
from reviews.services.verdicts import PUBLISHED_FIELDS

# What readers see of a consensus: the published verdict, and the round (under re-review or not).
SEEN_CONSENSUS_FIELDS = frozenset({*PUBLISHED_FIELDS, "round"})


def _article_of(claim_id: int) -> int | None:
    return Claim.objects.filter(pk=claim_id).values_list("article_id", flat=True).first()


def _review(review: Review) -> None:
    if Review.objects.filter(pk=review.pk).filter(reviews_are_public("claim__")).exists():
        retire(claims=[review.claim_id])  # the claim's page and its verdicts' permalinks list public reviews
    else:
        touch_unseen()


def review_saved(sender: Any, instance: Review, **kwargs: Any) -> None:
    if not kwargs.get("raw"):
        _review(instance)


def review_deleting(sender: Any, instance: Review, **kwargs: Any) -> None:
    """Before the delete: afterwards there is no row for the rule to look at (the delete's transaction
    still decides whether anything is retired)."""
    _review(instance)


def consensus_changed(sender: Any, instance: Consensus, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    update_fields = kwargs.get("update_fields")
    seen = instance.is_published if update_fields is None else bool(set(update_fields) & SEEN_CONSENSUS_FIELDS)
    if seen:
        retire(claims=[instance.claim_id], articles=[_article_of(instance.claim_id)], scopes=[LISTS, FEEDS])
    else:
        touch_unseen()


def flag_changed(sender: Any, instance: Flag, **kwargs: Any) -> None:
    if not kwargs.get("raw"):
        # its page lists flags; the article's pages and the lists count the open ones
        retire(claims=[instance.claim_id], articles=[_article_of(instance.claim_id)], scopes=[LISTS])


def profile_changed(sender: Any, instance: ReviewerProfile, **kwargs: Any) -> None:
    if not kwargs.get("raw"):
        # readers see the reviewer's name (or "Reviewer A") beside their public reviews only
        claims = Review.objects.public().filter(reviewer_id=instance.user_id).values_list("claim_id", flat=True)
        retire(claims=set(claims))


def assignment_changed(sender: Any, instance: ReviewAssignment, **kwargs: Any) -> None:
    if not kwargs.get("raw"):
        touch_unseen()  # readers never see who is assigned; the reviewers' queues do


def connect() -> None:
    post_save.connect(review_saved, sender=Review, dispatch_uid="reviews-pages-save-Review")
    pre_delete.connect(review_deleting, sender=Review, dispatch_uid="reviews-pages-delete-Review")
    post_save.connect(consensus_changed, sender=Consensus, dispatch_uid="reviews-pages-save-Consensus")
    post_delete.connect(consensus_changed, sender=Consensus, dispatch_uid="reviews-pages-delete-Consensus")
    post_save.connect(flag_changed, sender=Flag, dispatch_uid="reviews-pages-save-Flag")
    post_delete.connect(flag_changed, sender=Flag, dispatch_uid="reviews-pages-delete-Flag")
    post_save.connect(profile_changed, sender=ReviewerProfile, dispatch_uid="reviews-pages-save-ReviewerProfile")
    post_save.connect(assignment_changed, sender=ReviewAssignment, dispatch_uid="reviews-pages-save-Assignment")
    post_delete.connect(assignment_changed, sender=ReviewAssignment, dispatch_uid="reviews-pages-delete-Assignment")
