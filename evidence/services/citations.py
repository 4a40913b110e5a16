"""Citations: linking a study to a claim, changing what the link says, and unlinking."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from evidence import signals
from evidence.models import Citation, Claim, Study
from evidence.services.common import save_edits


def _evidence_changed(claim_id: int, user: AbstractBaseUser | None) -> None:
    """Stamp the claim's evidence as changed (its reviewers see it in their queue) and tell the apps built
    on evidence (evidence.signals.citations_changed: reviews flags a claim now relying on a retracted study)."""
    claims = Claim.objects.filter(pk=claim_id)
    claims.mark_evidence_changed()
    signals.citations_changed.send(sender=Citation, claims=claims, user=user)


@transaction.atomic
def citation_create(
    *, claim: Claim, study: Study, values: dict[str, Any], user: AbstractBaseUser | None = None
) -> Citation:
    """Link a study to a claim, recording who did; a claim now relying on a retracted study is flagged.
    Raises ValidationError when the link exists or a value is bad."""
    citation = Citation(claim=claim, study=study, added_by=user, **values)
    citation.full_clean()
    citation._change_reason = "linked"
    try:
        with transaction.atomic():
            citation.save()
    except IntegrityError:
        raise ValidationError("This study is already cited for this claim.") from None
    _evidence_changed(claim.pk, user)
    return citation


@transaction.atomic
def citation_update(*, citation: Citation, values: dict[str, Any], user: AbstractBaseUser | None = None) -> Citation:
    """Change a citation's relation, note or directness; saves only what changed."""
    if save_edits(citation, values, user):
        _evidence_changed(citation.claim_id, user)
    return citation


@transaction.atomic
def citation_delete(*, citation: Citation, user: AbstractBaseUser | None = None) -> None:
    """Unlink a study from a claim; the history keeps the link (reviewers see the evidence changed)."""
    citation._change_reason = "unlinked"
    if user is not None:
        citation._history_user = user
    citation.delete()
    _evidence_changed(citation.claim_id, user)
