"""Writes to reviews, consensus and flags: one keyword-only function per action, each in a transaction.

The review pages, the editor's desk, the admin and the API call these and nothing else, so the
rules hold whatever made the change: a review always refreshes its claim's consensus, an adjudication
always records who and why, a published verdict is always a snapshot of the decision at that moment.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, QuerySet
from django.utils import timezone

from evidence import caching
from evidence.models import Citation, Claim, Study
from evidence.services import rows
from reviews.access import ADJUDICATE_REFUSAL, current_round_reviewers, reviewed_current_round
from reviews.consensus import compute, consensus_refresh, how_reached, publish_blockers
from reviews.grade import Grading, certainty_errors, computed_certainty, grading_errors
from reviews.models import (
    Certainty,
    Conflict,
    Consensus,
    Flag,
    ReaderReport,
    Review,
    ReviewerProfile,
    ReviewRound,
    Verdict,
    VerdictVersion,
)


def retracted_source_note(study: Study) -> str:
    """The note of the system's flag on a claim that relies on a retracted study: one sentence, its full
    stop not doubled after the study's own (a title ending in "." or cut with "…" by Study.__str__ gave
    "treatm…." and "trial..")."""
    text = f"Cites a retracted study as evidence: {study}".rstrip()
    return text if text.endswith((".", "…", "?", "!")) else f"{text}."


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
def claims_flag_retracted_reliance(
    *, claims: QuerySet[Claim], at: Callable[[Citation], datetime] | None = None
) -> list[Flag]:
    """Give each claim relying on a retracted study an open system flag naming that study, once.

    A flag that an editor has since resolved or dismissed is not raised again for the same study, so
    running an import twice changes nothing. A claim that had been reviewed goes back to re-review.
    ``at`` says when each reliance arose (a bulk path's citation added or study retracted, given the
    citation); without it, now. Three queries whatever the number of claims, plus the writes.
    """
    reliant = (
        Citation.objects.reliance_on_retracted()
        .filter(claim__in=claims)
        .select_related("claim", "study")
        .order_by("claim_id", "study_id")
    )
    already = set(
        Flag.objects.filter(reason=Flag.Reason.RETRACTED_SOURCE, claim__in=claims).values_list("claim_id", "study_id")
    )
    now = timezone.now()
    new = [(c, at(c) if at is not None else now) for c in reliant if (c.claim_id, c.study_id) not in already]
    if not new:
        return []
    raised = flags_raise_bulk(
        items=[
            FlagRaise(
                claim=c.claim,
                study=c.study,
                reason=Flag.Reason.RETRACTED_SOURCE,
                note=retracted_source_note(c.study),
                at=moment,
            )
            for c, moment in new
        ]
    )
    # a reviewed claim goes back to re-review at its first new flag
    first: dict[int, tuple[datetime, Citation]] = {}
    for c, moment in new:
        reviewed = c.claim.status in (Claim.Status.IN_REVIEW, Claim.Status.PUBLISHED)
        if reviewed and (c.claim_id not in first or moment < first[c.claim_id][0]):
            first[c.claim_id] = (moment, c)
    moves = [
        (c.claim, Claim.Status.NEEDS_REREVIEW, moment, f"relies on a retracted study ({c.study_id})", None)
        for moment, c in first.values()
    ]
    _claims_move(moves)
    _rounds_open([(claim.pk, moment, reason, user) for claim, _, moment, reason, user in moves])
    # its reviewers see it under "evidence changed" (ReviewQuerySet.with_evidence_changed)
    for moment, claim_ids in rows.by_moment({claim_id: moment for claim_id, (moment, _) in first.items()}).items():
        Claim.objects.filter(pk__in=claim_ids).mark_evidence_changed(moment)
    return raised


def concern_source_note(study: Study) -> str:
    """The note of the system's flag on a claim relying on a study under an expression of concern."""
    text = f"Cites as evidence a study under an expression of concern: {study}".rstrip()
    return text if text.endswith((".", "…", "?", "!")) else f"{text}."


