"""Input validation for articles, claims and studies, shared by the admin and the pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.forms.fields import InvalidJSONInput

from evidence import jsonlimits
from evidence.models import Article, Claim, SitePage, Study, validate_csl_names
from evidence.services.claims import claim_anchor
from evidence.services.studies import study_identifier_clean
from evidence.storable import holds_nul


def _empty_json_is_default(form: forms.ModelForm, cleaned: dict[str, Any]) -> None:
    """An emptied JSON box means "nothing", i.e. the field's default ([] or {}), not NULL, which these
    NOT NULL columns refuse."""
    for name, value in cleaned.items():
        if value is not None:
            continue
        field = form._meta.model._meta.get_field(name) if name in form.fields else None
        if isinstance(field, models.JSONField) and not field.null:
            cleaned[name] = field.get_default()


def _refuse_nul_in_json(form: forms.ModelForm, cleaned: dict[str, Any]) -> None:
    """PostgreSQL's jsonb refuses "\\u0000" (a DataError on save: a 500). Form CharFields refuse NUL
    characters, but a JSON field's validators see the decoded value, where they miss them."""
    for name in list(cleaned):
        if isinstance(form.fields.get(name), forms.JSONField) and holds_nul(cleaned[name]):
            form.add_error(name, forms.ValidationError("NUL characters are not allowed.", code="null_characters"))


class NestingLimitedJSONField(forms.JSONField):
    """Django's JSONField, refusing JSON nested deeper than jsonlimits.MAX_DEPTH with a form error: Django's
    would let Python's RecursionError through (a 500) when cleaning the value, and again when showing the
    form with another field's error. The text stays in the box, as for any JSON that does not parse."""

    default_error_messages = {"too_deep": f"Enter JSON nested at most {jsonlimits.MAX_DEPTH} levels deep."}

    def to_python(self, value: Any) -> Any:
        try:
            converted = super().to_python(value)
            jsonlimits.check_depth(converted)
        except (RecursionError, jsonlimits.TooDeep):
            raise forms.ValidationError(self.error_messages["too_deep"], code="too_deep") from None
        return converted

    def bound_data(self, data: Any, initial: Any) -> Any:
        try:
            value = super().bound_data(data, initial)
            jsonlimits.check_depth(value)
        except (RecursionError, jsonlimits.TooDeep):
            return InvalidJSONInput(data)
        return value


def nesting_limited(*names: str) -> dict[str, type[forms.Field]]:
    """Meta.field_classes giving these JSON fields the nesting limit. The admin honours field_classes too
    (it passes them to ModelAdmin.formfield_for_dbfield), so its forms get the limit with no change there."""
    return dict.fromkeys(names, NestingLimitedJSONField)


def https_by_default(field: models.Field, **kwargs: Any) -> forms.Field | None:
    """Form fields as Django 6 will make them: a URL typed without a scheme gets https://."""
    if isinstance(field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return field.formfield(**kwargs)


def _plain_newlines(text: str) -> str:
    """Browsers submit a textarea's line breaks as CRLF; stored texts (and their offsets) use LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


class ExactTextField(forms.CharField):
    """Text kept exactly as given (claims are anchored by character offsets into it): not stripped, and
    only the browser's CRLF line breaks turned back into LF, so an untouched text compares unchanged."""

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("strip", False)
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 30}))
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> str:
        return _plain_newlines(super().to_python(value))


class ArticleForm(forms.ModelForm):
    """The article's text is kept exactly as published, and every heading must be one of its lines
    (claims take their section from the heading above them)."""

    text = ExactTextField()

    class Meta:
        model = Article
        fields = ["title", "slug", "author", "publisher", "url", "published_on", "text", "headings"]
        field_classes = nesting_limited("headings")
        formfield_callback = https_by_default

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        _empty_json_is_default(self, cleaned)
        _refuse_nul_in_json(self, cleaned)
        text, headings = cleaned.get("text"), cleaned.get("headings")
        if text is None or headings is None:
            return cleaned
        if not (isinstance(headings, list) and all(isinstance(h, str) for h in headings)):
            self.add_error("headings", 'A list of the lines that are headings, e.g. ["Background", "Risks"].')
            return cleaned
        lines = {line.strip() for line in text.splitlines()}
        missing = [heading for heading in headings if heading.strip() not in lines]
        if missing:
            self.add_error("headings", f"Not a line of the text: {', '.join(map(repr, missing))}.")
        return cleaned


class ClaimForm(forms.ModelForm):
    """A claim is placed by its quote: a new or changed quote must occur exactly once in the article's text
    (evidence.services.claim_anchor, the rule claim_create and claim_update apply when they anchor it).
    The status is not here: the review workflow sets it."""

    class Meta:
        model = Claim
        fields = [
            "article",
            "key",
            "quote",
            "kind",
            "substance",
            "claim_type",
            "evidence_note",
            "attributed_to",
            "attribution_status",
            "attribution_note",
        ]
        widgets = {"quote": forms.Textarea(attrs={"rows": 3}), "evidence_note": forms.Textarea(attrs={"rows": 2})}

    def clean(self) -> dict:
        cleaned = super().clean()
        article = cleaned.get("article") or (self.instance.article if self.instance.article_id else None)
        quote = cleaned.get("quote")
        if article is None or not quote:
            return cleaned
        # Compared with the stored quote, not with the form's initial one: a version restored from the
        # history starts from its old quote. An unchanged quote keeps its anchor (article_revise moves it).
        if self.instance.pk is not None:
            if Claim.objects.filter(pk=self.instance.pk).values_list("quote", flat=True).first() == quote:
                return cleaned
        try:
            claim_anchor(article=article, quote=quote)
        except ValidationError as exc:
            self.add_error(None, exc)
        return cleaned


class StudyForm(forms.ModelForm):
    """Identifiers are stored normalised (lower-case DOI without resolver, PMID digits), so the unique
    constraints catch a study entered again under another spelling of its DOI."""

    class Meta:
        model = Study
        fields = [
            "title",
            "authors",
            "author_list_complete",
            "work_type",
            "citation_key",
            "container_title",
            "publisher",
            "year",
            "month",
            "day",
            "volume",
            "issue",
            "pages",
            "isbn",
            "url",
            "doi",
            "pmid",
            "design",
            "sample_size",
            "population",
            "abstract",
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
        field_classes = nesting_limited("authors", "verified_from", "unconfirmed_leads")
        formfield_callback = https_by_default

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        _empty_json_is_default(self, cleaned)
        _refuse_nul_in_json(self, cleaned)
        return cleaned

    def clean_authors(self) -> Any:
        # here, before the form puts the value on the study: the admin's page names the study (its first
        # author) while it shows the error, and a value of another shape would break that
        authors = self.cleaned_data.get("authors")
        if authors is not None:  # an emptied box: the field's default, []
            validate_csl_names(authors)
        return authors

    def clean_doi(self) -> str:
        return study_identifier_clean("doi", self.cleaned_data.get("doi"), exclude_pk=self.instance.pk)

    def clean_pmid(self) -> str:
        return study_identifier_clean("pmid", self.cleaned_data.get("pmid"), exclude_pk=self.instance.pk)


class SitePageForm(forms.ModelForm):
    """An editor's edit of one of the site's own pages (evidence.services.pages.site_page_update saves it)."""

    class Meta:
        model = SitePage
        fields = ["title", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 16})}

    def clean_body(self) -> str:
        body = self.cleaned_data["body"]
        if holds_nul(body):
            raise ValidationError("The text holds a NUL character, which cannot be stored.")
        return body
