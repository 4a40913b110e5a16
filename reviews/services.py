"""Writes to reviews, consensus and flags: one keyword-only function per action, each in a transaction.

The review pages, the editor's desk, the admin and (later) the API call these and nothing else, so the
rules hold whatever made the change: a review always refreshes its claim's consensus, an adjudication
always records who and why, a published verdict is always a snapshot of the decision at that moment.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import NamedTuple

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from evidence.models import Citation, Claim, Study
from reviews.consensus import consensus_refresh, publish_blockers
from reviews.models import DOWNGRADE_REASONS, Certainty, Consensus, Flag, Review, Verdict


@transaction.atomic
def flag_raise(
    *,
    claim: Claim,
    reason: str,
    note: str = "",
    raised_by: AbstractBaseUser | None = None,
    study: Study | None = None,
) -> Flag:
    """Raise a flag on a claim. Raises ValidationError if the same flag is already open."""
    flag = Flag(claim=claim, reason=reason, note=note, raised_by=raised_by, study=study)
    flag.full_clean(validate_constraints=False)
    try:
        # a savepoint, so a duplicate leaves the caller's transaction usable
        with transaction.atomic():
            flag.save()
    except IntegrityError:
        raise ValidationError(
            f"Claim {claim.key or claim.pk} already has an open “{flag.get_reason_display()}” flag."
        ) from None
    return flag


@transaction.atomic
def flag_close(*, flag: Flag, status: str, closed_by: AbstractBaseUser, note: str = "") -> Flag:
    """Resolve or dismiss an open flag, recording who did it, when and why."""
    if status not in (Flag.Status.RESOLVED, Flag.Status.DISMISSED):
        raise ValidationError(f"A flag is closed as resolved or dismissed, not {status!r}.")
    flag = Flag.objects.select_for_update().get(pk=flag.pk)
    if not flag.is_open:
        raise ValidationError(f"This flag is already {flag.get_status_display().lower()}.")
    flag.status = status
    flag.resolved_by = closed_by
    flag.resolved_at = timezone.now()
    flag.resolution_note = note
    flag.save(update_fields=["status", "resolved_by", "resolved_at", "resolution_note"])
    return flag


@transaction.atomic
def claims_flag_retracted_reliance(*, claims: QuerySet[Claim]) -> list[Flag]:
    """Give each claim relying on a retracted study an open system flag naming that study, once.

    A flag that an editor has since resolved or dismissed is not raised again for the same study, so
    running an import twice changes nothing. A claim that had been reviewed goes back to re-review.
    Two queries whatever the number of claims, plus one write per new flag and one for the claims sent back.
    """
    reliant = (
        Citation.objects.reliance_on_retracted()
        .filter(claim__in=claims)
        .select_related("claim", "study")
        .order_by("claim_id", "study_id")
    )
    pairs = [(citation.claim, citation.study) for citation in reliant]
    if not pairs:
        return []
    already = set(
        Flag.objects.filter(
            reason=Flag.Reason.RETRACTED_SOURCE, claim__in={claim.pk for claim, _ in pairs}
        ).values_list("claim_id", "study_id")
    )
    raised = []
    sent_back = []
    for claim, study in pairs:
        if (claim.pk, study.pk) in already:
            continue
        raised.append(
            Flag.objects.create(
                claim=claim,
                study=study,
                reason=Flag.Reason.RETRACTED_SOURCE,
                note=f"Cites a retracted study as evidence: {study}.",
            )
        )
        if claim.status in (Claim.Status.IN_REVIEW, Claim.Status.PUBLISHED):
            claim.status = Claim.Status.NEEDS_REREVIEW
            claim._change_reason = f"relies on a retracted study ({study.pk})"
            claim.save(update_fields=["status", "updated_at"])
            sent_back.append(claim.pk)
    if sent_back:
        # its reviewers see it under "evidence changed" (ReviewQuerySet.with_evidence_changed)
        Claim.objects.filter(pk__in=sent_back).mark_evidence_changed()
    return raised


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


def review_submit(
    *,
    claim: Claim,
    reviewer: AbstractBaseUser,
    certainty: str,
    verdict: str,
    rationale: str,
    downgrades: Collection[str] = (),
    read_full_text: bool = False,
) -> Review:
    """review_upsert, for callers that need only the review (the review page, the admin)."""
    return review_upsert(
        claim=claim,
        reviewer=reviewer,
        certainty=certainty,
        verdict=verdict,
        rationale=rationale,
        downgrades=downgrades,
        read_full_text=read_full_text,
    ).review


@transaction.atomic
def review_upsert(
    *,
    claim: Claim,
    reviewer: AbstractBaseUser,
    certainty: str,
    verdict: str,
    rationale: str,
    downgrades: Collection[str] = (),
    read_full_text: bool = False,
) -> SubmittedReview:
    """Create the reviewer's review of the claim, or replace its values; then refresh the consensus.

    ``downgrades`` names the GRADE downgrade fields to set (keys of DOWNGRADE_REASONS); the others are
    cleared. Saving an unchanged review still records a version: it confirms the review against
    evidence that changed since (see ReviewQuerySet.with_evidence_changed). The claim moves from
    "awaiting review" or "needs re-review" to "in review"; a published claim stays published until an
    editor publishes again. Raises ValidationError on bad values. Whether the review was created is known
    only here, under the claim's lock: a caller that looked before calling could be told wrong by a
    submission committed in between.
    """
    errors = _check_rating(certainty, verdict, rationale)
    unknown = set(downgrades) - set(DOWNGRADE_REASONS)
    if unknown:
        errors["downgrades"] = f"Unknown downgrade reasons: {', '.join(sorted(unknown))}."
    if errors:
        raise ValidationError(errors)
    claim = _lock_claim(claim)
    values = {
        "certainty": certainty,
        "verdict": verdict,
        "rationale": rationale.strip(),
        "read_full_text": read_full_text,
        **{field: field in downgrades for field in DOWNGRADE_REASONS},
    }
    review = Review.objects.filter(claim=claim, reviewer=reviewer).first()
    created = review is None
    if created:
        review = Review(claim=claim, reviewer=reviewer, **values)
        review._change_reason = "submitted"
        try:
            # a savepoint: a writer that skipped the claim lock (a raw insert, a future bulk path) may
            # have inserted the review since we looked; the unique constraint catches it and we update
            with transaction.atomic():
                review.save()
        except IntegrityError:
            review = Review.objects.select_for_update().get(claim=claim, reviewer=reviewer)
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


# --- Adjudication and publication -------------------------------------------------------------------------


@transaction.atomic
def adjudicate(
    *, claim: Claim, certainty: str, verdict: str, rationale: str, adjudicated_by: AbstractBaseUser
) -> Consensus:
    """Record an editor's decision on a claim; it replaces the reviews' median and majority.

    Needs at least one review (an adjudication settles what reviewers said; it does not replace review)
    and a rationale. A claim sent back for re-review returns to "in review": the editor has re-decided.
    """
    errors = _check_rating(certainty, verdict, rationale)
    if errors:
        raise ValidationError(errors)
    claim = _lock_claim(claim)
    consensus = consensus_refresh(claim=claim)
    if consensus.n_reviews == 0:
        raise ValidationError("A claim nobody has reviewed cannot be adjudicated; it needs a review first.")
    consensus.adjudicated_certainty = certainty
    consensus.adjudicated_verdict = verdict
    consensus.adjudication_rationale = rationale.strip()
    consensus.adjudicated_by = adjudicated_by
    consensus.adjudicated_at = timezone.now()
    consensus._change_reason = f"adjudicated by {adjudicated_by}"
    consensus.save(
        update_fields=[
            "adjudicated_certainty",
            "adjudicated_verdict",
            "adjudication_rationale",
            "adjudicated_by",
            "adjudicated_at",
            "updated_at",
        ]
    )
    if claim.status == Claim.Status.NEEDS_REREVIEW:
        claim.status = Claim.Status.IN_REVIEW
        claim._change_reason = f"adjudicated by {adjudicated_by}"
        claim.save(update_fields=["status", "updated_at"])
    return consensus


@transaction.atomic
def publish_verdict(*, claim: Claim, published_by: AbstractBaseUser, rationale: str = "") -> Consensus:
    """Publish the claim's decision to readers: a snapshot in the ``published_*`` fields.

    ``rationale`` is the summary readers see; without one, the adjudication's rationale is used. Raises
    ValidationError when the claim is not ready (see reviews.consensus.publish_blockers) or there is no
    summary to show. The claim's status becomes "verdict published".
    """
    claim = _lock_claim(claim)
    consensus = consensus_refresh(claim=claim)
    blockers = publish_blockers(claim, consensus)
    if blockers:
        raise ValidationError(f"Claim {claim.key or claim.pk} cannot be published yet: {'; '.join(blockers)}.")
    decision = consensus.decision
    summary = rationale.strip() or decision.rationale
    if not summary:
        raise ValidationError({"rationale": "Write the summary readers will see with the verdict."})
    consensus.published_certainty = decision.certainty
    consensus.published_verdict = decision.verdict
    consensus.published_rationale = summary
    consensus.published_by = published_by
    consensus.published_at = timezone.now()
    consensus._change_reason = f"published by {published_by}"
    consensus.save(
        update_fields=[
            "published_certainty",
            "published_verdict",
            "published_rationale",
            "published_by",
            "published_at",
            "updated_at",
        ]
    )
    if claim.status != Claim.Status.PUBLISHED:
        claim.status = Claim.Status.PUBLISHED
        claim._change_reason = f"verdict published by {published_by}"
        claim.save(update_fields=["status", "updated_at"])
    return consensus
