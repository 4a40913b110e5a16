"""Sending claims back for re-review: each published claim sent back opens a new, blind review round."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from evidence import caching
from evidence.models import Claim
from evidence.services import rows
from reviews.consensus import compute
from reviews.models import (
    Consensus,
    NotificationKind,
    Review,
    ReviewRound,
)
from reviews.services.notifications import notify


@transaction.atomic
def claims_send_back(*, claims: Sequence[Claim], reason: str, user: AbstractBaseUser | None = None) -> list[Claim]:
    """Send claims back for re-review: each not already waiting for it moves to "needs re-review", with
    ``reason`` in its history, and every one is marked as having changed evidence, so its reviewers see it
    under "evidence changed". A claim whose verdict is published goes into a new review round
    (_rounds_open): blind again, while readers keep the published verdict under a banner. The one place
    that sends a claim back (an orphaned anchor, via reviews.receivers). Returns the claims that moved."""
    ids = [claim.pk for claim in claims]
    moved = []
    now = timezone.now()
    for claim in Claim.objects.select_for_update().filter(pk__in=ids).order_by("pk"):
        if claim.status == Claim.Status.NEEDS_REREVIEW:
            continue
        claim.status = Claim.Status.NEEDS_REREVIEW
        claim._change_reason = f"sent back for re-review: {reason}"
        if user is not None:
            claim._history_user = user
        claim.save(update_fields=["status", "updated_at"])
        moved.append(claim)
    _rounds_open([(claim.pk, now, reason, user) for claim in moved])
    Claim.objects.filter(pk__in=ids).mark_evidence_changed(now)
    return moved


def _rounds_open(openings: Sequence[tuple[int, datetime, str, AbstractBaseUser | None]]) -> list[ReviewRound]:
    """Open a new review round for each claim (claim id, moment, reason, user) whose current round's verdict
    is published; the others (never published, or already in an unpublished round) stay in their round.

    The new round starts empty: the consensus's review columns and any adjudication are cleared (they were
    the published round's, and the published version keeps them), so the new round is decided afresh from
    its own reviews. Two queries plus the writes; the caller holds the claims' locks."""
    if not openings:
        return []
    current = (
        Consensus.objects.select_for_update(of=("self",))
        .select_related("published_version")
        .in_bulk([claim_id for claim_id, *_ in openings])
    )
    rounds, reset = [], []
    for claim_id, at, reason, user in openings:
        consensus = current.get(claim_id)
        if consensus is None or consensus.published_version is None or consensus.under_rereview:
            continue
        consensus.round += 1
        rounds.append(
            ReviewRound(claim_id=claim_id, number=consensus.round, reason=reason, opened_at=at, opened_by=user)
        )
        for name, value in {**vars(compute(())), **ROUND_RESET}.items():
            setattr(consensus, name, value)
        consensus.updated_at = at
        reset.append(
            rows.stamp(consensus, at=at, reason=f"re-review round {consensus.round} opened: {reason}", user=user)
        )
    ReviewRound.objects.bulk_create(rounds)
    rows.update(Consensus, reset, ["round", *vars(compute(())), *ROUND_RESET])
    _tell_last_rounds_reviewers(rounds)
    # the claims' pages show the re-review banner (their status change retired the lists already)
    caching.retire(claims=[opened.claim_id for opened in rounds])
    return rounds


def _tell_last_rounds_reviewers(rounds: Sequence[ReviewRound]) -> None:
    """Tell who reviewed each claim in the round before a new one that the claim needs re-review
    (NotificationKind.REREVIEW), with the round's reason. One query, plus the notifications."""
    if not rounds:
        return
    opened = {round_.claim_id: round_ for round_ in rounds}
    last = Q()
    for round_ in rounds:
        last |= Q(claim_id=round_.claim_id, round=round_.number - 1)
    for review in Review.objects.filter(last).select_related("reviewer", "claim").order_by("claim_id", "pk"):
        round_ = opened[review.claim_id]
        notify(
            review.reviewer,
            NotificationKind.REREVIEW,
            claim=review.claim,
            context={"reason": round_.reason, "round": round_.number},
        )


# What a new round clears besides the review columns: the last round's adjudication.
ROUND_RESET = {
    "last_reviewed_at": None,
    "adjudicated_certainty": "",
    "adjudicated_verdict": "",
    "adjudication_rationale": "",
    "adjudicated_by": None,
    "adjudicated_at": None,
}


def current_round(claim: Claim) -> int:
    """The claim's review round (Consensus.round); 1 for a claim nobody has reviewed yet. One query."""
    return Consensus.objects.filter(claim=claim).values_list("round", flat=True).first() or 1
