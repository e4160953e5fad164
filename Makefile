# Two commands set up a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Tests run against the real PostgreSQL and Redis (both run locally on dev and CI machines).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/volttracker
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0

.PHONY: install run migrate test bench clean

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput

# Web server + Celery worker with beat. With no DATABASE_URL / REDIS_URL set it runs on
# a SQLite file, a file-system cache and a file-system broker under var/.
# honcho hands each process PORT (from --port, which otherwise defaults to 5000): web gets it.
run: migrate
	$(BIN)/honcho start -f Procfile --port $${PORT:-8000}

test: install
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
