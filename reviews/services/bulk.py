"""Many review-workflow actions at once, each at its own moment: the benchmark's data set and the
open-data import write through these, with the rules of the one-at-a-time services."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from evidence import caching
from evidence.models import Claim, Study
from evidence.services import rows
from reviews.access import ADJUDICATE_REFUSAL, current_round_reviewers
from reviews.consensus import compute, publish_blockers
from reviews.grade import Grading
from reviews.models import (
    Consensus,
    Flag,
    Review,
    ReviewRound,
    VerdictVersion,
)
from reviews.services.assignments import flags_notify
from reviews.services.reviews import _check_rating, review_values_checked
from reviews.services.verdicts import PUBLISHED_FIELDS, _next_numbers, _published, _version

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
    flags_notify(flags)
    # the claims' pages list flags; their articles' pages and the lists count the open ones
    articles = {item.claim.article_id for item in items}
    caching.retire(claims=claim_ids, articles=articles, scopes=[caching.LISTS])
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
    claim_ids = {flag.claim_id for flag in closed}
    articles = Claim.objects.filter(pk__in=claim_ids).values_list("article_id", flat=True)
    caching.retire(claims=claim_ids, articles=set(articles), scopes=[caching.LISTS])
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
