# Shared by benchmarks/load.sh and benchmarks/fault.sh (sourced, not run): a dedicated database, and
# gunicorn with production settings (DEBUG off, collected static files) on a free port of 127.0.0.1.
# Needs: PostgreSQL on PGHOST:PGPORT with a role that may create databases, wrk, curl.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY="$ROOT/.venv/bin/python"
PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
PGUSER=${PGUSER:-evidence}
PGPASSWORD=${PGPASSWORD:-evidence}
export PGHOST PGPORT PGUSER PGPASSWORD
WORKERS=${WORKERS:-2}
RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/evidence-bench.XXXXXX")
SERVER_PID=""

stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}
trap stop_server EXIT INT TERM

need() {
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing $2 (for $1)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
  fi
  command -v "$1" >/dev/null 2>&1 || { echo "$1 is missing: apt-get install $2" >&2; exit 1; }
}

# use_database NAME: export the settings' environment for that database, creating it if it is missing.
use_database() {
  export DATABASE_URL="postgres://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT/$1"
  export DJANGO_SETTINGS_MODULE=evidence.settings
  export DJANGO_DEBUG=0
  export DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost
  # a throwaway key: nothing signed in this run outlives it
  export DJANGO_SECRET_KEY=${DJANGO_SECRET_KEY:-$("$PY" -c 'import secrets; print(secrets.token_urlsafe(50))')}
  if ! psql -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = '$1'" | grep -q 1; then
    echo "creating database $1"
    createdb "$1"
  fi
  (cd "$ROOT" && "$PY" manage.py migrate --noinput -v 0)
}

free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_server LOGFILE: gunicorn with $WORKERS sync workers on a free port; sets PORT and BASE_URL.
start_server() {
  (cd "$ROOT" && "$PY" manage.py collectstatic --noinput -v 0)
  PORT=$(free_port)
  BASE_URL="http://127.0.0.1:$PORT"
  (cd "$ROOT" && exec "$ROOT/.venv/bin/gunicorn" evidence.wsgi:application \
      --workers "$WORKERS" --bind "127.0.0.1:$PORT" --timeout 60 --graceful-timeout 5 \
      ${ACCESS_LOG:+--access-logfile -} --error-logfile - --log-level info) >"$1" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 60); do
    curl -fsS -o /dev/null "$BASE_URL/" 2>/dev/null && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.5
  done
  echo "gunicorn did not start; its log:" >&2
  tail -n 40 "$1" >&2
  exit 1
}

# statuses_from WRK_OUTPUT: the "statuses: 200=N ..." line of benchmarks/wrk_statuses.lua
statuses_from() {
  grep '^statuses:' "$1" | sed 's/^statuses: //'
}
