"""The benchmark behind ``make bench``: pages and read mixes against references measured in the same rounds.

benchmarks/run.sh prepares the database (PostgreSQL, migrated, the generated library loaded) and runs
this with DJANGO_SETTINGS_MODULE=benchmarks.bench_settings. This script then

1. picks the pages to measure from the data (the article with 100 claims, a well-cited study, a
   published claim with eight citations, a typical reviewer's queue, an editor's desk), signs the reviewer
   and the editor in through /accounts/login/, and draws the read mixes (benchmarks/mixes.py: a few
   thousand claim pages, cited study pages, filtered lists and searches, with a fixed seed);
2. requests every page once in-process to count its SQL queries (CaptureQueriesContext, after a warm-up
   request, so a kept connection's set-up is not counted), to check that an anonymous GET writes no
   session, and to learn its size;
3. fills the references' narrow table (benchmarks/reference) and writes a static file of each page's size;
4. runs the phases (benchmarks/phases.py): cold (every cache off), warm (caches on, every path requested
   once first) and under writes (benchmarks/writer.py commits one change a second through the services),
   each with gunicorn (production settings, 2 sync workers, persistent connections, Redis of its own)
   and wrk round-robin over every page, mix and reference, for several rounds; every ratio is taken
   against the reference measured in the same round and phase (benchmarks/report.py checks the medians
   against the targets of issue 20);
5. imports a 10,000-record BibTeX file, committed into fresh copies of the library, and a 50 MB file
   once, each in a child process, for its wall-clock seconds and peak memory (benchmarks/import_bench.py),
   with bibtexparser's parse of the same file as context;
6. prints the table and writes it to docs/performance.md (between the markers) and, as JSON, to
   benchmarks/results/<label>.json, keeping the file it replaces as <label>-previous.json to compare with.

Environment: BENCH_DURATION (seconds per wrk run, default 8), BENCH_ROUNDS (2), BENCH_CONCURRENCY ("4"),
BENCH_PHASES ("cold,warm,writes"), BENCH_MIX_PATHS (2000 paths per mix), BENCH_MIX_SEED (20),
BENCH_IMPORT_RECORDS (10000; 0 skips the import), BENCH_IMPORT_RUNS (3), BENCH_IMPORT_LARGE_MB (50; 0 skips
the large file), BENCH_REDIS (1; 0 runs with each worker's memory cache, and no hit rate), BENCH_LABEL
("latest"; the replica run uses "replica"), BENCH_WRITE_DOCS (1; 0 leaves docs/performance.md alone).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import phases, report  # noqa: E402
from benchmarks.phases import COLD, WARM, WRITES, log  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"

DURATION = int(os.environ.get("BENCH_DURATION", "8"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
CONCURRENCY = [int(c) for c in os.environ.get("BENCH_CONCURRENCY", "4").split(",")]
PHASES = [p for p in os.environ.get("BENCH_PHASES", ",".join(phases.PHASES)).split(",") if p]
MIX_PATHS = int(os.environ.get("BENCH_MIX_PATHS", "2000"))
MIX_SEED = int(os.environ.get("BENCH_MIX_SEED", "20"))
IMPORT_RECORDS = int(os.environ.get("BENCH_IMPORT_RECORDS", "10000"))
# Committed imports of the 10,000-record file, each in a new process and a new copy of the library, as a
# curator's command runs: the median time and the highest peak memory are reported.
IMPORT_RUNS = int(os.environ.get("BENCH_IMPORT_RUNS", "3"))
IMPORT_LARGE_MB = int(os.environ.get("BENCH_IMPORT_LARGE_MB", "50"))
LABEL = os.environ.get("BENCH_LABEL", "latest")
WRITE_DOCS = os.environ.get("BENCH_WRITE_DOCS", "1") != "0"


@dataclass
class Target:
    name: str
    path: str
    # "list", "detail", "page" (the article page and maps), "desk", "mix" (many paths), "reference", "static"
    kind: str
    signed_in: str = ""  # "reviewer" or "editor": requested with that person's session cookie
    note: str = ""
    skipped: str = ""
    status: int = 0
    queries: int | None = None
    queries_by_alias: dict[str, int] = field(default_factory=dict)
    size: int = 0
    session_write: bool = False
    static_of: str = ""
    paths: list[str] = field(default_factory=list)  # a mix's paths
    paths_file: Path | None = None
    # phase -> concurrency -> one wrk result per round
    runs: dict[str, dict[int, list[dict[str, float]]]] = field(default_factory=dict)

    @property
    def budget(self) -> int | None:
        return report.QUERY_BUDGETS.get(self.kind)

    @property
    def every_path(self) -> list[str]:
        return self.paths or [self.path]


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
    claims, studies = reverse("evidence:claim-list"), reverse("evidence:study-list")
    return [
        Target("home", reverse("evidence:home"), "list"),
        Target(f"article ({n_article_claims} claims)", article.get_absolute_url(), "page", note=article.slug),
        Target("claim list", claims, "list"),
        Target(
            "claim list filtered",
            claims + "?substance=psilocybin&claim_type=efficacy&verdict=supported&sort=strongest",
            "list",
        ),
        Target("claim list searched", claims + "?q=ketamine+depression", "list"),
        Target(f"claim page ({claim.n_citations} citations)", claim.get_absolute_url(), "detail"),
        Target("study list filtered", studies + "?design=rct&year_min=2015&retracted=no", "list"),
        Target("study list searched", studies + "?q=psilocybin+depression", "list"),
        Target(f"study page ({study.n} citations)", study.get_absolute_url(), "detail"),
        Target("API claim list", api, "list"),
        Target("evidence map (article)", reverse("evidence:article-map", args=[article.slug]), "page"),
        Target("gap map (all articles)", reverse("evidence:gap-map"), "page"),
        Target(
            "reviewer queue",
            "/review/",
            "list",
            signed_in="reviewer",
            note="a reviewer with the median number of reviews",
        ),
        # no query budget: issue 8 set none for the desk, which counts each of its queues
        Target("editor desk", "/editor/", "desk", signed_in="editor", note="the first generated editor"),
    ]


def mix_targets(folder: Path) -> list[Target]:
    """The read mixes (benchmarks/mixes.py), their paths written to ``folder`` for wrk."""
    from benchmarks import mixes

    drawn = mixes.draw(seed=MIX_SEED, size=MIX_PATHS)
    files = mixes.write(drawn, folder)
    return [
        Target(f"mix: {name} ({len(paths):,})", paths[0], "mix", paths=paths, paths_file=files[name])
        for name, paths in drawn.items()
        if paths
    ]


def reference_targets() -> list[Target]:
    """R_list and R_detail, over the narrow table refilled from the library (benchmarks/reference)."""
    from django.urls import reverse

    from benchmarks.reference.models import ReferenceRow, fill

    rows = fill()
    first = ReferenceRow.objects.order_by("pk").values_list("pk", flat=True).first()
    if first is None:
        raise SystemExit("The library has no studies to fill the reference table with.")
    log(f"reference table: {rows} narrow rows")
    return [
        Target("R_list", reverse("bench-reference-list"), "reference"),
        Target("R_detail", reverse("bench-reference-detail", args=[first]), "reference"),
    ]


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


def editor_username() -> str:
    from django.contrib.auth.models import User

    editor = (
        User.objects.filter(groups__name="Editors", username__startswith="synthetic-editor-")
        .order_by("username")
        .values_list("username", flat=True)
        .first()
    )
    if editor is None:
        raise SystemExit("No generated editor: load the data set with python -m benchmarks.dataset.")
    return editor


def inspect(targets: list[Target], clients: dict[str, Any]) -> None:
    """Status, size, SQL queries and session writes of each page (a mix: its first path), requested
    in-process with the page cache off (the queries a page costs when it is built; the other caches warm)."""
    from django.conf import settings
    from django.db import connections
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext

    clients = {"": Client(HTTP_HOST="127.0.0.1"), **clients}
    for target in targets:
        client = clients.get(target.signed_in)
        if client is None:
            target.skipped = "no sign-in page (/accounts/login/) yet"
            continue
        with override_settings(PAGE_CACHE=False):
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


# --- Import -----------------------------------------------------------------------------------------------


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


# --- Measuring ----------------------------------------------------------------------------------------------


def measure_phase(
    phase: str, server: phases.Gunicorn, targets: list[Target], cookies: dict[str, str], redis: phases.Redis | None
) -> None:
    """Every target, round-robin, ROUNDS times at each concurrency; each run with its cache hit rate."""
    total = ROUNDS * len(CONCURRENCY) * len(targets) * DURATION
    log(f"{phase}: {ROUNDS} rounds × c={CONCURRENCY} × {len(targets)} targets × {DURATION} s ≈ {total // 60} min")
    for round_number in range(1, ROUNDS + 1):
        for connections in CONCURRENCY:
            for target in targets:
                before = redis.counters() if redis else None
                headers = [cookies[target.signed_in]] if target.signed_in else []
                result = phases.wrk(server.base + target.path, connections, DURATION, headers, target.paths_file)
                if redis and before:
                    hits, misses = (after - was for after, was in zip(redis.counters(), before, strict=True))
                    result["cache_hits"], result["cache_misses"] = hits, misses
                target.runs.setdefault(phase, {}).setdefault(connections, []).append(result)
                server.drain(connections, result)
                bad = f"  ({result['non_2xx']:.0f} non-2xx!)" if result["non_2xx"] else ""
                rate = report.hit_rate([result])
                log(
                    f"  {phase} round {round_number} c={connections} {target.name:<36} {result['rps']:8.1f} req/s"
                    f"  p50 {result['p50_ms']:7.2f} ms  p99 {result['p99_ms']:7.2f} ms"
                    + (f"  hits {rate:.0%}" if rate is not None else "")
                    + bad
                )


def warm_up(server: phases.Gunicorn, targets: list[Target], cookies: dict[str, str], *, every_path: bool) -> None:
    """Before measuring: each target once (connections, templates), or every path of every mix as well."""
    for target in targets:
        paths = target.every_path if every_path else [target.path]
        headers = dict([cookies[target.signed_in].split(": ", 1)]) if target.signed_in else {}
        failed = phases.request_every_path(server.base, paths, headers)
        if failed:
            log(f"  warm-up: {failed} of {len(paths)} paths of {target.name} did not answer 200")


def run_phases(targets: list[Target], statics: list[Target], static_root: Path, cookies: dict[str, str]) -> dict:
    """The phases of BENCH_PHASES, in order; what the writer made under writes."""
    measured = [t for t in targets if not t.skipped]
    redis = phases.Redis() if phases.Redis.available() else None
    environment = {"REDIS_URL": redis.url} if redis else {}
    if redis is None:
        log("no redis-server (or BENCH_REDIS=0): each worker caches in its own memory; no hit rate")
    writes: dict[str, Any] = {}
    server: phases.Gunicorn | None = None
    server_phase = ""
    try:
        for phase in PHASES:
            if phase not in phases.PHASES:
                raise SystemExit(f"unknown phase {phase!r} in BENCH_PHASES; use {', '.join(phases.PHASES)}")
            # the writes phase continues on the warm server; otherwise each phase has a fresh one
            if not (phase == WRITES and server_phase == WARM):
                if server is not None:
                    server.stop()
                if redis:
                    redis.flush()
                phase_env = {**environment, **phases.PHASE_ENVIRONMENT[phase]}
                server = phases.Gunicorn(static_root, RESULTS / f"gunicorn-{LABEL}.log.tmp", phase_env)
                server.wait_ready(next(t.path for t in measured if t.kind == "reference"))
                server_phase = phase
                log(f"{phase}: gunicorn ({phases.WORKERS} workers) on {server.base}")
                if phase == COLD:
                    warm_up(server, measured, cookies, every_path=False)
                else:
                    log(f"{phase}: requesting every path once ({sum(len(t.every_path) for t in measured):,})")
                    warm_up(server, measured, cookies, every_path=True)
            # the static twins are the harness's ceiling: measured once, in the warm phase
            ordered: list[Target] = []
            for target in measured:
                ordered.append(target)
                if phase == WARM:
                    ordered += [s for s in statics if s.static_of == target.name]
            if phase == WRITES:
                writer = phases.WriterProcess(
                    {**environment, **phases.PHASE_ENVIRONMENT[phase]}, RESULTS / f"writer-{LABEL}.log.tmp"
                )
                try:
                    measure_phase(phase, server, ordered, cookies, redis)
                finally:
                    writes = writer.stop()
                log(f"writes: the writer made {dict(writes['made'])} in {writes['seconds']} s")
            else:
                measure_phase(phase, server, ordered, cookies, redis)
    finally:
        if server is not None:
            server.stop()
        if redis:
            redis.stop()
    return writes


def generation() -> dict[str, Any] | None:
    """benchmarks.dataset's report of the library's generation, when this run's library has one."""
    report_file = Path(os.environ.get("DATASET_REPORT", RESULTS / "dataset.json"))
    if not report_file.is_absolute():
        report_file = ROOT / report_file
    if not report_file.exists() or not report_file.stat().st_size:
        return None
    return json.loads(report_file.read_text())


