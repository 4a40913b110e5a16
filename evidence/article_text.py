"""An article's text as blocks (headings and paragraphs) with its claims placed in them, for templates.

Python decides where each claim starts and ends; the template writes the HTML (and escapes every
piece of text), so no markup is ever built from strings here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from evidence.anchoring import lines_with_offsets


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
    first ends, so every claim stays reachable.
    """
    heading_set = {heading.strip() for heading in headings}
    ordered = sorted(claims, key=lambda claim: (claim.start, claim.end))
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
    """A claim's quote with the article's words around it (context_around)."""

    before: str
    quote: str
    after: str


def claim_context(claim: Any) -> ClaimContext:
    """The text around a claim, as the claim page, the review form and the editor's page show it: the
    one definition (context_around of its article's text). Reads ``claim.article``."""
    article = claim.article
    return context_around(article.text, article.headings, claim.start, claim.end)


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
