"""Reviewers' ratings of claims: verdicts, GRADE ratings, conflict-of-interest declarations, and the
rule for when reviews are public."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Case, F, Q, When
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from evidence.models import Claim, choices_check
from reviews.grade import (
    DOWNGRADE_DOMAINS,
    UPGRADE_DOMAINS,
    Certainty,
    Concern,
    EvidenceDesign,
    Grading,
    LargeEffect,
    computed_certainty,
    downgrades_in_words,
    grading_errors,
    upgrades_in_words,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


class Verdict(models.TextChoices):
    SUPPORTED = "supported", _("Supported")
    PARTLY_SUPPORTED = "partly_supported", _("Partly supported")
    UNSUPPORTED = "unsupported", _("Unsupported")
    CONTRADICTED = "contradicted", _("Contradicted")


# The GRADE domains that lower certainty, by Review field: each rated not serious / serious / very serious.
DOWNGRADE_REASONS = DOWNGRADE_DOMAINS
# The GRADE domains that raise the certainty of observational evidence, by Review field.
UPGRADE_REASONS = UPGRADE_DOMAINS


class Conflict(models.TextChoices):
    """A reviewer's conflict-of-interest declaration on a review."""

    NONE = "none", _("None")
    DECLARED = "declared", _("Declared")


def reviews_are_public(claim: str = "") -> Q:
    """Reviews are public once the verdict of their review round is published.

    A claim is reviewed in rounds (Consensus.round): sending a published claim back for re-review opens
    a new round, whose reviews stay blind until its verdict is published, while the reviews of the
    rounds already published stay public (the published verdict itself stays shown). Rounds open only
    after the one before was published, so "published" is "at most the round of the latest publication".
    ``claim`` says what the condition is on: ``"claim__"``, a review (its own round); ``""``, a claim
    (its current round: may everyone read this round's reviews?).
    The one definition behind reviews.access.visible_reviews() and every page, API call and export.
    """
    if claim:
        return Q(**{f"{claim}consensus__published_version__round__gte": F("round")})
    return Q(consensus__published_version__round=F("consensus__round"))


class ReviewQuerySet(models.QuerySet["Review"]):
    def by(self, reviewer: AbstractBaseUser) -> ReviewQuerySet:
        return self.filter(reviewer=reviewer)

    def current(self) -> ReviewQuerySet:
        """The reviews of their claim's current round (Consensus.round): what the consensus is computed
        from, what the reviewer's queue lists, and who separation of duties counts (who reviewed a claim in
        its current round may neither adjudicate nor publish it: reviews.access.current_round_reviewers);
        earlier rounds' reviews stay as they were."""
        return self.filter(round=F("claim__consensus__round"))

    def public(self) -> ReviewQuerySet:
        """The reviews anyone may read (reviews_are_public); reviews.access.visible_reviews adds what a
        signed-in reviewer or editor may read besides."""
        return self.filter(reviews_are_public("claim__"))

    def for_queue(self) -> ReviewQuerySet:
        """What the reviewer's queue shows of each review: the claim and its article, in the same query."""
        return self.select_related("claim__article")

    def with_evidence_changed(self) -> ReviewQuerySet:
        """Annotate ``evidence_changed``: the claim's evidence changed after the review was last saved.

        The rule (evidence_changed_since_review(), a comparison of two columns of rows the queue reads anyway): the
        claim's ``evidence_changed_at`` is later than the review's ``updated_at``. The services stamp that
        moment (ClaimQuerySet.mark_evidence_changed) whenever
        - a citation of the claim is added, edited or removed,
        - a study the claim cites changes its retraction status (any change: one changed and changed back
          counts twice, not as no change, since the reviewer read the evidence in between), or
        - the claim is sent back for re-review (it relies on a newly retracted study, or its quote vanished
          from a revised article); it stays marked for those who reviewed before, whoever re-reviews first.
        Saving the review again, even unchanged, confirms it against the new evidence. Changes written
        around the services (a shell, raw SQL) are not seen: the services are the way to write.
        """
        return self.annotate(
            evidence_changed=Case(
                When(evidence_changed_since_review(), then=True), default=False, output_field=models.BooleanField()
            )
        )

    def evidence_changed(self) -> ReviewQuerySet:
        """The reviews whose claim's evidence changed since they were saved (see with_evidence_changed)."""
        return self.filter(evidence_changed_since_review())


def evidence_changed_since_review(claim: str = "claim__", review: str = "") -> Q:
    """The "evidence changed since the review" rule as a condition (see ReviewQuerySet.with_evidence_changed).
    ``claim`` and ``review`` reach the two rows from the query's model: from a review, the defaults; from a
    claim joined to a review, ``""`` and that join's name. A claim whose evidence never changed (NULL) has
    not changed since any review."""
    return Q(**{f"{claim}evidence_changed_at__gt": F(f"{review}updated_at")})


