# The two commands a newcomer needs: `make run` and `make test`. See README.md.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# pytest-xdist processes for `make test` and `make test-quick`: one per CPU (auto), each with its own test
# database (test_<name>_gw0, _gw1, ...). TEST_WORKERS=0 runs the suite serially in this process, as does
# PYTEST_ARGS="-n 0" (the later -n wins). worksteal: an idle process takes tests queued for a busy one, so
# a few long tests do not leave one CPU idle at the end.
TEST_WORKERS ?= auto
XDIST = -n $(TEST_WORKERS) --dist worksteal
export DJANGO_SETTINGS_MODULE := evidence.settings

.PHONY: install run seed manage demo test test-quick lint format clean bench bench-quick load fault worker

# Re-install only when the dependency pins change.
$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# Debug mode for a local server on http://127.0.0.1:$(PORT)/ (make run PORT=8001); SQLite unless
# DATABASE_URL is set.
run: export DJANGO_DEBUG ?= 1
run: install seed
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

# Migrate and load the seed article; safe to run any number of times. Debug settings unless told otherwise.
seed: export DJANGO_DEBUG ?= 1
seed: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py import_article fixtures/ketamine-mdma/article.json

# Any manage.py command with the local settings make run uses (debug on, SQLite unless DATABASE_URL):
# make manage ARGS="import_bibliography fixtures/ketamine-mdma/studies.bib --dry-run"
manage: export DJANGO_DEBUG ?= 1
manage: install
	$(PY) manage.py $(ARGS)

# One account per role for trying the site locally, with fresh random passwords printed; refused
# when debug is off (reviews/management/commands/demo_users.py).
demo: export DJANGO_DEBUG ?= 1
demo: seed
	$(PY) manage.py demo_users

# Tests run with production settings (DEBUG off); these two are only defaults for a test run.
test: export DJANGO_SECRET_KEY ?= test-only-secret-key-not-for-production-use-0123456789
test: export DJANGO_ALLOWED_HOSTS ?= localhost,127.0.0.1,testserver
test: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest $(XDIST) $(PYTEST_ARGS)

# For local work: the suite without the tests marked slow or browser (no ruff). CI runs `make test`.
test-quick: export DJANGO_SECRET_KEY ?= test-only-secret-key-not-for-production-use-0123456789
test-quick: export DJANGO_ALLOWED_HOSTS ?= localhost,127.0.0.1,testserver
test-quick: install
	$(PY) -m pytest $(XDIST) -m "not slow and not browser" $(PYTEST_ARGS)

# Pages against references in the same run, on PostgreSQL with the full synthetic library; writes
# docs/performance.md and benchmarks/results/latest.json. Takes about 35 minutes; not part of CI.
bench: install
	benchmarks/run.sh

# The same harness end to end on a small library in a few minutes: checks that it runs, measures nothing.
bench-quick: install
	BENCH_QUICK=1 benchmarks/run.sh

# 60 s of wrk at 64 connections on the benchmark data set: zero errors expected (docs/operations.md).
load: install
	benchmarks/load.sh

# Restarts PostgreSQL under load (the whole cluster: not on a shared machine); see docs/operations.md.
fault: install
	benchmarks/fault.sh

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache

# A Celery worker with its scheduler (beat) embedded, on the broker in CELERY_BROKER_URL (the machine's
# Redis by default), with `make run`'s settings. Production runs the two as separate services
# (docs/operations.md).
worker: export DJANGO_DEBUG ?= 1
worker: export CELERY_BROKER_URL ?= redis://127.0.0.1:6379/1
worker: install
	$(VENV)/bin/celery -A evidence worker --beat --loglevel=INFO --concurrency=2 --schedule=$(VENV)/celerybeat-schedule
