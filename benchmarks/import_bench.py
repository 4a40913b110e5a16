"""A bibliography import as a curator meets it: wall-clock seconds and peak memory, on the benchmark library.

    DATABASE_URL=postgres://evidence:evidence@127.0.0.1:5432/evidence_bench DJANGO_SECRET_KEY=x \\
    DJANGO_ALLOWED_HOSTS=localhost .venv/bin/python benchmarks/import_bench.py [--records 10000] [--runs 3] \\
    [--large-mb 50] [--profile PATH]

The budget (issue 18): a 10,000-record BibTeX file into the benchmark library (100,000 studies),
committed with its history and report, in at most 15 s wall-clock and 500 MB peak memory; a 50 MB file
within 1 GB.

Each import runs in a child process of its own (this script with --child), as the management command would:
Django set up, the file read, ``bibliography_import`` called and committed. The child reports how long the
call took (and its CPU time: on a shared machine the wall-clock also measures the neighbours, whose 1-minute
load average is noted before and after) and its peak resident memory, Django's own start-up included: VmHWM
from /proc/self/status, not getrusage()'s ru_maxrss, which on Linux a child inherits from the parent that
started it (a parent that has generated the large file would be counted). Every committed import goes into a
fresh copy of the library (CREATE DATABASE … TEMPLATE), dropped afterwards: each run meets the same 100,000
studies, and the library itself is never changed.

The files are bench.py's (import_file: synthetic studies, seed 4242, unique citation keys, written by our
BibTeX exporter). The large one is as many of those entries, without their abstracts, as fit in
``--large-mb`` MB. As context, not as a budget: how long bibtexparser.parse_string alone
takes on the same file, and our parser alone (parse_bibliography, no database), each in a child too.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evidence.settings")

SECONDS_BUDGET = 15.0
RSS_BUDGET_MB = 500
LARGE_RSS_BUDGET_MB = 1024
LARGE_ENTRIES = 95_000
FILES = Path(tempfile.gettempdir()) / "evidence-import-bench"


def log(message: str) -> None:
    # a command-line tool: its output is the point
    print(message, flush=True)  # noqa: T201


# --- The files --------------------------------------------------------------------------------------------


def benchmark_file(records: int) -> Path:
    """bench.py's import file of this many records, written once to a temporary directory."""
    path = FILES / f"import-{records}.bib"
    if not path.exists():
        _write(path, _import_file(records))
    return path


def large_file(megabytes: int) -> Path:
    """A file of ``megabytes`` MB (MiB, as EVIDENCE_IMPORT_MAX_BYTES counts them) with as many entries as
    bench.py's generator allows: its entries without their abstracts (issue 18's 50 MB file had about
    95,000 entries, shorter than the generator's), cut after the last entry that fits."""
    path = FILES / f"import-{megabytes}mb.bib"
    if path.exists():
        return path
    text = re.sub(r"^  abstract = \{.*\},\n", "", _import_file(LARGE_ENTRIES), flags=re.M)
    data = text.encode()
    limit = megabytes * 1024 * 1024
    if len(data) > limit:
        data = data[: data.rindex(b"\n@", 0, limit) + 1]
    _write(path, data.decode())
    return path


def _import_file(records: int) -> str:
    import django

    django.setup()
    from django.db import connections

    from benchmarks.bench import import_file

    log(f"generating a {records:,}-record BibTeX file")
    try:
        return import_file(records)
    finally:
        connections.close_all()  # the library is copied as a template next: nobody may be connected to it


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


def describe(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    return f"{text.count(chr(10) + '@'):,} entries, {len(text.encode()) / 1e6:.1f} MB"


# --- One import in a child process ------------------------------------------------------------------------


def child(mode: str, path: Path, dry_run: bool, profile: str | None) -> None:
    """Run in the child: one import (or parse) of ``path``; a JSON line with what it took on standard output."""
    import django

    django.setup()
    import bibtexparser

    from evidence.importers.detect import parse_bibliography
    from evidence.services import bibliography_import

    ready_rss = _peak_rss_mb()
    data = path.read_bytes()
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started, cpu = time.perf_counter(), time.process_time()
    summary = ""
    if mode == "import":
        summary = bibliography_import(data=data, filename=path.name, dry_run=dry_run).summary("study")
    elif mode == "parse":
        parsed = parse_bibliography(data, filename=path.name)
        summary = f"{len(parsed.records)} records, {len(parsed.rejected)} rejected"
    else:
        library = bibtexparser.parse_string(data.decode("utf-8"))
        summary = f"{len(library.entries)} entries"
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile)
    result = {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "ready_rss_mb": ready_rss,
        "peak_rss_mb": _peak_rss_mb(),
        "summary": summary,
    }
    print(json.dumps(result))  # noqa: T201


