# Two entry points: `make serve` (set up, start the hub on SQLite) and `make test` (set up, run every test).
PYTHON ?= python3
UV := .tools/bin/uv
VENV := .venv
UV_VERSION := 0.13.9
HUB := $(VENV)/bin/aigne-hub

.PHONY: setup serve test lint bench clean ui js

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

setup: $(UV)
	$(UV) sync --all-packages --locked --python $(PYTHON)
	@$(MAKE) --no-print-directory ui js

ui:
	@if [ -f ui/package.json ]; then cd ui && npm ci --no-audit --no-fund --loglevel=error && npm run build; fi

js:
	@if [ -f tests/js/package.json ]; then cd tests/js && npm ci --no-audit --no-fund --loglevel=error; fi

serve: setup
	$(HUB) serve

test: setup
	$(VENV)/bin/ruff check hub_core plugins tests bench
	$(VENV)/bin/lint-imports
	$(VENV)/bin/python -m pytest

lint: setup
	$(VENV)/bin/ruff check hub_core plugins tests bench
	$(VENV)/bin/ruff format --check hub_core plugins tests bench

bench: setup
	$(VENV)/bin/python bench/run.py

clean:
	rm -rf .tools $(VENV) ui/node_modules ui/dist tests/js/node_modules
