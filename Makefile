# Two commands: `make demo` (an embedded PostgreSQL server under var/ + filesystem broker, on DEMO_PORT)
# and `make test` (PostgreSQL + Redis).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DEMO_PORT ?= 8000
# The suite runs in this many processes (pytest-xdist), each test module whole in one of them.
TEST_WORKERS ?= 2

export DATABASE_URL_TEST ?= postgres://postgres@127.0.0.1:5432/carehomes
export REDIS_URL_TEST ?= redis://127.0.0.1:6379/0

.PHONY: install assets demo serve test lint schema-lint bench load chromium clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e ".[dev]"
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

static/build/app.css: node_modules/.installed static/scss/app.scss
	npm run --silent build

install: $(VENV)/.installed static/build/app.css

assets: static/build/app.css

# The script starts the database, migrates and seeds it, then serves until Ctrl+C.
demo: install
	DEBUG=true DEMO_PORT=$(DEMO_PORT) scripts/demo.sh

# Browser tests drive Debian's chromium; install it when it is missing.
chromium:
	@command -v chromium >/dev/null || { \
	  echo "Installing Debian's chromium for the browser tests..."; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }

test: install chromium
	DATABASE_URL=$${DATABASE_URL:-$(DATABASE_URL_TEST)} REDIS_URL=$${REDIS_URL:-$(REDIS_URL_TEST)} \
	  $(PY) scripts/check_services.py
	DATABASE_URL=$${DATABASE_URL:-$(DATABASE_URL_TEST)} REDIS_URL=$${REDIS_URL:-$(REDIS_URL_TEST)} \
	  CELERY_BROKER_URL=$${CELERY_BROKER_URL:-$${REDIS_URL:-$(REDIS_URL_TEST)}} \
	  CELERY_RESULT_BACKEND=$${CELERY_RESULT_BACKEND:-$${REDIS_URL:-$(REDIS_URL_TEST)}} \
	  $(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# Benchmarks on a generated data set in its own database (BENCH_SCALE=1 for the national size).
BENCH_SCALE ?= 0.01
bench: install
	BENCH_SCALE=$(BENCH_SCALE) $(PY) -m benchmarks.run

# The Locust scenario against gunicorn, a Celery worker and beat on loopback, bounded in users and time.
LOAD_SCALE ?= 0.01
LOAD_USERS ?= 20
LOAD_SECONDS ?= 60
load: install
	LOAD_SCALE=$(LOAD_SCALE) LOAD_USERS=$(LOAD_USERS) LOAD_SECONDS=$(LOAD_SECONDS) $(PY) -m benchmarks.load

lint: install
	$(VENV)/bin/ruff check .

# The OpenAPI schema as integrators get it, checked by drf-spectacular and linted by Redocly (redocly.yaml).
schema-lint: install
	mkdir -p var
	DEBUG=true DATABASE_URL=$${DATABASE_URL:-$(DATABASE_URL_TEST)} \
	  $(PY) manage.py spectacular --file var/schema.yaml --validate --fail-on-warn
	npx --no-install redocly lint var/schema.yaml

clean:
	rm -rf $(VENV) node_modules static/build staticfiles var
