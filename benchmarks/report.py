"""The benchmark's results: per target and phase, the targets of issue 20, and the Markdown of
docs/performance.md with the previous run beside this one.

Every ratio is a page's (or mix's) figure over R_list's in the same round, phase and concurrency; the
verdict uses the median of those ratios. The targets, checked in the cold phase and under writes (the warm
phase is reported, not judged):

- req/s ≥ 0.5 × R_list for every reader page and mix (claim and study pages included: they are compared
  with the list reference), ≥ 0.3 × for the reviewer's queue and the editor's desk;
- p99 ≤ 5 × R_list's p99;
- no non-2xx answer in any phase; the query budgets (≤ 6 on a list, ≤ 8 on a page); no session written by an
  anonymous GET.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
from pathlib import Path
from typing import Any

from benchmarks.phases import COLD, PHASES, WARM, WRITES

ROOT = Path(__file__).resolve().parent.parent
PERFORMANCE_MD = ROOT / "docs" / "performance.md"

REFERENCE = "R_list"
READER_FLOOR = 0.5  # × R_list's req/s, for every reader page and mix
DESK_FLOOR = 0.3  # the reviewer's queue and the editor's desk (signed in, per person)
MAX_P99_RATIO = 5.0
JUDGED_PHASES = (COLD, WRITES)
QUERY_BUDGETS = {"list": 6, "detail": 8, "page": 8}


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def hit_rate(runs: list[dict[str, float]]) -> float | None:
    """Hits over hits and misses in Redis over these runs; None when nothing was asked of the cache."""
    hits = sum(run.get("cache_hits", 0) for run in runs)
    misses = sum(run.get("cache_misses", 0) for run in runs)
    return hits / (hits + misses) if hits + misses else None


def floor(target: Any) -> float:
    return DESK_FLOOR if target.signed_in else READER_FLOOR


def summarise(targets: list[Any], statics: list[Any]) -> list[dict[str, Any]]:
    """One row per target: its figures per phase and concurrency, its ratios and its verdict."""
    reference = next((t for t in targets if t.name == REFERENCE), None)
    statics_of = {s.static_of: s for s in statics}
    rows = []
    for target in targets:
        row: dict[str, Any] = {
            "name": target.name,
            "path": target.path,
            "kind": target.kind,
            "signed_in": target.signed_in,
            "paths": len(target.every_path),
            "queries": target.queries,
            "queries_by_alias": target.queries_by_alias,
            "query_budget": target.budget,
            "bytes": target.size,
            "session_write": target.session_write,
            "skipped": target.skipped,
            "note": target.note,
            "phases": {},
        }
        if target.skipped:
            rows.append(row)
            continue
        judged = target.kind not in ("reference", "static")
        for phase, by_concurrency in target.runs.items():
            figures_by_c: dict[str, Any] = {}
            rps_ratios: list[float] = []
            p99_ratios: list[float] = []
            for connections, runs in by_concurrency.items():
                figures: dict[str, Any] = {
                    "rps": median([r["rps"] for r in runs]),
                    "p50_ms": median([r["p50_ms"] for r in runs]),
                    "p99_ms": median([r["p99_ms"] for r in runs]),
                    "non_2xx": sum(r["non_2xx"] + r.get("socket_errors", 0) for r in runs),
                    "hit_rate": hit_rate(runs),
                    "rounds": runs,
                }
                static = statics_of.get(target.name)
                if static and connections in static.runs.get(phase, {}):
                    figures["static_rps"] = median([r["rps"] for r in static.runs[phase][connections]])
                ref_runs = reference.runs.get(phase, {}).get(connections) if reference else None
                if judged and ref_runs:
                    pairs = list(zip(runs, ref_runs, strict=True))  # each round against the same round's R_list
                    figures["rps_ratio"] = median([page["rps"] / ref["rps"] for page, ref in pairs])
                    figures["p99_ratio"] = median([page["p99_ms"] / ref["p99_ms"] for page, ref in pairs])
                    rps_ratios += [page["rps"] / ref["rps"] for page, ref in pairs]
                    p99_ratios += [page["p99_ms"] / ref["p99_ms"] for page, ref in pairs]
                figures_by_c[str(connections)] = figures
            row["phases"][phase] = {
                "by_concurrency": figures_by_c,
                "rps_ratio": median(rps_ratios) if rps_ratios else None,
                "p99_ratio": median(p99_ratios) if p99_ratios else None,
            }
        if judged:
            row["floor"] = floor(target)
            checks: dict[str, bool] = {}
            for phase in JUDGED_PHASES:
                measured = row["phases"].get(phase)
                if measured and measured["rps_ratio"] is not None:
                    checks[f"{phase} req/s ≥ {row['floor']} × {REFERENCE}"] = measured["rps_ratio"] >= row["floor"]
                    checks[f"{phase} p99 ≤ {MAX_P99_RATIO:g} × {REFERENCE}"] = measured["p99_ratio"] <= MAX_P99_RATIO
            checks["zero non-2xx"] = all(
                figures["non_2xx"] == 0
                for measured in row["phases"].values()
                for figures in measured["by_concurrency"].values()
            )
            if target.budget is not None and target.queries is not None:
                checks[f"≤ {target.budget} queries"] = target.queries <= target.budget
            checks["no session write"] = bool(target.signed_in) or not target.session_write
            row["checks"] = checks
            row["meets_targets"] = all(checks.values())
        rows.append(row)
    return rows


# --- The previous run ---------------------------------------------------------------------------------------


def keep_previous(path: Path) -> str | None:
    """Copy the results about to be replaced to <label>-previous.json; when they were generated (None: none)."""
    if not path.exists():
        return None
    previous = path.with_name(f"{path.stem}-previous.json")
    shutil.copyfile(path, previous)
    return load(previous).get("generated_at")


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.exists() else {}


def previous_rps(previous: dict[str, Any], name: str, phase: str, connections: str) -> float | None:
    """A target's req/s in the previous run. Results from before the phases (one URL each, the page cache
    on) count as warm; their references read the full Study table, so compare ratios with care."""
    for row in previous.get("pages", []):
        if row["name"] != name or row.get("skipped"):
            continue
        if "phases" in row:
            return row["phases"].get(phase, {}).get("by_concurrency", {}).get(connections, {}).get("rps")
        if phase == WARM:
            return row.get("by_concurrency", {}).get(connections, {}).get("rps")
    return None


# --- Markdown -----------------------------------------------------------------------------------------------


def fmt(value: Any, pattern: str = "{:.2f}") -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    return pattern.format(value)


def markdown(results: dict[str, Any], previous: dict[str, Any]) -> str:
    settings = results["settings"]
    generated = ""
    if results.get("generation"):
        generated = (
            f", generated in {results['generation']['total_seconds']:.0f} s by benchmarks.dataset "
            f"(phases and tables in benchmarks/results/dataset.json)"
        )
    lines = [
        f"Measured {results['generated_at']} with `{results['command']}`"
        + (f" (reads routed to {results['replicas']})" if results.get("replicas") else "")
        + (f"; previous run {previous['generated_at']}" if previous.get("generated_at") else "")
        + ".",
        "",
        f"- Machine: {results['machine']['cpu']}, {results['machine']['cores']} cores, "
        f"{results['machine']['memory']} RAM, {results['machine']['os']}; PostgreSQL, Redis, gunicorn and wrk all "
        "on it.",
        "- Versions: " + ", ".join(f"{name} {version}" for name, version in results["versions"].items()) + ".",
        f"- Data set: {', '.join(f'{n:,} {name}' for name, n in results['dataset'].items())} "
        f"({results['database']['size']} database {results['database']['name']}){generated}.",
        f"- gunicorn: {settings['workers']} sync workers, DEBUG off, "
        f"DATABASE_CONN_MAX_AGE={settings.get('conn_max_age')}, cache: {settings['cache']}; "
        f"wrk: {settings['rounds']} rounds × {settings['duration']} s per target, phase and concurrency "
        f"({', '.join(map(str, settings['concurrency']))}), round-robin; mixes: {settings['mix_paths']:,} paths "
        f"each at most, seed {settings['mix_seed']}.",
    ]
    if results.get("writes"):
        made = results["writes"]
        lines.append(
            f"- Under writes: the writer made {', '.join(f'{n} × {what}' for what, n in made['made'].items())} "
            f"in {made['seconds']:.0f} s"
            + (f" (refused by the rules: {dict(made['refused'])})" if made.get("refused") else "")
            + "."
        )
    lines += [
        "",
        f"× {REFERENCE}: median over rounds and concurrencies of the page's req/s ÷ {REFERENCE}'s in the same round "
        f"and phase; p99 × ref likewise. Other figures are medians over rounds (at c={settings['concurrency'][-1]} "
        "where several concurrencies ran). Cache hits: Redis keyspace hits ÷ (hits + misses) during the runs. "
        "Previous: the same target and phase in the previous run.",
        "",
    ]
    connections = str(settings["concurrency"][-1])
    header = ["page", "SQL", "bytes", "phase", "req/s", "previous", f"× {REFERENCE}", "p50 ms", "p99 ms"]
    header += ["p99 × ref", "non-2xx", "cache hits", "targets"]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in results["pages"]:
        if row["skipped"]:
            lines.append(f"| {row['name']} | – | – | – |" + " – |" * 8 + f" skipped: {row['skipped']} |")
            continue
        budget = f" / {row['query_budget']}" if row["query_budget"] else ""
        elsewhere = ", ".join(
            f"{n} on {alias}" for alias, n in row["queries_by_alias"].items() if alias != "default" and n
        )
        sql = "–" if row["kind"] == "mix" else f"{row['queries']}{budget}" + (f" ({elsewhere})" if elsewhere else "")
        size = f"{row['paths']:,} paths" if row["kind"] == "mix" else f"{row['bytes']:,}"
        first = True
        for phase in PHASES:
            measured = row["phases"].get(phase)
            if not measured:
                continue
            figures = measured["by_concurrency"].get(connections, {})
            if row["kind"] == "reference":
                verdict = "reference"
            else:
                # each phase's row names its own misses; the first also those of no phase (non-2xx, SQL)
                failed = [
                    name
                    for name, ok in row["checks"].items()
                    if not ok and (name.split()[0] == phase or (first and name.split()[0] not in PHASES))
                ]
                verdict = "**not met: " + ", ".join(failed) + "**" if failed else ("met" if phase != WARM else "–")
            cells = [
                row["name"] if first else "",
                sql if first else "",
                size if first else "",
                phase,
                fmt(figures.get("rps"), "{:.1f}"),
                fmt(previous_rps(previous, row["name"], phase, connections), "{:.1f}"),
                fmt(measured.get("rps_ratio")),
                fmt(figures.get("p50_ms")),
                fmt(figures.get("p99_ms")),
                fmt(measured.get("p99_ratio")),
                fmt(figures.get("non_2xx"), "{:.0f}"),
                fmt(figures.get("hit_rate"), "{:.0%}"),
                verdict,
            ]
            lines.append("| " + " | ".join(cells) + " |")
            first = False
    judged = [row for row in results["pages"] if "meets_targets" in row]
    met = [row["name"] for row in judged if row["meets_targets"]]
    missed = [row for row in judged if not row["meets_targets"]]
    lines += [
        "",
        f"**Targets (issue 20): {len(met)} of {len(judged)} pages and mixes meet every target.**",
        "",
        "- Met: " + (", ".join(met) if met else "none") + ".",
    ]
    for row in missed:
        failed = [name for name, ok in row["checks"].items() if not ok]
        lines.append(f"- Not met: {row['name']}: {', '.join(failed)}.")
    lines += ["", *import_lines(results["import"])]
    for row in results["pages"]:
        if row["skipped"]:
            lines.append(f"\nNot measured: {row['name']} ({row['path']}): {row['skipped']}.")
    return "\n".join(lines) + "\n"


def import_lines(imported: dict[str, Any]) -> list[str]:
    if imported.get("status") != "measured":
        return [f"Import: {imported['status']}."]
    budget = imported["budget"]
    verdict = "met" if imported["meets_target"] else "**missed**"
    load = (min(run["load"][0] for run in imported["runs"]), max(run["load"][1] for run in imported["runs"]))
    lines = [
        f"Import: {imported['records']:,}-record BibTeX file ({imported['file']}) committed into a copy of the "
        f"data set, in a process of its own: {imported['seconds']:.1f} s ({imported['cpu_seconds']:.1f} s of "
        f"CPU), peak {imported['peak_rss_mb']} MB (budget {budget['seconds']:.0f} s and "
        f"{budget['peak_rss_mb']} MB: {verdict}); report: {imported['report']}. For context, on the same file: "
        f"bibtexparser.parse_string alone {imported['bibtexparser_seconds']:.1f} s, our parser alone "
        f"{imported['parse_seconds']:.1f} s. Load average during the imports: "
        f"{load[0]:.1f} to {load[1]:.1f} on {os.cpu_count()} cores (the wall-clock depends on it, the CPU seconds "
        "less)."
    ]
    large = imported.get("large")
    if large:
        verdict = "met" if large["meets_target"] else "**missed**"
        lines += [
            "",
            f"Large file ({large['file']}): {large['seconds']:.1f} s, peak {large['peak_rss_mb']} MB "
            f"(budget {large['budget_rss_mb']} MB: {verdict}); report: {large['report']}.",
        ]
    return lines


def write_markdown(label: str, block: str) -> None:
    begin, end = f"<!-- bench:{label}:begin -->", f"<!-- bench:{label}:end -->"
    text = PERFORMANCE_MD.read_text() if PERFORMANCE_MD.exists() else "# Performance\n"
    replacement = f"{begin}\n{block}{end}"
    if begin in text and end in text:
        text = text[: text.index(begin)] + replacement + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip("\n") + f"\n\n## Results ({label})\n\n{replacement}\n"
    PERFORMANCE_MD.write_text(text)
