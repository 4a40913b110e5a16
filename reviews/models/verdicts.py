"""What a claim's reviews add up to (Consensus), the decision that counts, re-review rounds and the
numbered verdict versions readers cite."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.db.models import Case, F, Q, When
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from evidence.models import Claim, choices_check
from reviews.grade import (
    Certainty,
)
from reviews.models.ratings import Verdict


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
        # RESTRICT: a version is never deleted alone, but goes with its claim (the consensus goes too)
        "VerdictVersion",
        null=True,
        blank=True,
        on_delete=models.RESTRICT,
        related_name="+",
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

    # What readers may know of a version: the API and the open dataset publish these fields
    PUBLIC_FIELDS = (
        "number",
        "round",
        "verdict",
        "certainty",
        "rationale",
        "how_reached",
        "published_at",
        "last_reviewed_at",
        "n_reviews",
        "certainty_spread",
        "verdict_split",
        "adjudicated",
    )

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
