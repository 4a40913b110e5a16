"""Filters for the API's lists that have no page of their own: citations, flags and reviews.

Claims and studies are filtered by the pages' own FilterSets (evidence.filters.ClaimFilter and
StudyFilter), never redefined here. These narrow a list to one claim, study or article, so a client can
read a claim's citations or reviews without walking every page.
"""

from __future__ import annotations

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from evidence.api.fields import StrictIntegerFormField
from evidence.models import Citation, Relation
from reviews.models import Flag, Review


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """A record's id: digits, so "1.5" or "1.0" is refused rather than rounded."""

    field_class = StrictIntegerFormField


class CitationFilter(django_filters.FilterSet):
    claim = IdFilter(field_name="claim_id", label="Claim id")
    study = IdFilter(field_name="study_id", label="Study id")
    article = django_filters.CharFilter(field_name="claim__article__slug", label="Article slug", max_length=200)
    relation = django_filters.ChoiceFilter(choices=Relation.choices)

    class Meta:
        model = Citation
        fields: list[str] = []


class FlagFilter(django_filters.FilterSet):
    claim = IdFilter(field_name="claim_id", label="Claim id")
    article = django_filters.CharFilter(field_name="claim__article__slug", label="Article slug", max_length=200)
    status = django_filters.ChoiceFilter(choices=Flag.Status.choices)
    reason = django_filters.ChoiceFilter(choices=Flag.Reason.choices)

    class Meta:
        model = Flag
        fields: list[str] = []


class ReviewFilter(django_filters.FilterSet):
    claim = IdFilter(field_name="claim_id", label="Claim id")
    article = django_filters.CharFilter(field_name="claim__article__slug", label="Article slug", max_length=200)

    class Meta:
        model = Review
        fields: list[str] = []
