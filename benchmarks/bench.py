"""The benchmark behind ``make bench``: pages against references measured in the same run.

benchmarks/run.sh prepares the database (PostgreSQL, migrated, the generated library loaded) and runs
this with DJANGO_SETTINGS_MODULE=benchmarks.bench_settings. This script then

1. picks the pages to measure from the data (the article with 100 claims, a well-cited study, a
   published claim with eight citations, the busiest reviewer) and signs that reviewer in through
   /accounts/login/;
2. requests every page once in-process to count its SQL queries (CaptureQueriesContext, after a warm-up
   request, so a kept connection's set-up is not counted), to check that an anonymous GET writes no
   session, and to learn its size;
3. writes a static file of each page's size and starts gunicorn (production settings, 2 sync workers,
   persistent database connections) on a free port of 127.0.0.1;
4. runs wrk round-robin over every page, the references R_list and R_detail and the static files, at
   each concurrency, for several rounds; every page's ratio is taken against the reference measured in
   the same round, and the medians of those ratios are checked against the targets of issue 8;
5. imports a 10,000-record BibTeX file, committed into fresh copies of the library, and a 50 MB file
   once, each in a child process, for its wall-clock seconds and peak memory (benchmarks/import_bench.py),
   with bibtexparser's parse of the same file as context;
6. prints the table and writes it to docs/performance.md (between the markers) and, as JSON, to
   benchmarks/results/<label>.json.

Environment: BENCH_DURATION (seconds per wrk run, default 8), BENCH_ROUNDS (2), BENCH_CONCURRENCY
("1,4"), BENCH_IMPORT_RECORDS (10000; 0 skips the import), BENCH_IMPORT_RUNS (3), BENCH_IMPORT_LARGE_MB (50;
0 skips the large file), BENCH_LABEL ("latest"; the replica run uses "replica").
"""

from __future__ import annotations

import math
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
PERFORMANCE_MD = ROOT / "docs" / "performance.md"
VENV_BIN = Path(sys.executable).parent

