# Subscriber portal — every command a developer or CI needs. `make` alone lists them.
.DEFAULT_GOAL := help
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PYBABEL := $(VENV)/bin/pybabel
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
CATALOGS := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/messages.po))

.PHONY: help run test test-fast bench i18n lint browser nginx clean

help: ## list the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,embedded]'
	@rm -f $(VENV)/.installed-* && touch $@

locale/%/LC_MESSAGES/messages.mo: locale/%/LC_MESSAGES/messages.po | $(STAMP)
	$(PYBABEL) compile -d locale -D messages -l $*

run: $(STAMP) $(CATALOGS) ## start embedded PostgreSQL + Redis, migrate, load demo data, serve web + worker
	$(PY) -m app run

browser: ## make sure a Chromium for the end-to-end tests is installed (Debian package)
	@test -x /usr/bin/chromium || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)
	@/usr/bin/chromium --version

nginx: ## make sure nginx is installed (Debian package): the scale-out test runs deploy/ with it
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null)
	@/usr/sbin/nginx -v

test: $(STAMP) $(CATALOGS) browser nginx ## unit, integration and end-to-end tests (real PostgreSQL, Redis, Chromium)
	$(PY) -m pytest

test-fast: $(STAMP) $(CATALOGS) ## unit tests only
	$(PY) -m pytest tests/unit -q

bench: $(STAMP) $(CATALOGS) nginx ## month-end load benchmark; writes var/bench/ (BENCH_FULL=1: longer)
	$(PY) -m bench run $(if $(BENCH_FULL),--full,) $(BENCH_ARGS)

i18n: $(STAMP) ## extract messages, update catalogs, compile them
	$(PYBABEL) extract -F babel.cfg -k N_ -o locale/messages.pot --no-location --sort-output .
	$(PYBABEL) update -i locale/messages.pot -d locale -D messages --no-fuzzy-matching
	$(PYBABEL) compile -d locale -D messages

lint: $(STAMP) ## ruff and the import-linter layer contracts (.importlinter)
	$(VENV)/bin/ruff check app bench devstack tests
	$(VENV)/bin/lint-imports --no-cache

clean: ## remove the venv and var/ (data of the embedded servers included)
	rm -rf $(VENV) var