@transaction.atomic
def claims_flag_concern_reliance(
    *, studies: Sequence[Study], at: Callable[[Citation], datetime] | None = None
) -> list[Flag]:
    """Give each claim relying (CitationQuerySet.reliant) on one of ``studies``, now under an expression of
    concern, an open system flag naming that study, once: a flag an editor has since closed is not raised
    again for the same study. The claim's status and round are left alone: a concern is not a retraction,
    and an editor decides from the flag whether it needs re-review. Two queries plus the writes."""
    reliant = (
        Citation.objects.reliant()
        .filter(study__in=studies, study__retraction_status=Study.RetractionStatus.EXPRESSION_OF_CONCERN)
        .select_related("claim", "study")
        .order_by("claim_id", "study_id")
    )
    reliant = list(reliant)
    already = set(
        Flag.objects.filter(
            reason=Flag.Reason.CONCERN_SOURCE, claim__in=[c.claim_id for c in reliant], study__in=studies
        ).values_list("claim_id", "study_id")
    )
    now = timezone.now()
    return flags_raise_bulk(
        items=[
            FlagRaise(
                claim=c.claim,
                study=c.study,
                reason=Flag.Reason.CONCERN_SOURCE,
                note=concern_source_note(c.study),
                at=at(c) if at is not None else now,
            )
            for c in reliant
            if (c.claim_id, c.study_id) not in already
        ]
    )


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
    caching.touch()
    return rounds


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


def review_values_checked(
    *,
    certainty: str,
    verdict: str,
    rationale: str,
    grading: Grading | None,
    certainty_reason: str,
    conflict_of_interest: str,
    conflict_statement: str,
    read_full_text: bool,
) -> tuple[dict, dict[str, str]]:
    """A review's values as stored, and what is wrong with them by field (empty when nothing is): the one
    check of a review, which the services enforce and the review form and the admin's form show per field.

    The GRADE rules are reviews.grade's: valid ratings; no certainty chosen means the one they give; a
    certainty more than one level from it is refused, one level needs ``certainty_reason``. A declaration of
    conflicts of interest is required: "none", or "declared" with what it is.
    """
    grading = grading or Grading()
    errors = grading_errors(grading)
    if not certainty and not errors:
        certainty = computed_certainty(grading)
    rating = _check_rating(certainty, verdict, rationale)
    if not certainty and errors:
        rating.pop("certainty", None)  # it follows from the ratings, whose errors say what to fix
    errors.update(rating)
    if not errors:
        errors.update(certainty_errors(grading, certainty, certainty_reason))
    statement = conflict_statement.strip()
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
        "read_full_text": read_full_text,
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


def review_submit(
    *,
    claim: Claim,
    reviewer: AbstractBaseUser,
    certainty: str,
    verdict: str,
    rationale: str,
    grading: Grading | None = None,
    certainty_reason: str = "",
    conflict_of_interest: str = "",
    conflict_statement: str = "",
    read_full_text: bool = False,
) -> Review:
    """review_upsert, for callers that need only the review (the review page, the admin)."""
    return review_upsert(
        claim=claim,
        reviewer=reviewer,
        certainty=certainty,
        verdict=verdict,
        rationale=rationale,
        grading=grading,
        certainty_reason=certainty_reason,
        conflict_of_interest=conflict_of_interest,
        conflict_statement=conflict_statement,
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
    grading: Grading | None = None,
    certainty_reason: str = "",
    conflict_of_interest: str = "",
    conflict_statement: str = "",
    read_full_text: bool = False,
) -> SubmittedReview:
    """Create the reviewer's review of the claim, or replace its values; then refresh the consensus.

    ``grading`` holds the GRADE ratings (reviews.grade.Grading): the design of the evidence is required;
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
    values, errors = review_values_checked(
        certainty=certainty,
        verdict=verdict,
        rationale=rationale,
        grading=grading,
        certainty_reason=certainty_reason,
        conflict_of_interest=conflict_of_interest,
        conflict_statement=conflict_statement,
        read_full_text=read_full_text,
    )
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


# === Bulk services ========================================================================================
# Many actions at once, each at its own moment (``at``): the benchmark's data set and the open-data import
# write through these. Each keeps the rules of its one-at-a-time service above (the same checks, the same
# claim statuses, consensus computed by reviews.consensus.compute, publication only when publish_blockers
# allows, a history row per change with its reason, user and moment) and moves the data version; rows are
# written with bulk_create/bulk_update (evidence.services.rows), a few queries per batch.


def _claims_locked(claims: Sequence[Claim]) -> dict[int, Claim]:
    """The claims' rows, locked until the transaction ends (_lock_claim for a batch), by primary key."""
    return Claim.objects.select_for_update().in_bulk([claim.pk for claim in claims])


