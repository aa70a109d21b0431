#!/usr/bin/env bash
# Serve the demo: web server, Celery worker with its beat scheduler, on the embedded defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${DEMO_PORT:-8000}"
mkdir -p "${VAR_DIR:-var}"
.venv/bin/celery -A config worker --beat --loglevel=INFO --concurrency=2 \
  --schedule="${VAR_DIR:-var}/celerybeat-schedule" >"${VAR_DIR:-var}/celery.log" 2>&1 &
WORKER=$!
trap 'kill $WORKER 2>/dev/null; wait $WORKER 2>/dev/null' EXIT INT TERM
echo
echo "Celery worker and beat running (log: ${VAR_DIR:-var}/celery.log)."
echo "Open http://127.0.0.1:${PORT}/sign-in/ and sign in with a login printed above."
echo "Press Ctrl+C to stop."
echo
.venv/bin/python manage.py runserver "127.0.0.1:${PORT}" --noreload