class Review(models.Model):
    """One reviewer's rating of one claim in one review round. Hidden from other reviewers until they
    submit their own in that round, and from readers until the round's verdict is published."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="reviews")
    # The claim's review round it belongs to (Consensus.round when it was submitted); a new round gets a
    # new review, and the earlier one stays as it was.
    round = models.PositiveSmallIntegerField(default=1)
    # A reviewer's work is a record: their account cannot be deleted while it has reviews.
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews")
    certainty = models.CharField(max_length=16, choices=Certainty)
    verdict = models.CharField(max_length=20, choices=Verdict)
    # GRADE, as GRADEpro records it (reviews.grade): the starting level, five downgrades, three upgrades.
    # Blank design: a review saved before the starting level was recorded (the services require it now).
    evidence_design = models.CharField(_("design of the evidence"), max_length=16, choices=EvidenceDesign, blank=True)
    risk_of_bias = models.CharField(_("risk of bias"), max_length=12, choices=Concern, default=Concern.NOT_SERIOUS)
    inconsistency = models.CharField(_("inconsistency"), max_length=12, choices=Concern, default=Concern.NOT_SERIOUS)
    indirectness = models.CharField(_("indirectness"), max_length=12, choices=Concern, default=Concern.NOT_SERIOUS)
    imprecision = models.CharField(_("imprecision"), max_length=12, choices=Concern, default=Concern.NOT_SERIOUS)
    publication_bias = models.CharField(
        _("publication bias"), max_length=12, choices=Concern, default=Concern.NOT_SERIOUS
    )
    large_effect = models.CharField(_("large effect"), max_length=12, choices=LargeEffect, default=LargeEffect.NO)
    dose_response = models.BooleanField(_("dose-response gradient"), default=False)
    plausible_confounding = models.BooleanField(
        _("opposing plausible confounding"),
        default=False,
        help_text=_("All plausible residual confounding would reduce the effect shown."),
    )
    certainty_reason = models.TextField(
        _("why another certainty"),
        blank=True,
        help_text=_("Why the certainty differs from the one the GRADE ratings give."),
    )
    # Blank: a review saved before declarations were asked for (the services require one now).
    conflict_of_interest = models.CharField(_("conflict of interest"), max_length=10, choices=Conflict, blank=True)
    conflict_statement = models.TextField(_("declared conflict"), blank=True)
    read_full_text = models.BooleanField(
        default=False, help_text=_("The reviewer read the full text of the studies, not only the abstracts.")
    )
    rationale = models.TextField(help_text=_("Why this certainty and verdict; shown to readers once published."))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()
    objects = ReviewQuerySet.as_manager()

    class Meta:
        ordering = ["claim", "created_at"]
        permissions = [("view_others_reviews", "Can see every reviewer's reviews")]
        constraints = [
            # one review per reviewer per claim and round; the rating form edits it in place
            models.UniqueConstraint(fields=["claim", "reviewer", "round"], name="reviews_review_one_per_round"),
            models.CheckConstraint(condition=Q(round__gte=1), name="reviews_review_round_positive"),
            models.CheckConstraint(condition=~Q(rationale=""), name="reviews_review_rationale_required"),
            choices_check("certainty", Certainty, "reviews_review_certainty_valid"),
            choices_check("verdict", Verdict, "reviews_review_verdict_valid"),
            models.CheckConstraint(
                condition=Q(evidence_design="") | Q(evidence_design__in=EvidenceDesign.values),
                name="reviews_review_design_valid",
            ),
            *(choices_check(name, Concern, f"reviews_review_{name}_valid") for name in DOWNGRADE_DOMAINS),
            choices_check("large_effect", LargeEffect, "reviews_review_large_effect_valid"),
            # GRADE raises the certainty of observational evidence only; randomised trials start high
            models.CheckConstraint(
                condition=Q(evidence_design=EvidenceDesign.OBSERVATIONAL)
                | Q(large_effect=LargeEffect.NO, dose_response=False, plausible_confounding=False),
                name="reviews_review_upgrades_observational",
            ),
            models.CheckConstraint(
                condition=Q(conflict_of_interest="") | Q(conflict_of_interest__in=Conflict.values),
                name="reviews_review_conflict_valid",
            ),
            # a declared conflict says what it is; "none" has nothing to say
            models.CheckConstraint(
                condition=(Q(conflict_of_interest=Conflict.DECLARED) & ~Q(conflict_statement=""))
                | (~Q(conflict_of_interest=Conflict.DECLARED) & Q(conflict_statement="")),
                name="reviews_review_conflict_statement",
            ),
        ]
        indexes = [
            # The reviewer's queue (reviews.queues): a reviewer's reviews in the order they were saved, newest
            # or oldest first, with each one's claim, from the index alone: a page is the first rows, and
            # counting them or comparing them with their claims reads no review row.
            models.Index(fields=["reviewer", "updated_at", "id", "claim"], name="reviews_review_queue_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.reviewer} on claim {self.claim_id}: {self.get_verdict_display()}, {self.get_certainty_display()}"

    @property
    def grading(self) -> Grading:
        return Grading.of(self)

    @property
    def computed_certainty(self) -> str:
        """The certainty the review's GRADE ratings give (reviews.grade); "" for a review saved before the
        starting level was recorded."""
        grading = self.grading
        return "" if grading_errors(grading) else computed_certainty(grading)

    def get_computed_certainty_display(self) -> str:
        return Certainty(self.computed_certainty).label if self.computed_certainty else ""

    @property
    def downgrade_reasons(self) -> list[str]:
        """The downgrade domains rated serious or very serious, in words."""
        return downgrades_in_words(self.grading)

    @property
    def upgrade_reasons(self) -> list[str]:
        """The upgrade domains that apply, in words."""
        return upgrades_in_words(self.grading)

    @property
    def conflict_declared(self) -> bool:
        return self.conflict_of_interest == Conflict.DECLARED