def _claims_move(moves: Sequence[tuple[Claim, str, datetime, str, AbstractBaseUser | None]]) -> None:
    """Set each claim's status (claim, status, moment, reason, user), with a history row each."""
    moved = []
    for claim, status, at, reason, user in moves:
        claim.status, claim.updated_at = status, at
        moved.append(rows.stamp(claim, at=at, reason=reason, user=user))
    rows.update(Claim, moved, ["status"])


def _one_per_claim(items: Sequence) -> None:
    claim_ids = [item.claim.pk for item in items]
    if len(set(claim_ids)) != len(claim_ids):
        raise ValueError("one action per claim and batch: split the batch by moment")


def consensus_refresh_bulk(
    *, claims: Sequence[Claim], at: Mapping[int, datetime], reasons: Mapping[int, str] | None = None
) -> dict[int, Consensus]:
    """consensus_refresh for many claims (the caller holds their locks): each Consensus row rewritten from
    the claim's reviews by compute(), created if missing, written only when something changed, at the
    claim's moment ``at[claim.pk]``. Returns the rows by claim id. Three queries, plus the writes."""
    ids = [claim.pk for claim in claims]
    ratings: dict[int, list[tuple[str, str]]] = defaultdict(list)
    last: dict[int, datetime] = {}
    current = Consensus.objects.select_for_update().in_bulk(ids)
    for claim_id, round_, certainty, verdict, updated_at in Review.objects.filter(claim__in=ids).values_list(
        "claim_id", "round", "certainty", "verdict", "updated_at"
    ):
        # the current round's reviews only (a claim without a row is in round 1)
        if round_ != (current[claim_id].round if claim_id in current else 1):
            continue
        ratings[claim_id].append((certainty, verdict))
        last[claim_id] = max(updated_at, last.get(claim_id, updated_at))
    new, changed = [], []
    for claim in claims:
        values = {**vars(compute(ratings[claim.pk])), "last_reviewed_at": last.get(claim.pk)}
        reason = (reasons or {}).get(claim.pk) or "recomputed from the reviews"
        consensus = current.get(claim.pk)
        if consensus is None:
            consensus = Consensus(claim=claim, updated_at=at[claim.pk], **values)
            new.append(rows.stamp(consensus, at=at[claim.pk], reason=reason))
            current[claim.pk] = consensus
            continue
        names = [name for name, value in values.items() if getattr(consensus, name) != value]
        if names:
            for name in names:
                setattr(consensus, name, values[name])
            consensus.updated_at = at[claim.pk]
            changed.append((rows.stamp(consensus, at=at[claim.pk], reason=reason), names))
    rows.insert(Consensus, new)
    rows.update_changed(Consensus, changed)
    return current


@dataclass(frozen=True)
class ReviewSubmission:
    claim: Claim
    reviewer: AbstractBaseUser
    certainty: str
    verdict: str
    rationale: str
    at: datetime
    grading: Grading | None = None
    certainty_reason: str = ""
    conflict_of_interest: str = ""
    conflict_statement: str = ""
    read_full_text: bool = False


