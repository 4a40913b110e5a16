"""Reviewers' ratings of claims and editors' flags on them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Case, F, OuterRef, Q, When
from django.urls import reverse
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


def decision_expressions(prefix: str = "") -> dict[str, Case]:
    """``decision_certainty`` and ``decision_verdict`` as SQL: the adjudication when there is one, else
    the reviews' median and majority. The SQL twin of decision(), for queues that
    filter on it; ``prefix`` reaches the consensus through a relation (``"consensus__"`` from a claim)."""
    adjudicated = Q(**{f"{prefix}adjudicated_at__isnull": False})
    return {
        "decision_certainty": Case(
            When(adjudicated, then=F(f"{prefix}adjudicated_certainty")), default=F(f"{prefix}certainty")
        ),
        "decision_verdict": Case(
            When(adjudicated, then=F(f"{prefix}adjudicated_verdict")), default=F(f"{prefix}verdict")
        ),
    }


def readjudication_needed(prefix: str = "") -> Q:
    """Adjudicated, still disputed, and a review saved since: the editor decided on reviews that have
    changed. The SQL twin of Consensus.needs_readjudication; ``prefix`` as for decision_expressions."""
    return Q(
        **{
            f"{prefix}adjudicated_at__isnull": False,
            f"{prefix}disputed": True,
            f"{prefix}last_reviewed_at__gt": F(f"{prefix}adjudicated_at"),
        }
    )


class ConsensusQuerySet(models.QuerySet["Consensus"]):
    def with_decision(self) -> ConsensusQuerySet:
        """Annotate ``decision_certainty`` and ``decision_verdict`` (see decision_expressions)."""
        return self.annotate(**decision_expressions())


class Consensus(models.Model):
    """What a claim's reviews add up to, the editor's adjudication, and the verdict published to readers.

    One row per reviewed claim, rewritten by reviews.services whenever a review or adjudication changes
    (never edited by hand): the public pages filter and sort claims by verdict and certainty, which
    needs these values in columns rather than recomputed from every review on every request. Readers
    only ever see the ``published_*`` fields.
    """

    claim = models.OneToOneField(Claim, on_delete=models.CASCADE, primary_key=True, related_name="consensus")
    # From the submitted reviews.
    n_reviews = models.PositiveIntegerField(default=0)
    certainty = models.CharField(max_length=16, choices=Certainty, blank=True, help_text=_("Median certainty."))
    verdict = models.CharField(max_length=20, choices=Verdict, blank=True, help_text=_("Majority verdict."))
    certainty_spread = models.PositiveSmallIntegerField(
        default=0, help_text=_("Levels between the highest and lowest certainty given.")
    )
    verdict_split = models.BooleanField(default=False, help_text=_("Reviewers gave different verdicts."))
    disputed = models.BooleanField(
        default=False, help_text=_("Certainties two or more levels apart, or verdicts split.")
    )
    last_reviewed_at = models.DateTimeField(null=True, blank=True)
    # An editor's decision when reviewers disagree; it overrides the reviews' median and majority.
    adjudicated_certainty = models.CharField(max_length=16, choices=Certainty, blank=True)
    adjudicated_verdict = models.CharField(max_length=20, choices=Verdict, blank=True)
    adjudication_rationale = models.TextField(blank=True)
    adjudicated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    adjudicated_at = models.DateTimeField(null=True, blank=True)
    # The review round the claim is in: 1, then one more each time a published claim goes back for
    # re-review (reviews.services.claims_send_back); the review columns above are this round's.
    round = models.PositiveSmallIntegerField(default=1)
    # What readers see: a snapshot taken when an editor publishes; the figures (reviewers, spread, split,
    # last reviewed) are the published version's, never the live round's.
    published_version = models.ForeignKey(
        "VerdictVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_certainty = models.CharField(max_length=16, choices=Certainty, blank=True)
    published_verdict = models.CharField(max_length=20, choices=Verdict, blank=True)
    published_rationale = models.TextField(blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()
    objects = ConsensusQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "consensus"
        permissions = [
            ("adjudicate_claim", "Can adjudicate a disputed claim"),
            ("publish_verdict", "Can publish a claim's verdict"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(certainty="") | Q(certainty__in=Certainty.values), name="reviews_consensus_certainty_valid"
            ),
            models.CheckConstraint(
                condition=Q(verdict="") | Q(verdict__in=Verdict.values), name="reviews_consensus_verdict_valid"
            ),
            # a published verdict always comes with its certainty, its date and who published it
            models.CheckConstraint(
                condition=(Q(published_verdict="") & Q(published_at__isnull=True))
                | (
                    Q(published_verdict__in=Verdict.values)
                    & Q(published_certainty__in=Certainty.values)
                    & Q(published_at__isnull=False)
                ),
                name="reviews_consensus_published_complete",
            ),
            # an adjudication is complete or absent
            models.CheckConstraint(
                condition=(Q(adjudicated_verdict="") & Q(adjudicated_at__isnull=True))
                | (
                    Q(adjudicated_verdict__in=Verdict.values)
                    & Q(adjudicated_certainty__in=Certainty.values)
                    & ~Q(adjudication_rationale="")
                    & Q(adjudicated_at__isnull=False)
                ),
                name="reviews_consensus_adjudication_complete",
            ),
        ]
        indexes = [
            # the public claim list filters by the published verdict and certainty
            models.Index(fields=["published_verdict"], name="reviews_cons_verdict_idx"),
            models.Index(fields=["published_certainty"], name="reviews_cons_certainty_idx"),
            # the editor's desk lists disputed claims
            models.Index(fields=["disputed"], name="reviews_cons_disputed_idx"),
        ]

    def __str__(self) -> str:
        return f"Consensus on claim {self.claim_id}"

    @property
    def is_published(self) -> bool:
        return bool(self.published_verdict)

    @property
    def is_adjudicated(self) -> bool:
        return self.adjudicated_at is not None

    @property
    def under_rereview(self) -> bool:
        """A verdict is published and the claim is in a later round, not yet published: readers see the
        published verdict with a banner (no query when published_version was loaded with it)."""
        return self.published_version_id is not None and self.published_version.round < self.round

    @property
    def needs_readjudication(self) -> bool:
        """Adjudicated, still disputed, and a review saved since (see readjudication_needed)."""
        return (
            self.is_adjudicated
            and self.disputed
            and self.last_reviewed_at is not None
            and self.last_reviewed_at > self.adjudicated_at
        )

    @property
    def spread_in_words(self) -> str:
        """The certainty spread as every page words it: how many GRADE levels lie between the highest
        and the lowest certainty the reviewers gave ("certainties 2 levels apart" for moderate and very
        low), or "same certainty"."""
        n = self.certainty_spread
        return f"certainties {n} level{'s' if n != 1 else ''} apart" if n else "same certainty"

    @property
    def decision(self) -> Decision:
        """The certainty and verdict that count: see decision()."""
        return decision(self)


def consensus_of(claim: Claim) -> Consensus | None:
    """The claim's Consensus row, or None for a claim nobody has reviewed yet (it has none); no query when
    the row was loaded with select_related("consensus")."""
    try:
        return claim.consensus
    except Consensus.DoesNotExist:
        return None


@dataclass(frozen=True)
class Decision:
    """The certainty and verdict that count for a claim, and where they come from."""

    certainty: str
    verdict: str
    rationale: str
    adjudicated: bool

    def __bool__(self) -> bool:
        return bool(self.verdict)

    def get_certainty_display(self) -> str:
        return Certainty(self.certainty).label if self.certainty else ""

    def get_verdict_display(self) -> str:
        return Verdict(self.verdict).label if self.verdict else ""


def decision(consensus: Consensus | None) -> Decision:
    """The certainty and verdict that count for a claim: the editor's adjudication when there is one,
    else the reviews' median and majority (reviews.consensus computes those).

    ``Consensus.objects.with_decision()`` mirrors this rule in SQL for the desk's queues; a test keeps
    the two in step.
    """
    if consensus is None:
        return Decision("", "", "", adjudicated=False)
    if consensus.adjudicated_at is not None:
        return Decision(
            consensus.adjudicated_certainty,
            consensus.adjudicated_verdict,
            consensus.adjudication_rationale,
            adjudicated=True,
        )
    return Decision(consensus.certainty, consensus.verdict, "", adjudicated=False)


class ReviewRound(models.Model):
    """A re-review round of a claim: opened when its published verdict was sent back for re-review (round 1
    is the claim's first review and has no row). Readers see "Under re-review since <opened_at>: <reason>"
    over the published verdict until the round's verdict is published."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="review_rounds")
    number = models.PositiveSmallIntegerField()
    reason = models.TextField()
    opened_at = models.DateTimeField()
    # NULL: the system opened it (a cited study was retracted, the quote was lost)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["claim", "number"]
        constraints = [
            models.UniqueConstraint(fields=["claim", "number"], name="reviews_round_one_per_number"),
            models.CheckConstraint(condition=Q(number__gte=2), name="reviews_round_number_after_first"),
        ]

    def __str__(self) -> str:
        return f"Round {self.number} of claim {self.claim_id}"


class VerdictVersion(models.Model):
    """One publication of a claim's verdict, numbered 1, 2, … per claim, frozen as readers saw it: its
    figures are those of the round it closed. The permalink /claims/<id>/verdicts/<n>/ cites it."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="verdict_versions")
    number = models.PositiveSmallIntegerField()
    round = models.PositiveSmallIntegerField()
    certainty = models.CharField(max_length=16, choices=Certainty)
    verdict = models.CharField(max_length=20, choices=Verdict)
    rationale = models.TextField()
    # The public sentence saying how the verdict was reached (reviews.consensus.how_reached)
    how_reached = models.TextField(blank=True)
    n_reviews = models.PositiveIntegerField(default=0)
    certainty_spread = models.PositiveSmallIntegerField(default=0)
    verdict_split = models.BooleanField(default=False)
    last_reviewed_at = models.DateTimeField(null=True, blank=True)
    adjudicated = models.BooleanField(default=False, help_text=_("An editor decided after a dispute."))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField()

    class Meta:
        ordering = ["claim", "number"]
        constraints = [
            models.UniqueConstraint(fields=["claim", "number"], name="reviews_version_one_per_number"),
            models.CheckConstraint(condition=Q(number__gte=1, round__gte=1), name="reviews_version_numbered"),
            choices_check("certainty", Certainty, "reviews_version_certainty_valid"),
            choices_check("verdict", Verdict, "reviews_version_verdict_valid"),
        ]

    def __str__(self) -> str:
        return f"Verdict {self.number} on claim {self.claim_id}"

    def get_absolute_url(self) -> str:
        return reverse("evidence:claim-verdict", args=[self.claim_id, self.number])

    @property
    def spread_in_words(self) -> str:
        """As Consensus.spread_in_words, for the figures frozen at publication."""
        n = self.certainty_spread
        return f"certainties {n} level{'s' if n != 1 else ''} apart" if n else "same certainty"

    @property
    def summary(self) -> str:
        """ "Supported, moderate certainty": how the changelog and the lists name this version's verdict."""
        return f"{self.get_verdict_display()}, {self.get_certainty_display().lower()} certainty"


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
