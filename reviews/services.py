"""Writes to flags (and, in the review workflow, reviews): one keyword-only function per action."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from evidence.models import Citation, Claim, Study
from reviews.models import Flag

# A claim "relies on" the studies cited as supporting it or as giving mixed results.
RELIANT_RELATIONS = (Citation.Relation.SUPPORTS, Citation.Relation.MIXED)


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
    if flag.status != Flag.Status.OPEN:
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
    Two queries whatever the number of claims, plus one write per new flag.
    """
    reliant = (
        Citation.objects.filter(
            claim__in=claims,
            relation__in=RELIANT_RELATIONS,
            study__retraction_status=Study.RetractionStatus.RETRACTED,
        )
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
    return raised