@transaction.atomic
def reviews_submit_bulk(*, items: Sequence[ReviewSubmission]) -> list[Review]:
    """review_submit for many: each reviewer's review of a claim created or replaced (one per reviewer and
    claim in a batch), the claims awaiting review or sent back now in review, their consensus refreshed."""
    pairs = [(item.claim.pk, item.reviewer.pk) for item in items]
    if len(set(pairs)) != len(pairs):
        raise ValueError("one submission per reviewer and claim in a batch: split the batch by moment")
    checked = []
    for item in items:
        values, errors = review_values_checked(
            certainty=item.certainty,
            verdict=item.verdict,
            rationale=item.rationale,
            grading=item.grading,
            certainty_reason=item.certainty_reason,
            conflict_of_interest=item.conflict_of_interest,
            conflict_statement=item.conflict_statement,
            read_full_text=item.read_full_text,
        )
        if errors:
            raise ValidationError(
                {f"claim {item.claim.pk}, review by {item.reviewer}: {k}": v for k, v in errors.items()}
            )
        checked.append(values)
    claims = _claims_locked([item.claim for item in items])
    rounds = dict(Consensus.objects.filter(claim__in=list(claims)).values_list("claim_id", "round"))
    existing = {
        (review.claim_id, review.reviewer_id): review
        for review in Review.objects.filter(claim__in=list(claims), reviewer__in={pk for _, pk in pairs})
        if review.round == rounds.get(review.claim_id, 1)
    }
    new, revised, moves, moments, reasons = [], [], {}, {}, {}
    for item, pair, values in zip(items, pairs, checked, strict=True):
        claim = claims[item.claim.pk]
        review = existing.get(pair)
        if review is None:
            review = Review(
                claim=claim,
                reviewer=item.reviewer,
                round=rounds.get(claim.pk, 1),
                created_at=item.at,
                updated_at=item.at,
                **values,
            )
            new.append(rows.stamp(review, at=item.at, reason="submitted", user=item.reviewer))
        else:
            changes = [name for name, value in values.items() if getattr(review, name) != value]
            for name in changes:
                setattr(review, name, values[name])
            review.updated_at = item.at
            reason = f"revised: {', '.join(changes)}" if changes else "confirmed unchanged"
            revised.append((rows.stamp(review, at=item.at, reason=reason, user=item.reviewer), changes))
        verb = "revised" if pair in existing else "submitted"
        waiting = claim.status in (Claim.Status.AWAITING_REVIEW, Claim.Status.NEEDS_REREVIEW)
        if waiting and (claim.pk not in moves or item.at < moves[claim.pk][2]):
            moves[claim.pk] = (
                claim,
                Claim.Status.IN_REVIEW,
                item.at,
                f"review {verb} by {item.reviewer}",
                item.reviewer,
            )
        if claim.pk not in moments or item.at >= moments[claim.pk]:
            moments[claim.pk], reasons[claim.pk] = item.at, f"review by {item.reviewer} {verb}"
    rows.insert(Review, new)
    rows.update_changed(Review, revised)
    _claims_move(list(moves.values()))
    consensus_refresh_bulk(claims=[claims[pk] for pk in moments], at=moments, reasons=reasons)
    caching.touch()
    return [*new, *(review for review, _ in revised)]


@dataclass(frozen=True)
class Adjudication:
    claim: Claim
    certainty: str
    verdict: str
    rationale: str
    adjudicated_by: AbstractBaseUser
    at: datetime


@transaction.atomic
def claims_adjudicate_bulk(*, items: Sequence[Adjudication]) -> list[Consensus]:
    """claim_adjudicate for many claims: each editor's decision recorded with who, when and why; a claim needs a
    review first and an editor who did not review it in its current round; a claim sent back for re-review
    returns to "in review"."""
    _one_per_claim(items)
    for item in items:
        errors = _check_rating(item.certainty, item.verdict, item.rationale)
        if errors:
            raise ValidationError({f"claim {item.claim.pk}: {k}": v for k, v in errors.items()})
    claims = _claims_locked([item.claim for item in items])
    reviewers = current_round_reviewers(claims)
    for item in items:
        if item.adjudicated_by.pk in reviewers.get(item.claim.pk, ()):
            raise ValidationError(f"Claim {item.claim.key or item.claim.pk}: {ADJUDICATE_REFUSAL}")
    rows_by_claim = consensus_refresh_bulk(claims=list(claims.values()), at={i.claim.pk: i.at for i in items})
    decided, moves = [], []
    for item in items:
        claim, consensus = claims[item.claim.pk], rows_by_claim[item.claim.pk]
        if consensus.n_reviews == 0:
            raise ValidationError(f"Claim {claim.key or claim.pk}: a claim nobody has reviewed cannot be adjudicated.")
        consensus.adjudicated_certainty, consensus.adjudicated_verdict = item.certainty, item.verdict
        consensus.adjudication_rationale = item.rationale.strip()
        consensus.adjudicated_by, consensus.adjudicated_at, consensus.updated_at = item.adjudicated_by, item.at, item.at
        decided.append(rows.stamp(consensus, at=item.at, reason=f"adjudicated by {item.adjudicated_by}"))
        if claim.status == Claim.Status.NEEDS_REREVIEW:
            reason = f"adjudicated by {item.adjudicated_by}"
            moves.append((claim, Claim.Status.IN_REVIEW, item.at, reason, item.adjudicated_by))
    adjudication = ["adjudicated_certainty", "adjudicated_verdict", "adjudication_rationale", "adjudicated_by"]
    rows.update(Consensus, decided, [*adjudication, "adjudicated_at"])
    _claims_move(moves)
    caching.touch()
    return decided


