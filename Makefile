# Vevurn POS: the single entry point. `make run` serves the demo shop; `make test` checks everything.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format install install-dev migrate seed bench messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python requirements.txt
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

$(VENV)/.installed-bench: $(VENV)/.installed-dev bench/requirements.txt
	$(BIN)/python -m pip install --quiet -r bench/requirements.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Development server, background worker and scheduler (Procfile.dev, run by honcho) on the
# embedded defaults (SQLite, in-process cache) unless DATABASE_URL / REDIS_URL say otherwise.
# DEBUG=1 unless set: never use `make run` in production.
run: export DEBUG ?= 1
run: export HOST := $(HOST)
run: export PATH := $(CURDIR)/$(BIN):$(PATH)
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/honcho --procfile Procfile.dev start --port $(PORT)

migrate: install
	$(BIN)/python manage.py migrate --noinput

seed: install
	$(BIN)/python manage.py seed_demo

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint
	$(BIN)/pytest $(PYTEST_ARGS)

# Translations: extract new strings into locale/fr and locale/rw, drop gone ones, compile the .mo
# files. Translate the empty entries, then run it again (docs/i18n.md). Needs GNU gettext.
messages: install
	$(BIN)/python -m vevurn.translations

# Benchmarks, by hand, against PostgreSQL + Redis on 127.0.0.1 (see bench/README.md), e.g.
# `make bench BENCH_ARGS="checkout --compare"`.
bench: $(VENV)/.installed-bench
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
