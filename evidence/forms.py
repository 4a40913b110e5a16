"""Input validation for articles and claims, shared by the admin and the pages."""

from __future__ import annotations

from django import forms

from evidence import anchoring
from evidence.models import Claim


class ClaimForm(forms.ModelForm):
    """A claim is placed by its quote: the form finds the quote in the article's text and fills in the
    anchor (offsets, prefix, suffix) and the section, refusing a quote that is missing or ambiguous."""

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
            "status",
        ]
        widgets = {"quote": forms.Textarea(attrs={"rows": 3}), "evidence_note": forms.Textarea(attrs={"rows": 2})}

    def clean(self) -> dict:
        cleaned = super().clean()
        article = cleaned.get("article") or getattr(self.instance, "article", None)
        quote = cleaned.get("quote")
        if article is None or not quote:
            return cleaned
        unchanged = self.instance.pk and self.instance.quote == quote and self.instance.article_id == article.pk
        if unchanged:
            return cleaned
        try:
            anchor = anchoring.locate(article.text, quote)
        except anchoring.AnchorError as exc:
            self.add_error("quote", f"{exc}.")
            return cleaned
        self.instance.start, self.instance.end = anchor.start, anchor.end
        self.instance.prefix, self.instance.suffix = anchor.prefix, anchor.suffix
        self.instance.section = anchoring.section_at(article.text, article.headings, anchor.start)
        return cleaned