@dataclass(frozen=True)
class Publication:
    claim: Claim
    published_by: AbstractBaseUser
    at: datetime
    rationale: str = ""


@transaction.atomic
def verdicts_publish_bulk(*, items: Sequence[Publication]) -> list[Consensus]:
    """verdict_publish for many claims: each claim's decision published as a snapshot, only where
    publish_blockers() allows for its publisher (else ValidationError naming the claim and why, and nothing
    is published), with the summary readers see; the claims become "verdict published"."""
    _one_per_claim(items)
    claims = _claims_locked([item.claim for item in items])
    rows_by_claim = consensus_refresh_bulk(claims=list(claims.values()), at={i.claim.pk: i.at for i in items})
    numbers = _next_numbers(list(claims))
    reviewers = current_round_reviewers(claims)
    published, versions, moves = [], [], []
    for item in items:
        claim, consensus = claims[item.claim.pk], rows_by_claim[item.claim.pk]
        blockers = publish_blockers(
            claim, consensus, publisher=item.published_by, reviewers=reviewers.get(claim.pk, set())
        )
        if blockers:
            raise ValidationError(f"Claim {claim.key or claim.pk} cannot be published yet: {'; '.join(blockers)}.")
        decision = consensus.decision
        summary = item.rationale.strip() or decision.rationale
        if not summary:
            raise ValidationError(
                f"Claim {claim.key or claim.pk}: write the summary readers will see with the verdict."
            )
        version = _version(claim, consensus, number=numbers[claim.pk], summary=summary)
        version.published_by, version.published_at = item.published_by, item.at
        versions.append(version)
        _published(consensus, version)
        consensus.updated_at = item.at
        reason = f"verdict {version.number} published by {item.published_by}"
        published.append(rows.stamp(consensus, at=item.at, reason=reason))
        if claim.status != Claim.Status.PUBLISHED:
            reason = f"verdict published by {item.published_by}"
            moves.append((claim, Claim.Status.PUBLISHED, item.at, reason, item.published_by))
    VerdictVersion.objects.bulk_create(versions)
    rows.update(Consensus, published, PUBLISHED_FIELDS)
    _claims_move(moves)
    caching.touch()
    return published


@dataclass(frozen=True)
class FlagRaise:
    claim: Claim
    reason: str
    at: datetime
    note: str = ""
    raised_by: AbstractBaseUser | None = None
    study: Study | None = None


@transaction.atomic
def flags_raise_bulk(*, items: Sequence[FlagRaise]) -> list[Flag]:
    """flag_raise for many: each flag valid, and none while the same flag is open on its claim (one per
    reason, or per reason and study for a flag about a study), in the library or in the batch."""
    claim_ids = {item.claim.pk for item in items}
    taken = {
        (claim_id, reason, study_id)
        for claim_id, reason, study_id in Flag.objects.open()
        .filter(claim__in=claim_ids)
        .values_list("claim_id", "reason", "study_id")
    }
    flags = []
    for item in items:
        flag = Flag(claim=item.claim, reason=item.reason, note=item.note, raised_by=item.raised_by, study=item.study)
        flag.raised_at = item.at
        key = (item.claim.pk, item.reason, item.study.pk if item.study else None)
        if key in taken:
            raise ValidationError(
                f"Claim {item.claim.key or item.claim.pk} already has an open “{flag.get_reason_display()}” flag."
            )
        taken.add(key)
        rows.clean(flag, label=f"flag on claim {item.claim.pk}")
        flags.append(rows.stamp(flag, at=item.at, reason="", user=item.raised_by))
    rows.insert(Flag, flags)
    caching.touch()
    return flags


@dataclass(frozen=True)
class FlagClose:
    flag: Flag
    status: str
    closed_by: AbstractBaseUser
    at: datetime
    note: str = ""


@transaction.atomic
def flags_close_bulk(*, items: Sequence[FlagClose]) -> list[Flag]:
    """flag_close for many: each open flag resolved or dismissed, recording who, when and why."""
    current = Flag.objects.select_for_update().in_bulk([item.flag.pk for item in items])
    closed = []
    for item in items:
        if item.status not in (Flag.Status.RESOLVED, Flag.Status.DISMISSED):
            raise ValidationError(f"A flag is closed as resolved or dismissed, not {item.status!r}.")
        flag = current[item.flag.pk]
        if flag.status != Flag.Status.OPEN:
            raise ValidationError(f"Flag {flag.pk} is already {flag.get_status_display().lower()}.")
        flag.status, flag.resolved_by, flag.resolved_at, flag.resolution_note = (
            item.status,
            item.closed_by,
            item.at,
            item.note,
        )
        closed.append(rows.stamp(flag, at=item.at, reason="", user=item.closed_by))
    rows.update(Flag, closed, ["status", "resolved_by", "resolved_at", "resolution_note"])
    caching.touch()
    return closed


