#!/usr/bin/env bash
# `make test`: lint, migrations, the OpenAPI schema, then the whole pytest suite against
# PostgreSQL and Redis (DATABASE_URL / REDIS_URL, else 127.0.0.1:5432 and 127.0.0.1:6379).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export DJANGO_SETTINGS_MODULE=crm_site.settings.test

echo "== ruff"
.venv/bin/ruff check .
echo "== bandit: no high-severity findings"
.venv/bin/bandit -q -r crm_site customers interactions segmentation campaigns \
  -x '*/migrations/*' --severity-level high
echo "== pip-audit: no known vulnerabilities in requirements.lock (warns if offline)"
$PY scripts/dependency_audit.py
echo "== migrations are up to date"
$PY manage.py makemigrations --check --dry-run >/dev/null
echo "== OpenAPI schema is valid"
$PY manage.py spectacular --validate --fail-on-warn --file /dev/null
echo "== pytest"
$PY -m pytest --create-db "$@"
