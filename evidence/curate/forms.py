"""The curator's forms: what a link between a claim and a study says."""

from __future__ import annotations

from django import forms

from evidence.models import Citation, StudyDesign

# what a link says; its claim and study are in the URL
LINK_FIELDS = ("relation", "directness", "note", "directness_note")


class LinkStudyForm(forms.ModelForm):
    class Meta:
        model = Citation
        fields = LINK_FIELDS
        widgets = {
            "relation": forms.RadioSelect,
            "note": forms.Textarea(attrs={"rows": 3}),
            "directness_note": forms.Textarea(attrs={"rows": 2}),
        }
        labels = {
            "relation": "What the study does for the claim",
            "directness": "How directly it applies",
            "note": "What the study actually shows",
            "directness_note": "How its population, intervention or outcome differ",
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # a radio group has no empty choice: the curator must pick one
        self.fields["relation"].choices = Citation.Relation.choices


class DesignForm(forms.Form):
    """A study's design, chosen on the "not yet classified" list (usually the suggested one)."""

    design = forms.ChoiceField(choices=[(value, label) for value, label in StudyDesign.choices if value])
