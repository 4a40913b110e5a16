"""Articles and studies as the API shows and takes them."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.reverse import reverse

from evidence.api.fields import (
    StrictModelSerializer,
)
from evidence.models import Article, Citation, Study, sees_internal_notes, validate_csl_names
from evidence.storable import holds_nul

# A record number no real URL holds, reversed in its place to learn a route's shape (see absolute_url).
_ANY_PK = 918_273_645_546_372_819


def absolute_url(request, name: str, *args: Any) -> str:
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
        return absolute_url(self.context.get("request"), "api:article-detail", article.slug)

    def get_html_url(self, article: Article) -> str:
        return absolute_url(self.context.get("request"), "evidence:article-detail", article.slug)

    def get_claimreview_url(self, article: Article) -> str:
        return absolute_url(self.context.get("request"), "evidence:article-claimreview", article.slug)

    def get_annotations_url(self, article: Article) -> str:
        return absolute_url(self.context.get("request"), "evidence:article-annotations", article.slug)


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
        return absolute_url(self.context.get("request"), "api:study-detail", study.pk)


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
        return absolute_url(self.context.get("request"), "api:study-detail", study.pk)

    def get_html_url(self, study: Study) -> str:
        return absolute_url(self.context.get("request"), "evidence:study-detail", study.pk)


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
