#!/usr/bin/env bash
# The demo with nothing but Python installed: an embedded PostgreSQL server with its data under var/,
# the migrations and demo data, then the web server and a Celery worker with its beat scheduler on
# Kombu's filesystem broker. Ctrl+C stops the web server, the worker and the database.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${DEMO_PORT:-8000}"
VAR="${VAR_DIR:-var}"
# Seconds the worker gets to finish its task after Ctrl+C before it is killed.
WORKER_STOP_SECONDS="${DEMO_WORKER_STOP_SECONDS:-5}"
export DEBUG="${DEBUG:-true}"
# DEBUG's local conveniences, but the service's own 404 and 500 pages rather than Django's
# technical ones (which list every URL pattern): people trying the demo see what users would.
export TECHNICAL_ERROR_PAGES="${TECHNICAL_ERROR_PAGES:-false}"
# Links in e-mails point at the port the demo serves.
export SITE_URL="${SITE_URL:-http://127.0.0.1:${PORT}}"
mkdir -p "$VAR"
DB="" WEB="" WORKER=""

running() { kill -0 "$1" 2>/dev/null; }

stop() {
  set +e
  trap - EXIT INT TERM
  echo
  [ -n "$WEB" ] && kill -TERM "$WEB" 2>/dev/null
  if [ -n "$WORKER" ]; then
    kill -TERM "$WORKER" 2>/dev/null
    for _ in $(seq $((WORKER_STOP_SECONDS * 5))); do
      running "$WORKER" || break
      sleep 0.2
    done
    if running "$WORKER"; then
      echo "The worker did not stop in ${WORKER_STOP_SECONDS} s: killing it and its pool."
      pkill -KILL -P "$WORKER"
      kill -KILL "$WORKER" 2>/dev/null
    fi
    wait "$WORKER" 2>/dev/null
  fi
  [ -n "$WEB" ] && wait "$WEB" 2>/dev/null
  if [ -n "$DB" ]; then
    kill -TERM "$DB" 2>/dev/null
    wait "$DB" 2>/dev/null
  fi
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

.venv/bin/python scripts/demo_postgres.py &
DB=$!
until [ -s "$VAR/database_url" ]; do
  running "$DB" || { echo "error: the embedded PostgreSQL server did not start (see $VAR/postgres/log)." >&2; exit 1; }
  sleep 0.2
done
DATABASE_URL="$(cat "$VAR/database_url")"
export DATABASE_URL

.venv/bin/python manage.py migrate --no-input
.venv/bin/python manage.py seed_demo

.venv/bin/celery -A config worker --beat --loglevel=INFO --concurrency=2 \
  --schedule="$VAR/celerybeat-schedule" >"$VAR/celery.log" 2>&1 &
WORKER=$!
.venv/bin/python manage.py runserver "127.0.0.1:${PORT}" --noreload &
WEB=$!
echo
echo "PostgreSQL running with its data in $VAR/postgres (URL in $VAR/database_url)."
echo "Celery worker and beat running (log: $VAR/celery.log)."
echo "Open http://127.0.0.1:${PORT}/sign-in/ and sign in with a login printed above."
echo "Press Ctrl+C to stop."
echo
wait "$WEB"
