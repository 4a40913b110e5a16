"""Flags on claims: raised and closed by editors, and raised by the system when a claim relies on a
retracted study or one under an expression of concern."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from evidence.models import Citation, Claim, Study
from evidence.services import rows
from reviews.models import (
    Flag,
)
from reviews.services.assignments import flags_notify
from reviews.services.bulk import FlagRaise, _claims_move, flags_raise_bulk
from reviews.services.rounds import _rounds_open


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
    flags_notify([flag])  # the claim's editors are told (after the commit)
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
