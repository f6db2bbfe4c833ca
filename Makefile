# The two commands: `make run` (start the app) and `make test` (run every test;
# `make test-fast` runs the in-process ones only, for the inner loop).
# Both set everything up on a fresh machine: a virtual environment, the
# packages, the translations, the database (migrated at start) and, for the
# tests, Debian's Chromium and a C compiler.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: run demo test test-fast install translations chromium cc lint

run: install translations
	$(PY) run.py

demo: install translations
	SEED_DEMO=1 $(PY) run.py

test: install translations chromium cc
	$(PY) -m pytest

# The inner loop: the tests that run in-process (no browser, no server process).
test-fast: install translations
	$(PY) -m pytest -m "not browser and not live_server"

install: $(STAMP)

$(STAMP):
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e ".[dev,postgres,redis]"
	touch $@

translations: install
	$(VENV)/bin/pybabel compile --statistics -d workshop/translations 2>&1 | grep -v "^compiling" || true

chromium:
	@scripts/ensure-chromium

cc:
	@scripts/ensure-cc

lint: install
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .
