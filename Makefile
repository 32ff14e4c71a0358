# make run: set up, migrate, load the demo data once, serve http://127.0.0.1:$(PORT) with Flask's
#   server and the job worker beside it (Procfile.dev)
# make serve: the same with gunicorn (gunicorn.conf.py) in front: one process, several threads
#   (Procfile); production is deploy/README.md
# make test: set up with dev dependencies and run the whole suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := portal

.PHONY: run serve prepare test setup dev-setup translations i18n-extract i18n-update lint format bench clean

# honcho starts the web server and `flask portal worker` together and stops both on Ctrl-C;
# when either one exits (a crashed worker too) it stops the other and says which one and why.
SERVE_ENV := PATH="$(CURDIR)/$(BIN):$$PATH" PORT=$(PORT) \
	PORTAL_PUBLIC_URL=$${PORTAL_PUBLIC_URL:-http://127.0.0.1:$(PORT)}

run: prepare
	$(SERVE_ENV) $(BIN)/honcho --procfile Procfile.dev start

serve: prepare
	$(SERVE_ENV) PORTAL_BIND=$${PORTAL_BIND:-127.0.0.1:$(PORT)} $(BIN)/honcho --procfile Procfile start

# The worker's indexer then brings the search index up to date (the demo's opinions included).
prepare: setup
	$(BIN)/flask db upgrade
	$(BIN)/flask portal seed-demo

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
