"""Editors' adjudication and publication: each publication a numbered verdict version."""

from __future__ import annotations

from collections.abc import Collection

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from evidence.models import Claim
from reviews.access import ADJUDICATE_REFUSAL, reviewed_current_round
from reviews.consensus import consensus_refresh, how_reached, publish_blockers
from reviews.models import (
    Consensus,
    NotificationKind,
    Review,
    VerdictVersion,
)
from reviews.services.notifications import notify_each
from reviews.services.reviews import _check_rating, _lock_claim

# --- Adjudication and publication -------------------------------------------------------------------------


@transaction.atomic
def claim_adjudicate(
    *, claim: Claim, certainty: str, verdict: str, rationale: str, adjudicated_by: AbstractBaseUser
) -> Consensus:
    """Record an editor's decision on a claim; it replaces the reviews' median and majority.

    Needs at least one review (an adjudication settles what reviewers said; it does not replace review)
    and a rationale, and an editor who did not review the claim in its current round (separation of
    duties). A claim sent back for re-review returns to "in review": the editor has re-decided.
    """
    errors = _check_rating(certainty, verdict, rationale)
    if errors:
        raise ValidationError(errors)
    claim = _lock_claim(claim)
    if reviewed_current_round(adjudicated_by, claim):
        raise ValidationError(ADJUDICATE_REFUSAL)
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
def verdict_publish(*, claim: Claim, published_by: AbstractBaseUser, rationale: str = "") -> Consensus:
    """Publish the claim's decision to readers: the next numbered verdict version (VerdictVersion), its
    figures frozen from the current round, and the ``published_*`` fields that lists filter on.

    ``rationale`` is the summary readers see; without one, the adjudication's rationale is used. Raises
    ValidationError when the claim is not ready or ``published_by`` reviewed it (see
    reviews.consensus.publish_blockers) or there is no summary to show. The claim's status becomes
    "verdict published".
    """
    claim = _lock_claim(claim)
    consensus = consensus_refresh(claim=claim)
    blockers = publish_blockers(claim, consensus, publisher=published_by)
    if blockers:
        raise ValidationError(f"Claim {claim.key or claim.pk} cannot be published yet: {'; '.join(blockers)}.")
    decision = consensus.decision
    summary = rationale.strip() or decision.rationale
    if not summary:
        raise ValidationError({"rationale": "Write the summary readers will see with the verdict."})
    version = _version(claim, consensus, number=_next_numbers([claim.pk])[claim.pk], summary=summary)
    version.published_by, version.published_at = published_by, timezone.now()
    version.save()
    _published(consensus, version)
    consensus._change_reason = f"verdict {version.number} published by {published_by}"
    consensus.save(update_fields=[*PUBLISHED_FIELDS, "updated_at"])
    if claim.status != Claim.Status.PUBLISHED:
        claim.status = Claim.Status.PUBLISHED
        claim._change_reason = f"verdict published by {published_by}"
        claim.save(update_fields=["status", "updated_at"])
    # who reviewed the round just published is told (after the commit); its reviews are public now
    reviewers = Review.objects.filter(claim=claim, round=version.round).select_related("reviewer").order_by("pk")
    notify_each(
        [review.reviewer for review in reviewers],
        NotificationKind.VERDICT,
        claim=claim,
        context={"verdict": version.summary, "number": version.number, "summary": version.rationale},
    )
    return consensus


PUBLISHED_FIELDS = [
    "published_certainty",
    "published_verdict",
    "published_rationale",
    "published_by",
    "published_at",
    "published_version",
]


def _next_numbers(claim_ids: Collection[int]) -> dict[int, int]:
    """The number each claim's next verdict version takes (1 for its first). One query."""
    last = dict(
        VerdictVersion.objects.filter(claim__in=claim_ids)
        .values("claim")
        .annotate(last=Max("number"))
        .values_list("claim", "last")
    )
    return {claim_id: last.get(claim_id, 0) + 1 for claim_id in claim_ids}


def _version(claim: Claim, consensus: Consensus, *, number: int, summary: str) -> VerdictVersion:
    """The verdict version publishing ``consensus``'s decision now would give, unsaved: the decision, the
    summary, how it was reached, and the current round's figures."""
    decision = consensus.decision
    return VerdictVersion(
        claim=claim,
        number=number,
        round=consensus.round,
        certainty=decision.certainty,
        verdict=decision.verdict,
        rationale=summary,
        how_reached=how_reached(consensus),
        n_reviews=consensus.n_reviews,
        certainty_spread=consensus.certainty_spread,
        verdict_split=consensus.verdict_split,
        last_reviewed_at=consensus.last_reviewed_at,
        adjudicated=decision.adjudicated,
    )


def _published(consensus: Consensus, version: VerdictVersion) -> None:
    """Point the consensus's published snapshot at ``version``."""
    consensus.published_certainty, consensus.published_verdict = version.certainty, version.verdict
    consensus.published_rationale, consensus.published_by = version.rationale, version.published_by
    consensus.published_at, consensus.published_version = version.published_at, version
