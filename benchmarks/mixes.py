"""The read mixes: what many readers open, not one URL asked a thousand times.

Each mix is a list of a few thousand paths drawn from the library with a fixed seed (the same library and
seed give the same paths, in the same order), written one a line to a file that benchmarks/wrk_statuses.lua
cycles through (each wrk thread from its own offset):

- claim pages: random claims (every claim has a public page);
- study pages: random studies among those cited by a claim (the ones readers reach);
- lists: the claim and study lists with one or two random filters, a sort, a search word or a later page.

Draw before the run (draw()), from the database the server reads, so that every path names a row that
exists; the writer (benchmarks/writer.py) deletes nothing, so they stay valid while it writes.
"""

from __future__ import annotations

import random
from pathlib import Path
from urllib.parse import urlencode

DEFAULT_SEED = 20
DEFAULT_SIZE = 2000

CLAIM_PAGES = "claim pages"
STUDY_PAGES = "study pages (cited)"
LISTS = "filtered lists and searches"
MIXES = (CLAIM_PAGES, STUDY_PAGES, LISTS)


def _sample(rng: random.Random, population: list, size: int) -> list:
    return rng.sample(population, min(size, len(population)))


def _choices(filter_class: type, name: str) -> list[str]:
    """The values a filter of the page's FilterSet offers (its own list, so a new choice is drawn too)."""
    return [str(value) for value, _ in filter_class.base_filters[name].extra["choices"] if value != ""]


def _search_words(limit: int = 400) -> list[str]:
    """Words of the library's first study titles, as a reader would type them."""
    from evidence.models import Study

    words: set[str] = set()
    for title in Study.objects.order_by("pk").values_list("title", flat=True)[:limit]:
        words.update(word.lower() for word in title.split() if word.isalpha() and len(word) >= 6)
    return sorted(words)


def list_paths(rng: random.Random, size: int) -> list[str]:
    """Up to ``size`` distinct filtered, sorted, searched or paged claim and study lists."""
    from django.db.models import Max, Min
    from django.urls import reverse

    from evidence.filters import ClaimFilter, StudyFilter
    from evidence.models import Article, Study

    slugs = list(Article.objects.order_by("pk").values_list("slug", flat=True))
    years = Study.objects.aggregate(low=Min("year"), high=Max("year"))
    low, high = years["low"] or 1990, years["high"] or 2025
    words = _search_words()
    claim_options = {
        name: _choices(ClaimFilter, name)
        for name in ("claim_type", "verdict", "certainty", "status", "flagged", "retracted", "unsupported", "sort")
    }
    claim_options["article"] = slugs
    study_options = {name: _choices(StudyFilter, name) for name in ("design", "retracted", "verified", "sort")}
    study_options["year_min"] = [str(year) for year in range(low, high + 1)]
    claims, studies = reverse("evidence:claim-list"), reverse("evidence:study-list")

    paths: dict[str, None] = {}  # distinct, in the order drawn
    for _ in range(size * 20):
        if len(paths) >= size:
            break
        base, options = (claims, claim_options) if rng.random() < 0.6 else (studies, study_options)
        names = rng.sample(sorted(n for n in options if options[n]), rng.choice((1, 1, 2)))
        query = {name: rng.choice(options[name]) for name in names}
        if words and rng.random() < 0.3:
            query["q"] = rng.choice(words)
        if rng.random() < 0.15:
            query["page"] = str(rng.randint(2, 4))
        paths[f"{base}?{urlencode(sorted(query.items()))}"] = None
    return list(paths)


def draw(seed: int = DEFAULT_SEED, size: int = DEFAULT_SIZE) -> dict[str, list[str]]:
    """Each mix's paths: the same for the same library, seed and size."""
    from django.db.models import Exists, OuterRef

    from evidence.models import Citation, Claim, Study

    rng = random.Random(seed)
    claim_ids = list(Claim.objects.order_by("pk").values_list("pk", flat=True))
    cited = Study.objects.filter(Exists(Citation.objects.filter(study=OuterRef("pk"))))
    study_ids = list(cited.order_by("pk").values_list("pk", flat=True))
    return {
        CLAIM_PAGES: [Claim(pk=pk).get_absolute_url() for pk in _sample(rng, claim_ids, size)],
        STUDY_PAGES: [Study(pk=pk).get_absolute_url() for pk in _sample(rng, study_ids, size)],
        LISTS: list_paths(rng, size),
    }


def write(mixes: dict[str, list[str]], folder: Path) -> dict[str, Path]:
    """One file per mix (one path a line), for WRK_PATHS; returns each mix's file."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for index, (name, paths) in enumerate(mixes.items()):
        files[name] = folder / f"mix-{index}.txt"
        files[name].write_text("\n".join(paths) + "\n", encoding="utf-8")
    return files
