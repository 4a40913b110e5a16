"""Claims: placing one in its article's text, changing what it says, removing it, and an editor's
re-anchoring of an orphan.

A claim is placed by its quote, which must occur exactly once in the article's text (evidence.anchoring),
as the article import places it; the offsets, the TextQuoteSelector context and the section follow from
it. Its status belongs to the review workflow (reviews.services: review, adjudicate, publish) and an
article revision (article_revise): nothing here sets it.

An orphan (a claim a revision of the text lost) is anchored again only by an editor: by accepting the
passage article_revise suggested (claim_accept_suggestion) or by quoting the claim again in the current
text (claim_requote; claim_update with a new quote does the same). An approximate match is never applied
without one of these.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from evidence import anchoring
from evidence.models import AnchorState, Article, Claim
from evidence.services.common import apply_values, save_edits

# What an editor may set on a claim. The anchor follows from the quote, the status from the workflow.
CLAIM_FIELDS = (
    "key",
    "quote",
    "kind",
    "substance",
    "claim_type",
    "secondary_types",
    "evidence_note",
    "attributed_to",
    "attribution_status",
    "attribution_note",
)


def claim_anchor(*, article: Article, quote: str) -> dict[str, Any]:
    """Where ``quote`` stands in the article's current text: anchor_fields (offsets, context, section, and
    the state: anchored). Raises ValidationError on ``quote`` unless it occurs exactly once. The one check
    the claim form and these services share."""
    try:
        anchor = anchoring.locate(article.text, quote)
    except anchoring.AnchorError as exc:
        raise ValidationError({"quote": f"{exc}."}) from None
    return anchor_fields(article, anchor)


def _only_claim_fields(values: dict[str, Any]) -> None:
    others = sorted(set(values) - set(CLAIM_FIELDS))
    if others:
        raise ValidationError(
            f"Not set by hand: {', '.join(others)}. A claim's anchor follows from its quote, and its status "
            "from the review workflow."
        )


@transaction.atomic
def claim_create(*, article: Article, values: dict[str, Any], user: AbstractBaseUser | None = None) -> Claim:
    """Add a claim to an article, anchored where its quote occurs (once) in the text; it awaits review.
    ``values`` are fields of CLAIM_FIELDS. Raises ValidationError naming the fields."""
    _only_claim_fields(values)
    claim = Claim(article=article, **values, **claim_anchor(article=article, quote=values.get("quote", "")))
    _save_new(claim, "created", user)
    return claim


@transaction.atomic
def claim_mark(
    *,
    article: Article,
    quote: str,
    prefix: str = "",
    suffix: str = "",
    section: str = "",
    values: dict[str, Any],
    user: AbstractBaseUser | None = None,
) -> Claim:
    """Add a claim an editor marked in the article's text: a W3C TextQuoteSelector (``quote``, ``prefix``,
    ``suffix``) placed by anchoring.locate, as the article import places a quote; the words around it
    tell apart a passage the text repeats, and a passage still ambiguous, or not in the text, is refused.
    ``section`` is one of the article's headings, or "" for the heading above the passage. ``values`` are
    the other fields of CLAIM_FIELDS (type, substance, kind ...). Raises ValidationError naming the fields.

    Locks the article row first, so a revision of its text (article_update) cannot land between placing
    the passage and saving the claim.
    """
    _only_claim_fields({**values, "quote": quote})
    article = Article.objects.select_for_update().get(pk=article.pk)
    try:
        anchor = anchoring.locate(article.text, quote, prefix, suffix)
    except anchoring.AnchorError as exc:
        reason = str(exc)
        raise ValidationError({"quote": f"{reason[:1].upper()}{reason[1:]}."}) from None
    fields = anchor_fields(article, anchor)
    if section:
        if section not in article.headings:
            raise ValidationError({"section": "Choose one of the article's headings."})
        fields["section"] = section
    claim = Claim(article=article, quote=quote, **values, **fields)
    _save_new(claim, "marked in the text", user)
    return claim


def _save_new(claim: Claim, reason: str, user: AbstractBaseUser | None) -> None:
    claim.full_clean()
    claim._change_reason = reason
    if user is not None:
        claim._history_user = user
    try:
        # a savepoint: a concurrent write may have taken the key since full_clean looked
        with transaction.atomic():
            claim.save()
    except IntegrityError:
        raise ValidationError({"key": "Another claim of this article took this key at the same time."}) from None


@transaction.atomic
def claim_update(*, claim: Claim, values: dict[str, Any], user: AbstractBaseUser | None = None) -> Claim:
    """Change what a claim says (fields of CLAIM_FIELDS); saves only what changed. A new quote is anchored
    again in the article's current text and must occur there once (an orphan is then anchored again, as
    claim_requote does); an unchanged one keeps its anchor, which article_revise maintains. The status is
    never touched. Raises ValidationError naming the fields."""
    _only_claim_fields(values)
    claim = Claim.objects.select_for_update().select_related("article").get(pk=claim.pk)
    if "quote" in values and values["quote"] != claim.quote:
        values = {**values, **claim_anchor(article=claim.article, quote=values["quote"])}
    save_edits(claim, values, user)
    return claim


@transaction.atomic
def claim_delete(*, claim: Claim, user: AbstractBaseUser | None = None) -> None:
    """Remove a claim with its citations, reviews, consensus and flags (the database cascades); the history
    keeps every version of each."""
    claim._change_reason = "deleted"
    if user is not None:
        claim._history_user = user
    claim.delete()


# --- Re-anchoring an orphan ------------------------------------------------------------------------------


def _lock_orphan(claim: Claim) -> Claim:
    claim = Claim.objects.select_for_update().select_related("article").get(pk=claim.pk)
    if not claim.is_orphaned:
        raise ValidationError("This claim is anchored in the current text; there is nothing to re-anchor.")
    return claim


def _reanchor(claim: Claim, values: dict[str, Any], reason: str, user: AbstractBaseUser | None) -> Claim:
    changed = apply_values(claim, values)
    claim.full_clean(exclude=claim.get_deferred_fields())
    claim._change_reason = reason
    if user is not None:
        claim._history_user = user
    claim.save(update_fields=[*changed, "updated_at"])
    return claim


@transaction.atomic
def claim_accept_suggestion(*, claim: Claim, user: AbstractBaseUser | None = None) -> Claim:
    """Anchor an orphan where article_revise suggested: its quote becomes the suggested passage of the
    current text, with its context and section. The history records who accepted it, the passage's
    similarity score and the quote it replaces. Raises ValidationError when the claim is not an orphan, has
    no suggestion, or the suggestion no longer stands in the text (a revision since will have replaced it).
    The claim's status is the workflow's: it stays sent back for re-review."""
    claim = _lock_orphan(claim)
    suggestion = claim.anchor_suggestion
    if not suggestion:
        raise ValidationError("No passage of the current text is like this claim's quote; quote it again instead.")
    text = claim.article.text
    start, end, quote = suggestion.get("start"), suggestion.get("end"), suggestion.get("quote")
    if not (isinstance(start, int) and isinstance(end, int) and text[start:end] == quote and quote):
        raise ValidationError("The suggested passage is no longer in the article's text; quote the claim again.")
    values = {
        "quote": quote,
        **anchor_fields(claim.article, anchoring.anchor_at(text, start, end)),
    }
    reason = (
        f"re-anchored: accepted the suggested passage (similarity {suggestion.get('score')}); "
        f"the quote was “{claim.quote}”"
    )
    return _reanchor(claim, values, reason, user)


@transaction.atomic
def claim_requote(*, claim: Claim, quote: str, user: AbstractBaseUser | None = None) -> Claim:
    """Anchor an orphan again by a new quote, which must occur exactly once in the article's current text
    (claim_anchor). The history records who re-quoted it and the quote it replaces. Raises ValidationError on
    ``quote``, or when the claim is not an orphan."""
    claim = _lock_orphan(claim)
    values = {"quote": quote, **claim_anchor(article=claim.article, quote=quote)}
    reason = f"re-anchored: quoted again in the current text; the quote was “{claim.quote}”"
    return _reanchor(claim, values, reason, user)


def anchor_fields(article: Article, anchor: anchoring.Anchor) -> dict[str, Any]:
    """The anchor fields of a claim placed at ``anchor`` in the article's current text."""
    return {
        "start": anchor.start,
        "end": anchor.end,
        "prefix": anchor.prefix,
        "suffix": anchor.suffix,
        "section": anchoring.section_at(article.text, article.headings, anchor.start),
        "anchor_state": AnchorState.ANCHORED,
        "anchor_revision": None,
        "anchor_suggestion": None,
    }
