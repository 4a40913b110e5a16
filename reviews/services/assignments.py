"""Editors assigning reviewers to claims, with a due date, round by round; and the reminders before it.

Who may be assigned (each refusal a sentence the editor's page shows):
- a reviewer (reviews.add_review), active, with an email address to be told by;
- not the assigning editor themself: nobody hands a claim to themself; another editor assigns them, so
  the claim always has an editor who is not among its reviewers (separation of duties);
- not someone who already reviewed the claim in its current round (reviews.access.current_round_reviewers),
  nor its adjudicator in this round (whose review would then undo their own adjudication's standing);
- a claim still under review: a published claim is assigned again only once it is sent back (new round).
An assignment belongs to the claim's current round; a new round does not carry it over (see
reviews.models.ReviewAssignment).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from evidence import caching
from evidence.models import Article, Claim
from reviews.access import REVIEW, current_round_reviewers
from reviews.models import Consensus, Flag, NotificationKind, ReviewAssignment, consensus_of
from reviews.services.notifications import notify, notify_each
from reviews.services.rounds import current_round


def assignment_refusal(*, claim: Claim, reviewer: AbstractBaseUser, assigned_by: AbstractBaseUser) -> str:
    """Why ``reviewer`` may not be assigned ``claim`` by ``assigned_by`` (the rules above), or ""."""
    refusal = _person_refusal(reviewer=reviewer, assigned_by=assigned_by)
    if refusal:
        return refusal
    name = reviewer.get_username()
    if claim.status == Claim.Status.PUBLISHED:
        return (
            f"Claim {claim.key or claim.pk} is published; it is assigned again only once it is sent back for re-review."
        )
    if reviewer.pk in current_round_reviewers([claim]).get(claim.pk, set()):
        return f"{name} has already reviewed claim {claim.key or claim.pk} in its current round."
    consensus = consensus_of(claim)
    if consensus is not None and consensus.adjudicated_by_id == reviewer.pk:
        return f"{name} adjudicated claim {claim.key or claim.pk} in its current round, so cannot also review it."
    return ""


def _person_refusal(*, reviewer: AbstractBaseUser, assigned_by: AbstractBaseUser) -> str:
    """The refusals that hold whatever the claim: not a reviewer, or the editor themself."""
    if reviewer.pk == assigned_by.pk:
        return (
            "You cannot assign a claim to yourself: another editor assigns you, so the claim keeps an editor "
            "who did not review it."
        )
    if not reviewer.is_active or not reviewer.has_perm(REVIEW):
        return f"{reviewer.get_username()} is not a reviewer."
    return ""


def _check_due(due_date: date) -> None:
    if due_date < timezone.localdate():
        raise ValidationError({"due_date": "The due date has passed; choose today or a later day."})


def _assignment_context(assignment: ReviewAssignment) -> dict:
    return {"due_date": assignment.due_date.isoformat(), "assigned_by": str(assignment.assigned_by or "")}


@transaction.atomic
def editors_of(claim_ids: Sequence[int]) -> dict[int, set[int]]:
    """Who "edits" each claim, by claim id: the editors who assigned its reviewers in its current round,
    and the editor who adjudicated it in this round. They are told of flags raised on it
    (NotificationKind.FLAG). Two queries whatever the number of claims."""
    editors: dict[int, set[int]] = {}
    assigned = ReviewAssignment.objects.current().filter(claim_id__in=claim_ids, assigned_by__isnull=False)
    for claim_id, editor_id in assigned.values_list("claim_id", "assigned_by_id").order_by():
        editors.setdefault(claim_id, set()).add(editor_id)
    adjudicated = Consensus.objects.filter(claim_id__in=claim_ids, adjudicated_by__isnull=False)
    for claim_id, editor_id in adjudicated.values_list("claim_id", "adjudicated_by_id"):
        editors.setdefault(claim_id, set()).add(editor_id)
    return editors


def assignment_create(
    *, claim: Claim, reviewer: AbstractBaseUser, due_date: date, assigned_by: AbstractBaseUser
) -> ReviewAssignment:
    """Assign ``reviewer`` to review ``claim`` in its current round by ``due_date``, and tell them
    (NotificationKind.ASSIGNED). Raises ValidationError with the reason it is refused (assignment_refusal),
    or when they are already assigned in this round (change the due date instead)."""
    _check_due(due_date)
    claim = Claim.objects.select_for_update(of=("self",)).select_related("article", "consensus").get(pk=claim.pk)
    refusal = assignment_refusal(claim=claim, reviewer=reviewer, assigned_by=assigned_by)
    if refusal:
        raise ValidationError(refusal)
    round_ = current_round(claim)
    if ReviewAssignment.objects.filter(claim=claim, reviewer=reviewer, round=round_).exists():
        raise ValidationError(f"{reviewer.get_username()} is already assigned to claim {claim.key or claim.pk}.")
    assignment = ReviewAssignment.objects.create(
        claim=claim, reviewer=reviewer, round=round_, due_date=due_date, assigned_by=assigned_by
    )
    notify(reviewer, NotificationKind.ASSIGNED, claim=claim, context=_assignment_context(assignment))
    caching.touch()
    return assignment


@transaction.atomic
def claim_assign(
    *, claim: Claim, reviewers: Sequence[AbstractBaseUser], due_date: date, assigned_by: AbstractBaseUser
) -> list[ReviewAssignment]:
    """assignment_create() for each of ``reviewers``: all of them, or (one refused) none."""
    return [
        assignment_create(claim=claim, reviewer=reviewer, due_date=due_date, assigned_by=assigned_by)
        for reviewer in reviewers
    ]


@dataclass
class ArticleAssignment:
    """What assigning reviewers to every claim of an article did: the assignments made, and the pairs
    left out with the reason (a claim published, a reviewer who already reviewed it, already assigned)."""

    created: list[ReviewAssignment] = field(default_factory=list)
    skipped: list[tuple[Claim, AbstractBaseUser, str]] = field(default_factory=list)


@transaction.atomic
def article_assign(
    *, article: Article, reviewers: Sequence[AbstractBaseUser], due_date: date, assigned_by: AbstractBaseUser
) -> ArticleAssignment:
    """Assign each of ``reviewers`` to every claim of ``article`` still under review, by ``due_date``.
    Someone who may not be assigned at all (not a reviewer, the editor themself) refuses the whole
    request; a pair refused for its claim alone is skipped and reported."""
    _check_due(due_date)
    refusals = [_person_refusal(reviewer=reviewer, assigned_by=assigned_by) for reviewer in reviewers]
    if any(refusals):
        raise ValidationError([refusal for refusal in refusals if refusal])
    result = ArticleAssignment()
    claims = (
        article.claims.exclude(status=Claim.Status.PUBLISHED).select_related("article", "consensus").order_by("start")
    )
    for claim in claims:
        for reviewer in reviewers:
            try:
                with transaction.atomic():
                    result.created.append(
                        assignment_create(claim=claim, reviewer=reviewer, due_date=due_date, assigned_by=assigned_by)
                    )
            except ValidationError as exc:
                result.skipped.append((claim, reviewer, " ".join(exc.messages)))
    return result


@transaction.atomic
def assignment_change_due(
    *, assignment: ReviewAssignment, due_date: date, changed_by: AbstractBaseUser
) -> ReviewAssignment:
    """Move an assignment's due date; its reminder goes out again before the new date."""
    _check_due(due_date)
    assignment = ReviewAssignment.objects.select_for_update().get(pk=assignment.pk)
    assignment.due_date, assignment.reminded_at = due_date, None
    assignment._change_reason = f"due date moved by {changed_by}"
    assignment._history_user = changed_by
    assignment.save(update_fields=["due_date", "reminded_at"])
    caching.touch()
    return assignment