def _peak_rss_mb() -> float:
    """This process's peak resident memory so far (Linux: VmHWM, in kB)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise SystemExit("no VmHWM in /proc/self/status: the import benchmark measures memory on Linux only")


def run_child(mode: str, path: Path, *, database_url: str, dry_run: bool = False, profile: str = "") -> dict[str, Any]:
    """One child: what it reported (time, CPU, peak memory), and its whole run's wall-clock seconds."""
    command = [sys.executable, __file__, "--child", mode, str(path)]
    if dry_run:
        command.append("--dry-run")
    if profile:
        command += ["--profile", profile]
    # the copy is nobody's primary: no reads routed to the library's replicas
    env = {name: value for name, value in os.environ.items() if name != "DATABASE_REPLICA_URLS"}
    env["DATABASE_URL"] = database_url
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    finished = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if finished.returncode != 0:
        raise SystemExit(f"the {mode} child failed ({finished.returncode}): {finished.stderr[-2000:]}")
    # the machine's 1-minute load average before and after: on a shared machine the wall-clock depends on it
    load = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    return {**json.loads(finished.stdout.strip().splitlines()[-1]), "process_seconds": elapsed, "load": load}


# --- Fresh copies of the library --------------------------------------------------------------------------


@contextlib.contextmanager
def library_copy(database_url: str) -> Iterator[str]:
    """A copy of the database at ``database_url`` (which nobody may be connected to meanwhile), dropped on
    exit; yields its URL."""
    import dj_database_url
    import psycopg2
    from psycopg2 import sql

    settings = dj_database_url.parse(database_url)
    name = f"{settings['NAME']}_import_{secrets.token_hex(4)}"
    admin = psycopg2.connect(
        dbname="postgres",
        user=settings["USER"],
        password=settings["PASSWORD"],
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
    )
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            # FILE_COPY: a checkpoint and a copy of the files, much faster than WAL_LOG for a large template
            cursor.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
                    sql.Identifier(name), sql.Identifier(settings["NAME"])
                )
            )
        try:
            yield database_url.rsplit("/", 1)[0] + "/" + name
        finally:
            with admin.cursor() as cursor:
                cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    finally:
        admin.close()


def committed_import(path: Path, database_url: str, profile: str = "") -> dict[str, Any]:
    """One import of ``path``, committed into a fresh copy of the library."""
    with library_copy(database_url) as copy_url:
        return run_child("import", path, database_url=copy_url, profile=profile)


def measure(path: Path, database_url: str, runs: int) -> dict[str, Any]:
    """``runs`` committed imports of ``path``, then bibtexparser alone and our parser alone, once each."""
    imports = []
    for run in range(runs):
        imports.append(committed_import(path, database_url))
        log(f"  import {run + 1}: {_figures(imports[-1])}; {imports[-1]['summary']}")
    reference = run_child("bibtexparser", path, database_url=database_url)
    parse = run_child("parse", path, database_url=database_url)
    log(f"  bibtexparser.parse_string alone: {_figures(reference)}")
    log(f"  parse_bibliography alone: {_figures(parse)}")
    return {
        "file": describe(path),
        "runs": imports,
        "seconds": statistics.median(run["seconds"] for run in imports),
        "cpu_seconds": statistics.median(run["cpu_seconds"] for run in imports),
        "process_seconds": statistics.median(run["process_seconds"] for run in imports),
        "peak_rss_mb": max(run["peak_rss_mb"] for run in imports),
        "ready_rss_mb": max(run["ready_rss_mb"] for run in imports),
        "report": imports[-1]["summary"],
        "bibtexparser": reference,
        "parse": parse,
    }


def _figures(result: dict[str, Any]) -> str:
    return (
        f"{result['seconds']:.1f} s ({result['cpu_seconds']:.1f} s CPU; {result['process_seconds']:.1f} s with "
        f"start-up), peak {result['peak_rss_mb']:.0f} MB; load average {result['load'][0]:.1f} → "
        f"{result['load'][1]:.1f} on {os.cpu_count()} cores"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=int(os.environ.get("BENCH_IMPORT_RECORDS", "10000")))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--large-mb", type=int, default=50, help="also import a file of this size once (0: skip)")
    parser.add_argument("--profile", help="write cProfile stats of one more committed import to this file")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--dry-run", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), args.dry_run, args.profile)
        return

    database_url = os.environ["DATABASE_URL"]
    path = benchmark_file(args.records)
    log(f"{args.records:,}-record file ({describe(path)}), {args.runs} committed imports into copies of the library")
    result = measure(path, database_url, args.runs)
    met = result["seconds"] <= SECONDS_BUDGET and result["peak_rss_mb"] <= RSS_BUDGET_MB
    log(
        f"median {result['seconds']:.1f} s, peak {result['peak_rss_mb']:.0f} MB (budget {SECONDS_BUDGET:.0f} s, "
        f"{RSS_BUDGET_MB} MB: {'met' if met else 'missed'})"
    )
    if args.large_mb:
        large = large_file(args.large_mb)
        log(f"large file ({describe(large)}), one committed import")
        figures = committed_import(large, database_url)
        log(f"  {_figures(figures)}; {figures['summary']} (budget {LARGE_RSS_BUDGET_MB} MB)")
    if args.profile:
        committed_import(path, database_url, profile=args.profile)
        log(f"profile written to {args.profile}")


if __name__ == "__main__":
    main()
