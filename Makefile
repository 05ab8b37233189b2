# neon-api-keys: every target creates or refreshes .venv itself when needed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
UPSTREAM ?=
DEST ?=
PYTEST_ARGS ?=
ORDERS ?= 2
MUTATE_ARGS ?=
# Each mutant runs against at most this many of the tests that reach it (its module's own
# test file first); MUTATE_MOST= (empty) runs every reaching test, a far longer run.
MUTATE_MOST ?= 400

.PHONY: setup demo test test-orders lint docs docs-serve generate check-generated spec-diff record bench vendor mutate clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found %s); set PYTHON=python3.11" % sys.version.split()[0])'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(PY) -m neon_keys.testing.demo

test: $(STAMP)
	$(PY) -m pytest -q $(PYTEST_ARGS)

# The suite again under ORDERS more random orders, one after another (each prints its seed).
test-orders: $(STAMP)
	@for n in $$(seq $(ORDERS)); do \
		echo "== random order $$n of $(ORDERS)"; \
		$(PY) -m pytest -q $(PYTEST_ARGS) || exit $$?; \
	done

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# The documentation site (mkdocs.yml); NO_MKDOCS_2_WARNING silences a theme's banner.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir site

docs-serve: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs serve --strict

generate: $(STAMP)
	$(PY) tools/generate.py

check-generated: $(STAMP)
	$(PY) tools/generate.py --check

spec-diff: $(STAMP)
	@test -n "$(UPSTREAM)" || { echo "usage: make spec-diff UPSTREAM=path-or-url" >&2; exit 2; }
	$(PY) tools/spec_diff.py openapi.yaml "$(UPSTREAM)"

record: $(STAMP)
	$(PY) tools/record.py

bench: $(STAMP)
	$(PY) bench/run.py

mutate: $(STAMP)
	$(PY) tools/mutate.py $(if $(MUTATE_MOST),--most $(MUTATE_MOST)) $(MUTATE_ARGS)

vendor: $(STAMP)
	@test -n "$(DEST)" || { echo "usage: make vendor DEST=dir" >&2; exit 2; }
	$(PY) tools/vendor.py "$(DEST)"

clean:
	rm -rf $(VENV) build dist site .mypy_cache .ruff_cache
