"""Input validation for the review pages and the editor's desk. Writes go through reviews.services."""

from __future__ import annotations

from collections.abc import Sequence

from django import forms
from django.utils.translation import gettext_lazy as _

from evidence.models import Claim, Study
from reviews.models import DOWNGRADE_REASONS, Certainty, Flag, ReaderReport, Review, ReviewerProfile, Verdict

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


class ReviewForm(forms.Form):
    """A reviewer's rating of one claim; the same fields whether creating or editing the review."""

    certainty = forms.ChoiceField(
        label=_("Certainty of the evidence (GRADE)"),
        choices=Certainty.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose the certainty of the evidence.")},
    )
    verdict = forms.ChoiceField(
        label=_("Verdict on the claim"),
        choices=Verdict.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a verdict on the claim.")},
    )
    downgrades = forms.MultipleChoiceField(
        label=_("Downgraded for"),
        choices=list(DOWNGRADE_REASONS.items()),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Tick each GRADE domain that lowered your certainty."),
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

    @classmethod
    def initial_from(cls, review: Review | None) -> dict:
        if review is None:
            return {}
        return {
            "certainty": review.certainty,
            "verdict": review.verdict,
            "downgrades": [name for name in DOWNGRADE_REASONS if getattr(review, name)],
            "read_full_text": review.read_full_text,
            "rationale": review.rationale,
        }

    def clean_rationale(self) -> str:
        rationale = self.cleaned_data["rationale"].strip()
        if not rationale:
            raise forms.ValidationError(_("Say why: a rationale is required."))
        return rationale


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
