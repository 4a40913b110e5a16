"""Input validation for the review pages and the editor's desk. Writes go through reviews.services."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from evidence.models import Article, Claim, Study
from reviews.access import REVIEW
from reviews.grade import DOWNGRADE_DOMAINS, UPGRADE_DOMAINS, Concern, EvidenceDesign, Grading, LargeEffect
from reviews.models import (
    AssignmentStatus,
    Certainty,
    Comment,
    Conflict,
    Delivery,
    Flag,
    NotificationKind,
    ReaderReport,
    Review,
    ReviewerProfile,
    Verdict,
)
from reviews.services import review_values_checked

RATIONALE_WIDGET = forms.Textarea(attrs={"rows": 6})


class OwnIds(forms.Form):
    """A form that shares its page with others: its elements' ids start with ``id_prefix`` so that no
    two forms on the editor's claim page give an element the same id (two "id_rationale" made the
    publish form's label focus the adjudication form's field). Only the ids change, not the field
    names, so what the forms post stays the same for every client."""

    id_prefix = ""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", f"id_{self.id_prefix}-%s")
        super().__init__(*args, **kwargs)


def _concern_field(label: str) -> forms.TypedChoiceField:
    """A downgrade domain's rating; not serious until rated otherwise (checked on the page; absent from a post)."""
    return forms.TypedChoiceField(
        label=label,
        choices=Concern.choices,
        initial=Concern.NOT_SERIOUS,
        empty_value=Concern.NOT_SERIOUS,
        required=False,
        widget=forms.RadioSelect,
    )


def review_errors_to_fields(form: forms.BaseForm, errors: dict[str, str]) -> None:
    """The review check's errors (reviews.services.review_values_checked) on the form's fields of the same
    name, unless the field has its own error already; any other on the form as a whole."""
    for name, message in errors.items():
        if name not in form.errors:
            form.add_error(name if name in form.fields else None, message)