@transaction.atomic
def verdicts_restore(
    *,
    verdicts: Sequence[Consensus],
    versions: Sequence[VerdictVersion],
    rounds: Sequence[ReviewRound] = (),
    reason: str,
) -> None:
    """Restore published verdicts as a dump gives them (evidence.opendata): every verdict version, and each
    claim's consensus row pointing at its latest version (``verdicts``: one per claim that has versions,
    its ``round`` the claim's current round), with the re-review rounds opened since; each row valid field
    by field, the consensus rows written with a history row giving ``reason``. The dump carries no
    reviews, so the rows are taken as they were published, not recomputed; the database checks they are
    complete and numbered once."""
    now = timezone.now()
    for version in versions:
        rows.clean(version, label=f"verdict {version.number} of claim {version.claim_id}")
    VerdictVersion.objects.bulk_create(list(versions))
    latest: dict[int, VerdictVersion] = {}
    for version in versions:
        if version.claim_id not in latest or version.number > latest[version.claim_id].number:
            latest[version.claim_id] = version
    for consensus in verdicts:
        if consensus.claim_id not in latest:
            raise ValidationError(f"verdict of claim {consensus.claim_id}: it has no published version")
        _published(consensus, latest[consensus.claim_id])
        consensus.updated_at = consensus.updated_at or now
        rows.clean(consensus, label=f"verdict of claim {consensus.claim_id}")
        rows.stamp(consensus, at=now, reason=reason)
    rows.insert(Consensus, verdicts)
    for round_ in rounds:
        rows.clean(round_, label=f"round {round_.number} of claim {round_.claim_id}")
    ReviewRound.objects.bulk_create(list(rounds))
    caching.touch()


# === Reader reports ========================================================================================


@transaction.atomic
def reader_report_submit(*, claim: Claim, kind: str, message: str, reply_to: str = "") -> ReaderReport:
    """A reader's report of a problem with the claim, to wait in the editor's desk. ValidationError on a kind
    that is not one of ReaderReport.Kind, an empty or overlong message, or a reply address that is not one."""
    report = ReaderReport(claim=claim, kind=kind, message=message.strip(), reply_to=reply_to.strip())
    report.full_clean()
    report.save()
    return report


@transaction.atomic
def reader_report_close(*, report: ReaderReport, closed_by: AbstractBaseUser) -> ReaderReport:
    """An editor has dealt with the report (answered, corrected, or found nothing wrong): it leaves the desk.
    ValidationError when it was closed already."""
    report = ReaderReport.objects.select_for_update().get(pk=report.pk)
    if report.status == ReaderReport.Status.CLOSED:
        raise ValidationError("This report was closed already.")
    report.status, report.closed_by, report.closed_at = ReaderReport.Status.CLOSED, closed_by, timezone.now()
    report.save(update_fields=["status", "closed_by", "closed_at"])
    return report


# === Reviewer profiles =====================================================================================


@transaction.atomic
def reviewer_profile_update(
    *,
    user: AbstractBaseUser,
    display_name: str,
    credentials: str,
    field: str,
    declared_interests: str,
    public: bool,
) -> ReviewerProfile:
    """Create or change the reviewer's own profile; the history keeps each version. ValidationError when
    it is to be public without a display name."""
    profile, _ = ReviewerProfile.objects.select_for_update().get_or_create(user=user)
    values = {
        "display_name": display_name.strip(),
        "credentials": credentials.strip(),
        "field": field.strip(),
        "declared_interests": declared_interests.replace("\r\n", "\n").strip(),
        "public": public,
    }
    changed = [name for name, value in values.items() if getattr(profile, name) != value]
    if changed:
        for name in changed:
            setattr(profile, name, values[name])
        profile.full_clean()
        profile._change_reason = f"edited: {', '.join(changed)}"
        profile._history_user = user
        profile.save(update_fields=[*changed, "updated_at"])
    return profile
