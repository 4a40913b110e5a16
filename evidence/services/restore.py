"""Restoring evidence's records as a dump gives them (evidence.opendata imports the open dataset): rows
with their ids and their own timestamps, into a library that does not hold them yet.

A restore puts back a snapshot; it does not replay the workflow that led to it. So the rows keep the
status, offsets and dates they were exported with, nobody is told that evidence changed (the dump's
claims already are in the state that followed), and no flag is raised (flags are not in a dump). What
it keeps of the services' rules: every row is validated field by field before anything is written (a
ValidationError names the record), an anchored claim's quote must stand at its offsets in its article's
text (an orphan's, in the revision it refers to, when the library holds it: claims_restore), a
citation's claim and study must exist, the tables' constraints hold (the database refuses duplicate
identifiers and ids), each row gets a history row saying where it came from, the primary key sequences
move past the restored ids, and the data version moves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.utils import timezone

from evidence import caching
from evidence.models import Article, ArticleRevision, Citation, Claim, Study
from evidence.services import rows


def _restore(model: type[models.Model], objs: Sequence[Any], reason: str, label: Callable[[Any], str]) -> None:
    now = timezone.now()
    for obj in objs:
        rows.clean(obj, label=label(obj))
        rows.stamp(obj, at=now, reason=reason)
    rows.insert(model, objs)
    with connection.cursor() as cursor:
        # explicit ids were inserted: the next record created must not be given one of them
        for sql in connection.ops.sequence_reset_sql(no_style(), [model]):
            cursor.execute(sql)
    caching.touch()


@transaction.atomic
def articles_restore(*, articles: Sequence[Article], reason: str) -> None:
    """Restore articles with their ids, texts and timestamps."""
    _restore(Article, articles, reason, lambda article: f"article {article.slug}")


@transaction.atomic
def claims_restore(*, claims: Sequence[Claim], reason: str) -> None:
    """Restore claims with their ids, anchors, statuses and timestamps. An anchored claim's quote must be
    its article's text between its offsets. An orphan's offsets refer to the revision of the text it was
    last found in (anchor_revision): when the library holds that revision, its quote must be that text
    between them; a dump carries no revisions, so otherwise they are taken as given (the row's checks and
    constraints still hold: a revision named, a non-empty span). Its suggestion, for an editor, is not in a
    dump: article_revise makes a new one at the next revision."""
    article_ids = {claim.article_id for claim in claims}
    texts = dict(Article.objects.filter(pk__in=article_ids).values_list("pk", "text"))
    revisions = {
        (article_id, number): text
        for article_id, number, text in ArticleRevision.objects.filter(article_id__in=article_ids).values_list(
            "article_id", "number", "text"
        )
    }
    for claim in claims:
        text = texts.get(claim.article_id)
        if text is None:
            raise ValidationError(f"{_claim_label(claim)}: its article is not in the library")
        if claim.anchor_state == Claim.AnchorState.ORPHANED:
            text = revisions.get((claim.article_id, claim.anchor_revision))
            if text is None:
                continue
            where = f"revision {claim.anchor_revision} of its article's text"
        else:
            where = "its article's text"
        if not isinstance(claim.start, int) or text[claim.start : claim.end] != claim.quote:
            raise ValidationError(f"{_claim_label(claim)}: {where} between start and end is not its quote")
    _restore(Claim, claims, reason, _claim_label)


def _claim_label(claim: Claim) -> str:
    return f"claim {claim.pk} ({claim.key or 'no key'})"


@transaction.atomic
def studies_restore(*, studies: Sequence[Study], reason: str) -> None:
    """Restore studies with their ids, identifiers, retraction notices and timestamps."""
    _restore(Study, studies, reason, lambda study: f"study {study.pk}")


@transaction.atomic
def citations_restore(*, citations: Sequence[Citation], reason: str) -> None:
    """Restore citations with their ids and timestamps; their claims and studies must be in the library."""
    claims = set(Claim.objects.filter(pk__in={c.claim_id for c in citations}).values_list("pk", flat=True))
    studies = set(Study.objects.filter(pk__in={c.study_id for c in citations}).values_list("pk", flat=True))
    for citation in citations:
        if citation.claim_id not in claims or citation.study_id not in studies:
            raise ValidationError(
                f"citation {citation.pk}: claim {citation.claim_id} or study {citation.study_id} is not in the library"
            )
    _restore(Citation, citations, reason, lambda citation: f"citation {citation.pk}")
