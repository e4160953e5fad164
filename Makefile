# Two commands set up a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Tests run against the real PostgreSQL and Redis (both run locally on dev and CI machines).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/volttracker
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
# Benchmarks get their own database (created if missing): they add vehicles and readings.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/volttracker_bench
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/6
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install run migrate lint test bench clean vendor screenshots

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/python manage.py ensure_database
	$(BIN)/python manage.py migrate --noinput

# Web server + Celery worker with beat. With no DATABASE_URL / REDIS_URL set it runs on
# a SQLite file, a file-system cache and a file-system broker under var/.
# honcho hands each process PORT (from --port, which otherwise defaults to 5000): web gets it.
# The terminal stays readable: wide events go to var/events.jsonl (`manage.py events`, or
# `tail -f var/events.jsonl | jq`), runserver's access lines to var/access.log (failures also to
# the terminal). Set either variable to choose another file.
run: export WIDE_EVENTS_PATH ?= var/events.jsonl
run: export ACCESS_LOG_PATH ?= var/access.log
run: migrate
	$(BIN)/honcho start -f Procfile --port $${PORT:-8000}

# ruff, then mypy with django-stubs (its Django plugin loads the settings; it opens no connection).
lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		$(BIN)/python -m pytest

# All benchmarks and one summary table, in under 10 minutes (docs/benchmarks.md). The load
# generator is wrk (C, epoll): a Python client would take the CPU the server is measured on.
bench: install
	command -v wrk >/dev/null && command -v valgrind >/dev/null \
		|| $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 install -y wrk valgrind \
		|| ($(SUDO) apt-get update && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y wrk valgrind)
	DATABASE_URL=$${DATABASE_URL:-$(BENCH_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(BENCH_REDIS_URL)} \
		$(BIN)/python bench/run_all.py

# Browser libraries (uPlot for charts, Leaflet for maps) pinned in package.json; their built
# files are committed under volttracker/static/vendor/, so only this target needs npm.
VENDOR := volttracker/static/vendor
vendor:
	npm install --no-audit --no-fund --ignore-scripts
	mkdir -p $(VENDOR)/uplot $(VENDOR)/leaflet
	cp node_modules/uplot/dist/uPlot.iife.min.js node_modules/uplot/dist/uPlot.min.css node_modules/uplot/LICENSE $(VENDOR)/uplot/
	cp -r node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css node_modules/leaflet/dist/images node_modules/leaflet/LICENSE $(VENDOR)/leaflet/

# The README's screenshots (docs/screenshots/): the pages browser test saves them as it checks the
# pages of a simulated vehicle; needs what the tests need (PostgreSQL, Redis, Debian's chromium).
screenshots: install
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		SCREENSHOTS_DIR=docs/screenshots $(BIN)/python -m pytest -q tests/telemetry/test_pages_browser.py

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .hypothesis .mypy_cache .ruff_cache
