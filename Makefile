# Sunlight — the two commands of the README are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test test-fast install lint format bench bench-load clean

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e ".[dev]"
	touch $@

install: $(VENV)/.installed

## Run the product with demo data on SQLite, a task worker and the site on 127.0.0.1:8000.
run: install
	bash scripts/run-demo

## Run the whole suite on PostgreSQL and then on SQLite (and lint first).
test: install
	bash scripts/test

## The edit-test loop: the suite on SQLite in memory, no browser, no lint (about a minute).
test-fast: install
	DATABASE_URL=sqlite:///:memory: $(VENV)/bin/python -m pytest -p no:cacheprovider -q -m "not browser" $(ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install
	bash scripts/bench

## The load benchmark: gunicorn beside runserver under a mix of requests (PostgreSQL, Redis, wrk).
bench-load: install
	DATABASE_URL="$${LOAD_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/sunlight_bench_load}" \
	  $(PY) -m bench.load_bench $(ARGS)

clean:
	rm -rf $(VENV) var
