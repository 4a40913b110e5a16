#!/usr/bin/env bash
# Fault run (issue 9): restart PostgreSQL while gunicorn is under load, and show that the site answers 503
# with a plain page during the outage (never a 500 or a stack trace), says so in its log, and recovers
# by itself afterwards. One command from a fresh clone, after `make install`:
#
#   benchmarks/fault.sh                   # 30 s of wrk, PostgreSQL restarted 10 s in
#   FAULT=terminate benchmarks/fault.sh   # only end this database's connections (pg_terminate_backend)
#
# By default it RESTARTS THE POSTGRESQL CLUSTER (pg_ctlcluster $PG_VERSION $PG_CLUSTER restart): every
# other client of that cluster loses its connections for a few seconds. Run it on a machine of your own,
# not next to someone's test run; FAULT=terminate is the polite variant for a shared machine (connections
# are killed mid-query, but new ones are not refused). Needs root (or the cluster's owner) for a restart,
# wrk and curl; uses its own database, evidence_fault (FAULT_DB), with the seed article.
set -euo pipefail
source "$(dirname "$0")/server.sh"

PG_VERSION=${PG_VERSION:-15}
PG_CLUSTER=${PG_CLUSTER:-main}
DURATION=${DURATION:-30}
RESTART_AFTER=${RESTART_AFTER:-10}
CONNECTIONS=${CONNECTIONS:-16}
FAULT_DB=${FAULT_DB:-evidence_fault}
FAULT=${FAULT:-restart}
case "$FAULT" in restart|terminate) ;; *) echo "FAULT must be restart or terminate" >&2; exit 2 ;; esac

need wrk wrk
need curl curl
use_database "$FAULT_DB"
(cd "$ROOT" && "$PY" manage.py import_article fixtures/ketamine-mdma/article.json -v 0)
CLAIM_ID=$(cd "$ROOT" && "$PY" manage.py shell -v 0 -c 'from evidence.models import Claim; print(Claim.objects.order_by("pk").first().pk)')
cat >"$RUN_DIR/paths" <<PATHS
/
/claims/
/claims/?q=ketamine
/claims/$CLAIM_ID/
/studies/
/articles/ketamine-vs-mdma-in-psychotherapy/
/map/
PATHS

LOG="$RUN_DIR/gunicorn.log"
start_server "$LOG"
echo "gunicorn ($WORKERS workers) on $BASE_URL, database $FAULT_DB; wrk: ${DURATION}s at $CONNECTIONS connections"
echo "fault: $FAULT, ${RESTART_AFTER}s into the run"

WRK_PATHS="$RUN_DIR/paths" wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --timeout 20s \
  -s "$ROOT/benchmarks/wrk_statuses.lua" "$BASE_URL" >"$RUN_DIR/wrk.txt" 2>&1 &
WRK_PID=$!
sleep "$RESTART_AFTER"
started=$(date +%s%N)
if [ "$FAULT" = restart ]; then
  pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$PG_CLUSTER" restart
  until pg_isready -q -h "$PGHOST" -p "$PGPORT"; do sleep 0.1; done
  echo "PostgreSQL $PG_VERSION/$PG_CLUSTER restarted; accepting connections again after $(( ($(date +%s%N) - started) / 1000000 )) ms"
else
  for _ in 1 2 3; do  # three rounds, a second apart: the workers reconnect in between
    psql -d postgres -Atc "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '$FAULT_DB' AND pid <> pg_backend_pid()" |
      sed 's/^/terminated connections: /'
    sleep 1
  done
fi
wait "$WRK_PID"

# After the run: the next requests must succeed without restarting anything.
recovered=0
for _ in $(seq 1 20); do
  ok=0
  for path in / /claims/ "/claims/$CLAIM_ID/" /studies/; do
    code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE_URL$path")
    [ "$code" = 200 ] && ok=$((ok + 1))
  done
  if [ "$ok" = 4 ]; then recovered=1; break; fi
  sleep 0.5
done
stop_server

statuses=$(statuses_from "$RUN_DIR/wrk.txt")
n503=$(grep -c 'database unavailable, answered 503' "$LOG" || true)
n500=$(grep -cE 'Internal Server Error|Traceback' "$LOG" || true)
echo
echo "== fault run: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs"
grep -E 'Requests/sec|requests in|Socket errors|Non-2xx' "$RUN_DIR/wrk.txt" | sed 's/^ */  /'
echo "  status codes seen: $statuses"
echo "  log: $n503 requests answered 503 with the cause logged; $n500 tracebacks or 500s"
echo "  causes logged (count, cause):"
sed -n 's/.*database unavailable, answered 503 to [A-Z]* [^ ]*: //p' "$LOG" | cut -c1-150 | sort | uniq -c | sort -rn | head -6 |
  sed 's/^/    /'
if [ "$recovered" = 1 ]; then
  echo "  after the restart: /, /claims/, a claim page and /studies/ answer 200 again (no restart of gunicorn)"
else
  echo "  after the restart: the site did NOT recover" >&2
fi
echo "  full logs: $RUN_DIR"

# Pass: every answer was 200 or 503, some 503s (the outage was seen), no 500, and recovery.
bad=$(echo "$statuses" | tr ' ' '\n' | grep -vE '^(200|503)=' | grep -c . || true)
[ "$bad" = 0 ] && [ "$n500" = 0 ] && [ "$recovered" = 1 ] || { echo "FAULT RUN FAILED" >&2; exit 1; }
echo "FAULT RUN PASSED"
