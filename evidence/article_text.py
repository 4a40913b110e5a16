"""An article's text as blocks (headings and paragraphs) with its claims placed in them, for templates.

Python decides where each claim starts and ends; the template writes the HTML (and escapes every
piece of text), so no markup is ever built from strings here. Also what changed between two revisions of
a text (changes), as spans for a template.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from evidence.anchoring import lines_with_offsets
from evidence.models import AnchorState, ArticleRevision


@dataclass
class Segment:
    text: str
    claim: Any = None  # the Claim whose quote this segment is, if any


@dataclass
class Block:
    kind: str  # "title", "heading" or "paragraph"
    start: int
    segments: list[Segment] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(segment.text for segment in self.segments)


def blocks(text: str, headings: Iterable[str], claims: Iterable[Any], title: str = "") -> list[Block]:
    """Split the text into blocks and cut each block where claims begin and end.

    A claim spanning a line break is shown in each block it touches. Where claims overlap, the one
    that starts first keeps the overlapping words; the later one is still placed from where the
    first ends, so every claim stays reachable. An orphan is never placed: its offsets refer to an
    earlier revision of the text, and in this one they would mark other words.
    """
    heading_set = {heading.strip() for heading in headings}
    anchored = [
        claim for claim in claims if getattr(claim, "anchor_state", AnchorState.ANCHORED) == AnchorState.ANCHORED
    ]
    ordered = sorted(anchored, key=lambda claim: (claim.start, claim.end))
    result: list[Block] = []
    for index, line in enumerate(lines_with_offsets(text)):
        if not line.text.strip():
            continue
        if index == 0 and title and line.text.strip() == title.strip():
            kind = "title"
        elif line.text.strip() in heading_set:
            kind = "heading"
        else:
            kind = "paragraph"
        block = Block(kind, line.start)
        cursor = line.start
        for claim in ordered:
            start, end = max(claim.start, cursor), min(claim.end, line.end)
            if end <= start or end <= line.start or start >= line.end:
                continue
            if start > cursor:
                block.segments.append(Segment(text[cursor:start]))
            block.segments.append(Segment(text[start:end], claim))
            cursor = end
        if cursor < line.end:
            block.segments.append(Segment(text[cursor : line.end]))
        result.append(block)
    return result


class ClaimContext(NamedTuple):
    """A claim's quote with the article's words around it (context_around). ``revision`` is None when they
    are the current text's; for an orphan, the number of the revision of the text they come from."""

    before: str
    quote: str
    after: str
    revision: int | None = None
    lost_at: datetime | None = None  # for an orphan: when a revision replaced the text it was last found in


def claim_context(claim: Any) -> ClaimContext:
    """The text around a claim, as the claim page, the review form and the editor's page show it: the
    one definition. For an anchored claim, context_around of its article's current text (reads
    ``claim.article``). For an orphan, whose offsets refer to the revision it was last found in, that
    revision's text (one query), never the current one, which its offsets would cut at other words; when
    the revision is not kept (a library restored from an open dataset), the quote alone."""
    if claim.anchor_state != AnchorState.ORPHANED:
        article = claim.article
        return context_around(article.text, article.headings, claim.start, claim.end)
    revision = (
        ArticleRevision.objects.filter(article_id=claim.article_id, number=claim.anchor_revision)
        .values_list("text", "headings", "created_at")
        .first()
    )
    if revision is None or revision[0][claim.start : claim.end] != claim.quote:
        return ClaimContext("", claim.quote, "", claim.anchor_revision, revision[2] if revision else None)
    text, headings, replaced_at = revision
    context = context_around(text, headings, claim.start, claim.end)
    return context._replace(revision=claim.anchor_revision, lost_at=replaced_at)


def context_around(text: str, headings: Iterable[str], start: int, end: int, sentences: int = 1) -> ClaimContext:
    """The quote with the text around it: the rest of its paragraph, or, when the quote is a whole
    paragraph, the nearest sentence of the paragraphs either side (never a heading)."""
    heading_set = {heading.strip() for heading in headings}
    lines = lines_with_offsets(text)
    here = next((i for i, line in enumerate(lines) if line.start <= start <= line.end), 0)
    line = lines[here]
    before, after = text[line.start : start], text[end : line.end]

    def prose(candidates: Iterable) -> Any:
        for candidate in candidates:
            if candidate.text.strip() in heading_set:
                return None  # a section boundary: no context across it
            if candidate.text.strip():
                return candidate
        return None

    if not before.strip():
        previous = prose(reversed(lines[:here]))
        if previous is not None:
            before = _last_sentences(previous.text, sentences) + " … "
    if not after.strip():
        following = prose(lines[here + 1 :])
        if following is not None:
            after = " … " + _first_sentences(following.text, sentences)
    return ClaimContext(before, text[start:end], after)


def _split_sentences(paragraph: str) -> list[str]:
    parts, current = [], ""
    for ch in paragraph:
        current += ch
        if ch in ".!?" and len(current.strip()) > 1:
            parts.append(current)
            current = ""
    if current.strip():
        parts.append(current)
    return parts


def _last_sentences(paragraph: str, n: int) -> str:
    return "".join(_split_sentences(paragraph)[-n:]).strip()


def _first_sentences(paragraph: str, n: int) -> str:
    return "".join(_split_sentences(paragraph)[:n]).strip()


# Words, each with the spaces after it (and any spaces the text starts with). A revision is compared word by
# word, on the words alone, so a changed word shows as one change rather than as scattered letters, two
# different words never match on the space between them, and a word that only gained a line break or lost
# one is not a change of wording.
_TOKENS = re.compile(r"^\s+|\S+\s*")


@dataclass(frozen=True)
class Change:
    """A stretch of two versions of a text: ``op`` is difflib's (equal, insert, delete, replace), ``old``
    what the earlier version says there and ``new`` what the later one says."""

    op: str
    old: str
    new: str


def changes(old: str, new: str) -> list[Change]:
    """What changed from ``old`` to ``new``, in order: difflib.SequenceMatcher's opcodes over their words,
    for a template to show (the equal stretches as the new text, the others as deletions and insertions).
    A single word left equal between two changes ("the") is folded into them, so a rewritten sentence
    reads as one change rather than as a patchwork; a word that ends a line (a heading) is not."""
    a, b = _TOKENS.findall(old), _TOKENS.findall(new)
    matcher = difflib.SequenceMatcher(None, [t.strip() or t for t in a], [t.strip() or t for t in b], autojunk=False)
    merged: list[tuple[str, list[str], list[str]]] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        olds, news = a[i1:i2], b[j1:j2]
        if op != "equal" and merged and merged[-1][0] != "equal":
            _, before_old, before_new = merged.pop()
            olds, news = before_old + olds, before_new + news
        elif op != "equal" and len(merged) >= 2 and _foldable(merged[-1]):
            _, lone_old, lone_new = merged.pop()
            _, before_old, before_new = merged.pop()
            olds, news = before_old + lone_old + olds, before_new + lone_new + news
        merged.append((op if op == "equal" else "change", olds, news))
    return [Change(_op(op, olds, news), "".join(olds), "".join(news)) for op, olds, news in merged]


def _foldable(chunk: tuple[str, list[str], list[str]]) -> bool:
    op, olds, news = chunk
    return op == "equal" and len(news) == 1 and "\n" not in news[0] and "\n" not in olds[0]


def _op(op: str, old: list[str], new: list[str]) -> str:
    if op == "equal":
        return op
    return "replace" if old and new else "delete" if old else "insert"