def main() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.bench_settings")
    django.setup()
    from django.conf import settings

    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk); benchmarks/run.sh installs it.")
    if settings.DEBUG:
        raise SystemExit("DJANGO_DEBUG is on: the benchmark measures production settings.")

    RESULTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="evidence-bench-") as scratch:
        targets = choose_targets() + mix_targets(Path(scratch) / "mixes") + reference_targets()
        clients, cookies = {}, {}
        for role, username in (("reviewer", reviewer_username()), ("editor", editor_username())):
            log(f"signing in {username} ({role}) through /accounts/login/")
            client = sign_in(username)
            if client is not None:
                clients[role] = client
                cookies[role] = (
                    f"Cookie: {settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
                )
        inspect(targets, clients)
        for target in targets:
            state = target.skipped or f"{target.queries} queries, {target.size:,} bytes"
            log(f"  {target.name:<36} {target.path[:60]:<60} {state}")
        statics = write_static_files([t for t in targets if t.kind not in ("mix", "reference")], Path(scratch))
        writes = run_phases(targets, statics, Path(scratch), cookies)

    imported = import_benchmark()
    replicas = [alias for alias in settings.DATABASES if alias != "default"]
    results = {
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": os.environ.get("BENCH_COMMAND", "make bench"),
        **environment(),
        "dataset": dataset_counts(),
        "generation": generation(),
        "replicas": ", ".join(f"{alias} ({settings.DATABASES[alias]['PORT']})" for alias in replicas),
        "settings": {
            "duration": DURATION,
            "rounds": ROUNDS,
            "concurrency": CONCURRENCY,
            "phases": PHASES,
            "mix_paths": MIX_PATHS,
            "mix_seed": MIX_SEED,
            "workers": phases.WORKERS,
            "conn_max_age": settings.DATABASES["default"]["CONN_MAX_AGE"],
            "cache": "Redis (its own)" if phases.Redis.available() else "each worker's memory",
        },
        "writes": writes,
        "pages": report.summarise(targets, statics),
        "import": imported,
    }
    path = RESULTS / f"{LABEL}.json"
    previous = report.keep_previous(path)
    results["previous"] = previous
    path.write_text(json.dumps(results, indent=2) + "\n")
    block = report.markdown(results, report.load(path.with_name(f"{LABEL}-previous.json")))
    if WRITE_DOCS:
        report.write_markdown(LABEL, block)
    log("\n" + block)
    log(f"written to {path.relative_to(ROOT)}" + (" and docs/performance.md" if WRITE_DOCS else ""))


if __name__ == "__main__":
    main()
