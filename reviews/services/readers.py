"""Readers' reports of a problem with a claim, and reviewers' public profiles."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from evidence.models import Claim
from reviews.models import (
    ReaderReport,
    ReviewerProfile,
)

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
