"""Articles, the claims they make, the studies that bear on them, and the links between the two.

Invariants a single row must satisfy live here as named database constraints, so that the admin, the
importers and the API cannot store what the product would be unable to show. This is evidence's own
domain: it knows nothing of the review workflow (reviews builds on it; evidence.signals says what changed).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, Func, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from evidence.status import EvidenceStatus, status_for


def choices_check(field: str, choices: type[models.Choices], name: str) -> models.CheckConstraint:
    """A CHECK constraint that keeps ``field`` inside ``choices`` in the database itself."""
    return models.CheckConstraint(condition=Q(**{f"{field}__in": choices.values}), name=name)


class ClaimKind(models.TextChoices):
    CLAIM = "claim", _("Claim")
    QUOTATION = "quotation", _("Quotation")


class ClaimType(models.TextChoices):
    EFFICACY = "efficacy", _("Efficacy")
    MECHANISM = "mechanism", _("Mechanism")
    SAFETY = "safety", _("Safety")
    ONSET = "onset", _("Onset")
    DURABILITY = "durability", _("Durability")
    ATTRIBUTION = "attribution", _("Attribution")
    OTHER = "other", _("Other")


class ClaimStatus(models.TextChoices):
    AWAITING_REVIEW = "awaiting_review", _("Awaiting review")
    IN_REVIEW = "in_review", _("In review")
    NEEDS_REREVIEW = "needs_rereview", _("Needs re-review")
    PUBLISHED = "published", _("Verdict published")


class AnchorState(models.TextChoices):
    """Whether a claim's quote stands in its article's current text. An orphan's quote is gone from it: the
    claim keeps where it was last found, is never drawn into the current text, and waits for an editor."""

    ANCHORED = "anchored", _("Anchored")
    ORPHANED = "orphaned", _("Orphaned: no longer found in the current text")


class StudyDesign(models.TextChoices):
    # What an import, or a curator who did not say, leaves: never a guess (evidence.designs suggests one
    # for a curator to confirm).
    UNCLASSIFIED = "", _("Not yet classified")
    META_ANALYSIS = "meta_analysis", _("Meta-analysis")
    SYSTEMATIC_REVIEW = "systematic_review", _("Systematic review")
    RCT = "rct", _("Randomised controlled trial")
    COHORT = "cohort", _("Cohort study")
    CASE_CONTROL = "case_control", _("Case-control study")
    CASE_SERIES = "case_series", _("Case series")
    CROSS_SECTIONAL = "cross_sectional", _("Cross-sectional study")
    PRECLINICAL = "preclinical", _("Preclinical study")
    REVIEW = "review", _("Narrative review")
    REGULATORY = "regulatory", _("Regulatory document")
    OTHER = "other", _("Other")


def validate_csl_names(value: Any) -> None:
    """A study's authors are a list of CSL names, each an object of texts ({"family": …, "given": …} or
    {"literal": …}): anything else would break every page that names them. The admin's form, the API and
    the model's full_clean apply this one rule."""
    if not isinstance(value, list) or not all(
        isinstance(name, dict) and name and all(isinstance(k, str) and isinstance(v, str) for k, v in name.items())
        for name in value
    ):
        raise ValidationError(
            'A list of CSL names: [{"family": "Berman", "given": "R. M."}, {"literal": "WHO"}].', code="csl_names"
        )


def sees_internal_notes(user: Any) -> bool:
    """Who may read a study's internal note (the curators' research log): those who may change studies.
    Readers, signed in or not, see the public note only."""
    return bool(user and user.is_authenticated and user.has_perm("evidence.change_study"))


class RetractionStatus(models.TextChoices):
    NONE = "none", _("Not retracted")
    RETRACTED = "retracted", _("Retracted")
    EXPRESSION_OF_CONCERN = "expression_of_concern", _("Expression of concern")
    CORRECTED = "corrected", _("Corrected")

    @classmethod
    def severity(cls, value: str) -> int:
        """How grave a status is: none 0, corrected 1, expression of concern 2, retracted 3. A notice only
        ever raises a study's status (services.retractions)."""
        return {cls.NONE: 0, cls.CORRECTED: 1, cls.EXPRESSION_OF_CONCERN: 2, cls.RETRACTED: 3}[cls(value)]


