"""Readers' reports of a problem with a claim, and reviewers' public profiles."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from evidence.models import Claim, choices_check


class ReaderReportKind(models.TextChoices):
    WRONG_QUOTE = "wrong_quote", _("The quote is wrong or out of context")
    MISSING_STUDY = "missing_study", _("A study is missing or misread")
    OUTDATED = "outdated", _("The verdict is out of date")
    OTHER = "other", _("Something else")


class ReaderReportStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class ReaderReport(models.Model):
    """A reader's report of a problem with a claim, sent from the claim's page without an account. It waits
    in the editor's desk ("Reader reports") until an editor closes it; ``reply_to`` is the address the
    reader left to hear back, if any. Reports are not public."""

    Kind = ReaderReportKind
    Status = ReaderReportStatus

    # the longest message the form takes: enough for a paragraph and a reference or two
    MESSAGE_MAX = 2000

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="reader_reports")
    kind = models.CharField(max_length=16, choices=ReaderReportKind)
    message = models.TextField(max_length=MESSAGE_MAX)
    reply_to = models.EmailField(blank=True, help_text=_("Where the reader asked to hear back; optional."))
    status = models.CharField(max_length=8, choices=ReaderReportStatus, default=ReaderReportStatus.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            choices_check("kind", ReaderReportKind, "reviews_readerreport_kind_valid"),
            choices_check("status", ReaderReportStatus, "reviews_readerreport_status_valid"),
            models.CheckConstraint(condition=~Q(message=""), name="reviews_readerreport_message_required"),
            # an open report has no closing; a closed one says who closed it and when
            models.CheckConstraint(
                condition=(Q(status="open") & Q(closed_at__isnull=True))
                | (Q(status="closed") & Q(closed_at__isnull=False)),
                name="reviews_readerreport_closing_consistent",
            ),
        ]
        indexes = [
            # the editor's desk lists the open reports, newest first
            models.Index(fields=["status", "-created_at"], name="reviews_report_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_status_display()}) on claim {self.claim_id}"


class ReviewerProfile(models.Model):
    """Who a reviewer is, as readers may see it: shown on published reviews and at /reviewers/<id>/ only when
    the reviewer opts in (``public``); otherwise readers see "Reviewer A", "Reviewer B" on each claim."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="reviewer_profile"
    )
    display_name = models.CharField(max_length=200, blank=True)
    credentials = models.CharField(max_length=300, blank=True, help_text=_("Degrees, posts, e.g. MD, PhD."))
    field = models.CharField(max_length=200, blank=True, help_text=_("Speciality, e.g. psychiatry."))
    declared_interests = models.TextField(
        blank=True, help_text=_("Funding, employment, shares or ties that a reader should know of; or “none”.")
    )
    public = models.BooleanField(
        default=False, help_text=_("Show this profile to readers, and your name on your published reviews.")
    )
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        constraints = [
            # readers cannot be shown a profile without a name
            models.CheckConstraint(
                condition=Q(public=False) | ~Q(display_name=""), name="reviews_profile_public_has_name"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or f"reviewer {self.user_id}"

    def get_absolute_url(self) -> str:
        return reverse("reviews:reviewer-profile", args=[self.user_id])


def public_profile(user: Any) -> ReviewerProfile | None:
    """The reviewer's profile if they made it public, else None: the one rule for whether readers may see who
    a reviewer is (the claim page's reviews, the API's reviews, the profile page). No query when the profile
    was loaded with select_related("reviewer__reviewer_profile")."""
    try:
        profile = user.reviewer_profile
    except ReviewerProfile.DoesNotExist:
        return None
    return profile if profile.public else None
