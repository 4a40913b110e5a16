"""python -m benchmarks.dataset [--articles N] [--claims N] [--studies N] [--reviews N] [--seed N]
[--force | --append] [--dry-run] [--report PATH]

A management command's class, run by benchmarks/dataset/__main__.py rather than by manage.py: the
synthetic library is a benchmark's fixture, not part of the application. Tests call it with
``call_command(Command(), ...)``."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from benchmarks.dataset import generator as synthetic


class Command(BaseCommand):
    help = (
        "Fill the database with a synthetic evidence library for benchmarks and load tests: articles whose "
        "claims are anchored in their text, studies (about 1% retracted), 1 to 8 citations per claim, 0 to 4 "
        "reviews per claim from a pool of reviewers, the consensus they add up to, adjudications, published "
        "verdicts, flags, and the history of every row. Deterministic for a --seed. Written through the "
        "services, at the moments drawn, in one transaction. Refuses to touch a database that already holds "
        "articles, claims or studies unless --force (empty the library first) or --append (add to it) is "
        f"given. Every generated account's password is {synthetic.DEFAULT_PASSWORD!r} unless --password is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--articles", type=int, default=200)
        parser.add_argument("--claims", type=int, default=20_000)
        parser.add_argument("--studies", type=int, default=100_000)
        parser.add_argument("--reviews", type=int, default=60_000)
        parser.add_argument("--seed", type=int, default=1, help="the same seed gives the same library (default 1)")
        existing = parser.add_mutually_exclusive_group()
        existing.add_argument(
            "--force",
            action="store_true",
            help="delete every article, claim, study, citation, review, consensus, flag and their history first",
        )
        existing.add_argument("--append", action="store_true", help="add to the library already in the database")
        parser.add_argument("--password", default=synthetic.DEFAULT_PASSWORD, help="for new generated accounts")
        parser.add_argument("--dry-run", action="store_true", help="generate and write, then roll back")
        parser.add_argument("--report", type=Path, help="also write the counts and timings as JSON to this file")

    def handle(
        self,
        *args: Any,
        articles: int,
        claims: int,
        studies: int,
        reviews: int,
        seed: int,
        force: bool,
        append: bool,
        password: str,
        dry_run: bool,
        report: Path | None,
        verbosity: int,
        **options: Any,
    ) -> None:
        size = synthetic.Size(articles=articles, claims=claims, studies=studies, reviews=reviews)
        problems = size.problems()
        if problems:
            raise CommandError("; ".join(problems) + ".")
        started = time.perf_counter()
        with transaction.atomic():
            if not synthetic.library_is_empty():
                if not (force or append):
                    raise CommandError(
                        "The database already holds articles, claims or studies. Use --append to add to them, "
                        "or --force to delete the whole library (with its history) and generate a new one; "
                        "nothing was changed."
                    )
                if force:
                    emptied = time.perf_counter()
                    synthetic.empty_library()
                    self._line(verbosity, "emptied the library", time.perf_counter() - emptied)
            try:
                result = synthetic.generate(
                    size=size,
                    seed=seed,
                    password=password,
                    on_phase=lambda name, seconds: self._line(verbosity, name, seconds),
                )
            except synthetic.MissingRoles as exc:
                raise CommandError(f"{exc}; nothing was changed.") from None
            if dry_run:
                transaction.set_rollback(True)
        if not dry_run:
            analyzed = time.perf_counter()
            synthetic.analyze()
            result.timings.append(("analyze", time.perf_counter() - analyzed))
            self._line(verbosity, "analyze", result.timings[-1][1])
        total = time.perf_counter() - started
        if verbosity >= 2:
            for kind, calls in result.batches.items():
                self.stdout.write(f"  {kind:<34} {calls:>9,} service calls")
            for table, rows in result.tables.items():
                self.stdout.write(f"  {table:<34} {rows:>9,} rows")
        if verbosity >= 1:
            for name, n in result.counts.items():
                self.stdout.write(f"  {name:<32} {n:>10,}")
            if result.benchmark_article:
                self.stdout.write(
                    f"  article with {synthetic.BENCHMARK_ARTICLE_CLAIMS} claims: {result.benchmark_article}"
                )
            verb = "Generated and rolled back (dry run)" if dry_run else "Generated"
            self.stdout.write(
                self.style.SUCCESS(f"{verb} a library with seed {seed} on {connection.vendor} in {total:.1f} s.")
            )
        if report is not None:
            report.parent.mkdir(parents=True, exist_ok=True)
            report.write_text(
                json.dumps(
                    {
                        "version": synthetic.VERSION,
                        "seed": seed,
                        "size": vars(size),
                        "database": connection.vendor,
                        "dry_run": dry_run,
                        "counts": result.counts,
                        "timings": dict(result.timings),
                        "tables": result.tables,
                        "service_calls": result.batches,
                        "total_seconds": round(total, 2),
                        "benchmark_article": result.benchmark_article,
                    },
                    indent=2,
                )
                + "\n"
            )

    def _line(self, verbosity: int, name: str, seconds: float) -> None:
        if verbosity >= 1:
            self.stdout.write(f"{name:<30} {seconds:7.1f} s")
