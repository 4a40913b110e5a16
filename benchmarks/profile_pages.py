"""Where a cold page's time goes: random claim pages, study pages and filtered lists, in-process, with every
cache off (the whole-page cache, the aggregates, the formatted references as they stand in the database).

    DJANGO_SETTINGS_MODULE=evidence.settings DATABASE_URL=... python -m benchmarks.profile_pages \
        [--pages 200] [--seed 1] [--profile claim] [--top 25]

For each kind of page it requests ``--pages`` paths drawn with a fixed seed through Django's test client
(production settings, DEBUG off, anonymous), and splits the wall-clock time into SQL (the time spent in
the database driver, measured by a connection execute wrapper), template rendering (Django's template
backend, less the SQL it ran lazily), citeproc (formatting references not yet stored) and the rest (view
code, ORM objects, middleware). With ``--profile KIND`` it also prints cProfile's top functions for that
kind, by their own time. Nothing is written to the database but the references the pages store (the
first reader's job: evidence.citations).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import random
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", choices=["claim", "study", "list"], default=None)
    parser.add_argument("--top", type=int, default=25)
    options = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.core.cache import cache
    from django.db import connection
    from django.template.backends.django import Template
    from django.test import Client
    from django.urls import reverse

    from evidence import citations
    from evidence.models import Citation, Claim, Study

    settings.PAGE_CACHE = False
    # plain static URLs: no collectstatic manifest needed (the hashed names cost the same dictionary lookup)
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    rng = random.Random(options.seed)
    claim_ids = sorted(Claim.objects.values_list("pk", flat=True))
    study_ids = sorted(set(Citation.objects.values_list("study_id", flat=True)))
    designs = [d for d in Study.Design.values if d]
    lists = [
        *(reverse("evidence:claim-list") + f"?claim_type={t}&page={p}" for t in Claim.ClaimType.values for p in (1, 2)),
        *(reverse("evidence:study-list") + f"?design={d}&page={p}" for d in designs for p in (1, 2)),
        *(reverse("evidence:claim-list") + f"?q={w}" for w in ("ketamine", "depression", "trial", "MDMA")),
    ]
    paths = {
        "claim": [reverse("evidence:claim-detail", args=[rng.choice(claim_ids)]) for _ in range(options.pages)],
        "study": [reverse("evidence:study-detail", args=[rng.choice(study_ids)]) for _ in range(options.pages)],
        "list": [rng.choice(lists) for _ in range(options.pages)],
    }

    timers: dict[str, float] = defaultdict(float)

    def timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                timers[name] += time.perf_counter() - start

        return wrapper

    def sql(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            timers["sql"] += time.perf_counter() - start
            timers["sql_in_template"] += (time.perf_counter() - start) if timers["_rendering"] else 0
            timers["queries"] += 1

    render = Template.render

    def counted_render(self: Any, *args: Any, **kwargs: Any) -> Any:
        timers["_rendering"] += 1
        try:
            return timed("templates", render)(self, *args, **kwargs)
        finally:
            timers["_rendering"] -= 1

    Template.render = counted_render  # the measurement's own patch, restored below
    citations.citations_for = timed("citeproc", citations.citations_for)

    client = Client()
    for urls in paths.values():  # the connection, the URL resolver, each template's compilation: once
        client.get(urls[0])
    write = sys.stdout.write
    write(
        f"{'page':<8} {'n':>5} {'ms/page':>8} {'SQL ms':>7} {'queries':>8} {'templates ms':>13} "
        f"{'citeproc ms':>12} {'rest ms':>8}\n"
    )
    try:
        for kind, urls in paths.items():
            timers.clear()
            profiler = cProfile.Profile() if options.profile == kind else None
            with connection.execute_wrapper(sql), _maybe(profiler):
                start = time.perf_counter()
                for url in urls:
                    cache.clear()
                    assert client.get(url).status_code == 200, url
                total = time.perf_counter() - start
            n = len(urls)
            templates = timers["templates"] - timers["sql_in_template"]
            rest = total - timers["sql"] - templates - timers["citeproc"]
            write(
                f"{kind:<8} {n:>5} {total / n * 1000:>8.1f} {timers['sql'] / n * 1000:>7.1f} "
                f"{timers['queries'] / n:>8.1f} {templates / n * 1000:>13.1f} "
                f"{timers['citeproc'] / n * 1000:>12.1f} {rest / n * 1000:>8.1f}\n"
            )
            if profiler is not None:
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(options.top)
                write(out.getvalue())
    finally:
        Template.render = render


@contextmanager
def _maybe(profiler: cProfile.Profile | None):
    if profiler is None:
        yield
        return
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()


if __name__ == "__main__":
    main()
