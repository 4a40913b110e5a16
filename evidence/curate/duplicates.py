"""Possible duplicates by title, found in bounded work however large the library.

Sorted neighbourhood, the record-linkage method: studies are read in the order of their title key (a
title's letters and digits after NFKD and lower case, then the year: evidence.services.study_title_key,
the expression the index evidence_study_title_key_idx holds, so the read walks that index), and each
title is compared with the next NEIGHBOURS titles by rapidfuzz's ratio. Two records of one paper
(a preprint and its journal version, a title with and without its subtitle's punctuation) sort next to
each other; titles that differ in their first words do not, and are not found here.

A page reads at most MAX_ROWS studies in windows of WINDOW, stopping once it has PAIRS_PER_PAGE pairs,
and hands back where it stopped (a key and an id) for the next page: the work per request is bounded,
never the whole library.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q
from django.db.models.functions import Lower
from rapidfuzz import fuzz

from evidence.models import Study
from evidence.search import is_postgres
from evidence.services import study_title_key

WINDOW = 2000
MAX_ROWS = 10_000
NEIGHBOURS = 3
PAIRS_PER_PAGE = 25
# rapidfuzz's 0-100 similarity of two title keys at which a pair is worth a curator's look
THRESHOLD = 90


@dataclass(frozen=True)
class Cursor:
    """Where a page of the scan stopped: the title key and id of the last study it settled."""

    key: str
    pk: int


@dataclass(frozen=True)
class Pair:
    first: Study
    second: Study
    score: float

    @property
    def studies(self) -> tuple[Study, Study]:
        return self.first, self.second


@dataclass(frozen=True)
class Scan:
    pairs: list[Pair]
    read: int  # studies read
    next: Cursor | None  # None: the scan reached the end of the library


def by_title_key():
    """Studies with a title, in title-key order (on SQLite, which has no normalize(), the lower-case title)."""
    key = study_title_key() if is_postgres() else Lower("title")
    return Study.objects.exclude(title="").annotate(title_key=key).order_by("title_key", "pk")


def _letters(key: str) -> str:
    return key.rsplit("|", 1)[0]


def possible_duplicates(after: Cursor | None = None) -> Scan:
    """The next PAIRS_PER_PAGE pairs of similar titles after ``after``; at most MAX_ROWS studies read, in
    queries of WINDOW rows (their id and key only), and one query for the pairs' studies."""
    found: list[tuple[int, int, float]] = []
    read = 0
    cursor = after
    while True:
        rows = by_title_key()
        if cursor is not None:
            # (key, id) > cursor, spelt so that the key's bound is a range on the index
            rows = rows.filter(Q(title_key__gte=cursor.key), Q(title_key__gt=cursor.key) | Q(pk__gt=cursor.pk))
        window = list(rows.values_list("pk", "title_key")[:WINDOW])
        read += len(window)
        last_window = len(window) < WINDOW
        # a row is settled once its NEIGHBOURS followers have been read; the rest start the next window
        settled = len(window) if last_window else len(window) - NEIGHBOURS
        for i in range(settled):
            pk, key = window[i]
            for other_pk, other_key in window[i + 1 : i + 1 + NEIGHBOURS]:
                score = fuzz.ratio(_letters(key), _letters(other_key))
                if score >= THRESHOLD:
                    found.append((pk, other_pk, score))
        if last_window:
            cursor = None
            break
        last_pk, last_key = window[settled - 1]
        cursor = Cursor(key=last_key, pk=last_pk)
        if len(found) >= PAIRS_PER_PAGE or read >= MAX_ROWS:
            break
    studies = Study.objects.in_bulk({pk for pair in found for pk in pair[:2]})
    pairs = [Pair(studies[a], studies[b], score) for a, b, score in found]
    return Scan(pairs, read, cursor)
