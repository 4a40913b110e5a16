#!/usr/bin/env bash
# Load run (issue 9): wrk on 127.0.0.1 for 60 s at 64 connections against gunicorn with 2 workers and
# production settings, over a mix of public pages, on the generated benchmark data set. It passes when
# every response is 2xx/3xx and wrk reports no socket error. One command from a fresh clone, after
# `make install`:
#
#   benchmarks/load.sh                       # database evidence_load, generated on first use
#   LOAD_DB=evidence_bench benchmarks/load.sh   # reuse the benchmark's database (make bench) instead
#
# The data set is the performance issue's: python -m benchmarks.dataset --articles 200 --claims 20000
# --studies 100000 --reviews 60000 --seed 1 (a few minutes, once). Settings: DURATION, CONNECTIONS,
# THREADS, WORKERS. Needs PostgreSQL, wrk (apt-get install wrk) and curl. The run only reads.
set -euo pipefail
source "$(dirname "$0")/server.sh"

LOAD_DB=${LOAD_DB:-evidence_load}
DURATION=${DURATION:-60}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
DATASET=(--articles 200 --claims 20000 --studies 100000 --reviews 60000 --seed 1)

need wrk wrk
need curl curl
use_database "$LOAD_DB"
n_studies=$(cd "$ROOT" && "$PY" manage.py shell -v 0 -c 'from evidence.models import Study; print(Study.objects.count())')
if [ "$n_studies" -lt 100000 ]; then
  if [ "$n_studies" -gt 0 ]; then
    echo "database $LOAD_DB holds $n_studies studies, not the benchmark data set; use another LOAD_DB" >&2
    exit 1
  fi
  echo "generating the benchmark data set in $LOAD_DB (once): python -m benchmarks.dataset ${DATASET[*]}"
  (cd "$ROOT" && "$PY" -m benchmarks.dataset "${DATASET[@]}")
fi

# The page mix: what readers open, in rough proportion; ids drawn once with a fixed seed.
(cd "$ROOT" && "$PY" manage.py shell -v 0 -c '
import random
from django.urls import reverse
from evidence.models import Article, Claim, Study
rng = random.Random(9)
articles = list(Article.objects.order_by("pk").values_list("slug", flat=True))
claims = list(Claim.objects.order_by("pk").values_list("pk", flat=True))
studies = list(Study.objects.order_by("pk").values_list("pk", flat=True))
paths = ["/", "/?page=2", "/map/", "/claims/", "/claims/?page=7", "/claims/?q=ketamine", "/claims/?q=depression+-mdma",
         "/claims/?verdict=supported", "/claims/?sort=strongest", "/claims/?flagged=yes", "/studies/",
         "/studies/?q=trial", "/studies/?design=rct&sort=largest", "/studies/?retracted=yes", "/studies/?page=40"]
for slug in rng.sample(articles, min(10, len(articles))):
    paths += [f"/articles/{slug}/", f"/articles/{slug}/map/", f"/claims/?article={slug}"]
paths += [f"/claims/{pk}/" for pk in rng.sample(claims, min(40, len(claims)))]
paths += [f"/studies/{pk}/" for pk in rng.sample(studies, min(40, len(studies)))]
rng.shuffle(paths)
print("\n".join(paths))
') >"$RUN_DIR/paths"
echo "$(wc -l <"$RUN_DIR/paths") paths in the mix"

LOG="$RUN_DIR/gunicorn.log"
start_server "$LOG"
# one pass over every path before measuring, so each worker has its connection and cached citations
while read -r path; do curl -s -o /dev/null "$BASE_URL$path"; done <"$RUN_DIR/paths"
echo "wrk: ${DURATION}s, $CONNECTIONS connections, $THREADS threads against gunicorn ($WORKERS workers) on $BASE_URL"
WRK_PATHS="$RUN_DIR/paths" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 30s --latency \
  -s "$ROOT/benchmarks/wrk_statuses.lua" "$BASE_URL" | tee "$RUN_DIR/wrk.txt"
stop_server

statuses=$(statuses_from "$RUN_DIR/wrk.txt")
errors=$(grep -c 'Socket errors' "$RUN_DIR/wrk.txt" || true)
non2xx=$(grep -c 'Non-2xx or 3xx' "$RUN_DIR/wrk.txt" || true)
n500=$(grep -cE 'Internal Server Error|Traceback|database unavailable' "$LOG" || true)
echo
echo "== load run: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, database $LOAD_DB ($n_studies studies)"
echo "  status codes: $statuses; socket error lines: $errors; non-2xx/3xx lines: $non2xx; server errors logged: $n500"
echo "  full logs: $RUN_DIR"
bad=$(echo "$statuses" | tr ' ' '\n' | grep -vE '^[23][0-9][0-9]=' | grep -c . || true)
[ "$bad" = 0 ] && [ "$errors" = 0 ] && [ "$non2xx" = 0 ] && [ "$n500" = 0 ] || { echo "LOAD RUN FAILED" >&2; exit 1; }
echo "LOAD RUN PASSED"
