"""Input validation for articles, claims and studies, shared by the admin and the pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.forms.fields import InvalidJSONInput

from evidence import anchoring, jsonlimits
from evidence.importers import documents
from evidence.models import Article, Claim, ClaimKind, ClaimType, SitePage, Study, validate_csl_names
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
        missing = headings_not_in(text, headings)
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


# --- An editor's article pages (evidence/article_editor.py) -----------------------------------------------


def headings_not_in(text: str, headings: list[str]) -> list[str]:
    """The headings that are not a line of the text (claims take their section from the heading above them,
    so every heading must be one)."""
    lines = {line.strip() for line in text.splitlines()}
    return [heading for heading in headings if heading.strip() not in lines]


def service_errors(form: forms.Form, exc: ValidationError) -> None:
    """A service's ValidationError on the form: on the field it names when the form has it, else above it."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for name, errors in exc.error_dict.items():
        form.add_error(name if name in form.fields else None, errors)


class NewArticleForm(forms.Form):
    """A new article: where it was published and its text, pasted or uploaded (documents.extract_text)."""

    title = forms.CharField(max_length=500)
    author = forms.CharField(max_length=500, required=False)
    publisher = forms.CharField(max_length=500, required=False)
    url = forms.URLField(label="Address (URL)", max_length=2000, required=False, assume_scheme="https")
    published_on = forms.DateField(
        label="Published on", required=False, widget=forms.DateInput(attrs={"type": "date"}), help_text="YYYY-MM-DD"
    )
    text = ExactTextField(
        required=False,
        max_length=documents.MAX_TEXT_CHARS,
        help_text="Paste the article's text: one paragraph a line, the title on the first line, each section "
        "heading on a line of its own. Or upload it below.",
        widget=forms.Textarea(attrs={"rows": 14}),
    )
    file = forms.FileField(
        label="Or upload it",
        required=False,
        help_text=f"Plain text (.txt), a web page saved as HTML (.html) or a Word document (.docx), at most "
        f"{documents.MAX_DOCUMENT_BYTES // (1024 * 1024)} MB.",
        widget=forms.ClearableFileInput(attrs={"accept": documents.ACCEPT}),
    )

    def clean_file(self) -> str | None:
        """The uploaded file's text (None when nothing was uploaded)."""
        upload = self.cleaned_data.get("file")
        if not upload:
            return None
        if upload.size > documents.MAX_DOCUMENT_BYTES:
            raise ValidationError(f"The file is larger than {documents.MAX_DOCUMENT_BYTES // (1024 * 1024)} MB.")
        try:
            return documents.extract_text(upload.name, upload.read())
        except documents.DocumentError as exc:
            raise ValidationError(str(exc)) from None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        pasted, uploaded = cleaned.get("text"), cleaned.get("file")
        if self.errors.get("text") or self.errors.get("file"):
            return cleaned
        if pasted and pasted.strip() and uploaded:
            self.add_error("text", "Paste the text or upload a file, not both.")
        elif uploaded:
            cleaned["text"] = uploaded
        elif pasted and pasted.strip():
            try:
                cleaned["text"] = documents.tidy(pasted)
            except documents.DocumentError as exc:
                self.add_error("text", str(exc))
        else:
            self.add_error("text", "Paste the article's text or upload a file.")
        return cleaned


class ArticleTextForm(forms.Form):
    """A new version of an article's text, with its headings (article_update keeps the old one)."""

    text = ExactTextField(max_length=documents.MAX_TEXT_CHARS)
    headings = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="One a line, each exactly a line of the text. Empty: short lines that do not end like a "
        "sentence are taken as headings.",
    )
    note = forms.CharField(
        label="What changed",
        max_length=500,
        required=False,
        help_text="Kept with the revision, e.g. “the author's correction of 3 May”.",
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        text = cleaned.get("text")
        if text is None:
            return cleaned
        given = [line.strip() for line in cleaned.get("headings", "").splitlines() if line.strip()]
        missing = headings_not_in(text, given)
        if missing:
            self.add_error("headings", f"Not a line of the text: {', '.join(map(repr, missing))}.")
        cleaned["headings"] = given or anchoring.infer_headings(text)
        return cleaned


class QuoteField(forms.CharField):
    """A quote or its context as the article's text has it: the browser's CRLF line breaks back to LF."""

    def to_python(self, value: Any) -> str:
        return _plain_newlines(super().to_python(value))


class MarkClaimForm(forms.Form):
    """A passage of the article marked as a claim: a W3C TextQuoteSelector (quote, prefix, suffix) and,
    from the browser, a TextPositionSelector (start, end), with the claim's type, substance and section.
    The script of the marking page fills the selectors from the editor's selection; without it the editor
    pastes the quote (and, for a passage the text repeats, the words around it)."""

    quote = QuoteField(
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Select the passage in the text and choose “Mark as claim”, or paste it here exactly.",
    )
    # text areas, not text inputs: an input drops the line breaks of a context that spans two paragraphs
    prefix = QuoteField(
        label="Words just before it",
        max_length=200,
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Only needed when the quote occurs more than once in the text.",
    )
    suffix = QuoteField(
        label="Words just after it",
        max_length=200,
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    # the TextPositionSelector: a hint only (anchoring.locate says why), checked so nonsense is refused
    start = forms.CharField(required=False, widget=forms.HiddenInput)
    end = forms.CharField(required=False, widget=forms.HiddenInput)
    claim_type = forms.ChoiceField(label="Type", choices=[("", "Choose a type"), *ClaimType.choices])
    kind = forms.ChoiceField(choices=ClaimKind.choices, initial=ClaimKind.CLAIM)
    substance = forms.CharField(
        max_length=100, required=False, help_text="The substance or topic, e.g. ketamine, MDMA, both."
    )
    section = forms.ChoiceField(required=False)

    def __init__(self, *args: Any, article: Article, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["section"].choices = [
            ("", "The heading above the passage"),
            *[(heading, heading) for heading in article.headings],
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        offsets = [cleaned.get("start", ""), cleaned.get("end", "")]
        if any(offsets):
            if not all(value.isdigit() and len(value) <= 9 for value in offsets):
                self.add_error(None, "The selection's position is not a pair of character offsets; select it again.")
            elif int(offsets[1]) < int(offsets[0]):
                self.add_error(None, "The selection ends before it starts; select it again.")
        return cleaned
