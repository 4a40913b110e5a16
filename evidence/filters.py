"""django-filter FilterSets for the claim and study lists, shared by the pages, the exports and the API.

Every filter is a GET parameter, so a filtered list is a URL that can be shared. Invalid values are
reported as form errors and ignored, never a server error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import django_filters
from django import forms
from django.db.models import Case, Exists, IntegerField, Q, QuerySet, Value, When
from django.utils.choices import BaseChoiceIterator

from evidence import caching
from evidence.designs import UNCLASSIFIED_PARAMETER
from evidence.models import (
    Article,
    Claim,
    ClaimStatus,
    ClaimType,
    RetractionStatus,
    Study,
    StudyDesign,
)
from evidence.search import search_claims, search_studies
from reviews.claims import has_open_flag
from reviews.models import Certainty, Verdict

YES_NO = [("yes", "Yes"), ("no", "No")]
UNREVIEWED = "unreviewed"


def _yes_no(queryset: QuerySet, condition: Exists, value: str) -> QuerySet:
    if value == "yes":
        return queryset.filter(condition)
    if value == "no":
        return queryset.filter(~condition)
    return queryset


class LazyChoices(BaseChoiceIterator):
    """Choices computed on first use. Unlike a callable, templates can loop over them (django-filter's
    choice iterator asks for len()). A choice iterator, so that Django's normalize_choices() hands them
    on as they are instead of walking every (value, label) pair on each render: they are pairs of
    strings already."""

    def __init__(self, compute: Callable[[], list[tuple[str, str]]]) -> None:
        self._compute = compute
        self._choices: list[tuple[str, str]] | None = None

    def _list(self) -> list[tuple[str, str]]:
        if self._choices is None:
            self._choices = self._compute()
        return self._choices

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._list())

    def __getitem__(self, index):
        return self._list()[index]

    def __len__(self) -> int:
        return len(self._list())


def article_choices(version: int) -> list[tuple[str, str]]:
    """(slug, title) of every article, cached per data version: the filter lists them all."""

    def read() -> list[tuple[str, str]]:
        return list(Article.objects.order_by("title", "pk").values_list("slug", "title"))

    return caching.cached("article-choices", read, version)


def substance_choices(version: int) -> list[tuple[str, str]]:
    """The substances claims are about: a DISTINCT over every claim, so cached per data version."""

    def read() -> list[tuple[str, str]]:
        values = Claim.objects.exclude(substance="").order_by("substance").values_list("substance", flat=True)
        return [(value, value) for value in values.distinct()]

    return caching.cached("substance-choices", read, version)


def _certainty_rank(prefix: str) -> Case:
    return Case(
        *[When(**{prefix: value}, then=Value(Certainty.rank(value))) for value in Certainty.values],
        default=Value(0),
        output_field=IntegerField(),
    )


# sort= values: label, ORDER BY. Every ordering ends on a unique column so pages never overlap.
CLAIM_SORTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "position": ("Order in the article", ("article__title", "article_id", "start", "pk")),
    "newest": ("Newest first", ("-created_at", "-pk")),
    "strongest": ("Strongest evidence first", ("-certainty_rank", "article_id", "start", "pk")),
    "weakest": ("Weakest evidence first", ("certainty_rank", "article_id", "start", "pk")),
    "most_support": ("Most supporting studies", ("-n_supporting", "article_id", "start", "pk")),
}
STUDY_SORTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "newest": ("Newest first", ("-year", "title", "pk")),
    "oldest": ("Oldest first", ("year", "title", "pk")),
    "title": ("Title A–Z", ("title", "pk")),
    "largest": ("Largest sample first", ("-sample_size", "pk")),
}


class ClaimFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Search claims", method="filter_q", max_length=500)
    # Every label is written out. Without one, django-filter derives it from the model field when it first
    # builds the filter's form field ("Article slug"; "[invalid name]" for a method filter), unless the API
    # schema generator built it first, without a model: then the form fell back to the parameter's name.
    # The page's labels depended on which was requested first.
    article = django_filters.ChoiceFilter(
        choices=[], field_name="article__slug", empty_label="All articles", label="Article"
    )
    substance = django_filters.ChoiceFilter(choices=[], empty_label="All substances", label="Substance")
    claim_type = django_filters.ChoiceFilter(choices=ClaimType.choices, empty_label="All types", label="Claim type")
    verdict = django_filters.ChoiceFilter(
        choices=[*Verdict.choices, (UNREVIEWED, "Not yet reviewed")],
        method="filter_verdict",
        empty_label="Any verdict",
        label="Verdict",
    )
    certainty = django_filters.ChoiceFilter(
        choices=Certainty.choices,
        field_name="consensus__published_certainty",
        empty_label="Any certainty",
        label="Certainty",
    )
    status = django_filters.ChoiceFilter(choices=ClaimStatus.choices, empty_label="Any status", label="Review status")
    flagged = django_filters.ChoiceFilter(
        choices=YES_NO, method="filter_flagged", empty_label="Either", label="Has open flags"
    )
    retracted = django_filters.ChoiceFilter(
        choices=YES_NO, method="filter_retracted", empty_label="Either", label="Relies on a retracted study"
    )
    unsupported = django_filters.ChoiceFilter(
        choices=YES_NO, method="filter_unsupported", empty_label="Either", label="Has no supporting study"
    )
    sort = django_filters.ChoiceFilter(
        choices=[(key, label) for key, (label, _) in CLAIM_SORTS.items()],
        method="filter_sort",
        empty_label="Relevance / article order",
        label="Sort by",
    )

    class Meta:
        model = Claim
        fields: list[str] = []

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)

        # Read only when needed (a value to validate, a form to draw), then from the cache, usually: the
        # API's list without these parameters never reads them.
        def version() -> int:
            return caching.request_version(self.request)[0] if self.request else caching.current()[0]

        # Set on the form field itself: a filter builds its field once and caches it, and a deep copy of a
        # filter whose field was already built (e.g. by the API schema generator) would keep the old one.
        self.filters["substance"].field.choices = LazyChoices(lambda: substance_choices(version()))
        self.filters["article"].field.choices = LazyChoices(lambda: article_choices(version()))

    def filter_queryset(self, queryset: QuerySet[Claim]) -> QuerySet[Claim]:
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("sort") and not self.form.cleaned_data.get("q"):
            queryset = queryset.order_by(*CLAIM_SORTS["position"][1])
        return queryset

    def filter_sort(self, queryset: QuerySet[Claim], name: str, value: str) -> QuerySet[Claim]:
        # runs after q= (declared later), so an explicit sort replaces the search ranking
        queryset = queryset.annotate(certainty_rank=_certainty_rank("consensus__published_certainty"))
        return queryset.order_by(*CLAIM_SORTS[value][1])

    def filter_q(self, queryset: QuerySet[Claim], name: str, value: str) -> QuerySet[Claim]:
        return search_claims(queryset, value, rank=not self.data.get("sort"))

    def filter_verdict(self, queryset: QuerySet[Claim], name: str, value: str) -> QuerySet[Claim]:
        if value == UNREVIEWED:
            return queryset.filter(Q(consensus__isnull=True) | Q(consensus__published_verdict=""))
        return queryset.filter(consensus__published_verdict=value)

    def filter_flagged(self, queryset: QuerySet[Claim], name: str, value: str) -> QuerySet[Claim]:
        return _yes_no(queryset, has_open_flag(), value)

    def filter_retracted(self, queryset: QuerySet[Claim], name: str, value: str) -> QuerySet[Claim]:
        return queryset.relying_on_retracted(value == "yes") if value in {"yes", "no"} else queryset

    def filter_unsupported(self, queryset: QuerySet[Claim], name: str, value: str) -> QuerySet[Claim]:
        # n_supporting (ClaimQuerySet.with_evidence) already leaves retracted studies out
        if value == "yes":
            return queryset.filter(n_supporting=0)
        if value == "no":
            return queryset.filter(n_supporting__gt=0)
        return queryset


class StudyFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Search title, author, DOI or PMID", method="filter_q", max_length=500)
    # "" is "any design" to a filter, so the studies nobody has classified yet go by a word of their own
    design = django_filters.ChoiceFilter(
        choices=[
            *((value, label) for value, label in StudyDesign.choices if value),
            (UNCLASSIFIED_PARAMETER, StudyDesign.UNCLASSIFIED.label),
        ],
        method="filter_design",
        empty_label="Any design",
        label="Design",
    )
    year_min = django_filters.NumberFilter(
        field_name="year", lookup_expr="gte", label="From year", widget=forms.NumberInput(attrs={"min": 1000})
    )
    year_max = django_filters.NumberFilter(
        field_name="year", lookup_expr="lte", label="To year", widget=forms.NumberInput(attrs={"max": 2999})
    )
    retracted = django_filters.ChoiceFilter(
        choices=YES_NO, method="filter_retracted", empty_label="Either", label="Retracted"
    )
    verified = django_filters.ChoiceFilter(
        choices=YES_NO, method="filter_verified", empty_label="Either", label="Metadata verified"
    )
    sort = django_filters.ChoiceFilter(
        choices=[(key, label) for key, (label, _) in STUDY_SORTS.items()],
        method="filter_sort",
        empty_label="Relevance / newest",
        label="Sort by",
    )

    class Meta:
        model = Study
        fields: list[str] = []

    def filter_queryset(self, queryset: QuerySet[Study]) -> QuerySet[Study]:
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("sort") and not self.form.cleaned_data.get("q"):
            queryset = queryset.order_by(*STUDY_SORTS["newest"][1])
        return queryset

    def filter_sort(self, queryset: QuerySet[Study], name: str, value: str) -> QuerySet[Study]:
        return queryset.order_by(*STUDY_SORTS[value][1])

    def filter_q(self, queryset: QuerySet[Study], name: str, value: str) -> QuerySet[Study]:
        return search_studies(queryset, value, rank=not self.data.get("sort"))

    def filter_design(self, queryset: QuerySet[Study], name: str, value: str) -> QuerySet[Study]:
        return queryset.unclassified() if value == UNCLASSIFIED_PARAMETER else queryset.filter(design=value)

    def filter_retracted(self, queryset: QuerySet[Study], name: str, value: str) -> QuerySet[Study]:
        if value == "yes":
            return queryset.filter(retraction_status=RetractionStatus.RETRACTED)
        if value == "no":
            return queryset.exclude(retraction_status=RetractionStatus.RETRACTED)
        return queryset

    def filter_verified(self, queryset: QuerySet[Study], name: str, value: str) -> QuerySet[Study]:
        return queryset.filter(verified=value == "yes") if value in {"yes", "no"} else queryset
