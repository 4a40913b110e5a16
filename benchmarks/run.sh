#!/usr/bin/env bash
# `make bench`: the benchmark of docs/performance.md, from a fresh clone, on PostgreSQL.
#
# Starts PostgreSQL the way .ci/run does, gives the benchmark its own database (evidence_bench), migrates,
# loads the generated library (skipped when the database already holds the same size, seed and generator,
# recorded as the database's COMMENT), collects static files, installs wrk if missing, then runs
# benchmarks/bench.py with production settings (DEBUG off, a throw-away secret key). Not part of CI.
#
# Knobs: BENCH_DB, BENCH_ARTICLES, BENCH_CLAIMS, BENCH_STUDIES, BENCH_REVIEWS, BENCH_SEED, and those of
# bench.py (BENCH_DURATION, BENCH_ROUNDS, BENCH_CONCURRENCY, BENCH_PHASES, BENCH_MIX_PATHS,
# BENCH_IMPORT_RECORDS, BENCH_LABEL, ...). DATABASE_REPLICA_URLS is passed through (benchmarks/replica.sh sets
# it); BENCH_PREPARE_ONLY=1 stops before measuring; PY names the virtualenv's python (default .venv/bin/python).
#
# BENCH_QUICK=1: a validation run of the whole harness in a few minutes, not a measurement: a small library
# (4 articles, 300 claims, 1,500 studies) in its own database (evidence_bench_quick), 1 round of 5 s per
# target and phase at c=4, 300 paths per mix, no import; results in benchmarks/results/quick.json (not
# committed), docs/performance.md untouched. Any knob set explicitly still wins.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${BENCH_QUICK:-0}" = 1 ]; then
  export BENCH_DB=${BENCH_DB:-evidence_bench_quick} BENCH_ARTICLES=${BENCH_ARTICLES:-4}
  export BENCH_CLAIMS=${BENCH_CLAIMS:-300} BENCH_STUDIES=${BENCH_STUDIES:-1500} BENCH_REVIEWS=${BENCH_REVIEWS:-900}
  export BENCH_DURATION=${BENCH_DURATION:-5} BENCH_ROUNDS=${BENCH_ROUNDS:-1} BENCH_CONCURRENCY=${BENCH_CONCURRENCY:-4}
  export BENCH_MIX_PATHS=${BENCH_MIX_PATHS:-300} BENCH_IMPORT_RECORDS=${BENCH_IMPORT_RECORDS:-0}
  export BENCH_LABEL=${BENCH_LABEL:-quick} BENCH_WRITE_DOCS=${BENCH_WRITE_DOCS:-0}
  export BENCH_COMMAND=${BENCH_COMMAND:-BENCH_QUICK=1 make bench}
  DATASET_REPORT=$(mktemp "${TMPDIR:-/tmp}/bench-quick-dataset.XXXXXX.json")
fi
export DATASET_REPORT=${DATASET_REPORT:-benchmarks/results/dataset.json}

PG_VERSION=${PG_VERSION:-15}
PG_PORT=${PG_PORT:-5432}
DB_USER=${DB_USER:-evidence}
DB_PASSWORD=${DB_PASSWORD:-evidence}
BENCH_DB=${BENCH_DB:-evidence_bench}
BENCH_ARTICLES=${BENCH_ARTICLES:-200}
BENCH_CLAIMS=${BENCH_CLAIMS:-20000}
BENCH_STUDIES=${BENCH_STUDIES:-100000}
BENCH_REVIEWS=${BENCH_REVIEWS:-60000}
BENCH_SEED=${BENCH_SEED:-1}
PY=${PY:-.venv/bin/python}

