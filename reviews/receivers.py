"""What the review workflow does when the evidence changes: receivers of evidence.signals, connected in
ReviewsConfig.ready(). Each returns the report lines of the flags it raised, for the import reports."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from evidence.models import Claim, Study
from evidence.services.reports import ReportLine
from reviews.models import Flag
from reviews.services import claims_flag_retracted_reliance


def _lines(flags: list[Flag]) -> list[ReportLine]:
    return [ReportLine("created", "flag", flag.claim.key or str(flag.claim_id), flag.note) for flag in flags]


def flag_claims_citing_retracted(
    sender: Any, *, studies: list[Study], user: AbstractBaseUser | None = None, **kwargs: Any
) -> list[ReportLine]:
    """Studies became retracted: flag the claims relying on them and send them back for re-review."""
    claims = Claim.objects.filter(pk__in=Claim.objects.filter(citations__study__in=studies).values("pk"))
    return _lines(claims_flag_retracted_reliance(claims=claims))


def flag_claims_now_relying_on_retracted(
    sender: Any, *, claims: QuerySet[Claim], user: AbstractBaseUser | None = None, **kwargs: Any
) -> list[ReportLine]:
    """What these claims cite changed: flag those that now rely on a retracted study."""
    return _lines(claims_flag_retracted_reliance(claims=claims))
