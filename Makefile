# make run: set up, migrate, load the demo data once, serve http://127.0.0.1:$(PORT)
# make test: set up with dev dependencies and run the whole suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := portal

.PHONY: run test setup dev-setup translations i18n-extract i18n-update lint format bench clean

run: setup
	$(BIN)/flask db upgrade
	$(BIN)/flask portal seed-demo
	$(BIN)/flask search sync
	PORTAL_PUBLIC_URL=$${PORTAL_PUBLIC_URL:-http://127.0.0.1:$(PORT)} $(BIN)/flask run --host 127.0.0.1 --port $(PORT)

test: dev-setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

setup: $(VENV)/.installed translations

dev-setup: $(VENV)/.installed-dev translations

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

# Compiled catalogs are build products: made here, never committed.
translations: $(patsubst %.po,%.mo,$(wildcard translations/*/LC_MESSAGES/messages.po))

translations/%/LC_MESSAGES/messages.mo: translations/%/LC_MESSAGES/messages.po | $(VENV)/.installed
	$(BIN)/pybabel compile -d translations -l $* >/dev/null

i18n-extract: | $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --sort-by-file -o translations/messages.pot .

i18n-update: i18n-extract
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching

lint: dev-setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: dev-setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: dev-setup
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache tests/artifacts
