"""The site's own texts that editors keep up to date (/about/), with history."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class SitePage(models.Model):
    """A page of the site's own words that editors keep up to date in the site (/about/ shows "about" and
    "corrections"), with every version kept in its history. Plain text: paragraphs separated by blank lines,
    shown escaped (evidence.services.pages writes it)."""

    slug = models.SlugField(max_length=50, unique=True)
    title = models.CharField(max_length=200)
    body = models.TextField(help_text=_("Plain text; a blank line starts a new paragraph."))
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["slug"]
        constraints = [
            models.CheckConstraint(condition=~Q(title="") & ~Q(body=""), name="evidence_sitepage_not_empty"),
        ]

    def __str__(self) -> str:
        return self.title
