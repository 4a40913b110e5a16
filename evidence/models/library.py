"""Articles and their revisions, the claims they make, the studies that bear on them and the citations
between the two, with the named rules (QuerySet methods) pages, API, exports and queues share."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Exists, Func, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from evidence.models.choices import (
    RELATION_VERBS,
    RELIANT_RELATIONS,
    AnchorState,
    ClaimKind,
    ClaimStatus,
    ClaimType,
    Directness,
    Relation,
    RetractionStatus,
    StudyDesign,
    choices_check,
    validate_csl_names,
)
from evidence.status import EvidenceStatus, status_for


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


class StudyQuerySet(models.QuerySet["Study"]):
    """Studies by the library's to-do lists (the curator's workspace, the admin's study filters), one name each,
    and with their stored references for the pages that show them."""

    def unclassified(self) -> StudyQuerySet:
        """Studies nobody has classified by design yet (StudyDesign.UNCLASSIFIED; ?design=unclassified)."""
        return self.filter(design=StudyDesign.UNCLASSIFIED)

    def unverified(self) -> StudyQuerySet:
        """Studies whose metadata nobody has seen in a bibliographic source yet."""
        return self.filter(verified=False)

    def without_identifiers(self) -> StudyQuerySet:
        """Studies with neither a DOI nor a PMID: no lookup, retraction check or de-duplication can reach them."""
        return self.filter(doi="", pmid="")

    def retracted_still_relied_on(self) -> StudyQuerySet:
        """Retracted studies some claim still relies on (CitationQuerySet.reliance_on_retracted)."""
        return self.filter(Exists(Citation.objects.reliance_on_retracted().filter(study=OuterRef("pk"))))

    def with_references(self) -> StudyQuerySet:
        """With the stored formatted references (Study.references), which the other reads leave in the
        database: only the claim and study pages show them (evidence.citations.stored_citations)."""
        return self.defer(None).defer("search_vector")


class StudyManager(models.Manager.from_queryset(StudyQuerySet)):  # type: ignore[misc]
    """Rows without their search vector and their formatted references (a few kilobytes a study that the
    lists, the API and the exports never show); StudyQuerySet.with_references() brings the latter back."""

    def get_queryset(self) -> models.QuerySet:
        return super().get_queryset().defer("search_vector", "references")


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
    # The formatted references (APA, Vancouver; text and HTML), kept with the row because citeproc takes
    # about 10 ms a reference: {"source": digest of what they were made of, "apa": {"text", "html"}, ...}.
    # Derived, never edited: evidence.citations stores them when missing or stale, without history.
    references = models.JSONField(default=dict, blank=True, editable=False)

    history = HistoricalRecords(excluded_fields=["search_vector", "references"])
    objects = StudyManager()

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


class PageVersion(models.Model):
    """A counter per set of public pages (a scope), bumped after every committed change readers see there
    (evidence.caching): one claim's pages (``claim:<id>``), one study's, one article's (``article:<slug>``),
    every list (``lists``), the feeds (``feeds``), and ``all`` for writes that name no scope.

    A public page's ETag and cache key hold the versions of the scopes it shows (always with ``all``), read
    in one query, so a change to one claim retires that claim's pages and the lists, not every page, and a
    change no reader sees (a blind review, an internal note) retires none. A row exists once its scope was
    first bumped; a missing row reads as version 0.
    """

    scope = models.CharField(max_length=200, primary_key=True)
    version = models.BigIntegerField(default=0)
    changed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.scope} version {self.version} ({self.changed_at:%Y-%m-%d %H:%M:%S})"
