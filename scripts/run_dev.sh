#!/usr/bin/env bash
# `make run`: the whole product on one machine. Embedded by default (SQLite, file-system
# broker); with DATABASE_URL / REDIS_URL set it uses PostgreSQL and Redis instead.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-crm_site.settings.local}
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
mkdir -p .run

echo "== Database: ${DATABASE_URL:-SQLite (.run/crm.sqlite3)}"
echo "== Broker:   ${REDIS_URL:-file system (.run/broker)}"
$PY manage.py migrate --noinput
$PY manage.py seed_demo --customers "${DEMO_CUSTOMERS:-2000}"
$PY manage.py score_customers  # today's run, so the dashboards have tiers to show (no-op if done)
$PY manage.py seed_campaigns   # demo one-to-one plans and events (no-op if present)

pids=()
stop_all() {
  trap - INT TERM EXIT
  echo
  echo "== Stopping web server, worker and beat"
  kill "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
trap stop_all INT TERM EXIT

if [ -n "${REDIS_URL:-}" ] && [ -n "${DATABASE_URL:-}" ]; then
  pool=(--pool=prefork --concurrency=2)
else
  pool=(--pool=solo)  # one writer at a time suits SQLite and the file-system broker
fi
$PY -m celery -A crm_site worker --loglevel=INFO "${pool[@]}" &
pids+=($!)
$PY -m celery -A crm_site beat --loglevel=INFO --schedule=.run/celerybeat-schedule --pidfile= &
pids+=($!)
$PY manage.py runserver "$HOST:$PORT" --noreload &
pids+=($!)

echo
echo "== Open http://$HOST:$PORT/ and sign in with one of the demo users above. Ctrl-C stops everything."
echo "== Branch heads and head office then enter a code from an authenticator app holding the demo"
echo "   TOTP key MJQW42ZNMNZG2LLEMVWW6LLUN52HAIJB (otpauth://totp/Bank%20CRM:demo?secret=MJQW42ZNMNZG2LLEMVWW6LLUN52HAIJB&issuer=Bank%20CRM),"
echo "   or get the current code with:"
echo "   $PY -c \"import base64; from django_otp.oath import totp; print('%06d' % totp(base64.b32decode('MJQW42ZNMNZG2LLEMVWW6LLUN52HAIJB')))\""
echo
wait -n "${pids[@]}"