class Relation(models.TextChoices):
    SUPPORTS = "supports", _("Supports")
    MIXED = "mixed", _("Mixed")
    CONTRADICTS = "contradicts", _("Contradicts")
    CONTEXT = "context", _("Context")


# How a citation reads with its study as the subject ("… supports claim K1").
RELATION_VERBS = {
    Relation.SUPPORTS: "supports",
    Relation.MIXED: "gives mixed evidence on",
    Relation.CONTRADICTS: "contradicts",
    Relation.CONTEXT: "gives context to",
}

# A claim "relies on" the studies cited as supporting it or as giving mixed results.
RELIANT_RELATIONS = (Relation.SUPPORTS, Relation.MIXED)


class Directness(models.TextChoices):
    NOT_ASSESSED = "not_assessed", _("Not assessed")
    DIRECT = "direct", _("Direct")
    PARTLY_INDIRECT = "partly_indirect", _("Partly indirect")
    INDIRECT = "indirect", _("Indirect")


class Article(models.Model):
    """A published article whose claims are reviewed. ``text`` is the current version of its text;
    earlier versions are kept as :class:`ArticleRevision` rows so claims can be re-anchored."""

    slug = models.SlugField(max_length=200, unique=True)
    title = models.CharField(max_length=500)
    author = models.CharField(max_length=500, blank=True)
    publisher = models.CharField(max_length=500, blank=True)
    url = models.URLField(max_length=2000, blank=True)
    published_on = models.DateField(null=True, blank=True)
    text = models.TextField(help_text=_("The article's full text, exactly as published."))
    headings = models.JSONField(
        default=list,
        blank=True,
        help_text=_("Lines of the text that are section headings, in order."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # The text's versions live in ArticleRevision; history keeps the metadata.
    history = HistoricalRecords(excluded_fields=["text"])

    class Meta:
        ordering = ["-published_on", "title"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("evidence:article-detail", args=[self.slug])


class ArticleRevision(models.Model):
    """An earlier version of an article's text, kept when the text is revised."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    text = models.TextField()
    headings = models.JSONField(default=list, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["article", "number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="evidence_revision_number_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.article} (revision {self.number})"


class CitationQuerySet(models.QuerySet["Citation"]):
    def supporting(self) -> CitationQuerySet:
        """Citations of studies that support their claim: a retracted study supports nothing (it counts
        under reliance_on_retracted instead)."""
        return self.filter(relation=Relation.SUPPORTS).exclude(study__retraction_status=RetractionStatus.RETRACTED)

    def reliant(self) -> CitationQuerySet:
        """Citations a claim relies on: the studies cited as supporting it or as giving mixed results."""
        return self.filter(relation__in=RELIANT_RELATIONS)

    def reliance_on_retracted(self) -> CitationQuerySet:
        """What "relies on a retracted study" means, the one definition every page, queue, filter, export
        and flag uses: a citation the claim relies on (reliant()) of a study that is retracted."""
        return self.reliant().filter(study__retraction_status=RetractionStatus.RETRACTED)


class ClaimQuerySet(models.QuerySet["Claim"]):
    def relying_on_retracted(self, relying: bool = True) -> ClaimQuerySet:
        """Claims that rely on a retracted study (CitationQuerySet.reliance_on_retracted); with
        ``relying=False``, those that do not."""
        reliance = Exists(Citation.objects.reliance_on_retracted().filter(claim=OuterRef("pk")))
        return self.filter(reliance if relying else ~reliance)

    def with_evidence(self) -> ClaimQuerySet:
        """Each claim's evidence counts: its citations by relation, and ``relies_on_retracted``.

        Correlated subqueries rather than joins, so a page of claims stays one query however many
        citations they have, and the counts cannot multiply each other. What the review workflow says of
        a claim (its published verdict, its open flags) is added by reviews.claims.
        """
        citations = Citation.objects.filter(claim=OuterRef("pk"))
        return self.annotate(
            n_supporting=subquery_count(citations.supporting()),
            n_mixed=subquery_count(citations.filter(relation=Relation.MIXED)),
            n_contradicting=subquery_count(citations.filter(relation=Relation.CONTRADICTS)),
            n_context=subquery_count(citations.filter(relation=Relation.CONTEXT)),
            # A scalar subquery, not Exists(): PostgreSQL plans an EXISTS in the select list as a hashed
            # subplan over every supporting citation in the library; this looks only at the row's own.
            relies_on_retracted=Coalesce(
                Subquery(
                    Citation.objects.reliance_on_retracted().filter(claim=OuterRef("pk")).values(flag=Value(True))[:1]
                ),
                Value(False),
            ),
        )

    def for_admin_list(self) -> ClaimQuerySet:
        """Everything the admin's claim list shows, in a fixed number of queries."""
        return self.select_related("article").annotate(
            n_citations=models.Count("citations", distinct=True),
        )

    def mark_evidence_changed(self, at: datetime | None = None) -> int:
        """Record that these claims' evidence changed now: the one place that sets ``evidence_changed_at``.

        The services call it when they add, edit or remove a citation, change a cited study's retraction
        status, or send a claim back for re-review (the review workflow shows reviewers whose review is
        older). One UPDATE of the claims' rows, however many: no history entry and no signal (the
        write that changed the evidence records those, and bumps the data version).
        """
        return self.update(evidence_changed_at=at or timezone.now())


class WithoutSearchVector(models.Manager):
    """Rows without their search vector: only the database's search reads it, so no query fetches it."""

    def get_queryset(self) -> models.QuerySet:
        return super().get_queryset().defer("search_vector")


class ClaimManager(WithoutSearchVector.from_queryset(ClaimQuerySet)):  # type: ignore[misc]
    pass


def subquery_count(queryset: models.QuerySet) -> Coalesce:
    """COUNT(*) of a correlated subquery, 0 when it matches nothing."""
    return Coalesce(Subquery(queryset.order_by().annotate(n=Func("pk", function="COUNT")).values("n")[:1]), 0)


class Claim(models.Model):
    """A statement an article makes, anchored to the exact words it uses.

    The anchor follows the W3C Web Annotation model: ``start``/``end`` are a TextPositionSelector
    (Python string indices into ``article.text``, end exclusive) and ``quote`` with ``prefix`` and
    ``suffix`` a TextQuoteSelector, which finds the quote again after the text has been edited.

    An **orphan** (``anchor_state`` orphaned) is a claim whose quote a revision of the text no longer
    holds: its offsets then refer to the text of ArticleRevision number ``anchor_revision``, the last one
    it was found in, never to ``article.text``; ``anchor_suggestion`` is where in the current text it may
    have moved to, reworded, for an editor to accept (evidence.services.claims).
    """

    # the choices, reachable as Claim.Kind, Claim.ClaimType, Claim.Status, Claim.AnchorState
    Kind = ClaimKind
    ClaimType = ClaimType
    Status = ClaimStatus
    AnchorState = AnchorState

    # Characters kept either side of the quote for the TextQuoteSelector.
    CONTEXT_LENGTH = 32

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="claims")
    key = models.CharField(
        max_length=50,
        blank=True,
        help_text=_("A short identifier unique within the article, e.g. K1; used by import files."),
    )
    quote = models.TextField(help_text=_("The claim exactly as the article words it."))
    start = models.PositiveIntegerField(help_text=_("Offset of the quote's first character in the text."))
    end = models.PositiveIntegerField(help_text=_("Offset just past the quote's last character."))
    prefix = models.CharField(max_length=CONTEXT_LENGTH, blank=True)
    suffix = models.CharField(max_length=CONTEXT_LENGTH, blank=True)
    section = models.CharField(max_length=500, blank=True)
    kind = models.CharField(max_length=16, choices=ClaimKind, default=ClaimKind.CLAIM)
    substance = models.CharField(
        max_length=100, blank=True, help_text=_("The substance or topic, e.g. ketamine, MDMA, both.")
    )
    claim_type = models.CharField(max_length=16, choices=ClaimType)
    secondary_types = models.JSONField(default=list, blank=True)
    evidence_note = models.TextField(blank=True, help_text=_("The curator's one-line reading of the evidence."))
    attributed_to = models.CharField(max_length=500, blank=True)
    attribution_status = models.CharField(max_length=100, blank=True)
    attribution_note = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=ClaimStatus, default=ClaimStatus.AWAITING_REVIEW)
    # Set by article_revise and the editor's re-anchoring services (evidence.services), never by hand.
    anchor_state = models.CharField(max_length=10, choices=AnchorState, default=AnchorState.ANCHORED)
    anchor_revision = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=_("For an orphan: the number of the article revision whose text its offsets refer to."),
    )
    anchor_suggestion = models.JSONField(
        null=True,
        blank=True,
        help_text=_(
            "For an orphan: the passage of the current text most like its quote (quote, start, end, score), "
            "for an editor to accept; null when nothing is alike enough."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Full-text search: on PostgreSQL triggers keep it the vector of the quote, evidence note, section and
    # the article's title (migrations 0006, 0009), so ranking reads it instead of re-parsing every match
    # (evidence/search.py). Empty on SQLite.
    search_vector = SearchVectorField(null=True, editable=False)
    # When the claim's evidence last changed: a citation added, edited or removed, a cited study's
    # retraction status changed, or the claim sent back for re-review. Set only through
    # ClaimQuerySet.mark_evidence_changed(); the reviewer's queue compares it with each review's updated_at.
    # Bookkeeping, not a fact about the claim: the history leaves it out.
    evidence_changed_at = models.DateTimeField(null=True, blank=True, editable=False)

    history = HistoricalRecords(excluded_fields=["search_vector", "evidence_changed_at"])
    objects = ClaimManager()

    class Meta:
        ordering = ["article", "start"]
        constraints = [
            # import files and links refer to claims by key; blank keys are allowed and never collide
            models.UniqueConstraint(fields=["article", "key"], condition=~Q(key=""), name="evidence_claim_key_unique"),
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="evidence_claim_span_nonempty"),
            models.CheckConstraint(condition=~Q(quote=""), name="evidence_claim_quote_nonempty"),
            choices_check("kind", ClaimKind, "evidence_claim_kind_valid"),
            choices_check("claim_type", ClaimType, "evidence_claim_type_valid"),
            choices_check("status", ClaimStatus, "evidence_claim_status_valid"),
            choices_check("anchor_state", AnchorState, "evidence_claim_anchor_state_valid"),
            # an orphan's offsets mean something only with the revision they refer to; an anchored claim's
            # refer to the current text
            models.CheckConstraint(
                condition=Q(anchor_state=AnchorState.ANCHORED, anchor_revision__isnull=True)
                | Q(anchor_state=AnchorState.ORPHANED, anchor_revision__isnull=False),
                name="evidence_claim_orphan_revision",
            ),
            # a suggestion is for an orphan only: accepting or re-quoting clears it
            models.CheckConstraint(
                condition=Q(anchor_state=AnchorState.ORPHANED) | Q(anchor_suggestion__isnull=True),
                name="evidence_claim_suggestion_orphan_only",
            ),
        ]
        indexes = [
            # the claim list filters by these, alone and together
            models.Index(fields=["claim_type"], name="evidence_claim_type_idx"),
            models.Index(fields=["substance"], name="evidence_claim_substance_idx"),
            models.Index(fields=["status"], name="evidence_claim_status_idx"),
            # The reviewer's queue (reviews.queues): the unpublished claims a reviewer has not rated, counted
            # and sorted (sent back first, then by article and position) from this index alone, without
            # reading the rows of the 10,000 or so claims still being reviewed.
            models.Index(
                fields=["id", "status", "article", "start"],
                condition=~Q(status=ClaimStatus.PUBLISHED),
                name="evidence_claim_unpublished_idx",
            ),
            # "Evidence changed since my review": each of the reviewer's reviews against its claim's
            # evidence_changed_at, without reading the claim's row (claim id = ? AND evidence_changed_at > ?).
            models.Index(fields=["id", "evidence_changed_at"], name="evidence_claim_changed_idx"),
            # The "Anchors lost" queue and the article page's list of orphans: the few orphans, by article,
            # without reading the anchored claims.
            models.Index(
                fields=["article", "start"],
                condition=Q(anchor_state=AnchorState.ORPHANED),
                name="evidence_claim_orphaned_idx",
            ),
        ]

    def __str__(self) -> str:
        label = f"{self.key}: " if self.key else ""
        quote = self.quote if len(self.quote) <= 80 else self.quote[:79] + "…"
        return f"{label}{quote}"

    def get_absolute_url(self) -> str:
        return reverse("evidence:claim-detail", args=[self.pk])

    @property
    def is_orphaned(self) -> bool:
        return self.anchor_state == AnchorState.ORPHANED

    @property
    def evidence_status(self) -> EvidenceStatus:
        """The published verdict as readers see it; needs reviews.claims.with_verdict()."""
        return status_for(self.public_verdict)


class Study(models.Model):
    """A published work (or regulatory document) with CSL-JSON-level metadata.

    An empty field means nobody could confirm its value: it is left empty and the record is shown as
    unverified rather than filled from memory.
    """

    Design = StudyDesign
    RetractionStatus = RetractionStatus

    citation_key = models.CharField(
        max_length=200, blank=True, help_text=_("The key a reference manager gave the record, e.g. berman2000.")
    )
    work_type = models.CharField(
        max_length=40, default="article-journal", help_text=_("The CSL item type, e.g. article-journal, report.")
    )
    title = models.TextField(blank=True)
    authors = models.JSONField(
        default=list,
        blank=True,
        help_text=_('CSL names: [{"family": ..., "given": ..., "suffix": ...} or {"literal": ...}].'),
        validators=[validate_csl_names],
    )
    author_list_complete = models.BooleanField(default=True)
    container_title = models.TextField(blank=True, help_text=_("Journal, book or website."))
    publisher = models.CharField(max_length=500, blank=True)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    month = models.PositiveSmallIntegerField(null=True, blank=True)
    day = models.PositiveSmallIntegerField(null=True, blank=True)
    volume = models.CharField(max_length=64, blank=True)
    issue = models.CharField(max_length=64, blank=True)
    pages = models.CharField(max_length=64, blank=True)
    doi = models.CharField(
        "DOI", max_length=300, blank=True, help_text=_("Normalised: lower case, without https://doi.org/.")
    )
    pmid = models.CharField("PMID", max_length=12, blank=True)
    isbn = models.CharField("ISBN", max_length=32, blank=True)
    url = models.URLField("URL", max_length=2000, blank=True)
    abstract = models.TextField(blank=True)
    design = models.CharField(max_length=20, choices=StudyDesign, blank=True, default=StudyDesign.UNCLASSIFIED)
    sample_size = models.PositiveIntegerField(null=True, blank=True)
    population = models.TextField(blank=True)
    retraction_status = models.CharField(max_length=24, choices=RetractionStatus, default=RetractionStatus.NONE)
    retraction_date = models.DateField(null=True, blank=True)
    retraction_doi = models.CharField("retraction notice DOI", max_length=300, blank=True)
    retraction_note = models.TextField(blank=True)
    verified = models.BooleanField(
        default=False,
        help_text=_("The DOI (where one exists), title and first author were seen in a bibliographic source."),
    )
    verified_from = models.JSONField(default=list, blank=True, help_text=_("The sources and what each confirmed."))
    unconfirmed_leads = models.JSONField(
        default=dict,
        blank=True,
        help_text=_("Values seen only in unreliable places, kept out of the record's fields on purpose."),
    )
    note = models.TextField(blank=True, help_text=_("Shown to readers with the study."))
    internal_note = models.TextField(
        blank=True,
        help_text=_("Curators' research notes (how the record was checked, what is missing): never shown to readers."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Full-text search over title, authors and journal, kept by a trigger on PostgreSQL (migration 0006).
    search_vector = SearchVectorField(null=True, editable=False)

    history = HistoricalRecords(excluded_fields=["search_vector"])
    objects = WithoutSearchVector()

    class Meta:
        verbose_name_plural = "studies"
        ordering = ["-year", "title"]
        constraints = [
            # one record per paper: a DOI identifies it, whatever copy was cited
            models.UniqueConstraint(fields=["doi"], condition=~Q(doi=""), name="evidence_study_doi_unique"),
            models.UniqueConstraint(fields=["pmid"], condition=~Q(pmid=""), name="evidence_study_pmid_unique"),
            # stored normalised so the unique constraint above also catches case and resolver variants
            models.CheckConstraint(
                condition=Q(doi="") | (Q(doi__startswith="10.") & Q(doi=Lower("doi"))),
                name="evidence_study_doi_normalised",
            ),
            models.CheckConstraint(
                condition=Q(pmid="") | Q(pmid__regex=r"^[1-9][0-9]{0,9}$"), name="evidence_study_pmid_digits"
            ),
            # a title nobody could confirm stays empty; the record is then known by its identifier
            models.CheckConstraint(
                condition=~Q(title="") | ~Q(doi="") | ~Q(pmid=""), name="evidence_study_identifiable"
            ),
            models.CheckConstraint(
                condition=Q(month__isnull=True) | Q(month__gte=1, month__lte=12), name="evidence_study_month_valid"
            ),
            models.CheckConstraint(
                condition=Q(day__isnull=True) | Q(day__gte=1, day__lte=31), name="evidence_study_day_valid"
            ),
            choices_check("design", StudyDesign, "evidence_study_design_valid"),
            choices_check("retraction_status", RetractionStatus, "evidence_study_retraction_valid"),
        ]
        indexes = [
            # the study list filters by design, year and retraction status
            models.Index(fields=["design"], name="evidence_study_design_idx"),
            models.Index(fields=["year"], name="evidence_study_year_idx"),
            models.Index(fields=["retraction_status"], name="evidence_study_retraction_idx"),
            # import files link claims to studies by their reference-manager key
            models.Index(fields=["citation_key"], name="evidence_study_key_idx"),
        ]

    def __str__(self) -> str:
        first = self.first_author_family
        who = f"{first}{' et al.' if len(self.authors) > 1 else ''}" if first else ""
        year = str(self.year) if self.year else "n.d."
        title = self.display_title if len(self.display_title) <= 80 else self.display_title[:79] + "…"
        return f"{who} ({year}) {title}".strip()

    def get_absolute_url(self) -> str:
        return reverse("evidence:study-detail", args=[self.pk])

    @property
    def display_title(self) -> str:
        """The title, or a placeholder naming the identifier when no source confirmed the title."""
        if self.title:
            return self.title
        return f"[title not confirmed] {'DOI ' + self.doi if self.doi else 'PMID ' + self.pmid}"

    @property
    def first_author_family(self) -> str:
        if not self.authors:
            return ""
        first = self.authors[0]
        return first.get("family") or first.get("literal") or ""

    @property
    def is_retracted(self) -> bool:
        return self.retraction_status == self.RetractionStatus.RETRACTED

    @property
    def lesser_notice(self) -> str:
        """The status of a notice short of a retraction (expression of concern, correction), or ""."""
        if self.retraction_status in (self.RetractionStatus.NONE, self.RetractionStatus.RETRACTED):
            return ""
        return self.retraction_status

    @property
    def doi_url(self) -> str:
        return f"https://doi.org/{self.doi}" if self.doi else ""

    @property
    def pubmed_url(self) -> str:
        return f"https://pubmed.ncbi.nlm.nih.gov/{self.pmid}/" if self.pmid else ""


class Citation(models.Model):
    """The link between a claim and a study that bears on it, with what the study actually shows."""

    Relation = Relation
    Directness = Directness

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="citations")
    # A study cited as evidence is never deleted from under a claim.
    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="citations")
    relation = models.CharField(max_length=12, choices=Relation)
    note = models.TextField(blank=True, help_text=_("What the study actually shows for this claim."))
    directness = models.CharField(max_length=16, choices=Directness, default=Directness.NOT_ASSESSED)
    directness_note = models.TextField(
        blank=True, help_text=_("How the study's population, intervention or outcome differ from the claim's.")
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()
    objects = CitationQuerySet.as_manager()

    class Meta:
        ordering = ["claim", "relation", "study"]
        constraints = [
            models.UniqueConstraint(fields=["claim", "study"], name="evidence_citation_once_per_claim"),
            choices_check("relation", Relation, "evidence_citation_relation_valid"),
            choices_check("directness", Directness, "evidence_citation_directness_valid"),
        ]

    def __str__(self) -> str:
        # the study first, so that it reads as a sentence: "Daly et al. (2018) … supports claim K1"
        return f"{self.study} {RELATION_VERBS[self.relation]} claim {self.claim.key or self.claim_id}"


class DataVersion(models.Model):
    """A counter bumped after every committed change to what readers see (evidence.caching).

    Public pages derive their ETag and Last-Modified from it, and cached aggregates are keyed by it,
    so one primary-key read tells whether anything changed since a reader's last visit. It lives in
    the database rather than a cache so every process (web workers, imports, shells) agrees on it.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    version = models.BigIntegerField(default=0)
    changed_at = models.DateTimeField()

    class Meta:
        constraints = [
            # a single row
            models.CheckConstraint(condition=Q(id=1), name="evidence_dataversion_single_row"),
        ]

    def __str__(self) -> str:
        return f"data version {self.version} ({self.changed_at:%Y-%m-%d %H:%M:%S})"


# --- Background jobs and the outside world (evidence/tasks.py, docs/operations.md) -----------------------


class JobState(models.TextChoices):
    QUEUED = "queued", _("Waiting")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Done")
    FAILED = "failed", _("Failed")


class ImportJob(models.Model):
    """A bibliography file uploaded on the web, imported by a worker (evidence.tasks.run_import_job).

    The row is the job's whole state: the page polls it, and the task reads the file from it, so any
    worker can run it and running it twice does nothing more (a finished job is not run again; an
    import is one transaction, so a failed attempt wrote nothing). The file's text is dropped when the
    job finishes.
    """

    State = JobState

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    filename = models.CharField(max_length=255)
    format = models.CharField(max_length=16, blank=True)
    update = models.BooleanField(default=False, help_text=_("Replace stored values that differ."))
    lookup = models.BooleanField(default=False, help_text=_("Fill empty fields from Crossref and PubMed."))
    text = models.TextField(blank=True, help_text=_("The file, until the job has finished."))
    state = models.CharField(max_length=12, choices=JobState, default=JobState.QUEUED)
    total = models.PositiveIntegerField(default=0, help_text=_("Entries read from the file."))
    done = models.PositiveIntegerField(default=0, help_text=_("Entries handled so far."))
    attempts = models.PositiveSmallIntegerField(default=0)
    summary = models.CharField(max_length=500, blank=True)
    lines = models.JSONField(default=list, blank=True, help_text=_("The import's report, line by line."))
    error = models.TextField(blank=True, help_text=_("Why the job failed, or why the last attempt did."))
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            choices_check("state", JobState, "evidence_importjob_state_valid"),
        ]

    def __str__(self) -> str:
        return f"import of {self.filename} ({self.get_state_display().lower()})"

    @property
    def finished(self) -> bool:
        return self.state in (JobState.SUCCEEDED, JobState.FAILED)


class RetractionCheck(models.Model):
    """One run of the retraction check against Crossref and PubMed (evidence.services.monitoring); the
    editor's desk shows what the last one changed."""

    State = JobState

    state = models.CharField(max_length=12, choices=JobState, default=JobState.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    checked = models.PositiveIntegerField(default=0, help_text=_("Cited studies looked up."))
    failed = models.PositiveIntegerField(default=0, help_text=_("Look-ups that got no answer."))
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [choices_check("state", JobState, "evidence_retractioncheck_state_valid")]

    def __str__(self) -> str:
        return f"retraction check of {self.started_at:%Y-%m-%d %H:%M}"


class RetractionChange(models.Model):
    """A notice a retraction check found and applied: the study's status before and after, and where."""

    check_run = models.ForeignKey(RetractionCheck, on_delete=models.CASCADE, related_name="changes")
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="retraction_changes")
    status_before = models.CharField(max_length=24, choices=RetractionStatus)
    status_after = models.CharField(max_length=24, choices=RetractionStatus)
    source = models.CharField(max_length=40, help_text=_("Crossref or PubMed, and what it said."))
    notice = models.TextField(blank=True)

    class Meta:
        ordering = ["check_run", "pk"]
        constraints = [
            choices_check("status_before", RetractionStatus, "evidence_retractionchange_before_valid"),
            choices_check("status_after", RetractionStatus, "evidence_retractionchange_after_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.study}: {self.status_before} → {self.status_after} ({self.source})"


class SitePage(models.Model):
    """A page of the site's own words that editors keep up to date in the site (/about/ shows "about" and
    "corrections"), with every version kept in its history. Plain text: paragraphs separated by blank lines,
    shown escaped (evidence.services.pages writes it)."""

    slug = models.SlugField(max_length=50, unique=True)
    title = models.CharField(max_length=200)
    body = models.TextField(help_text=_("Plain text; a blank line starts a new paragraph."))
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["slug"]
        constraints = [
            models.CheckConstraint(condition=~Q(title="") & ~Q(body=""), name="evidence_sitepage_not_empty"),
        ]

    def __str__(self) -> str:
        return self.title
