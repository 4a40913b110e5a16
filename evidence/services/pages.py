"""The site's own pages that editors keep up to date (/about/): one write, with its history."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from evidence.models import SitePage
from evidence.services.common import save_edits


@transaction.atomic
def site_page_update(*, page: SitePage, title: str, body: str, user: AbstractBaseUser) -> list[str]:
    """Replace the page's title and text; the history keeps the version it replaces, with who and when.
    Returns the fields changed (none: nothing is written). ValidationError on an empty title or text."""
    page = SitePage.objects.select_for_update().get(pk=page.pk)
    # Text pasted from a word processor comes with Windows line ends; paragraphs are split on blank lines.
    body = body.replace("\r\n", "\n").strip()
    return save_edits(page, {"title": title.strip(), "body": body}, user)
