"""Which public pages each write to evidence's models retires (evidence.caching): receivers of the models'
post_save and post_delete, connected in EvidenceConfig.ready(). The review workflow's models have theirs in
reviews/invalidation.py.

A page shows its scopes (evidence.caching): a claim's pages show the claim, its article's title and text
around the quote, its citations and their studies' references; a study's page shows the study and the
claims citing it (their quotes, their articles' titles, the citations' notes); an article's pages show its
text and each claim's status, evidence counts and the designs of the studies cited (the map); the lists
show claims and studies with their counts, and the API's claim list nests the citations with their notes.
Each receiver retires exactly the scopes that show what its write changed. The queries they run (which
claims cite a study, which studies a claim cites) run inside the writer's transaction, so a delete still
finds what it is deleting; bulk writes send no signals and call caching.retire() or touch() themselves.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

from evidence.caching import FEEDS, LISTS, retire, touch, touch_unseen
from evidence.models import Article, ArticleRevision, Citation, Claim, SitePage, Study

# A study's fields no reader sees: the curators' notes (Study.internal_note, left out of every public page,
# feed and API answer for readers) and the save's own timestamp.
UNSEEN_STUDY_FIELDS = frozenset({"internal_note", "updated_at"})
# A citation's fields shown only with the citation itself: on its claim's page, its study's page and the
# API's claim list, never on the article's pages (which count citations by relation).
CITATION_NOTE_FIELDS = frozenset({"note", "directness", "directness_note", "updated_at"})
# A claim's review status: readers filter the lists by it (and the API shows it); the article's pages,
# the studies' pages and the feeds do not show it.
CLAIM_STATUS_FIELDS = frozenset({"status", "updated_at"})
# Where a claim's quote stands in its article's text (re-anchored after a revision): the article's pages and
# the claim's (the words around the quote) show it; an orphan's state changes the lists and feeds too.
CLAIM_POSITION_FIELDS = frozenset({"start", "end", "prefix", "suffix", "updated_at"})
# An article's text: its own pages and its claims' (the words around each quote) show it.
ARTICLE_TEXT_FIELDS = frozenset({"text", "headings", "updated_at"})


def _only(update_fields: Any, fields: frozenset[str]) -> bool:
    """The save wrote nothing but these fields (a save without update_fields may have written any)."""
    return update_fields is not None and set(update_fields) <= fields


def article_changed(sender: Any, instance: Article, created: bool = False, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    if created:
        retire(articles=[instance.pk], scopes=[LISTS])
    elif _only(kwargs.get("update_fields"), ARTICLE_TEXT_FIELDS):
        # a revision of the text: orphaned claims save themselves and retire the lists and feeds
        retire(articles=[instance.pk], claims=Claim.objects.filter(article=instance).values_list("pk", flat=True))
    else:
        # its title and source show on every list, claim page, study page and feed entry that names it
        touch()


def article_deleted(sender: Any, instance: Article, **kwargs: Any) -> None:
    touch()  # its claims and citations go with it, and every page naming it


def revision_changed(sender: Any, instance: ArticleRevision, **kwargs: Any) -> None:
    if not kwargs.get("raw"):
        retire(articles=[instance.article_id])


def claim_changed(sender: Any, instance: Claim, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    if _only(kwargs.get("update_fields"), CLAIM_STATUS_FIELDS):
        retire(claims=[instance.pk], scopes=[LISTS])
        return
    if _only(kwargs.get("update_fields"), CLAIM_POSITION_FIELDS):
        retire(claims=[instance.pk], articles=[instance.article_id])
        return
    # its quote shows on the pages of the studies it cites (a deleted claim's citations retire those
    # themselves, as they are deleted with it)
    studies = list(Citation.objects.filter(claim_id=instance.pk).values_list("study_id", flat=True))
    retire(claims=[instance.pk], studies=studies, articles=[instance.article_id], scopes=[LISTS, FEEDS])


def study_changed(sender: Any, instance: Study, created: bool = False, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    if _only(kwargs.get("update_fields"), UNSEEN_STUDY_FIELDS):
        touch_unseen()
        return
    if created:
        retire(studies=[instance.pk], scopes=[LISTS])
        return
    # its reference shows on the pages of the claims citing it; its design and retraction on their articles'
    citing = list(Citation.objects.filter(study_id=instance.pk).values_list("claim_id", "claim__article_id"))
    retire(
        studies=[instance.pk],
        claims=[claim for claim, _ in citing],
        articles=[article for _, article in citing],
        scopes=[LISTS],
    )


def study_deleted(sender: Any, instance: Study, **kwargs: Any) -> None:
    retire(studies=[instance.pk], scopes=[LISTS])  # a cited study cannot be deleted (Citation.study PROTECT)


def citation_changed(sender: Any, instance: Citation, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    if _only(kwargs.get("update_fields"), CITATION_NOTE_FIELDS):
        retire(claims=[instance.claim_id], studies=[instance.study_id], scopes=[LISTS])
        return
    article = Claim.objects.filter(pk=instance.claim_id).values_list("article_id", flat=True).first()
    retire(claims=[instance.claim_id], studies=[instance.study_id], articles=[article], scopes=[LISTS])


def site_page_changed(sender: Any, instance: SitePage, **kwargs: Any) -> None:
    if not kwargs.get("raw"):
        retire(scopes=[LISTS])  # /about/ and /methodology/ are kept with the lists


RECEIVERS = {
    Article: (article_changed, article_deleted),
    ArticleRevision: (revision_changed, revision_changed),
    Claim: (claim_changed, claim_changed),
    Study: (study_changed, study_deleted),
    Citation: (citation_changed, citation_changed),
    SitePage: (site_page_changed, site_page_changed),
}


def connect() -> None:
    for model, (saved, deleted) in RECEIVERS.items():
        post_save.connect(saved, sender=model, dispatch_uid=f"evidence-pages-save-{model.__name__}")
        post_delete.connect(deleted, sender=model, dispatch_uid=f"evidence-pages-delete-{model.__name__}")
