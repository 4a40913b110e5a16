#!/usr/bin/env bash
# The benchmark with reads routed to a real PostgreSQL streaming replica of the local cluster.
#
# 1. prepares the bench database on the primary as `make bench` does (benchmarks/run.sh, data set cached);
# 2. takes a base backup of the local cluster with pg_basebackup -R (as the postgres OS user) into a
#    temporary directory and starts it as a hot standby on 127.0.0.1:5433, streaming from the primary;
# 3. runs the benchmark's under-writes phase (BENCH_PHASES=writes unless set) with DATABASE_REPLICA_URLS
#    pointing at it: gunicorn's reads go to the replica while benchmarks/writer.py commits one change a second
#    to the primary through the services (results: the "replica" section of docs/performance.md and
#    benchmarks/results/replica.json), and shows from the replica's own statistics that the reads went
#    there and from pg_stat_replication how far it lagged;
# 4. stops the replica and deletes its directory, whatever happened.
#
# The primary must accept local replication connections from the postgres OS user; if its pg_hba.conf
# has no replication line, this adds "local replication postgres peer" to it and reloads (said below).
# Run as root (or as postgres). Knobs: PG_VERSION, PG_PORT, REPLICA_PORT, BENCH_DB and those of run.sh
# (BENCH_PHASES=cold,warm,writes for every phase on the replica; BENCH_QUICK=1 for the small library).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${BENCH_QUICK:-0}" = 1 ]; then
  BENCH_DB=${BENCH_DB:-evidence_bench_quick}
  export BENCH_LABEL=${BENCH_LABEL:-replica-quick}
fi

PG_VERSION=${PG_VERSION:-15}
PG_PORT=${PG_PORT:-5432}
REPLICA_PORT=${REPLICA_PORT:-5433}
BENCH_DB=${BENCH_DB:-evidence_bench}
DB_USER=${DB_USER:-evidence}
DB_PASSWORD=${DB_PASSWORD:-evidence}
PG_BIN=/usr/lib/postgresql/$PG_VERSION/bin
PG_CONF=/etc/postgresql/$PG_VERSION/main
SOCKET_DIR=/var/run/postgresql

as_postgres() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}
primary_sql() { as_postgres psql -v ON_ERROR_STOP=1 -tAq -h "$SOCKET_DIR" -p "$PG_PORT" -d postgres -c "$1"; }
primary_sql_db() { as_postgres psql -v ON_ERROR_STOP=1 -tAq -h "$SOCKET_DIR" -p "$PG_PORT" -d "$BENCH_DB" -c "$1"; }

if pg_isready -q -h 127.0.0.1 -p "$REPLICA_PORT"; then
  echo "Something already answers on 127.0.0.1:$REPLICA_PORT; stop it or set REPLICA_PORT." >&2
  exit 1
fi

echo "== Preparing the bench database on the primary"
BENCH_PREPARE_ONLY=1 BENCH_DB="$BENCH_DB" benchmarks/run.sh

echo "== Checking that the primary can stream to a replica"
wal_level=$(primary_sql "SHOW wal_level")
senders=$(primary_sql "SHOW max_wal_senders")
if [ "$wal_level" = minimal ] || [ "$senders" = 0 ]; then
  echo "The primary has wal_level=$wal_level, max_wal_senders=$senders: replication needs a restart with" \
    "wal_level=replica and max_wal_senders > 0." >&2
  exit 1
fi
hba_file=$(primary_sql "SHOW hba_file")
if ! grep -Eq '^\s*local\s+replication\s+(postgres|all)\s' "$hba_file"; then
  echo "Adding 'local replication postgres peer' to $hba_file and reloading the primary"
  printf '\n# added by benchmarks/replica.sh: base backups and streaming for a local replica\nlocal replication postgres peer\n' >>"$hba_file"
  primary_sql "SELECT pg_reload_conf()" >/dev/null
fi

