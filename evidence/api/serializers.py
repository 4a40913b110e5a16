"""What the API shows of each record, and what it accepts. Input validation and shaping only: every
write is a call to evidence.services or reviews.services (views.py).

Readers see what the pages show them: a claim's consensus only once its verdict is published (and then
only the published snapshot and how far reviewers agreed), flags without who raised them, reviews with
the reviewer's display name. Nothing here runs a query: the views' querysets load what is shown.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from evidence.api.fields import (
    StrictBooleanField,
    StrictCharField,
    StrictModelSerializer,
    StrictPrimaryKeyRelatedField,
)
from evidence.models import Article, Citation, Claim, Study, sees_internal_notes, validate_csl_names
from evidence.status import status_for
from evidence.storable import holds_nul
from reviews.grade import DOWNGRADE_DOMAINS, Concern, EvidenceDesign, LargeEffect
from reviews.models import Certainty, Conflict, Consensus, Flag, Review, Verdict, VerdictVersion, consensus_of

# A record number no real URL holds, reversed in its place to learn a route's shape (see _absolute).
_ANY_PK = 918_273_645_546_372_819


def _absolute(request, name: str, *args: Any) -> str:
    """The absolute URL of a route. For one integer key (a record's URL), the route is reversed once per
    request with a stand-in key and then filled in: reverse() for each row of a list cost about a tenth
    of a claim list page (docs/performance.md)."""
    if request is None or len(args) != 1 or type(args[0]) is not int:
        return reverse(name, args=args, request=request)
    shapes = request.__dict__.setdefault("_evidence_url_shapes", {})
    shape = shapes.get(name)
    if shape is None:
        shape = shapes[name] = tuple(reverse(name, args=[_ANY_PK], request=request).split(str(_ANY_PK)))
    if len(shape) != 2:  # the stand-in appears elsewhere in the URL too: nothing to fill in safely
        return reverse(name, args=args, request=request)
    return f"{shape[0]}{args[0]}{shape[1]}"


# --- Articles --------------------------------------------------------------------------------------------


class ArticleSerializer(serializers.ModelSerializer):
    """An article under review, without its text (the detail has it)."""

    n_claims = serializers.IntegerField(read_only=True, help_text="Claims recorded for the article.")
    original_url = serializers.CharField(
        source="url", read_only=True, help_text="The article at its publisher; empty when unknown."
    )
    url = serializers.SerializerMethodField(help_text="This record in the API.")
    html_url = serializers.SerializerMethodField(help_text="The article's page, with every claim marked.")
    claimreview_url = serializers.SerializerMethodField(help_text="Its ClaimReview feed (JSON-LD).")
    annotations_url = serializers.SerializerMethodField(help_text="Its claims as W3C Web Annotations (JSON-LD).")

    class Meta:
        model = Article
        fields = [
            "slug",
            "title",
            "author",
            "publisher",
            "original_url",
            "published_on",
            "n_claims",
            "url",
            "html_url",
            "claimreview_url",
            "annotations_url",
        ]

    def get_url(self, article: Article) -> str:
        return _absolute(self.context.get("request"), "api:article-detail", article.slug)

    def get_html_url(self, article: Article) -> str:
        return _absolute(self.context.get("request"), "evidence:article-detail", article.slug)

    def get_claimreview_url(self, article: Article) -> str:
        return _absolute(self.context.get("request"), "evidence:article-claimreview", article.slug)

    def get_annotations_url(self, article: Article) -> str:
        return _absolute(self.context.get("request"), "evidence:article-annotations", article.slug)


class ArticleDetailSerializer(ArticleSerializer):
    """An article with its full text; claims' ``anchor.start``/``end`` are offsets into ``text``."""

    class Meta(ArticleSerializer.Meta):
        fields = [*ArticleSerializer.Meta.fields, "text", "headings", "created_at", "updated_at"]


# --- Studies -----------------------------------------------------------------------------------------------


class StudySummarySerializer(serializers.ModelSerializer):
    """A study as a citation shows it."""

    display_title = serializers.CharField(read_only=True)
    url = serializers.SerializerMethodField(help_text="This study in the API.")

    class Meta:
        model = Study
        fields = [
            "id",
            "citation_key",
            "display_title",
            "year",
            "container_title",
            "doi",
            "pmid",
            "design",
            "sample_size",
            "retraction_status",
            "verified",
            "url",
        ]

    def get_url(self, study: Study) -> str:
        return _absolute(self.context.get("request"), "api:study-detail", study.pk)


STUDY_FIELDS = [
    "citation_key",
    "work_type",
    "title",
    "authors",
    "author_list_complete",
    "container_title",
    "publisher",
    "year",
    "month",
    "day",
    "volume",
    "issue",
    "pages",
    "doi",
    "pmid",
    "isbn",
    "url",
    "abstract",
    "design",
    "sample_size",
    "population",
    "retraction_status",
    "retraction_date",
    "retraction_doi",
    "retraction_note",
    "verified",
    "verified_from",
    "unconfirmed_leads",
    "note",
    "internal_note",
]


class StudySerializer(serializers.ModelSerializer):
    """A study with its CSL-JSON-level metadata, design, retraction status and verification."""

    display_title = serializers.CharField(read_only=True)
    # the study's own address, often empty: a plain string (an empty one is no URI)
    url = serializers.CharField(read_only=True, help_text="The work online, when known; empty otherwise.")
    n_claims = serializers.IntegerField(read_only=True, help_text="Citations of the study by claims.")
    doi_url = serializers.CharField(read_only=True)
    pubmed_url = serializers.CharField(read_only=True)
    api_url = serializers.SerializerMethodField(help_text="This study in the API.")
    html_url = serializers.SerializerMethodField(help_text="The study's page.")

    class Meta:
        model = Study
        fields = [
            "id",
            "display_title",
            *STUDY_FIELDS,
            "doi_url",
            "pubmed_url",
            "n_claims",
            "created_at",
            "updated_at",
            "api_url",
            "html_url",
        ]

    def get_fields(self) -> dict[str, serializers.Field]:
        # the curators' research notes are for those who keep the library, never for readers
        fields = super().get_fields()
        request = self.context.get("request")
        if request is None or not sees_internal_notes(request.user):
            fields.pop("internal_note", None)
        return fields

    def get_api_url(self, study: Study) -> str:
        return _absolute(self.context.get("request"), "api:study-detail", study.pk)

    def get_html_url(self, study: Study) -> str:
        return _absolute(self.context.get("request"), "evidence:study-detail", study.pk)


class CitingClaimSerializer(serializers.ModelSerializer):
    """A claim citing a study, as the study's page lists it."""

    claim = serializers.IntegerField(source="claim_id", read_only=True)
    claim_key = serializers.CharField(source="claim.key", read_only=True)
    claim_quote = serializers.CharField(source="claim.quote", read_only=True)
    article = serializers.CharField(source="claim.article.slug", read_only=True)

    class Meta:
        model = Citation
        fields = ["id", "claim", "claim_key", "claim_quote", "article", "relation", "note"]


class StudyDetailSerializer(StudySerializer):
    citations = CitingClaimSerializer(many=True, read_only=True, help_text="The claims that cite this study.")

    class Meta(StudySerializer.Meta):
        fields = [*StudySerializer.Meta.fields, "citations"]


class StudyWriteSerializer(StrictModelSerializer):
    """The fields a curator sets; DOI and PMID may be given in any common form (https://doi.org/…, pmid:…)
    and are stored normalised. Uniqueness of DOI and PMID is checked by the service, which names the study
    that already has one."""

    class Meta:
        model = Study
        fields = STUDY_FIELDS
        # the service checks DOI/PMID uniqueness after normalising them
        validators: list = []
        extra_kwargs = {"doi": {"validators": []}, "pmid": {"validators": []}}

    def validate_authors(self, value: Any) -> list[dict[str, str]]:
        validate_csl_names(value)  # the model field's rule, which the admin's form applies too
        return value

    def validate_verified_from(self, value: Any) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise serializers.ValidationError("A list of texts naming the sources that confirmed the record.")
        return value

    def validate_unconfirmed_leads(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise serializers.ValidationError("An object: field name → value seen in an unreliable place.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # PostgreSQL stores no NUL character, in text or JSON; DRF's text fields refuse them, JSON ones not
        errors = {name: "NUL characters are not allowed." for name, value in attrs.items() if holds_nul(value)}
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


# --- Claims, their citations, consensus and flags ---------------------------------------------------------


class CitationSerializer(serializers.ModelSerializer):
    """The link between a claim and a study: what the study shows for it, and how directly it applies."""

    claim = serializers.IntegerField(source="claim_id", read_only=True)
    study = StudySummarySerializer(read_only=True)
    url = serializers.SerializerMethodField(help_text="This citation in the API.")

    class Meta:
        model = Citation
        fields = [
            "id",
            "claim",
            "study",
            "relation",
            "note",
            "directness",
            "directness_note",
            "created_at",
            "updated_at",
            "url",
        ]

    def get_url(self, citation: Citation) -> str:
        return _absolute(self.context.get("request"), "api:citation-detail", citation.pk)


class CitationCreateSerializer(StrictModelSerializer):
    """Link a study to a claim."""

    claim = StrictPrimaryKeyRelatedField(queryset=Claim.objects.all())
    study = StrictPrimaryKeyRelatedField(queryset=Study.objects.all())

    class Meta:
        model = Citation
        fields = ["claim", "study", "relation", "note", "directness", "directness_note"]
        validators: list = []  # citation_create reports an existing link in words


class CitationUpdateSerializer(StrictModelSerializer):
    """Change what a citation says; to cite another study, delete it and create a new one."""

    class Meta:
        model = Citation
        fields = ["relation", "note", "directness", "directness_note"]


class FlagSerializer(serializers.ModelSerializer):
    """A mark that a claim needs attention, as readers see it: who raised it is not shown, only whether
    the system did (e.g. a cited study was retracted)."""

    claim = serializers.IntegerField(source="claim_id", read_only=True)
    study = serializers.IntegerField(source="study_id", read_only=True, allow_null=True)
    raised_by_system = serializers.BooleanField(read_only=True)

    class Meta:
        model = Flag
        fields = [
            "id",
            "claim",
            "reason",
            "study",
            "note",
            "status",
            "raised_by_system",
            "raised_at",
            "resolved_at",
            "resolution_note",
        ]


class FlagRaiseSerializer(serializers.Serializer):
    claim = StrictPrimaryKeyRelatedField(queryset=Claim.objects.all())
    reason = serializers.ChoiceField(choices=Flag.Reason.choices)
    note = StrictCharField(required=False, allow_blank=True, default="")
    study = StrictPrimaryKeyRelatedField(
        queryset=Study.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="The study the flag is about; it must be cited by the claim.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        study = attrs.get("study")
        if study is not None and not Citation.objects.filter(claim=attrs["claim"], study=study).exists():
            raise serializers.ValidationError({"study": "The claim does not cite this study."})
        return attrs


class FlagCloseSerializer(serializers.Serializer):
    note = StrictCharField(required=False, allow_blank=True, default="", help_text="Why it was closed.")


class PublishedConsensusSerializer(serializers.ModelSerializer):
    """The verdict readers see: the snapshot taken when an editor published, and how far the reviewers
    agreed then (the published verdict version's figures, never a re-review round's)."""

    verdict = serializers.CharField(source="published_verdict")
    certainty = serializers.CharField(source="published_certainty")
    rationale = serializers.CharField(source="published_rationale")
    version = serializers.IntegerField(
        source="published_version.number", help_text="Its number among the claim's verdict versions."
    )
    last_reviewed_at = serializers.DateTimeField(source="published_version.last_reviewed_at", allow_null=True)
    n_reviews = serializers.IntegerField(source="published_version.n_reviews")
    certainty_spread = serializers.IntegerField(
        source="published_version.certainty_spread", help_text="Levels between the highest and lowest certainty given."
    )
    verdict_split = serializers.BooleanField(source="published_version.verdict_split")
    adjudicated = serializers.BooleanField(
        source="published_version.adjudicated", help_text="An editor decided after a dispute."
    )
    how_reached = serializers.CharField(source="published_version.how_reached")

    class Meta:
        model = Consensus
        fields = [
            "verdict",
            "certainty",
            "rationale",
            "version",
            "published_at",
            "last_reviewed_at",
            "n_reviews",
            "certainty_spread",
            "verdict_split",
            "adjudicated",
            "how_reached",
        ]


class VerdictVersionSerializer(serializers.ModelSerializer):
    """One published verdict of a claim, as it was published (its permalink is ``html_url``)."""

    html_url = serializers.SerializerMethodField(help_text="The version's permanent page.")

    class Meta:
        model = VerdictVersion
        fields = [
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
            "html_url",
        ]

    def get_html_url(self, version: VerdictVersion) -> str:
        request = self.context.get("request")
        url = version.get_absolute_url()
        return request.build_absolute_uri(url) if request is not None else url


class RereviewSerializer(serializers.Serializer):
    round = serializers.IntegerField(source="number", help_text="The review round under way.")
    since = serializers.DateTimeField(source="opened_at")
    reason = serializers.CharField()


class EditorConsensusSerializer(serializers.ModelSerializer):
    """The whole consensus row, as the editor's page shows it: what the reviews add up to, the
    adjudication and the published snapshot."""

    claim = serializers.IntegerField(source="claim_id", read_only=True)

    class Meta:
        model = Consensus
        fields = [
            "claim",
            "n_reviews",
            "certainty",
            "verdict",
            "certainty_spread",
            "verdict_split",
            "disputed",
            "last_reviewed_at",
            "adjudicated_certainty",
            "adjudicated_verdict",
            "adjudication_rationale",
            "adjudicated_at",
            "published_certainty",
            "published_verdict",
            "published_rationale",
            "published_at",
        ]


def published_consensus(claim: Claim) -> Consensus | None:
    consensus = consensus_of(claim)
    return consensus if consensus is not None and consensus.is_published else None


class EvidenceCountsSerializer(serializers.Serializer):
    n_supporting = serializers.IntegerField(help_text="Supporting studies, retracted ones left out.")
    n_mixed = serializers.IntegerField()
    n_contradicting = serializers.IntegerField()
    n_context = serializers.IntegerField()
    n_open_flags = serializers.IntegerField()
    relies_on_retracted = serializers.BooleanField(help_text="Cites a retracted study as support or mixed.")


class AnchorSerializer(serializers.Serializer):
    """Where the quote stands in the article's text: a W3C TextPositionSelector (start, end; Python string
    offsets, end exclusive) and TextQuoteSelector (the quote with prefix and suffix). An orphan's quote is
    no longer in the current text: its start and end are null, and its prefix and suffix are where it was
    last found."""

    state = serializers.ChoiceField(
        choices=Claim.AnchorState.choices,
        help_text="anchored, or orphaned: a revision of the article's text no longer holds the quote.",
    )
    start = serializers.IntegerField(allow_null=True, help_text="null for an orphan")
    end = serializers.IntegerField(allow_null=True, help_text="null for an orphan")
    prefix = serializers.CharField()
    suffix = serializers.CharField()

    def to_representation(self, claim: Claim) -> dict[str, Any]:
        # an orphan's offsets refer to an earlier revision of the text: in this one they select other words
        orphan = claim.is_orphaned
        return {
            "state": claim.anchor_state,
            "start": None if orphan else claim.start,
            "end": None if orphan else claim.end,
            "prefix": claim.prefix,
            "suffix": claim.suffix,
        }


class ClaimSerializer(serializers.ModelSerializer):
    """A claim with where it stands in the text, its evidence, its published verdict, open flags and
    citations."""

    article = serializers.CharField(source="article.slug", read_only=True, help_text="The article's slug.")
    article_title = serializers.CharField(source="article.title", read_only=True)
    anchor = serializers.SerializerMethodField()
    evidence_status = serializers.SerializerMethodField(
        help_text="The published verdict, or unreviewed: supported, partly_supported, unsupported, contradicted."
    )
    evidence = serializers.SerializerMethodField()
    consensus = serializers.SerializerMethodField(help_text="The published verdict; null until one is published.")
    open_flags = serializers.SerializerMethodField()
    citations = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField(help_text="This claim in the API.")
    html_url = serializers.SerializerMethodField(help_text="The claim's page.")

    class Meta:
        model = Claim
        fields = [
            "id",
            "key",
            "article",
            "article_title",
            "quote",
            "anchor",
            "section",
            "kind",
            "substance",
            "claim_type",
            "secondary_types",
            "evidence_note",
            "attributed_to",
            "attribution_status",
            "attribution_note",
            "status",
            "evidence_status",
            "consensus",
            "evidence",
            "open_flags",
            "citations",
            "created_at",
            "updated_at",
            "url",
            "html_url",
        ]

    @extend_schema_field(AnchorSerializer)
    def get_anchor(self, claim: Claim) -> dict[str, Any]:
        return self._anchor_serializer.to_representation(claim)

    @extend_schema_field(
        serializers.ChoiceField(choices=["supported", "partly_supported", "unsupported", "contradicted", "unreviewed"])
    )
    def get_evidence_status(self, claim: Claim) -> str:
        return status_for(claim.public_verdict).key

    # The nested parts are written by serializers built once per response, not once per claim: building a
    # DRF serializer (copying its declared fields, deriving the others from the model) costs far more than
    # using it, and a page of 25 claims built about 250 of them (docs/performance.md, API claim list).
    @cached_property
    def _anchor_serializer(self) -> AnchorSerializer:
        return AnchorSerializer(context=self.context)

    @cached_property
    def _evidence_serializer(self) -> EvidenceCountsSerializer:
        return EvidenceCountsSerializer(context=self.context)

    @cached_property
    def _consensus_serializer(self) -> PublishedConsensusSerializer:
        return PublishedConsensusSerializer(context=self.context)

    @cached_property
    def _flag_serializer(self) -> FlagSerializer:
        return FlagSerializer(context=self.context)

    @cached_property
    def _citation_serializer(self) -> CitationSerializer:
        return CitationSerializer(context=self.context)

    def _flags(self, claim: Claim, *, is_open: bool) -> list[dict[str, Any]]:
        # the view prefetches every flag of the page's claims in one query
        write = self._flag_serializer.to_representation
        return [write(flag) for flag in claim.flags.all() if flag.is_open == is_open]

    @extend_schema_field(EvidenceCountsSerializer)
    def get_evidence(self, claim: Claim) -> dict[str, Any]:
        return self._evidence_serializer.to_representation(claim)

    @extend_schema_field(PublishedConsensusSerializer(allow_null=True))
    def get_consensus(self, claim: Claim) -> dict[str, Any] | None:
        consensus = published_consensus(claim)
        return self._consensus_serializer.to_representation(consensus) if consensus is not None else None

    @extend_schema_field(FlagSerializer(many=True))
    def get_open_flags(self, claim: Claim) -> list[dict[str, Any]]:
        return self._flags(claim, is_open=True)

    @extend_schema_field(CitationSerializer(many=True))
    def get_citations(self, claim: Claim) -> list[dict[str, Any]]:
        write = self._citation_serializer.to_representation
        return [write(citation) for citation in claim.citations.all()]

    def get_url(self, claim: Claim) -> str:
        return _absolute(self.context.get("request"), "api:claim-detail", claim.pk)

    def get_html_url(self, claim: Claim) -> str:
        return _absolute(self.context.get("request"), "evidence:claim-detail", claim.pk)


class ClaimDetailSerializer(ClaimSerializer):
    closed_flags = serializers.SerializerMethodField(help_text="Flags resolved or dismissed.")
    verdict_versions = VerdictVersionSerializer(
        many=True, read_only=True, help_text="Every verdict published on the claim, newest first."
    )
    under_rereview = serializers.SerializerMethodField(
        help_text="The re-review round under way over the published verdict (its reviews are blind); null when none."
    )

    class Meta(ClaimSerializer.Meta):
        fields = [*ClaimSerializer.Meta.fields, "closed_flags", "verdict_versions", "under_rereview"]

    @extend_schema_field(RereviewSerializer(allow_null=True))
    def get_under_rereview(self, claim: Claim) -> dict[str, Any] | None:
        consensus = published_consensus(claim)
        if consensus is None or not consensus.under_rereview:
            return None
        # the view prefetches the claim's rounds, oldest first
        rounds = list(claim.review_rounds.all())
        return RereviewSerializer(rounds[-1]).data if rounds else None

    @extend_schema_field(FlagSerializer(many=True))
    def get_closed_flags(self, claim: Claim) -> list[dict[str, Any]]:
        return self._flags(claim, is_open=False)


# --- Reviews -----------------------------------------------------------------------------------------------


class ReviewSerializer(serializers.ModelSerializer):
    """One reviewer's rating of one claim: GRADE as GRADEpro records it, the verdict, the declaration."""

    claim = serializers.IntegerField(source="claim_id", read_only=True)
    reviewer = serializers.SerializerMethodField(help_text="The reviewer's name as the pages show it.")
    is_own = serializers.SerializerMethodField(help_text="The signed-in user wrote this review.")
    computed_certainty = serializers.SerializerMethodField(
        help_text='The certainty the GRADE ratings give; "" for a review saved before the design was recorded.'
    )

    class Meta:
        model = Review
        fields = [
            "id",
            "claim",
            "round",
            "reviewer",
            "is_own",
            "certainty",
            "computed_certainty",
            "certainty_reason",
            "verdict",
            "evidence_design",
            *DOWNGRADE_DOMAINS,
            "large_effect",
            "dose_response",
            "plausible_confounding",
            "read_full_text",
            "rationale",
            "conflict_of_interest",
            "conflict_statement",
            "created_at",
            "updated_at",
        ]

    def get_reviewer(self, review: Review) -> str:
        return review.reviewer.get_full_name() or review.reviewer.get_username()

    def get_is_own(self, review: Review) -> bool:
        request = self.context.get("request")
        return bool(request is not None and request.user.is_authenticated and review.reviewer_id == request.user.pk)

    @extend_schema_field(serializers.ChoiceField(choices=["", *Certainty.values]))
    def get_computed_certainty(self, review: Review) -> str:
        return review.computed_certainty


def _concern_field(domain: str) -> serializers.ChoiceField:
    return serializers.ChoiceField(
        choices=Concern.choices,
        required=False,
        default=Concern.NOT_SERIOUS,
        help_text=f"GRADE downgrade for {str(DOWNGRADE_DOMAINS[domain]).lower()}: -1 serious, -2 very serious.",
    )


class ReviewWriteSerializer(serializers.Serializer):
    """The signed-in reviewer's rating of the claim; the same fields whether creating or replacing it.
    reviews.services.review_upsert checks the GRADE rules and the declaration; its refusals come back on
    these fields."""

    evidence_design = serializers.ChoiceField(
        choices=EvidenceDesign.choices, help_text="GRADE's starting level: randomised trials high, observational low."
    )
    risk_of_bias = _concern_field("risk_of_bias")
    inconsistency = _concern_field("inconsistency")
    indirectness = _concern_field("indirectness")
    imprecision = _concern_field("imprecision")
    publication_bias = _concern_field("publication_bias")
    large_effect = serializers.ChoiceField(
        choices=LargeEffect.choices,
        required=False,
        default=LargeEffect.NO,
        help_text="Observational evidence only: +1 large, +2 very large.",
    )
    dose_response = StrictBooleanField(required=False, default=False, help_text="Observational evidence only: +1.")
    plausible_confounding = StrictBooleanField(
        required=False, default=False, help_text="Observational evidence only: +1 (opposing plausible confounding)."
    )
    certainty = serializers.ChoiceField(
        choices=Certainty.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="GRADE certainty of the evidence; empty or absent: the one the ratings give. Another, at most "
        "one level away, needs certainty_reason.",
    )
    certainty_reason = StrictCharField(
        required=False, allow_blank=True, default="", help_text="Why the certainty differs from the computed one."
    )
    verdict = serializers.ChoiceField(choices=Verdict.choices)
    rationale = StrictCharField(
        help_text="Why this certainty and verdict; readers see it once the verdict is published."
    )
    read_full_text = StrictBooleanField(required=False, default=False)
    conflict_of_interest = serializers.ChoiceField(
        choices=Conflict.choices, help_text='"none", or "declared" with conflict_statement.'
    )
    conflict_statement = StrictCharField(
        required=False, allow_blank=True, default="", help_text="What the declared conflict of interest is."
    )


class DecisionSerializer(serializers.Serializer):
    """An editor's adjudication: the certainty and verdict that replace the reviewers' median and majority."""

    certainty = serializers.ChoiceField(choices=Certainty.choices)
    verdict = serializers.ChoiceField(choices=Verdict.choices)
    rationale = StrictCharField(help_text="Why, recorded with your name and the time.")


class PublishSerializer(serializers.Serializer):
    rationale = StrictCharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="The summary readers see with the verdict; empty: the adjudication's rationale.",
    )


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text='Send it as "Authorization: Token <token>".')