@transaction.atomic
def assignment_remove(*, assignment: ReviewAssignment, removed_by: AbstractBaseUser) -> None:
    """Unassign: the claim leaves the reviewer's assignments (their review, if any, stays); the history
    keeps who removed it."""
    assignment = ReviewAssignment.objects.select_for_update().get(pk=assignment.pk)
    assignment._change_reason = f"unassigned by {removed_by}"
    assignment._history_user = removed_by
    assignment.delete()
    caching.touch()


@transaction.atomic
def assignment_reassign(
    *, assignment: ReviewAssignment, reviewer: AbstractBaseUser, due_date: date, assigned_by: AbstractBaseUser
) -> ReviewAssignment:
    """Give an assignment to another reviewer: the first is unassigned, the second assigned and told."""
    claim = assignment.claim
    assignment_remove(assignment=assignment, removed_by=assigned_by)
    return assignment_create(claim=claim, reviewer=reviewer, due_date=due_date, assigned_by=assigned_by)


def reminders_due(today: date | None = None) -> QuerySet[ReviewAssignment]:
    """The outstanding assignments due within EVIDENCE_DUE_SOON_DAYS of ``today`` not yet reminded."""
    today = today or timezone.localdate()
    horizon = today + timedelta(days=settings.EVIDENCE_DUE_SOON_DAYS)
    return ReviewAssignment.objects.outstanding().filter(
        due_date__gte=today, due_date__lte=horizon, reminded_at__isnull=True
    )


@transaction.atomic
def assignments_remind_due(*, today: date | None = None) -> int:
    """Tell each reviewer whose assignment is due within EVIDENCE_DUE_SOON_DAYS (and not yet submitted,
    in the claim's current round) that it is due soon: once per due date. Returns how many were told."""
    due = (
        reminders_due(today).select_related("claim__article", "reviewer", "assigned_by").select_for_update(of=("self",))
    )
    now, reminded = timezone.now(), []
    for assignment in due:
        notify(
            assignment.reviewer,
            NotificationKind.DUE_SOON,
            claim=assignment.claim,
            context=_assignment_context(assignment),
        )
        reminded.append(assignment.pk)
    ReviewAssignment.objects.filter(pk__in=reminded).update(reminded_at=now)
    return len(reminded)


def flags_notify(flags: Sequence[Flag]) -> None:
    """Tell the editors of each flagged claim (editors_of) about the flag, except whoever raised it.
    Two queries, three when someone is to be told, plus the notifications."""
    editors = editors_of(sorted({flag.claim_id for flag in flags}))
    wanted = {editor_id for ids in editors.values() for editor_id in ids}
    if not wanted:
        return
    people = get_user_model().objects.in_bulk(wanted)
    for flag in flags:
        told = [people[pk] for pk in sorted(editors.get(flag.claim_id, ())) if pk != flag.raised_by_id]
        notify_each(
            told,
            NotificationKind.FLAG,
            claim=flag.claim,
            context={"reason": flag.get_reason_display(), "note": flag.note, "raised_by": str(flag.raised_by or "")},
        )
