# The two commands: `make run` (start the app) and `make test` (run every test;
# `make test-fast` runs the in-process ones only, for the inner loop).
# Both set everything up on a fresh machine: a virtual environment, the
# packages, the translations, the database (migrated at start) and, for the
# tests, Debian's Chromium and a C compiler.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# The locks pin every package, with its hashes, at the versions tested:
# requirements/app.txt what the app needs (`make run`), requirements/dev.txt
# that and what the tests need. `make lock` makes them from pyproject.toml.
# A stamp names the checksum of pyproject.toml and of its lock, so that a
# change to either installs again.
APP_LOCK := requirements/app.txt
DEV_LOCK := requirements/dev.txt
APP_STAMP := $(VENV)/.installed-app-$(shell cat pyproject.toml $(APP_LOCK) | cksum | cut -d' ' -f1)
DEV_STAMP := $(VENV)/.installed-dev-$(shell cat pyproject.toml $(DEV_LOCK) | cksum | cut -d' ' -f1)
# The lock maker, installed in the venv by `make lock` (nothing to install on
# the machine): uv, which resolves for every platform at once (a Mac's too).
UV_VERSION := 0.13.9

.PHONY: run demo test test-fast install install-app lock translations chromium cc lint

run: install-app translations
	$(PY) run.py

demo: install-app translations
	SEED_DEMO=1 $(PY) run.py

test: install translations chromium cc
	$(PY) -m pytest

# The inner loop: the tests that run in-process (no browser, no server process).
test-fast: install translations
	$(PY) -m pytest -m "not browser and not live_server"

install: $(DEV_STAMP)

install-app: $(APP_STAMP)

# The lock's packages, each checked against its hashes (pip itself and the
# build backend among them), then the project, built by that locked backend.
$(APP_STAMP):
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes -r $(APP_LOCK)
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

# On top of the app's: dev.txt holds all of app.txt, at the same versions.
$(DEV_STAMP): $(APP_STAMP)
	$(PY) -m pip install --quiet --require-hashes -r $(DEV_LOCK)
	touch $@

# After a change to pyproject.toml's dependencies, or with UPGRADE=1 to take
# the newest versions its ranges admit (otherwise the locked ones are kept).
# Then `make test`, and commit pyproject.toml and requirements/ together.
LOCK_FLAGS := --quiet --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command "make lock" $(if $(UPGRADE),--upgrade)

lock:
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet "uv==$(UV_VERSION)"
	$(VENV)/bin/uv pip compile $(LOCK_FLAGS) pyproject.toml requirements/build.in \
		--extra dev --extra postgres --extra redis -o $(DEV_LOCK)
	$(VENV)/bin/uv pip compile $(LOCK_FLAGS) pyproject.toml requirements/build.in \
		--extra postgres --extra redis -c $(DEV_LOCK) -o $(APP_LOCK)

translations: install-app
	$(VENV)/bin/pybabel compile --statistics -d workshop/translations 2>&1 | grep -v "^compiling" || true

chromium:
	@scripts/ensure-chromium

cc:
	@scripts/ensure-cc

lint: install
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .
