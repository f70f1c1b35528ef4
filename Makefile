# The two commands a new user needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test fault-test lint check-deploy vendor-static clean

$(STAMP): pyproject.toml requirements.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements.lock -e ".[test]"
	@touch $(STAMP)

install: $(STAMP)

## run: migrate, seed the demo bank, start web + Celery worker + beat (Ctrl-C stops all)
run: install
	@bash scripts/run_dev.sh

## test: the whole suite against PostgreSQL and Redis (CI=true makes them mandatory)
test: install
	@bash scripts/test.sh

## fault-test: kill the worker, run two beats, stop Redis, restart PostgreSQL (own throw-away
## servers; needs /usr/lib/postgresql/15/bin and redis-server; see docs/fault-tolerance.md)
fault-test: install
	$(PY) scripts/fault_tests.py $(FAULT_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

vendor-static:
	bash scripts/vendor_static.sh

clean:
	rm -rf .run
