"""Reviewers' ratings: submitted, revised and deleted, each refreshing the claim's consensus."""

from __future__ import annotations

from typing import NamedTuple, Required, TypedDict, Unpack

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from evidence.models import Claim
from reviews.consensus import consensus_refresh
from reviews.grade import Grading, certainty_errors, computed_certainty, grading_errors
from reviews.models import (
    Certainty,
    Conflict,
    Review,
    Verdict,
)
from reviews.services.rounds import current_round

# --- Reviews ----------------------------------------------------------------------------------------------


def _check_rating(certainty: str, verdict: str, rationale: str) -> dict[str, str]:
    errors = {}
    if certainty not in Certainty.values:
        errors["certainty"] = f"Choose a certainty: {', '.join(Certainty.values)}."
    if verdict not in Verdict.values:
        errors["verdict"] = f"Choose a verdict: {', '.join(Verdict.values)}."
    if not rationale.strip():
        errors["rationale"] = "Say why: a rationale is required."
    return errors


class ReviewValues(TypedDict, total=False):
    """What a reviewer writes: the keyword arguments of review_values_checked, review_submit and
    review_upsert, spelled once. ``grading`` holds the GRADE ratings (reviews.grade.Grading)."""

    certainty: Required[str]
    verdict: Required[str]
    rationale: Required[str]
    grading: Grading | None
    certainty_reason: str
    conflict_of_interest: str
    conflict_statement: str
    read_full_text: bool


def review_values_checked(**given: Unpack[ReviewValues]) -> tuple[dict, dict[str, str]]:
    """A review's values as stored, and what is wrong with them by field (empty when nothing is): the one
    check of a review, which the services enforce and the review form and the admin's form show per field.

    The GRADE rules are reviews.grade's: valid ratings; no certainty chosen means the one they give; a
    certainty more than one level from it is refused, one level needs ``certainty_reason``. A declaration of
    conflicts of interest is required: "none", or "declared" with what it is.
    """
    certainty, verdict, rationale = given["certainty"], given["verdict"], given["rationale"]
    grading = given.get("grading") or Grading()
    certainty_reason = given.get("certainty_reason", "")
    conflict_of_interest = given.get("conflict_of_interest", "")
    statement = given.get("conflict_statement", "").strip()
    errors = grading_errors(grading)
    if not certainty and not errors:
        certainty = computed_certainty(grading)
    rating = _check_rating(certainty, verdict, rationale)
    if not certainty and errors:
        rating.pop("certainty", None)  # it follows from the ratings, whose errors say what to fix
    errors.update(rating)
    if not errors:
        errors.update(certainty_errors(grading, certainty, certainty_reason))
    if conflict_of_interest not in Conflict.values:
        errors["conflict_of_interest"] = "Declare any conflict of interest: none, or declared with what it is."
    elif conflict_of_interest == Conflict.DECLARED and not statement:
        errors["conflict_statement"] = "Say what the conflict of interest is."
    elif conflict_of_interest == Conflict.NONE and statement:
        errors["conflict_statement"] = "You declared no conflict of interest: remove this text, or choose “Declared”."
    values = {
        "certainty": certainty,
        "verdict": verdict,
        "rationale": rationale.strip(),
        "read_full_text": given.get("read_full_text", False),
        **grading.values(),
        "certainty_reason": certainty_reason.strip(),
        "conflict_of_interest": conflict_of_interest,
        "conflict_statement": statement,
    }
    return values, errors


def _lock_claim(claim: Claim) -> Claim:
    """Lock the claim's row until the transaction ends.

    Every write that changes what a claim's consensus is computed from takes this lock first, so writes
    to one claim run one after another: two submissions of the same review cannot both insert it, and
    two reviewers submitting at once cannot both recompute the consensus from a stale set of reviews.
    """
    return Claim.objects.select_for_update().get(pk=claim.pk)


class SubmittedReview(NamedTuple):
    """What review_upsert did: the review, and whether this call created it. Decided under the claim's lock,
    so of simultaneous first submissions by one reviewer exactly one says "created" (the API's 201)."""

    review: Review
    created: bool


def review_submit(*, claim: Claim, reviewer: AbstractBaseUser, **values: Unpack[ReviewValues]) -> Review:
    """review_upsert, for callers that need only the review (the review page, the admin)."""
    return review_upsert(claim=claim, reviewer=reviewer, **values).review


@transaction.atomic
def review_upsert(*, claim: Claim, reviewer: AbstractBaseUser, **given: Unpack[ReviewValues]) -> SubmittedReview:
    """Create the reviewer's review of the claim, or replace its values; then refresh the consensus.

    ``grading`` (ReviewValues) holds the GRADE ratings: the design of the evidence is required;
    ``certainty`` may be "" for the one the ratings give, and another needs ``certainty_reason`` (see
    review_values_checked). ``conflict_of_interest`` is required ("none" or "declared" with
    ``conflict_statement``). Saving an unchanged review still records a version: it confirms the review
    against evidence that changed since (see ReviewQuerySet.with_evidence_changed). The claim moves from
    "awaiting review" or "needs re-review" to "in review"; a published claim stays published until an
    editor publishes again. The review belongs to the claim's current round (Consensus.round): in a new
    round the reviewer writes a new review, and their earlier one stays in its round. Raises
    ValidationError on bad values, by field. Whether the review was created is known only here, under the
    claim's lock: a caller that looked before calling could be told wrong by a submission committed in
    between.
    """
    values, errors = review_values_checked(**given)
    if errors:
        raise ValidationError(errors)
    claim = _lock_claim(claim)
    round_ = current_round(claim)
    review = Review.objects.filter(claim=claim, reviewer=reviewer, round=round_).first()
    created = review is None
    if created:
        review = Review(claim=claim, reviewer=reviewer, round=round_, **values)
        review._change_reason = "submitted"
        try:
            # a savepoint: a writer that skipped the claim lock (a raw insert, a future bulk path) may
            # have inserted the review since we looked; the unique constraint catches it and we update
            with transaction.atomic():
                review.save()
        except IntegrityError:
            review = Review.objects.select_for_update().get(claim=claim, reviewer=reviewer, round=round_)
            created = False
    if not created:
        changed = [name for name, value in values.items() if getattr(review, name) != value]
        for name in changed:
            setattr(review, name, values[name])
        review._change_reason = f"revised: {', '.join(changed)}" if changed else "confirmed unchanged"
        review.save(update_fields=[*changed, "updated_at"])
    if claim.status in (Claim.Status.AWAITING_REVIEW, Claim.Status.NEEDS_REREVIEW):
        claim.status = Claim.Status.IN_REVIEW
        claim._change_reason = f"review {'submitted' if created else 'revised'} by {reviewer}"
        claim.save(update_fields=["status", "updated_at"])
    consensus_refresh(claim=claim, reason=f"review by {reviewer} {'submitted' if created else 'revised'}")
    return SubmittedReview(review, created)


@transaction.atomic
def review_delete(*, review: Review) -> None:
    """Delete a review (an administrator's correction) and refresh its claim's consensus."""
    claim = _lock_claim(review.claim)
    review._change_reason = "deleted"
    review.delete()
    consensus_refresh(claim=claim, reason=f"review by {review.reviewer} deleted")