DURATION = int(os.environ.get("BENCH_DURATION", "8"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
CONCURRENCY = [int(c) for c in os.environ.get("BENCH_CONCURRENCY", "1,4").split(",")]
IMPORT_RECORDS = int(os.environ.get("BENCH_IMPORT_RECORDS", "10000"))
# Committed imports of the 10,000-record file, each in a new process and a new copy of the library, as a
# curator's command runs: the median time and the highest peak memory are reported.
IMPORT_RUNS = int(os.environ.get("BENCH_IMPORT_RUNS", "3"))
IMPORT_LARGE_MB = int(os.environ.get("BENCH_IMPORT_LARGE_MB", "50"))
LABEL = os.environ.get("BENCH_LABEL", "latest")
WORKERS = 2

# Query budgets and targets from issue 8.
LIST_QUERY_BUDGET = 6
DETAIL_QUERY_BUDGET = 8
MIN_RPS_RATIO = 0.5
MAX_P50_RATIO = 3.0


@dataclass
class Target:
    name: str
    path: str
    # "list": rps ≥ 0.5 × R_list and p50 ≤ 3 × R_list's; "detail": rps ≥ 0.5 × R_detail;
    # "page": the article page and maps, rps ≥ 0.5 × R_list; "reference"; "static"
    kind: str
    reference: str = ""
    signed_in: bool = False
    note: str = ""
    skipped: str = ""
    status: int = 0
    queries: int | None = None
    queries_by_alias: dict[str, int] = field(default_factory=dict)
    size: int = 0
    session_write: bool = False
    static_of: str = ""
    runs: dict[int, list[dict[str, float]]] = field(default_factory=dict)

    @property
    def budget(self) -> int | None:
        return {"list": LIST_QUERY_BUDGET, "detail": DETAIL_QUERY_BUDGET, "page": DETAIL_QUERY_BUDGET}.get(self.kind)


def log(message: str) -> None:
    # a command-line tool: its output is the point
    print(message, flush=True)  # noqa: T201


# --- Choosing what to measure -------------------------------------------------------------------------------


def choose_targets() -> list[Target]:
    from django.db.models import Count, F
    from django.db.models.functions import Abs
    from django.urls import NoReverseMatch, reverse

    from benchmarks.dataset import generator as synthetic
    from evidence.models import Article, Claim, Study

    article = (
        Article.objects.annotate(n=Count("claims"))
        .filter(n__gte=synthetic.BENCHMARK_ARTICLE_CLAIMS)
        .order_by(Abs(F("n") - synthetic.BENCHMARK_ARTICLE_CLAIMS), "pk")
        .first()
    )
    if article is None:
        raise SystemExit("No article has 100 claims: load the full data set (benchmarks/run.sh does).")
    n_article_claims = article.claims.count()
    # the heaviest ordinary claim page: a published verdict (so its reviews are shown), 8 citations, flags
    claim = (
        Claim.objects.filter(consensus__published_verdict__gt="")
        .annotate(n_citations=Count("citations", distinct=True), n_flags=Count("flags", distinct=True))
        .order_by("-n_citations", "-n_flags", "pk")
        .first()
    )
    # a well-cited study: the 99th percentile of citations per study
    cited = list(Study.objects.annotate(n=Count("citations")).filter(n__gt=0).order_by("n").values_list("n", flat=True))
    p99 = cited[int(len(cited) * 0.99)] if cited else 0
    study = Study.objects.annotate(n=Count("citations")).filter(n__gte=p99).order_by(Abs(F("n") - p99), "pk").first()
    try:
        api = reverse("api:claim-list")
    except NoReverseMatch:
        api = "/api/claims/"
    targets = [
        Target("home", reverse("evidence:home"), "list", "R_list"),
        Target(f"article ({n_article_claims} claims)", article.get_absolute_url(), "page", "R_list", note=article.slug),
        Target("claim list", reverse("evidence:claim-list"), "list", "R_list"),
        Target(
            "claim list filtered",
            reverse("evidence:claim-list")
            + "?substance=psilocybin&claim_type=efficacy&verdict=supported&sort=strongest",
            "list",
            "R_list",
        ),
        Target("claim list searched", reverse("evidence:claim-list") + "?q=ketamine+depression", "list", "R_list"),
        Target(f"claim page ({claim.n_citations} citations)", claim.get_absolute_url(), "detail", "R_detail"),
        Target(
            "study list filtered",
            reverse("evidence:study-list") + "?design=rct&year_min=2015&retracted=no",
            "list",
            "R_list",
        ),
        Target("study list searched", reverse("evidence:study-list") + "?q=psilocybin+depression", "list", "R_list"),
        Target(f"study page ({study.n} citations)", study.get_absolute_url(), "detail", "R_detail"),
        Target("API claim list", api, "list", "R_list"),
        Target("evidence map (article)", reverse("evidence:article-map", args=[article.slug]), "page", "R_list"),
        Target("gap map (all articles)", reverse("evidence:gap-map"), "page", "R_list"),
        Target(
            "reviewer queue",
            "/review/",
            "list",
            "R_list",
            signed_in=True,
            note="a reviewer with the median number of reviews",
        ),
        Target("R_list", reverse("bench-reference-list"), "reference"),
        Target(
            "R_detail", reverse("bench-reference-detail", args=[study.pk]), "reference", note="the study page's study"
        ),
    ]
    return targets


def reviewer_username() -> str:
    from django.contrib.auth.models import User
    from django.db.models import Count

    # a typical reviewer: the median number of reviews (the busiest has about five times as many)
    reviewers = list(
        User.objects.filter(groups__name="Reviewers", username__startswith="synthetic-reviewer-")
        .annotate(n=Count("reviews"))
        .order_by("n", "username")
        .values_list("username", flat=True)
    )
    if not reviewers:
        raise SystemExit("No generated reviewer: load the data set with python -m benchmarks.dataset.")
    return reviewers[len(reviewers) // 2]


def sign_in(username: str) -> Any:
    """A test client signed in through the real sign-in page, CSRF checks on."""
    from django.conf import settings
    from django.test import Client

    from benchmarks.dataset import generator as synthetic

    client = Client(enforce_csrf_checks=True, HTTP_HOST="127.0.0.1")
    page = client.get("/accounts/login/")
    if page.status_code != 200:
        return None
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post(
        "/accounts/login/",
        {"username": username, "password": synthetic.DEFAULT_PASSWORD, "csrfmiddlewaretoken": token},
    )
    if response.status_code != 302 or settings.SESSION_COOKIE_NAME not in client.cookies:
        raise SystemExit(f"Signing in {username} through /accounts/login/ failed ({response.status_code}).")
    return client


def inspect(targets: list[Target], signed_in_client: Any) -> None:
    """Status, size, SQL queries and session writes of each page, requested in-process."""
    from django.conf import settings
    from django.db import connections
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    anonymous = Client(HTTP_HOST="127.0.0.1")
    for target in targets:
        client = signed_in_client if target.signed_in else anonymous
        if client is None:
            target.skipped = "no sign-in page (/accounts/login/) yet"
            continue
        client.get(target.path)  # warm-up: connections, template caches
        captured = {alias: CaptureQueriesContext(connections[alias]) for alias in connections}
        for context in captured.values():
            context.__enter__()
        try:
            response = client.get(target.path)
        finally:
            for context in captured.values():
                context.__exit__(None, None, None)
        target.status = response.status_code
        if response.status_code == 404 and target.name == "API claim list":
            target.skipped = "404: the REST API is not there yet"
            continue
        if response.status_code != 200:
            target.skipped = f"answered {response.status_code}"
            continue
        queries = [query["sql"] for context in captured.values() for query in context.captured_queries]
        target.queries = len(queries)
        target.queries_by_alias = {alias: len(context.captured_queries) for alias, context in captured.items()}
        target.size = len(response.content)
        cookie = response.cookies.get(settings.SESSION_COOKIE_NAME)
        target.session_write = bool(cookie and cookie.value) or any(
            "django_session" in sql and not sql.lstrip().upper().startswith("SELECT") for sql in queries
        )


def write_static_files(targets: list[Target], root: Path) -> list[Target]:
    """A file of each page's size, served by WhiteNoise from the same gunicorn: the harness's ceiling."""
    statics = []
    folder = root / "bench-static"
    folder.mkdir(parents=True, exist_ok=True)
    for index, target in enumerate(targets):
        if target.skipped or target.kind == "static":
            continue
        name = f"{index:02d}.html"
        line = "<p>" + "static reference " * 4 + "</p>\n"
        body = (line * (target.size // len(line) + 1))[: target.size]
        (folder / name).write_text(body, encoding="ascii")
        statics.append(
            Target(
                f"static {target.size:,} B", f"/bench-static/{name}", "static", static_of=target.name, size=target.size
            )
        )
    return statics


# --- gunicorn and wrk ----------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    def __init__(self, static_root: Path, log_file: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "BENCH_STATIC_ROOT": str(static_root)}
        command = [
            str(VENV_BIN / "gunicorn"),
            "evidence.wsgi:application",
            "--workers",
            str(WORKERS),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--chdir",
            str(ROOT),
            "--pythonpath",
            str(ROOT),
            "--log-level",
            "warning",
            "--error-logfile",
            str(log_file),
        ]
        self.log_file = log_file
        self.process = subprocess.Popen(command, env=env, start_new_session=True)

    def wait_ready(self, path: str) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited ({self.process.returncode}); see {self.log_file}")
            try:
                with urllib.request.urlopen(self.base + path, timeout=5) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.3)
        raise SystemExit(f"gunicorn did not answer on {self.base} within 60 s; see {self.log_file}")

    def drain(self, connections: int, last: dict[str, float]) -> None:
        """Let the workers finish what wrk left queued when it stopped (up to one request per connection),
        so that a slow page's backlog is not charged to the next target."""
        backlog = last["p99_ms"] / 1000 * math.ceil(connections / WORKERS)
        if backlog > 0.05:
            time.sleep(min(backlog, 60))

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _milliseconds(value: str, unit: str) -> float:
    return float(value) * _UNITS[unit]


def wrk(url: str, connections: int, seconds: int, headers: list[str]) -> dict[str, float]:
    command = ["wrk", f"-t{min(connections, 2)}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    for header in headers:
        command += ["-H", header]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    result: dict[str, float] = {"non_2xx": 0, "socket_errors": 0}
    for line in output.splitlines():
        if match := re.match(r"\s*(50|99)%\s+([\d.]+)(us|ms|s)\s*$", line):
            result[f"p{match[1]}_ms"] = _milliseconds(match[2], match[3])
        elif match := re.match(r"Requests/sec:\s+([\d.]+)", line):
            result["rps"] = float(match[1])
        elif match := re.match(r"\s*Non-2xx or 3xx responses:\s+(\d+)", line):
            result["non_2xx"] = int(match[1])
        elif match := re.match(r"\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", line):
            result["socket_errors"] = sum(int(n) for n in match.groups())
        elif match := re.match(r"\s*(\d+) requests in", line):
            result["requests"] = int(match[1])
    if "rps" not in result or "p50_ms" not in result:
        raise SystemExit(f"could not read wrk's output for {url}:\n{output}")
    return result


def measure(server: Gunicorn, targets: list[Target], cookie_header: str) -> None:
    measured = [t for t in targets if not t.skipped]
    log(f"warming up {len(measured)} targets")
    for target in measured:
        server.drain(2, wrk(server.base + target.path, 2, 1, [cookie_header] if target.signed_in else []))
    total = ROUNDS * len(CONCURRENCY) * len(measured) * DURATION
    log(
        f"measuring: {ROUNDS} rounds × concurrency {CONCURRENCY} × {len(measured)} targets × {DURATION} s"
        f" ≈ {total // 60} min"
    )
    for round_number in range(1, ROUNDS + 1):
        for connections in CONCURRENCY:
            for target in measured:
                result = wrk(
                    server.base + target.path, connections, DURATION, [cookie_header] if target.signed_in else []
                )
                target.runs.setdefault(connections, []).append(result)
                server.drain(connections, result)
                bad = f"  ({result['non_2xx']:.0f} non-2xx!)" if result["non_2xx"] else ""
                log(
                    f"  round {round_number} c={connections} {target.name:<32} {result['rps']:8.1f} req/s"
                    f"  p50 {result['p50_ms']:7.2f} ms  p99 {result['p99_ms']:7.2f} ms{bad}"
                )


# --- Results -----------------------------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def summarise(targets: list[Target]) -> list[dict[str, Any]]:
    by_name = {t.name: t for t in targets}
    statics = {t.static_of: t for t in targets if t.kind == "static"}
    rows = []
    for target in targets:
        if target.kind == "static":
            continue
        row: dict[str, Any] = {
            "name": target.name,
            "path": target.path,
            "kind": target.kind,
            "reference": target.reference,
            "queries": target.queries,
            "queries_by_alias": target.queries_by_alias,
            "query_budget": target.budget,
            "bytes": target.size,
            "session_write": target.session_write,
            "skipped": target.skipped,
            "note": target.note,
            "by_concurrency": {},
        }
        if target.skipped:
            rows.append(row)
            continue
        reference = by_name.get(target.reference)
        rps_ratios: list[float] = []
        p50_ratios: list[float] = []
        for connections, runs in target.runs.items():
            figures: dict[str, Any] = {
                "rps": median([r["rps"] for r in runs]),
                "p50_ms": median([r["p50_ms"] for r in runs]),
                "p99_ms": median([r["p99_ms"] for r in runs]),
                "non_2xx": sum(r["non_2xx"] for r in runs),
                "rounds": runs,
            }
            static = statics.get(target.name)
            if static and connections in static.runs:
                figures["static_rps"] = median([r["rps"] for r in static.runs[connections]])
                figures["static_p50_ms"] = median([r["p50_ms"] for r in static.runs[connections]])
            if reference is not None and connections in reference.runs:
                # each round's page against the same round's reference
                pairs = list(zip(runs, reference.runs[connections], strict=True))
                ratios = [page["rps"] / ref["rps"] for page, ref in pairs]
                latency = [page["p50_ms"] / ref["p50_ms"] for page, ref in pairs]
                figures["rps_ratio"] = median(ratios)
                figures["p50_ratio"] = median(latency)
                rps_ratios += ratios
                p50_ratios += latency
            row["by_concurrency"][str(connections)] = figures
        if reference is not None:
            row["rps_ratio"] = median(rps_ratios)
            row["p50_ratio"] = median(p50_ratios)
            checks = {"rps": row["rps_ratio"] >= MIN_RPS_RATIO}
            if target.kind == "list":
                checks["p50"] = row["p50_ratio"] <= MAX_P50_RATIO
            if target.budget is not None and target.queries is not None:
                checks["queries"] = target.queries <= target.budget
            checks["no_session_write"] = target.signed_in or not target.session_write
            # a refused or failed request is fast and proves nothing: a run with any is not a result
            checks["all_2xx"] = all(figures["non_2xx"] == 0 for figures in row["by_concurrency"].values())
            row["checks"] = checks
            row["meets_targets"] = all(checks.values())
        rows.append(row)
    return rows


def import_file(records: int) -> str:
    """The import benchmark's BibTeX file: synthetic studies (seed 4242), unique citation keys, written by
    our BibTeX exporter."""
    from benchmarks.dataset.generator import study_records
    from evidence.exporters import to_bibtex

    studies = study_records(records, seed=4242)
    for index, study in enumerate(studies):
        study.citation_key = f"{study.citation_key}-{index}"  # reference managers keep keys unique
    return to_bibtex(studies)


def import_benchmark() -> dict[str, Any]:
    """A curator's import: the 10,000-record file committed into copies of the library, and a 50 MB file
    once, each in a child process (benchmarks/import_bench.py); bibtexparser's parse as context."""
    if IMPORT_RECORDS <= 0:
        return {"status": "not measured in this run (BENCH_IMPORT_RECORDS=0)"}
    from django.db import connections

    from benchmarks import import_bench

    connections.close_all()  # the library is the template of each copy: nobody may be connected to it
    database_url = os.environ["DATABASE_URL"]
    path = import_bench.benchmark_file(IMPORT_RECORDS)
    log(f"import benchmark: {IMPORT_RUNS} committed imports of {import_bench.describe(path)}")
    measured = import_bench.measure(path, database_url, IMPORT_RUNS)
    result = {
        "status": "measured",
        "records": IMPORT_RECORDS,
        "file": measured["file"],
        "seconds": round(measured["seconds"], 2),
        "cpu_seconds": round(measured["cpu_seconds"], 2),
        "process_seconds": round(measured["process_seconds"], 2),
        "peak_rss_mb": round(measured["peak_rss_mb"]),
        "budget": {"seconds": import_bench.SECONDS_BUDGET, "peak_rss_mb": import_bench.RSS_BUDGET_MB},
        "meets_target": measured["seconds"] <= import_bench.SECONDS_BUDGET
        and measured["peak_rss_mb"] <= import_bench.RSS_BUDGET_MB,
        "report": measured["report"],
        "bibtexparser_seconds": round(measured["bibtexparser"]["seconds"], 2),
        "parse_seconds": round(measured["parse"]["seconds"], 2),
        "runs": measured["runs"],
    }
    if IMPORT_LARGE_MB > 0:
        large_path = import_bench.large_file(IMPORT_LARGE_MB)
        log(f"import benchmark: one committed import of {import_bench.describe(large_path)}")
        large = import_bench.committed_import(large_path, database_url)
        result["large"] = {
            "file": import_bench.describe(large_path),
            "seconds": round(large["seconds"], 2),
            "peak_rss_mb": round(large["peak_rss_mb"]),
            "budget_rss_mb": import_bench.LARGE_RSS_BUDGET_MB,
            "meets_target": large["peak_rss_mb"] <= import_bench.LARGE_RSS_BUDGET_MB,
            "report": large["summary"],
        }
    return result


def environment() -> dict[str, Any]:
    import django
    from django.db import connection

    cpu = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = ""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal"):
            memory = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        db_size = cursor.fetchone()[0]
    wrk_version = (
        subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split(" [")[0].removeprefix("wrk ")
    )
    return {
        "machine": {"cpu": cpu, "cores": os.cpu_count(), "memory": memory, "os": platform.platform()},
        "versions": {
            "python": platform.python_version(),
            "django": django.get_version(),
            "postgresql": postgres,
            "gunicorn": metadata.version("gunicorn"),
            "psycopg2": metadata.version("psycopg2-binary"),
            "bibtexparser": metadata.version("bibtexparser"),
            "wrk": wrk_version,
        },
        "database": {"name": connection.settings_dict["NAME"], "size": db_size},
    }


def dataset_counts() -> dict[str, int]:
    from evidence.models import Article, Citation, Claim, Study
    from reviews.models import Consensus, Flag, Review

    return {
        name: model.objects.count()
        for name, model in (
            ("articles", Article),
            ("claims", Claim),
            ("studies", Study),
            ("citations", Citation),
            ("reviews", Review),
            ("consensus", Consensus),
            ("flags", Flag),
        )
    }


def fmt(value: Any, pattern: str = "{:.2f}") -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    return pattern.format(value)


def markdown(results: dict[str, Any]) -> str:
    generated = ""
    if results.get("generation"):
        generated = (
            f", generated in {results['generation']['total_seconds']:.0f} s by benchmarks.dataset "
            f"(phases and tables in benchmarks/results/dataset.json)"
        )
    lines = [
        f"Measured {results['generated_at']} with `{results['command']}`"
        + (f" (reads routed to {results['replicas']})" if results.get("replicas") else "")
        + ".",
        "",
        f"- Machine: {results['machine']['cpu']}, {results['machine']['cores']} cores, "
        f"{results['machine']['memory']} RAM, {results['machine']['os']}; PostgreSQL, gunicorn and wrk all on it.",
        "- Versions: " + ", ".join(f"{name} {version}" for name, version in results["versions"].items()) + ".",
        f"- Data set: {', '.join(f'{n:,} {name}' for name, n in results['dataset'].items())} "
        f"({results['database']['size']} database {results['database']['name']}){generated}.",
        f"- gunicorn: {WORKERS} sync workers, DEBUG off, "
        f"DATABASE_CONN_MAX_AGE={results['settings'].get('conn_max_age')}; "
        f"wrk: {results['settings']['rounds']} rounds × {results['settings']['duration']} s per target and "
        f"concurrency, round-robin.",
        "",
        "Ratios are medians over rounds and concurrencies of page ÷ reference in the same round; "
        "req/s, p50 and p99 are medians over rounds. Static = a file of the page's size served by the same "
        "gunicorn (WhiteNoise): the harness's ceiling.",
        "",
    ]
    concurrency = results["settings"]["concurrency"]
    header = ["page", "SQL", "bytes"]
    for c in concurrency:
        header += [f"req/s c{c}", f"p50 ms c{c}", f"p99 ms c{c}", f"static req/s c{c}"]
    header += ["vs ref", "req/s ratio", "p50 ratio", "targets"]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in results["pages"]:
        cells = [row["name"]]
        if row["skipped"]:
            cells += ["–", "–"] + ["–"] * (4 * len(concurrency)) + ["–", "–", "–", f"skipped: {row['skipped']}"]
            lines.append("| " + " | ".join(cells) + " |")
            continue
        budget = f" / {row['query_budget']}" if row["query_budget"] else ""
        elsewhere = ", ".join(
            f"{n} on {alias}" for alias, n in row["queries_by_alias"].items() if alias != "default" and n
        )
        cells += [f"{row['queries']}{budget}" + (f" ({elsewhere})" if elsewhere else ""), f"{row['bytes']:,}"]
        for c in concurrency:
            figures = row["by_concurrency"].get(str(c), {})
            cells += [
                fmt(figures.get("rps"), "{:.1f}"),
                fmt(figures.get("p50_ms")),
                fmt(figures.get("p99_ms")),
                fmt(figures.get("static_rps"), "{:.0f}"),
            ]
        if row["reference"]:
            failed = [name for name, ok in row["checks"].items() if not ok]
            verdict = "met" if row["meets_targets"] else "**missed: " + ", ".join(failed) + "**"
            if row["session_write"]:
                verdict += " (session write!)"
            cells += [row["reference"], fmt(row.get("rps_ratio")), fmt(row.get("p50_ratio")), verdict]
        else:
            cells += ["–", "1", "1", "reference"]
        lines.append("| " + " | ".join(cells) + " |")
    imported = results["import"]
    lines.append("")
    if imported.get("status") == "measured":
        budget = imported["budget"]
        verdict = "met" if imported["meets_target"] else "**missed**"
        load = (min(run["load"][0] for run in imported["runs"]), max(run["load"][1] for run in imported["runs"]))
        lines.append(
            f"Import: {imported['records']:,}-record BibTeX file ({imported['file']}) committed into a copy of the "
            f"data set, in a process of its own: {imported['seconds']:.1f} s ({imported['cpu_seconds']:.1f} s of "
            f"CPU), peak {imported['peak_rss_mb']} MB (budget {budget['seconds']:.0f} s and "
            f"{budget['peak_rss_mb']} MB: {verdict}); report: {imported['report']}. For context, on the same file: "
            f"bibtexparser.parse_string alone {imported['bibtexparser_seconds']:.1f} s, our parser alone "
            f"{imported['parse_seconds']:.1f} s. Load average during the imports: "
            f"{load[0]:.1f} to {load[1]:.1f} on {os.cpu_count()} cores (the wall-clock depends on it, the CPU seconds "
            "less)."
        )
        large = imported.get("large")
        if large:
            verdict = "met" if large["meets_target"] else "**missed**"
            lines += [
                "",
                f"Large file ({large['file']}): {large['seconds']:.1f} s, peak {large['peak_rss_mb']} MB "
                f"(budget {large['budget_rss_mb']} MB: {verdict}); report: {large['report']}.",
            ]
    else:
        lines.append(f"Import: {imported['status']}.")
    notes = [row for row in results["pages"] if row["skipped"]]
    for row in notes:
        lines.append(f"\nNot measured: {row['name']} ({row['path']}): {row['skipped']}.")
    return "\n".join(lines) + "\n"


def write_markdown(block: str) -> None:
    begin, end = f"<!-- bench:{LABEL}:begin -->", f"<!-- bench:{LABEL}:end -->"
    text = PERFORMANCE_MD.read_text() if PERFORMANCE_MD.exists() else "# Performance\n"
    replacement = f"{begin}\n{block}{end}"
    if begin in text and end in text:
        text = text[: text.index(begin)] + replacement + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip("\n") + f"\n\n## Results ({LABEL})\n\n{replacement}\n"
    PERFORMANCE_MD.write_text(text)


def main() -> None:
    import json

    import django

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.bench_settings")
    django.setup()
    from django.conf import settings

    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk); benchmarks/run.sh installs it.")
    if settings.DEBUG:
        raise SystemExit("DJANGO_DEBUG is on: the benchmark measures production settings.")

    targets = choose_targets()
    username = reviewer_username()
    log(f"signing in {username} through /accounts/login/")
    client = sign_in(username)
    inspect(targets, client)
    for target in targets:
        state = target.skipped or f"{target.queries} queries, {target.size:,} bytes"
        log(f"  {target.name:<32} {target.path[:60]:<60} {state}")
    cookie_header = ""
    if client is not None:
        cookie_header = f"Cookie: {settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"

    with tempfile.TemporaryDirectory(prefix="evidence-bench-") as static_root:
        statics = write_static_files(targets, Path(static_root))
        # each page followed by its static file, so both see the same conditions in every round
        ordered: list[Target] = []
        for target in targets:
            ordered.append(target)
            ordered += [s for s in statics if s.static_of == target.name]
        RESULTS.mkdir(parents=True, exist_ok=True)
        server = Gunicorn(Path(static_root), RESULTS / f"gunicorn-{LABEL}.log.tmp")
        try:
            server.wait_ready(targets[-2].path)
            log(f"gunicorn ({WORKERS} workers) on {server.base}")
            measure(server, ordered, cookie_header)
        finally:
            server.stop()

    imported = import_benchmark()
    info = environment()
    replicas = [alias for alias in settings.DATABASES if alias != "default"]
    results = {
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": os.environ.get("BENCH_COMMAND", "make bench"),
        **info,
        "dataset": dataset_counts(),
        "generation": json.loads(generated.read_text()) if (generated := RESULTS / "dataset.json").exists() else None,
        "replicas": ", ".join(f"{alias} ({settings.DATABASES[alias]['PORT']})" for alias in replicas),
        "settings": {
            "duration": DURATION,
            "rounds": ROUNDS,
            "concurrency": CONCURRENCY,
            "workers": WORKERS,
            "conn_max_age": settings.DATABASES["default"]["CONN_MAX_AGE"],
        },
        "pages": summarise(ordered),
        "statics": [
            {"of": t.static_of, "bytes": t.size, "runs": {str(c): runs for c, runs in t.runs.items()}}
            for t in ordered
            if t.kind == "static"
        ],
        "import": imported,
    }
    (RESULTS / f"{LABEL}.json").write_text(json.dumps(results, indent=2) + "\n")
    block = markdown(results)
    write_markdown(block)
    log("\n" + block)
    log(f"written to {PERFORMANCE_MD.relative_to(ROOT)} and {(RESULTS / f'{LABEL}.json').relative_to(ROOT)}")


if __name__ == "__main__":
    main()