REPLICA_DIR=$(mktemp -d /tmp/evidence-replica.XXXXXX)
chown postgres:postgres "$REPLICA_DIR" 2>/dev/null || true
chmod 700 "$REPLICA_DIR"
cleanup() {
  if [ -f "$REPLICA_DIR/postmaster.pid" ]; then
    echo "== Stopping the replica"
    as_postgres "$PG_BIN/pg_ctl" -D "$REPLICA_DIR" -m fast -w stop >/dev/null || true
  fi
  rm -rf "$REPLICA_DIR"
}
trap cleanup EXIT

echo "== Base backup of the local cluster into $REPLICA_DIR"
started=$(date +%s)
as_postgres "$PG_BIN/pg_basebackup" -h "$SOCKET_DIR" -p "$PG_PORT" -U postgres -D "$REPLICA_DIR" \
  -R -X stream -c fast --no-password
echo "   took $(($(date +%s) - started)) s ($(du -sh "$REPLICA_DIR" | cut -f1))"

# Debian keeps the configuration outside the data directory: start from the primary's, then make this
# one a hot standby of its own on another port (later lines win).
cp "$PG_CONF/postgresql.conf" "$PG_CONF/pg_hba.conf" "$PG_CONF/pg_ident.conf" "$REPLICA_DIR/"
if [ -d "$PG_CONF/conf.d" ]; then cp -r "$PG_CONF/conf.d" "$REPLICA_DIR/"; else mkdir -p "$REPLICA_DIR/conf.d"; fi
cat >>"$REPLICA_DIR/postgresql.conf" <<CONF

# benchmarks/replica.sh: a hot standby of the local cluster
data_directory = '$REPLICA_DIR'
hba_file = '$REPLICA_DIR/pg_hba.conf'
ident_file = '$REPLICA_DIR/pg_ident.conf'
external_pid_file = ''
port = $REPLICA_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$REPLICA_DIR'
cluster_name = 'evidence-bench-replica'
hot_standby = on
CONF
chown -R postgres:postgres "$REPLICA_DIR" 2>/dev/null || true

echo "== Starting the replica on 127.0.0.1:$REPLICA_PORT"
as_postgres "$PG_BIN/pg_ctl" -D "$REPLICA_DIR" -l "$REPLICA_DIR/replica.log" -w -t 60 start >/dev/null
replica_sql() { psql -v ON_ERROR_STOP=1 -tAq "postgres://$DB_USER:$DB_PASSWORD@127.0.0.1:$REPLICA_PORT/$BENCH_DB" -c "$1"; }
[ "$(replica_sql "SELECT pg_is_in_recovery()")" = t ] || { echo "The replica is not in recovery" >&2; exit 1; }
target_lsn=$(primary_sql "SELECT pg_current_wal_lsn()")
for _ in $(seq 1 60); do
  [ "$(replica_sql "SELECT pg_last_wal_replay_lsn() >= '$target_lsn'::pg_lsn")" = t ] && break
  sleep 1
done
primary_sql "SELECT 'streaming to ' || application_name || ', state ' || state || ', replay lag ' || coalesce(replay_lag::text, '0') FROM pg_stat_replication"

reads() { replica_sql "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"; }
before=$(reads)

echo "== The benchmark's ${BENCH_PHASES:-writes} phase, reads routed to the replica, writes to the primary"
DATABASE_REPLICA_URLS="postgres://$DB_USER:$DB_PASSWORD@127.0.0.1:$REPLICA_PORT/$BENCH_DB" \
  BENCH_PHASES=${BENCH_PHASES:-writes} BENCH_IMPORT_RECORDS=${BENCH_IMPORT_RECORDS:-0} \
  BENCH_LABEL=${BENCH_LABEL:-replica} BENCH_COMMAND="${BENCH_COMMAND:-benchmarks/replica.sh}" BENCH_DB="$BENCH_DB" \
  benchmarks/run.sh

after=$(reads)
echo "== The replica served $((after - before)) transactions on $BENCH_DB during the benchmark"
primary_sql "SELECT 'replay lag at the end: ' || coalesce(replay_lag::text, '0') FROM pg_stat_replication"
echo "== The replica's copy of the writer's last change: $(replica_sql "SELECT max(history_date) FROM evidence_historicalstudy")"
echo "   the primary's:                                   $(primary_sql_db "SELECT max(history_date) FROM evidence_historicalstudy")"
