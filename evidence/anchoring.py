"""Where a claim stands in an article's text.

Pure functions over strings, no database: locating a quote, building the W3C TextQuoteSelector context
around it, finding it again in a revised text (reanchor), and naming the section heading above it.

Finding a quote again after a revision tries, in order, as annotation tools do (Hypothesis's
dom-anchor-text-quote): the exact quote where it occurs once; among several occurrences, the one whose
prefix and suffix match the old context best (then the nearest to the old position); and last an
approximate match, scored by rapidfuzz. An approximate match is only ever a *suggestion* for an editor
to accept: it is never applied on its own.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

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


def locate(text: str, quote: str, prefix: str = "", suffix: str = "") -> Anchor:
    """Anchor a quote that must occur exactly once in the text, or once with the given context.

    ``quote``, ``prefix`` and ``suffix`` are a W3C TextQuoteSelector (exact, prefix, suffix): the article
    import gives the quote alone; an editor marking a passage in the browser sends the words either side
    of the selection too, which tell apart the occurrences of a quote the text repeats. The context must
    match exactly: the text right before an occurrence ends with ``prefix``, the text right after it
    starts with ``suffix``. A quote still ambiguous is refused, never placed by its offsets (a
    TextPositionSelector): offsets do not survive a revision of the text, so a claim that only its
    offsets tell apart could not be found again (reanchor). Spaces between the context and the quote
    are not compared (_fits).
    """
    if not quote.strip():
        raise AnchorError("the quote is empty")
    found = occurrences(text, quote)
    if not found:
        raise AnchorError("the quote does not occur in the article text (check spelling, quotes and apostrophes)")
    if len(found) > 1 and (prefix or suffix):
        fitting = [start for start in found if _fits(text, start, start + len(quote), prefix, suffix)]
        if len(fitting) == 1:
            return anchor_at(text, fitting[0], fitting[0] + len(quote))
        if not fitting:
            raise AnchorError(
                f"the quote occurs {len(found)} times in the article text, and none of them has these words "
                "around it; select the passage again"
            )
        raise AnchorError(
            f"the quote occurs {len(found)} times in the article text with the same words around it "
            f"(at offsets {', '.join(map(str, fitting))}); select more words so the passage occurs once"
        )
    if len(found) > 1:
        raise AnchorError(
            f"the quote occurs {len(found)} times in the article text (at offsets "
            f"{', '.join(map(str, found))}); quote more words so it occurs once"
        )
    return anchor_at(text, found[0], found[0] + len(quote))


def _fits(text: str, start: int, end: int, prefix: str, suffix: str) -> bool:
    """Whether the text right before ``start`` ends with ``prefix`` and right after ``end`` starts with
    ``suffix``. Spaces and line breaks between the context and the quote are not compared: a context typed
    or pasted by hand rarely keeps them. Reads a window around the occurrence only, however long the text."""
    prefix, suffix = prefix.strip(), suffix.strip()
    before = text[max(0, start - len(prefix) - 64) : start].rstrip()
    after = text[end : end + len(suffix) + 64].lstrip()
    return before.endswith(prefix) and after.startswith(suffix)


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


# An approximate match scoring below this (rapidfuzz's 0-100 similarity) is not worth an editor's time.
SUGGESTION_MIN_SCORE = 75.0
_WORD = re.compile(r"\S+")
_SENTENCE_STOP = tuple('.!?…"”')


@dataclass(frozen=True)
class Suggestion:
    """Where a quote that is gone from a text may have moved to, reworded: for an editor to accept."""

    quote: str
    start: int
    end: int
    score: float

    def as_json(self) -> dict[str, object]:
        return {"quote": self.quote, "start": self.start, "end": self.end, "score": round(self.score, 1)}


@dataclass(frozen=True)
class Reanchored:
    """What reanchor() found: an anchor (how: "exact" or "context"), or none and perhaps a suggestion."""

    anchor: Anchor | None
    how: str  # "exact", "context" or "lost"
    suggestion: Suggestion | None = None


def reanchor(text: str, quote: str, prefix: str, suffix: str, hint: int) -> Reanchored:
    """Find a claim's quote again in a revised text (the module docstring says in which order)."""
    found = occurrences(text, quote)
    if len(found) == 1:
        return Reanchored(anchor_at(text, found[0], found[0] + len(quote)), "exact")
    if found:
        return Reanchored(relocate(text, quote, prefix, suffix, hint), "context")
    return Reanchored(None, "lost", suggest(text, quote))


def suggest(text: str, quote: str) -> Suggestion | None:
    """The span of ``text`` most like ``quote``, if it is alike enough (SUGGESTION_MIN_SCORE).

    rapidfuzz's partial_ratio_alignment finds where the best window of the quote's length lies; the
    candidates are then the spans of whole words starting and ending near that window (a reworded
    quote may have grown or shrunk), and rapidfuzz's ratio picks the most similar one.
    """
    if not quote.strip() or not text.strip():
        return None
    window = fuzz.partial_ratio_alignment(quote, text, score_cutoff=SUGGESTION_MIN_SCORE)
    if window is None:
        return None
    slack = min(max(len(quote) // 2, 20), 200)  # bounds the candidates a long quote makes
    lo, hi = max(0, window.dest_start - slack), min(len(text), window.dest_end + slack)
    words = [match.span() for match in _WORD.finditer(text, lo, hi)]
    spans = {
        (words[i][0], words[j][1])
        for i in range(len(words))
        for j in range(i, len(words))
        if abs((words[j][1] - words[i][0]) - len(quote)) <= slack
    }
    if not spans:
        return None
    # A quote that ends a sentence is suggested as a whole sentence when one is alike enough: the shorter
    # span that stops before a changed last word ("within a" for "within a week.") scores as well, and
    # would leave an editor accepting half a sentence.
    best = None
    if quote.rstrip().endswith(_SENTENCE_STOP):
        whole = {span: text[span[0] : span[1]] for span in spans if text[span[0] : span[1]].endswith(_SENTENCE_STOP)}
        best = process.extractOne(quote, whole, scorer=fuzz.ratio, score_cutoff=SUGGESTION_MIN_SCORE)
    if best is None:
        choices = {span: text[span[0] : span[1]] for span in spans}
        best = process.extractOne(quote, choices, scorer=fuzz.ratio, score_cutoff=SUGGESTION_MIN_SCORE)
    if best is None:
        return None
    _, score, (start, end) = best
    return Suggestion(text[start:end], start, end, score)


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
