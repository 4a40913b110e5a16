"""Editors assigning reviewers to claims, round by round, with a due date; and the email notifications
people receive about their work, with each person's choice of how (or whether) to receive each kind."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Case, Exists, F, OuterRef, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from evidence.models import Claim, choices_check
from reviews.models.ratings import Review


class AssignmentStatus(models.TextChoices):
    """Derived, never stored: from the reviewer's review in the assignment's round, the claim's round and
    the due date (ReviewAssignmentQuerySet.with_status, ReviewAssignment.status)."""

    OPEN = "open", _("Open")
    OVERDUE = "overdue", _("Overdue")
    SUBMITTED = "submitted", _("Submitted")
    # the claim moved to a new review round before the reviewer submitted: this assignment is over, and
    # the new round needs an assignment of its own
    LAPSED = "lapsed", _("Round closed")


def assignment_status(prefix: str = "") -> Case:
    """The status as SQL, for ``with_status``; ``prefix`` reaches the assignment from the query's model.
    Overdue is against today's date where the site is (TIME_ZONE)."""
    return Case(
        When(_submitted(prefix), then=Value(AssignmentStatus.SUBMITTED)),
        When(
            Q(**{f"{prefix}round__lt": Coalesce(F(f"{prefix}claim__consensus__round"), Value(1))}),
            then=Value(AssignmentStatus.LAPSED),
        ),
        When(Q(**{f"{prefix}due_date__lt": timezone.localdate()}), then=Value(AssignmentStatus.OVERDUE)),
        default=Value(AssignmentStatus.OPEN),
        output_field=models.CharField(),
    )


def _submitted(prefix: str = "") -> Exists:
    """The reviewer has a review of the claim in the assignment's round."""
    return Exists(
        Review.objects.filter(
            claim_id=OuterRef(f"{prefix}claim_id"),
            reviewer_id=OuterRef(f"{prefix}reviewer_id"),
            round=OuterRef(f"{prefix}round"),
        )
    )


class ReviewAssignmentQuerySet(models.QuerySet["ReviewAssignment"]):
    def current(self) -> ReviewAssignmentQuerySet:
        """The assignments of their claim's current round (a claim nobody reviewed is in round 1)."""
        # the OR keeps the join to the consensus an outer one: a claim without a row is in round 1
        return self.filter(Q(claim__consensus__isnull=True, round=1) | Q(round=F("claim__consensus__round")))

    def with_status(self) -> ReviewAssignmentQuerySet:
        """Annotate ``derived_status`` (AssignmentStatus), which ``status`` then reads without a query."""
        return self.annotate(derived_status=assignment_status())

    def outstanding(self) -> ReviewAssignmentQuerySet:
        """Current-round assignments whose reviewer has not submitted yet (open or overdue)."""
        return self.current().exclude(_submitted())

    def overdue(self, today: date | None = None) -> ReviewAssignmentQuerySet:
        """Outstanding assignments past their due date: the editor's desk lists them."""
        return self.outstanding().filter(due_date__lt=today or timezone.localdate())

    def for_list(self) -> ReviewAssignmentQuerySet:
        """What a list of assignments shows: the claim and its article (without the text), the reviewer and
        the assigning editor, and the status, in one query."""
        return (
            self.select_related("claim__article", "reviewer", "assigned_by")
            .defer("claim__article__text", "claim__article__headings")
            .with_status()
        )


class ReviewAssignment(models.Model):
    """An editor asked a reviewer to review a claim in one review round, by a due date.

    The status is derived (AssignmentStatus): submitted once the reviewer has a review in this round,
    "round closed" when the claim moved to a new round first, overdue after the due date, open before.
    A new round (re-review) does not carry assignments over: the editor assigns its reviewers again, and
    who reviewed the last round is told the claim needs re-review (reviews.services.notifications)."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="assignments")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments")
    round = models.PositiveSmallIntegerField(default=1)
    due_date = models.DateField()
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_at = models.DateTimeField(default=timezone.now)
    # when the "due soon" reminder went out (once per due date: changing the date sends it again)
    reminded_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()
    objects = ReviewAssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["due_date", "pk"]
        permissions = [("assign_reviewers", "Can assign reviewers to claims")]
        constraints = [
            # one assignment per reviewer, claim and round; reassigning changes it in place
            models.UniqueConstraint(fields=["claim", "reviewer", "round"], name="reviews_assignment_one_per_round"),
            models.CheckConstraint(condition=Q(round__gte=1), name="reviews_assignment_round_positive"),
        ]
        indexes = [
            # the reviewer's queue: their assignments by due date
            models.Index(fields=["reviewer", "due_date"], name="reviews_assignment_queue_idx"),
            # the desk's overdue list and the due-soon reminders scan by due date
            models.Index(fields=["due_date"], name="reviews_assignment_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.reviewer} on claim {self.claim_id}, round {self.round}, due {self.due_date}"

    @property
    def status(self) -> str:
        """The derived status; annotated by with_status(), else one query."""
        derived = getattr(self, "derived_status", None)
        if derived is None:
            derived = (
                ReviewAssignment.objects.filter(pk=self.pk)
                .with_status()
                .values_list("derived_status", flat=True)
                .first()
            )
        return derived

    def get_status_display(self) -> str:
        return AssignmentStatus(self.status).label


# --- Notifications ---------------------------------------------------------------------------------------


class NotificationKind(models.TextChoices):
    """What people are told about by email. A new kind is a value here and one template,
    templates/reviews/email/<value>.txt (its first line is the subject)."""

    ASSIGNED = "assigned", _("A claim was assigned to you")
    DUE_SOON = "due_soon", _("An assigned review is due soon")
    REREVIEW = "rereview", _("A claim you reviewed needs re-review")
    FLAG = "flag", _("A flag was raised on a claim you edit")
    VERDICT = "verdict", _("A verdict was published on a claim you reviewed")
    MENTION = "mention", _("Someone mentioned you in a claim's discussion")


class Delivery(models.TextChoices):
    IMMEDIATE = "immediate", _("Email at once")
    DIGEST = "digest", _("In a daily digest")
    OFF = "off", _("Never")


class NotificationPreference(models.Model):
    """How one person receives one kind of notification; without a row, at once (Delivery.IMMEDIATE)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=NotificationKind)
    delivery = models.CharField(max_length=10, choices=Delivery, default=Delivery.IMMEDIATE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="reviews_notifpref_one_per_kind"),
            choices_check("delivery", Delivery, "reviews_notifpref_delivery_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.kind} {self.delivery}"


class Notification(models.Model):
    """One thing someone was told, or will be in their digest (``sent_at`` empty until then). The text is
    rendered when the email goes out, from ``context`` and the rows as they are then, so that it never
    shows what the recipient may not read at that moment (reviews.access)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=16, choices=NotificationKind)
    delivery = models.CharField(max_length=10, choices=Delivery)
    claim = models.ForeignKey(Claim, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # plain values the template shows (a due date, a reason); never a review's content
    context = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            choices_check("delivery", Delivery, "reviews_notification_delivery_valid"),
            # nothing is recorded for a kind turned off
            models.CheckConstraint(condition=~Q(delivery=Delivery.OFF), name="reviews_notification_not_off"),
        ]
        indexes = [
            # the digest command: each user's unsent digest items
            models.Index(
                fields=["user", "created_at"],
                condition=Q(sent_at__isnull=True),
                name="reviews_notif_pending_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user} ({'sent' if self.sent_at else 'pending'})"
