"""Time a bibliography import against bibtexparser alone, as ``make bench`` does (benchmarks/bench.py).

    DATABASE_URL=postgres://evidence:evidence@127.0.0.1:5432/evidence_bench DJANGO_SECRET_KEY=x \\
    DJANGO_ALLOWED_HOSTS=localhost .venv/bin/python benchmarks/import_bench.py [--records 10000] [--runs 3]

The file is bench.py's (import_file: synthetic studies, seed 4242, unique citation keys, written by our
BibTeX exporter). Each run times ``bibtexparser.parse_string`` of the file
(the reference, with its default middlewares, as bench.py calls it), our parser alone (parse_bibliography,
no database) and ``bibliography_import`` as a dry run, which matches against whatever library the
database holds, writes, and rolls back: the data is left as it was, so this is safe against
evidence_bench (only the sequences move; the dead rows are vacuumed after each run, as bench.py does).

Then one more dry run with its SQL captured splits the time between the database and Python, and
``--profile PATH`` writes cProfile stats of yet another. bibtexparser alone is also timed with Python's
garbage collector paused, as bibliography_import pauses it, to show how much of the ratio that is.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evidence.settings")


def log(message: str) -> None:
    # a command-line tool: its output is the point
    print(message, flush=True)  # noqa: T201


def timed(function, *, paused: bool = False) -> float:
    enabled = gc.isenabled()
    if paused:
        gc.disable()
    try:
        started = time.perf_counter()
        function()
        return time.perf_counter() - started
    finally:
        if enabled:
            gc.enable()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=int(os.environ.get("BENCH_IMPORT_RECORDS", "10000")))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", help="write cProfile stats of one more dry-run import to this file")
    args = parser.parse_args()

    import django

    django.setup()
    import bibtexparser
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from benchmarks.bench import import_file, vacuum_after_dry_run
    from evidence.importers.detect import parse_bibliography
    from evidence.models import Study
    from evidence.services import bibliography_import

    text = import_file(args.records)
    log(
        f"{args.records:,} records, {len(text.encode()) / 1e6:.1f} MB; database {connection.settings_dict['NAME']} "
        f"({connection.vendor}) with {Study.objects.count():,} studies"
    )
    runs: dict[str, list[float]] = {"reference": [], "reference, gc paused": [], "parse": [], "import": []}
    summary = ""
    for run in range(args.runs):
        runs["reference"].append(timed(lambda: bibtexparser.parse_string(text)))
        runs["reference, gc paused"].append(timed(lambda: bibtexparser.parse_string(text), paused=True))
        runs["parse"].append(timed(lambda: parse_bibliography(text, filename="benchmark.bib"), paused=True))
        report = None

        def dry_run() -> None:
            nonlocal report
            report = bibliography_import(data=text, filename="benchmark.bib", dry_run=True)

        runs["import"].append(timed(dry_run))
        vacuum_after_dry_run()
        summary = report.summary("study")
        log(f"  run {run + 1}: " + ", ".join(f"{name} {times[-1]:.2f} s" for name, times in runs.items()))
    median = {name: statistics.median(times) for name, times in runs.items()}
    reference = median["reference"]
    log(f"report: {summary}")
    log(
        f"medians: bibtexparser.parse_string {reference:.2f} s ({median['reference, gc paused']:.2f} s with the "
        f"collector paused); our parser {median['parse']:.2f} s ({median['parse'] / reference:.2f}×); "
        f"bibliography_import (dry run) {median['import']:.2f} s: ratio {median['import'] / reference:.2f}"
    )

    with CaptureQueriesContext(connection) as queries:
        total = timed(lambda: bibliography_import(data=text, filename="benchmark.bib", dry_run=True))
    vacuum_after_dry_run()
    in_sql = sum(float(query["time"]) for query in queries.captured_queries)
    writes = sum(float(query["time"]) for query in queries.captured_queries if query["sql"].startswith("INSERT"))
    log(
        f"one more dry run: {total:.2f} s, of which {len(queries)} queries {in_sql:.2f} s "
        f"(inserts {writes:.2f} s) and Python {total - in_sql:.2f} s"
    )
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        bibliography_import(data=text, filename="benchmark.bib", dry_run=True)
        profiler.disable()
        profiler.dump_stats(args.profile)
        log(f"profile written to {args.profile}")


if __name__ == "__main__":
    main()
