"""What the review workflow does when the evidence changes: receivers of evidence.signals, connected in
ReviewsConfig.ready(). Each returns the report lines of the flags it raised, for the import reports."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from evidence.models import Citation, Claim, Study
from evidence.services.reports import ReportLine
from reviews.models import Flag
from reviews.services import claims_flag_concern_reliance, claims_flag_retracted_reliance, claims_send_back


def _lines(flags: list[Flag]) -> list[ReportLine]:
    return [ReportLine("created", "flag", flag.claim.key or str(flag.claim_id), flag.note) for flag in flags]


def flag_claims_citing_retracted(
    sender: Any,
    *,
    studies: list[Study],
    user: AbstractBaseUser | None = None,
    at: Mapping[int, datetime] | None = None,
    **kwargs: Any,
) -> list[ReportLine]:
    """Studies became retracted: flag the claims relying on them and send them back for re-review, at the
    moment each study was retracted when the sender says (``at``: study id → moment)."""
    claims = Claim.objects.filter(pk__in=Claim.objects.filter(citations__study__in=studies).values("pk"))
    moment = None if at is None else lambda citation: at.get(citation.study_id) or max(at.values())
    return _lines(claims_flag_retracted_reliance(claims=claims, at=moment))


def flag_claims_citing_concerned(
    sender: Any,
    *,
    studies: list[Study],
    user: AbstractBaseUser | None = None,
    at: Mapping[int, datetime] | None = None,
    **kwargs: Any,
) -> list[ReportLine]:
    """Studies are under an expression of concern: flag the claims relying on them (its own reason, one flag
    per claim and study), at the moment each study's status changed when the sender says."""
    moment = None if at is None else lambda citation: at.get(citation.study_id) or max(at.values())
    return _lines(claims_flag_concern_reliance(studies=studies, at=moment))


def flag_claims_now_relying_on_retracted(
    sender: Any,
    *,
    claims: QuerySet[Claim],
    user: AbstractBaseUser | None = None,
    at: Mapping[tuple[int, int], datetime] | None = None,
    **kwargs: Any,
) -> list[ReportLine]:
    """What these claims cite changed: flag those that now rely on a retracted study, at the moment each
    citation changed when the sender says (``at``: (claim id, study id) → moment)."""

    def moment(citation: Citation) -> datetime:
        return at.get((citation.claim_id, citation.study_id)) or max(at.values())

    return _lines(claims_flag_retracted_reliance(claims=claims, at=None if at is None else moment))


def send_back_orphans(
    sender: Any, *, claims: list[Claim], user: AbstractBaseUser | None = None, **kwargs: Any
) -> list[ReportLine]:
    """A revision of the text lost these claims' quotes: send them back for re-review (an orphan cannot be
    published until an editor re-anchors it: reviews.consensus.publish_blockers)."""
    moved = claims_send_back(claims=claims, reason="its quote is no longer in the article's text", user=user)
    return [
        ReportLine("updated", "claim", claim.key or str(claim.pk), "sent back for re-review: its quote was lost")
        for claim in moved
    ]
