"""Editors' and the system's flags on claims."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import OuterRef, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from evidence.models import Claim, choices_check


class FlagReason(models.TextChoices):
    UNSUPPORTED = "unsupported", _("Unsupported")
    OVERSTATED = "overstated", _("Overstated")
    MISATTRIBUTED = "misattributed", _("Misattributed")
    SOURCE_MISMATCH = "source_mismatch", _("Source does not say this")
    RETRACTED_SOURCE = "retracted_source", _("Relies on a retracted study")
    CONCERN_SOURCE = "concern_source", _("Relies on a study under an expression of concern")
    OUTDATED = "outdated", _("Outdated")


class FlagStatus(models.TextChoices):
    OPEN = "open", _("Open")
    RESOLVED = "resolved", _("Resolved")
    DISMISSED = "dismissed", _("Dismissed")


class FlagQuerySet(models.QuerySet["Flag"]):
    def open(self) -> FlagQuerySet:
        """The flags still open: what "has an open flag" means on every page, queue, filter and the admin."""
        return self.filter(status=FlagStatus.OPEN)

    def open_on_claim(self, claim: OuterRef | Claim | int) -> FlagQuerySet:
        """The open flags of one claim; with ``OuterRef("pk")``, of each claim of an outer query (for
        Exists() or a count: reviews.claims.has_open_flag, open_flag_count)."""
        return self.open().filter(claim=claim)

    def for_desk(self) -> FlagQuerySet:
        """Everything the editor's desk shows of a flag, in the same query."""
        return self.select_related("claim__article", "study", "raised_by", "resolved_by")


class Flag(models.Model):
    """An editor's, or the system's, mark that a claim needs attention."""

    Reason = FlagReason
    Status = FlagStatus

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="flags")
    reason = models.CharField(max_length=20, choices=FlagReason)
    # The study the flag is about, e.g. the retracted study a claim relies on.
    study = models.ForeignKey("evidence.Study", null=True, blank=True, on_delete=models.SET_NULL, related_name="flags")
    note = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=FlagStatus, default=FlagStatus.OPEN)
    # NULL means the system raised it (e.g. a cited study was retracted).
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="flags_raised"
    )
    raised_at = models.DateTimeField(auto_now_add=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="flags_resolved"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.TextField(blank=True)

    history = HistoricalRecords()
    objects = FlagQuerySet.as_manager()

    class Meta:
        ordering = ["-raised_at"]
        constraints = [
            choices_check("reason", FlagReason, "reviews_flag_reason_valid"),
            choices_check("status", FlagStatus, "reviews_flag_status_valid"),
            # an open flag has no resolution; a closed one records when it was closed
            models.CheckConstraint(
                condition=(Q(status="open") & Q(resolved_at__isnull=True))
                | (~Q(status="open") & Q(resolved_at__isnull=False)),
                name="reviews_flag_resolution_consistent",
            ),
            # the same problem is raised once while it is open (system flags rely on this); a flag about
            # a study is one per study, so two retracted sources give two flags
            models.UniqueConstraint(
                fields=["claim", "reason"],
                condition=Q(status="open", study__isnull=True),
                name="reviews_flag_one_open_per_reason",
            ),
            models.UniqueConstraint(
                fields=["claim", "reason", "study"],
                condition=Q(status="open", study__isnull=False),
                name="reviews_flag_one_open_per_study",
            ),
        ]
        indexes = [
            # the editor's desk lists open flags, newest first
            models.Index(fields=["status", "-raised_at"], name="reviews_flag_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} ({self.get_status_display()}) on claim {self.claim_id}"

    @property
    def is_open(self) -> bool:
        """This flag is open (FlagQuerySet.open, for a flag already loaded)."""
        return self.status == FlagStatus.OPEN

    @property
    def raised_by_system(self) -> bool:
        return self.raised_by_id is None