class ReviewForm(forms.Form):
    """A reviewer's rating of one claim: GRADE as GRADEpro records it, the verdict, the rationale and a
    conflict-of-interest declaration; the same fields whether creating or editing the review. clean()
    applies the services' own check (review_values_checked), so each refusal is its field's error."""

    evidence_design = forms.ChoiceField(
        label=_("Design of the evidence (GRADE's starting level)"),
        choices=EvidenceDesign.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose the design of the evidence: randomised trials or observational studies.")
        },
    )
    risk_of_bias = _concern_field(DOWNGRADE_DOMAINS["risk_of_bias"])
    inconsistency = _concern_field(DOWNGRADE_DOMAINS["inconsistency"])
    indirectness = _concern_field(DOWNGRADE_DOMAINS["indirectness"])
    imprecision = _concern_field(DOWNGRADE_DOMAINS["imprecision"])
    publication_bias = _concern_field(DOWNGRADE_DOMAINS["publication_bias"])
    large_effect = forms.TypedChoiceField(
        label=UPGRADE_DOMAINS["large_effect"],
        choices=LargeEffect.choices,
        initial=LargeEffect.NO,
        empty_value=LargeEffect.NO,
        required=False,
        widget=forms.RadioSelect,
    )
    dose_response = forms.BooleanField(label=_("A dose-response gradient (+1)"), required=False)
    plausible_confounding = forms.BooleanField(
        label=_("Opposing plausible confounding (+1): it would reduce the effect shown"), required=False
    )
    certainty = forms.ChoiceField(
        label=_("Certainty of the evidence (GRADE)"),
        choices=Certainty.choices,
        widget=forms.RadioSelect,
        required=False,
        help_text=_(
            "Leave it unchosen to take the certainty your ratings give. You may choose one level above or "
            "below it, saying why."
        ),
    )
    certainty_reason = forms.CharField(
        label=_("Why another certainty than your ratings give"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("Needed only when the certainty you chose differs from the one your ratings give."),
    )
    verdict = forms.ChoiceField(
        label=_("Verdict on the claim"),
        choices=Verdict.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a verdict on the claim.")},
    )
    read_full_text = forms.BooleanField(
        label=_("I read the full text of the studies, not only their abstracts"), required=False
    )
    rationale = forms.CharField(
        label=_("Rationale"),
        widget=RATIONALE_WIDGET,
        help_text=_("Why this certainty and verdict. Readers see it once the verdict is published."),
        error_messages={"required": _("Say why: a rationale is required.")},
    )
    conflict_of_interest = forms.ChoiceField(
        label=_("Conflict of interest"),
        choices=Conflict.choices,
        widget=forms.RadioSelect,
        help_text=_(
            "Any financial or personal tie to the studies, their authors or funders, or the article. "
            "Readers see your declaration with your published review; the editor sees it before deciding."
        ),
        error_messages={"required": _("Declare any conflict of interest: none, or declared with what it is.")},
    )
    conflict_statement = forms.CharField(
        label=_("The conflict you declare"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("Only with “Declared”: what the tie is."),
    )

    @classmethod
    def initial_from(cls, review: Review | None) -> dict:
        if review is None:
            return {}
        return {
            "certainty": review.certainty,
            "certainty_reason": review.certainty_reason,
            "verdict": review.verdict,
            **{name: value for name, value in review.grading.values().items() if value != ""},
            "read_full_text": review.read_full_text,
            "rationale": review.rationale,
            "conflict_of_interest": review.conflict_of_interest or None,
            "conflict_statement": review.conflict_statement,
        }

    def clean_rationale(self) -> str:
        rationale = self.cleaned_data["rationale"].strip()
        if not rationale:
            raise forms.ValidationError(_("Say why: a rationale is required."))
        return rationale

    def clean(self) -> dict:
        cleaned = super().clean()
        # the services' check, on what is valid so far: its errors for fields that have none yet
        errors = review_values_checked(**self.service_arguments())[1]
        review_errors_to_fields(self, errors)
        return cleaned

    def service_arguments(self) -> dict:
        """The cleaned values as reviews.services.review_submit takes them ("" for one not valid)."""
        data = self.cleaned_data
        return {
            "certainty": data.get("certainty", ""),
            "verdict": data.get("verdict", ""),
            "rationale": data.get("rationale", ""),
            "grading": Grading.from_mapping({k: v for k, v in data.items() if v is not None}),
            "certainty_reason": data.get("certainty_reason", ""),
            "conflict_of_interest": data.get("conflict_of_interest", ""),
            "conflict_statement": data.get("conflict_statement", ""),
            "read_full_text": data.get("read_full_text", False),
        }


class AdjudicationForm(OwnIds):
    id_prefix = "adjudication"

    certainty = forms.ChoiceField(
        label=_("Final certainty"),
        choices=Certainty.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose the final certainty.")},
    )
    verdict = forms.ChoiceField(
        label=_("Final verdict"),
        choices=Verdict.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose the final verdict.")},
    )
    rationale = forms.CharField(
        label=_("Rationale"),
        widget=RATIONALE_WIDGET,
        help_text=_("Why you decided this way; recorded with your name and the time."),
        error_messages={"required": _("Say why you decided this way.")},
    )


class PublishForm(OwnIds):
    """Publication; over open flags only once the editor confirms it, ticking a box that names them (the
    server checks it, so the question is asked with or without JavaScript)."""

    id_prefix = "publish"

    rationale = forms.CharField(
        label=_("Summary for readers"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text=_("Shown with the verdict. Leave empty to use the adjudication's rationale."),
    )

    def __init__(self, *args, open_flags: Sequence[Flag] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.open_flags = list(open_flags)
        if self.open_flags:
            reasons = ", ".join(f"“{flag.get_reason_display()}”" for flag in self.open_flags)
            n = len(self.open_flags)
            self.fields["confirm_open_flags"] = forms.BooleanField(
                label=_("Publish although %(n)s flag%(s)s open: %(reasons)s")
                % {"n": n, "s": " is" if n == 1 else "s are", "reasons": reasons},
                help_text=_("Publishing does not close a flag: readers see it open beside the verdict."),
                error_messages={
                    "required": _(
                        "Confirm that you publish over the open flag%(s)s %(reasons)s, or close %(it)s first."
                    )
                    % {"s": "" if n == 1 else "s", "reasons": reasons, "it": "it" if n == 1 else "them"}
                },
            )


class FlagRaiseForm(OwnIds):
    id_prefix = "raise"

    reason = forms.ChoiceField(
        label=_("Reason"),
        choices=[("", "—"), *Flag.Reason.choices],
        error_messages={"required": _("Choose the reason for the flag.")},
    )
    study = forms.ModelChoiceField(
        label=_("About the study"),
        queryset=Study.objects.none(),
        required=False,
        help_text=_("Optional: the cited study the flag is about."),
    )
    note = forms.CharField(
        label=_("Note"),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Say what is wrong with the claim.")},
    )

    def __init__(self, *args, claim: Claim, **kwargs):
        super().__init__(*args, **kwargs)
        # only the studies this claim cites can be what a flag on it is about
        self.fields["study"].queryset = (
            Study.objects.filter(citations__claim=claim)
            .only("pk", "title", "authors", "year", "doi", "pmid")  # what Study.__str__ reads, not abstracts
            .order_by("-year", "title")
        )


class FlagCloseForm(forms.Form):
    note = forms.CharField(
        label=_("Why"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("What was done, or why the flag does not apply."),
        error_messages={"required": _("Say what was done, or why the flag does not apply.")},
    )


# --- Re-anchoring an orphan (evidence.services.claims) ---------------------------------------------------


class AcceptSuggestionForm(OwnIds):
    """One click: the passage the revision suggested becomes the claim's quote. No fields; a refusal (the
    text changed since) comes back as the form's error."""

    id_prefix = "accept"


class RequoteForm(OwnIds):
    """A new quote for an orphan: it must occur exactly once in the article's current text (the service
    checks, and its refusal is this field's error)."""

    id_prefix = "requote"

    quote = forms.CharField(
        label=_("The claim's words in the current text"),
        widget=forms.Textarea(attrs={"rows": 3}),
        strip=False,  # quotes are matched character for character
        help_text=_("Copy them from the article exactly; they must occur once in its current text."),
        error_messages={"required": _("Give the words of the current text that make this claim.")},
    )

    def clean_quote(self) -> str:
        # browsers send a textarea's line breaks as CRLF; the stored text uses LF
        quote = self.cleaned_data["quote"].replace("\r\n", "\n").replace("\r", "\n")
        if not quote.strip():
            raise forms.ValidationError(_("Give the words of the current text that make this claim."))
        return quote


class CommentForm(OwnIds):
    """A comment in a claim's discussion (reviews.services.comment_post and comment_edit check it again)."""

    id_prefix = "comment"

    body = forms.CharField(
        label=_("Your comment"),
        max_length=Comment.BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Type @ and a username to tell that person by email, if they may read this discussion."),
        error_messages={"required": _("Write something before posting.")},
    )


class ReaderReportForm(forms.Form):
    """A reader's report of a problem with a claim (no account). ``website`` is a honeypot: people never see
    it (it is off-screen and hidden from assistive technology), form-filling robots fill it in."""

    kind = forms.ChoiceField(label=_("What is wrong?"), choices=ReaderReport.Kind.choices, widget=forms.RadioSelect)
    message = forms.CharField(
        label=_("Tell us more"),
        max_length=ReaderReport.MESSAGE_MAX,
        help_text=_("Which words, which study (a DOI or PubMed link helps), what has changed."),
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    reply_to = forms.EmailField(
        label=_("Your email address (optional)"),
        required=False,
        help_text=_("Only if you would like a reply. Editors see it; it is never shown on the site."),
    )
    website = forms.CharField(
        label=_("Leave this empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args, **kwargs) -> None:
        # the claim page's other ids never start with "report-"
        kwargs.setdefault("auto_id", "id_report-%s")
        super().__init__(*args, **kwargs)

    def clean_message(self) -> str:
        message = self.cleaned_data["message"].strip()
        if "\x00" in message:
            raise forms.ValidationError(_("The message holds a NUL character; please type it again."))
        if not message:
            raise forms.ValidationError(_("Tell us what is wrong."))
        return message

    @property
    def caught(self) -> bool:
        """The honeypot was filled in: a robot sent it."""
        return bool(self.cleaned_data.get("website"))


class ReviewerProfileForm(forms.ModelForm):
    """A reviewer's own profile (reviews.services.reviewer_profile_update saves it)."""

    class Meta:
        model = ReviewerProfile
        fields = ["display_name", "credentials", "field", "declared_interests", "public"]
        labels = {"public": _("Show my profile to readers, and my name on my published reviews")}
        widgets = {"declared_interests": forms.Textarea(attrs={"rows": 4})}

    def clean(self) -> dict:
        cleaned = super().clean()
        if any("\x00" in str(value) for value in cleaned.values()):
            raise forms.ValidationError(_("The text holds a NUL character; please type it again."))
        if cleaned.get("public") and not cleaned.get("display_name", "").strip():
            self.add_error("display_name", _("Give the name readers will see, or keep the profile private."))
        return cleaned


# --- Assignments and notifications ---------------------------------------------------------------------------


class AssignForm(OwnIds):
    """Assign reviewers to this claim, or to every claim of its article still under review, by a date."""

    id_prefix = "assign"
    SCOPES = [("claim", _("This claim")), ("article", _("Every claim of this article still under review"))]

    reviewers = forms.ModelMultipleChoiceField(
        label=_("Reviewers"),
        queryset=get_user_model().objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one reviewer.")},
    )
    due_date = forms.DateField(
        label=_("Due date"),
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),  # ISO: what a date input reads
        error_messages={"required": _("Enter the date the review is due."), "invalid": _("Enter a date.")},
    )
    scope = forms.ChoiceField(label=_("Assign to"), choices=SCOPES, initial="claim", widget=forms.RadioSelect)

    def __init__(self, *args, exclude: AbstractBaseUser | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reviewers"].queryset = reviewers_to_offer(exclude)

    def clean_due_date(self) -> date:
        due = self.cleaned_data["due_date"]
        if due < timezone.localdate():
            raise forms.ValidationError(_("The due date has passed; choose today or a later day."))
        return due


def reviewers_to_offer(exclude: AbstractBaseUser | None = None):
    """Everyone who may review (reviews.access.REVIEW), by name; the editor themself left out (nobody
    assigns themself: reviews.services.assignments). The model backend answers: groups and permissions,
    as has_perm reads them (axes's backend holds none)."""
    people = get_user_model().objects.with_perm(REVIEW, backend="django.contrib.auth.backends.ModelBackend")
    if exclude is not None:
        people = people.exclude(pk=exclude.pk)
    return people.order_by("username")


class ReassignForm(forms.Form):
    """Give an assignment to another reviewer, with the same or a new due date."""

    reviewer = forms.ModelChoiceField(
        label=_("Give it to"), queryset=get_user_model().objects.none(), empty_label=_("Choose a reviewer")
    )

    def __init__(self, *args, exclude: AbstractBaseUser | None = None, choices: list | None = None, **kwargs) -> None:
        """``choices``: the reviewer choices read once for a page with a form per assignment (choices_for)."""
        super().__init__(*args, **kwargs)
        self.fields["reviewer"].queryset = reviewers_to_offer(exclude)
        if choices is not None:
            self.fields["reviewer"].choices = choices

    @classmethod
    def choices_for(cls, exclude: AbstractBaseUser | None) -> list:
        """The reviewers offered, read from the database once."""
        return list(cls(exclude=exclude).fields["reviewer"].choices)


class DueDateForm(forms.Form):
    due_date = forms.DateField(
        label=_("New due date"),
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),  # ISO: what a date input reads
        error_messages={"required": _("Enter the new due date."), "invalid": _("Enter a date.")},
    )


class NotificationPreferencesForm(forms.Form):
    """One choice per kind of notification: at once, in the daily digest, or never."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for kind in NotificationKind:
            self.fields[kind.value] = forms.ChoiceField(
                label=kind.label, choices=Delivery.choices, widget=forms.RadioSelect
            )


class QueueFilterForm(forms.Form):
    """The reviewer's queue, searched and filtered (GET)."""

    q = forms.CharField(label=_("Search the claims' text"), required=False, max_length=200)
    article = forms.ModelChoiceField(
        label=_("Article"),
        queryset=Article.objects.only("pk", "title").order_by("title"),
        required=False,
        empty_label=_("Every article"),
    )
    status = forms.ChoiceField(
        label=_("Assignment status"),
        choices=[
            ("", _("Any status")),
            *[(s.value, s.label) for s in AssignmentStatus if s != AssignmentStatus.LAPSED],
        ],
        required=False,
    )

    @property
    def active(self) -> bool:
        return self.is_valid() and any(self.cleaned_data.values())
