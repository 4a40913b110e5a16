"""Claims with their anchors, citations, flags and published verdicts (with their versions)."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from evidence.api.fields import (
    StrictCharField,
    StrictModelSerializer,
    StrictPrimaryKeyRelatedField,
)
from evidence.api.serializers.library import StudySummarySerializer, absolute_url
from evidence.models import Citation, Claim, Study
from evidence.status import status_for
from reviews.models import Consensus, Flag, VerdictVersion, consensus_of

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
        return absolute_url(self.context.get("request"), "api:citation-detail", citation.pk)


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
        fields = [*VerdictVersion.PUBLIC_FIELDS, "html_url"]

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
        return absolute_url(self.context.get("request"), "api:claim-detail", claim.pk)

    def get_html_url(self, claim: Claim) -> str:
        return absolute_url(self.context.get("request"), "evidence:claim-detail", claim.pk)


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