as_postgres() {
  # Works whether local connections use trust or peer authentication.
  if [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

if ! pg_isready -q -h 127.0.0.1 -p "$PG_PORT"; then
  echo "PostgreSQL is not answering on 127.0.0.1:$PG_PORT; starting cluster $PG_VERSION/main"
  pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" main start || true
  for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p "$PG_PORT" && break
    sleep 1
  done
fi
pg_isready -h 127.0.0.1 -p "$PG_PORT" || { echo "PostgreSQL did not start" >&2; exit 1; }

as_postgres psql -v ON_ERROR_STOP=1 -q -d postgres -p "$PG_PORT" <<SQL
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_USER') THEN
    CREATE ROLE $DB_USER LOGIN CREATEDB PASSWORD '$DB_PASSWORD';
  END IF;
END
\$\$;
SQL
if ! as_postgres psql -tA -d postgres -p "$PG_PORT" -c "SELECT 1 FROM pg_database WHERE datname = '$BENCH_DB'" | grep -q 1; then
  as_postgres createdb -p "$PG_PORT" -O "$DB_USER" "$BENCH_DB"
fi

if ! command -v wrk >/dev/null 2>&1 || ! command -v redis-server >/dev/null 2>&1; then
  echo "Installing Debian's wrk and redis-server (the benchmark starts a Redis of its own)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk redis-server >/dev/null
fi

export DATABASE_URL="postgres://$DB_USER:$DB_PASSWORD@127.0.0.1:$PG_PORT/$BENCH_DB"
export DJANGO_SETTINGS_MODULE=benchmarks.bench_settings
export DJANGO_DEBUG=0
export DJANGO_SECRET_KEY="bench-$($PY -c 'import secrets; print(secrets.token_urlsafe(40))')"
export DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost
export DATABASE_CONN_MAX_AGE=${DATABASE_CONN_MAX_AGE:-600}
export BENCH_COMMAND=${BENCH_COMMAND:-make bench}
# wrk is one anonymous client asking thousands of times a second: at the production rate the API would
# answer 429 to nearly all of it. The throttle still runs on every request; it just never refuses here.
export DJANGO_API_ANON_RATE=${DJANGO_API_ANON_RATE:-1000000/second}
psql_bench() { psql -v ON_ERROR_STOP=1 -tAq "$DATABASE_URL" "$@"; }

$PY manage.py migrate --noinput -v0

# The data set is cached in the database: its COMMENT records what was generated, including a hash of the
# generator and of the services it writes through, so a changed generator, write path or size regenerates it.
generator_hash=$(cat benchmarks/dataset/*.py evidence/services/*.py reviews/services/*.py reviews/consensus.py \
  reviews/receivers.py | sha256sum | cut -c1-16)
wanted="benchmarks.dataset $generator_hash --articles $BENCH_ARTICLES --claims $BENCH_CLAIMS --studies $BENCH_STUDIES --reviews $BENCH_REVIEWS --seed $BENCH_SEED"
loaded=$(psql_bench -c "SELECT coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database WHERE datname = current_database()")
if [ "$loaded" = "$wanted" ]; then
  echo "Data set already loaded in $BENCH_DB ($wanted)"
else
  echo "Generating the data set in $BENCH_DB"
  mkdir -p benchmarks/results
  $PY -m benchmarks.dataset --force --articles "$BENCH_ARTICLES" --claims "$BENCH_CLAIMS" \
    --studies "$BENCH_STUDIES" --reviews "$BENCH_REVIEWS" --seed "$BENCH_SEED" --report "$DATASET_REPORT"
  # a freshly written table has no visibility map; VACUUM sets it so that index-only scans work from the first run
  PGOPTIONS="-c client_min_messages=error" psql_bench -c "VACUUM (ANALYZE)"
  psql_bench -c "COMMENT ON DATABASE $BENCH_DB IS '$wanted'"
fi

# Fresh statistics: an expression index that a migration has just created has none until ANALYZE, and
# without them PostgreSQL may ignore it (evidence_study_title_key_idx was ignored until this was added).
PGOPTIONS="-c client_min_messages=error" psql_bench -c "ANALYZE"

$PY manage.py collectstatic --noinput -v0

if [ "${BENCH_PREPARE_ONLY:-0}" = 1 ]; then
  exit 0
fi
$PY benchmarks/bench.py
