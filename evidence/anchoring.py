"""Where a claim stands in an article's text.

Pure functions over strings, no database: locating a quote, building the W3C TextQuoteSelector context
around it, finding it again in a revised text, and naming the section heading above it.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

CONTEXT_LENGTH = 32
# A line that ends in one of these is prose, not a heading.
_SENTENCE_END = tuple('.!?:;…"”’)')


class AnchorError(ValueError):
    """A quote that cannot be placed in the text: missing or ambiguous."""


@dataclass(frozen=True)
class Anchor:
    start: int
    end: int
    prefix: str
    suffix: str


def occurrences(text: str, quote: str) -> list[int]:
    """Offsets of every occurrence of ``quote`` in ``text`` (overlapping ones included)."""
    found: list[int] = []
    position = text.find(quote)
    while position != -1:
        found.append(position)
        position = text.find(quote, position + 1)
    return found


def anchor_at(text: str, start: int, end: int) -> Anchor:
    return Anchor(
        start=start,
        end=end,
        prefix=text[max(0, start - CONTEXT_LENGTH) : start],
        suffix=text[end : end + CONTEXT_LENGTH],
    )


def locate(text: str, quote: str) -> Anchor:
    """Anchor a quote that must occur exactly once in the text."""
    if not quote.strip():
        raise AnchorError("the quote is empty")
    found = occurrences(text, quote)
    if not found:
        raise AnchorError("the quote does not occur in the article text (check spelling, quotes and apostrophes)")
    if len(found) > 1:
        raise AnchorError(
            f"the quote occurs {len(found)} times in the article text (at offsets "
            f"{', '.join(map(str, found))}); quote more words so it occurs once"
        )
    return anchor_at(text, found[0], found[0] + len(quote))


def relocate(text: str, quote: str, prefix: str, suffix: str, hint: int) -> Anchor | None:
    """Find a quote again in a revised text, the way annotation tools re-attach highlights.

    Among the quote's occurrences, prefer the one whose surrounding text matches the old context best,
    then the one nearest its old position. None when the quote is gone from the text.
    """
    found = occurrences(text, quote)
    if not found:
        return None

    def score(start: int) -> tuple[int, int]:
        end = start + len(quote)
        before = text[max(0, start - len(prefix)) : start]
        after = text[end : end + len(suffix)]
        context = _common_suffix(before, prefix) + _common_prefix(after, suffix)
        return (-context, abs(start - hint))

    best = min(found, key=score)
    return anchor_at(text, best, best + len(quote))


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _common_suffix(a: str, b: str) -> int:
    return _common_prefix(a[::-1], b[::-1])


def infer_headings(text: str) -> list[str]:
    """Guess section headings: short lines of their own that do not end like a sentence.

    The first line is skipped when it is the article's title. Import files may list headings explicitly
    instead; this is the default when they do not.
    """
    lines = text.splitlines()
    return [
        line.strip()
        for line in lines[1:]
        if line.strip() and len(line.strip()) <= 150 and not line.strip().endswith(_SENTENCE_END)
    ]


@dataclass(frozen=True)
class Line:
    start: int
    end: int
    text: str


def lines_with_offsets(text: str) -> list[Line]:
    """The text's lines with their offsets, line breaks excluded."""
    result: list[Line] = []
    position = 0
    for raw in text.splitlines(keepends=True):
        stripped = raw.rstrip("\r\n")
        result.append(Line(position, position + len(stripped), stripped))
        position += len(raw)
    return result


def section_at(text: str, headings: list[str], offset: int) -> str:
    """The heading of the section that contains ``offset`` ("" before the first heading)."""
    return sections_at(text, headings, [offset])[0]


def sections_at(text: str, headings: list[str], offsets: Sequence[int]) -> list[str]:
    """section_at for many offsets of one text, reading its lines once (an article's claims)."""
    wanted = set(headings)
    starts = [(line.start, line.text.strip()) for line in lines_with_offsets(text) if line.text.strip() in wanted]
    positions = [start for start, _ in starts]
    # the last heading line that starts at or before the offset
    return [starts[i - 1][1] if (i := bisect.bisect_right(positions, offset)) else "" for offset in offsets]
