# Two entry points: `make serve` (install what the hub needs, start it on SQLite) and `make test` (install
# everything, run every test). `make dist` builds the wheels and sdists that pip installs (docs/install.md).
PYTHON ?= python3
UV := .tools/bin/uv
VENV := .venv
UV_VERSION := 0.13.9
HUB := $(VENV)/bin/aigne-hub
NPM_CI := npm ci --no-audit --no-fund --loglevel=error
# What the console build reads: it reruns when one of these changes.
UI_SOURCES = $(shell find ui/src ui/public -type f 2>/dev/null) \
	$(wildcard ui/index.html ui/vite.config.ts ui/tsconfig.json ui/package.json)

# The second Python `make test` runs the focused suite with (TEST_ON_313): PYTHON313=..., else a working
# python3.13 on PATH, else pyenv's. Without one the second run is skipped, except in CI (REQUIRE_313=1).
PYTHON313 ?= $(shell for p in python3.13 $$(pyenv root 2>/dev/null)/versions/3.13*/bin/python3.13; do \
	"$$p" -c "" 2>/dev/null && { command -v "$$p"; break; }; done)
VENV313 := .venv-py3.13
# The parts of the suite that depend most on the Python and Quart version (Quart 0.23 needs Python 3.13):
# the request scope (Quart's ASGI class is overridden), HTTP and streaming through every API dialect, the
# official SDKs, and the wheels installed with pip. The whole suite runs on $(PYTHON).
TEST_ON_313 := tests/test_request_scope.py tests/test_library_overrides.py tests/test_keep_alive_idle.py tests/test_streaming.py \
	tests/test_openai_api.py tests/test_anthropic_api.py tests/test_aigne_chat.py tests/test_aigne_sdk.py \
	tests/test_errors.py tests/test_smoke.py tests/test_packaging.py

.PHONY: setup serve serve-setup python-serve test test-313 lint bench soak clean ui ui-test-deps js dist

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# Everything the tests need: the locked environment exactly (dev tools included), the console with its
# test tools, and the Node packages the tests drive (tests/js).
setup: $(UV)
	$(UV) sync --all-packages --locked --python $(PYTHON)
	@$(MAKE) --no-print-directory ui-test-deps ui js

# Only what the hub needs: no dev group, no test tools, and --inexact so that packages the lock does not
# list (a plugin installed with `uv pip install` or pip) stay installed.
python-serve: $(UV)
	$(UV) sync --all-packages --locked --inexact --no-dev --python $(PYTHON)

serve-setup: python-serve ui

serve: serve-setup
	$(HUB) serve

# The console: `npm ci --omit=dev` installs what builds it (react, vite and its React plugin are
# dependencies); its test tools are devDependencies, installed by `make setup`. Each step runs again only
# when its inputs change, so a second `make serve` goes straight to the hub.
ui: ui/dist/index.html

ui/node_modules/.build-deps: ui/package-lock.json
	cd ui && $(NPM_CI) --omit=dev
	touch $@

ui/node_modules/.test-deps: ui/package-lock.json
	cd ui && $(NPM_CI)
	touch ui/node_modules/.build-deps $@

ui-test-deps: ui/node_modules/.test-deps

ui/dist/index.html: ui/node_modules/.build-deps $(UI_SOURCES)
	cd ui && npm run build
	touch $@

js: tests/js/node_modules/.installed

tests/js/node_modules/.installed: tests/js/package-lock.json
	cd tests/js && $(NPM_CI)
	touch $@

# Wheels and sdists of the core (with the built console inside) and of every plugin, into $(DIST). Built
# as a package index would (--no-sources), so the plugins require the core by version, not by path.
DIST ?= dist
dist: $(UV) ui
	rm -rf $(DIST)
	$(UV) build --all-packages --no-sources --out-dir $(DIST)

test: setup
	$(VENV)/bin/ruff check hub_core plugins tests bench
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	$(VENV)/bin/python -m pytest
	@$(MAKE) --no-print-directory test-313

test-313: $(UV)
	@if [ -z "$(PYTHON313)" ]; then \
		if [ -n "$(REQUIRE_313)" ]; then echo "Python 3.13 not found (set PYTHON313=...)"; exit 1; fi; \
		echo "Python 3.13 not found: skipping the 3.13 run (set PYTHON313=... to run it)"; exit 0; fi; \
	UV_PROJECT_ENVIRONMENT=$(VENV313) $(UV) sync --all-packages --locked --python $(PYTHON313) && \
	$(VENV313)/bin/python -m pytest $(TEST_ON_313)

lint: setup
	$(VENV)/bin/ruff check hub_core plugins tests bench
	$(VENV)/bin/ruff format --check hub_core plugins tests bench

bench: setup
	$(VENV)/bin/python bench/run.py

# 30 minutes of mixed load (JSON, streams, one call in ten abandoned): does the hub's memory level off?
soak: setup
	$(VENV)/bin/python bench/run.py --soak 1800 --aborts 0.1

clean:
	rm -rf .tools $(VENV) $(VENV313) dist ui/node_modules ui/dist tests/js/node_modules
