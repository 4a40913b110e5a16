"""An article's claims as W3C Web Annotations (https://www.w3.org/TR/annotation-model/).

One annotation per claim, targeting the article: at its publisher's URL when we know it (so annotation
tools such as Hypothesis can show our claims on the original page), otherwise our copy of it. Each
target carries both selectors the claim's anchor stores: a TextQuoteSelector (the quote with 32
characters of context either side), which finds the words again in any copy of the text, and a
TextPositionSelector (code-point offsets into the text as we hold it, end exclusive), exact for our copy
and a hint elsewhere. The body says where the claim stands: its published verdict, or that it is not
yet reviewed, and links to its page. A claim whose quote a revision of the text no longer holds (an
orphan) is not annotated: no selector of it would hold for the text.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from evidence.claimreview import CERTAINTY_LABEL, SITE_NAME
from evidence.models import Article, Claim
from evidence.status import status_for

ANNO_CONTEXT = "http://www.w3.org/ns/anno.jsonld"


def _body_text(claim: Claim) -> str:
    status = status_for(claim.public_verdict)
    if not claim.public_verdict:
        return f"{status.label}: reviewers are grading the evidence for this claim."
    certainty = CERTAINTY_LABEL.get(claim.public_certainty, "")
    return f"{status.label}{f' ({certainty} certainty evidence)' if certainty else ''}. {status.description}"


def claim_annotation(claim: Claim, *, source: str, collection_id: str, request: HttpRequest) -> dict[str, Any]:
    """Needs ``claim`` from ``reviews.claims.with_verdict()``."""
    page = request.build_absolute_uri(claim.get_absolute_url())
    return {
        "id": f"{collection_id}#claim-{claim.pk}",
        "type": "Annotation",
        # a published verdict assesses the claim; an unreviewed one only marks where it is
        "motivation": "assessing" if claim.public_verdict else "highlighting",
        "created": claim.created_at.isoformat(),
        "modified": claim.updated_at.isoformat(),
        "body": [
            {"type": "TextualBody", "value": _body_text(claim), "format": "text/plain", "language": "en"},
            {"id": page, "type": "Text", "format": "text/html"},
        ],
        "target": {
            "source": source,
            "selector": [
                {"type": "TextQuoteSelector", "exact": claim.quote, "prefix": claim.prefix, "suffix": claim.suffix},
                {"type": "TextPositionSelector", "start": claim.start, "end": claim.end},
            ],
        },
    }


def article_annotations(article: Article, claims: Iterable[Claim], request: HttpRequest) -> dict[str, Any]:
    """The article's claims as one AnnotationCollection with a single page holding every annotation.

    Orphans are left out, whatever the caller passes: their offsets refer to an earlier revision of the
    text, so their TextPositionSelector would select other words of the article as published."""
    claims = [claim for claim in claims if not claim.is_orphaned]
    collection_id = request.build_absolute_uri(reverse("evidence:article-annotations", args=[article.slug]))
    source = article.url or request.build_absolute_uri(article.get_absolute_url())
    items = [claim_annotation(c, source=source, collection_id=collection_id, request=request) for c in claims]
    return {
        "@context": ANNO_CONTEXT,
        "id": collection_id,
        "type": "AnnotationCollection",
        "label": f"Claims in “{article.title}”, with the verdicts on their evidence",
        "creator": {"type": "Organization", "name": SITE_NAME, "homepage": request.build_absolute_uri("/")},
        "total": len(items),
        "first": {
            "id": f"{collection_id}#page-1",
            "type": "AnnotationPage",
            "startIndex": 0,
            "items": items,
        },
    }
