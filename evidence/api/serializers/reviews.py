"""Reviews with their GRADE ratings, editors' decisions and publication, and sign-in tokens."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from evidence.api.fields import (
    StrictBooleanField,
    StrictCharField,
)
from reviews.access import SEE_ALL_REVIEWS
from reviews.grade import DOWNGRADE_DOMAINS, Concern, EvidenceDesign, LargeEffect
from reviews.models import Certainty, Conflict, Review, Verdict, public_profile

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
        """Who wrote it, as the claim page says it: readers see the name of a reviewer who made their profile
        public (reviews.models.public_profile), else "Reviewer"; editors, who see every review, and the
        reviewer themselves see the account's name."""
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is not None and (user.has_perm(SEE_ALL_REVIEWS) or review.reviewer_id == user.pk):
            return review.reviewer.get_full_name() or review.reviewer.get_username()
        profile = public_profile(review.reviewer)
        return profile.display_name if profile is not None else "Reviewer"

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
