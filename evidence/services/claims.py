"""Claims: placing one in its article's text, changing what it says, removing it.

A claim is placed by its quote, which must occur exactly once in the article's text (evidence.anchoring),
as the article import places it; the offsets, the TextQuoteSelector context and the section follow from
it. Its status belongs to the review workflow (reviews.services: review, adjudicate, publish) and an
article revision (article_revise): nothing here sets it.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from evidence import anchoring
from evidence.models import Article, Claim
from evidence.services.common import save_edits

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
    """Where ``quote`` stands in the article's current text: ``start``, ``end``, ``prefix``, ``suffix`` and
    ``section``. Raises ValidationError on ``quote`` unless it occurs exactly once. The one check the
    claim form and these services share."""
    try:
        anchor = anchoring.locate(article.text, quote)
    except anchoring.AnchorError as exc:
        raise ValidationError({"quote": f"{exc}."}) from None
    return {
        "start": anchor.start,
        "end": anchor.end,
        "prefix": anchor.prefix,
        "suffix": anchor.suffix,
        "section": anchoring.section_at(article.text, article.headings, anchor.start),
    }


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
    claim.full_clean()
    claim._change_reason = "created"
    if user is not None:
        claim._history_user = user
    try:
        # a savepoint: a concurrent write may have taken the key since full_clean looked
        with transaction.atomic():
            claim.save()
    except IntegrityError:
        raise ValidationError({"key": "Another claim of this article took this key at the same time."}) from None
    return claim


@transaction.atomic
def claim_update(*, claim: Claim, values: dict[str, Any], user: AbstractBaseUser | None = None) -> Claim:
    """Change what a claim says (fields of CLAIM_FIELDS); saves only what changed. A new quote is anchored
    again in the article's current text and must occur there once; an unchanged one keeps its anchor,
    which article_revise maintains. The status is never touched. Raises ValidationError naming the fields."""
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
