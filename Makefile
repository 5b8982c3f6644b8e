# ModelDesk: `make run` to start, `make test` to test. Everything else is a helper.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed

.PHONY: setup run test test-fast bench lint index clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install --upgrade pip wheel setuptools
	# The CPU wheel first: an unpinned torch would pull gigabytes of CUDA packages.
	$(PIP) install "torch==2.13.0"
	$(PIP) install -e ".[dev]"
	touch $(STAMP)

index: setup
	@test -f data/manifest.json || $(PY) -m bot reindex

run: setup index
	$(PY) -m bot run

test: setup
	$(PY) -m pytest -q

test-fast: setup
	$(PY) -m pytest -q -m "not e2e and not servers and not slow"

bench: setup
	$(PY) -m bot bench

lint: setup
	$(VENV)/bin/ruff check bot tests
	$(VENV)/bin/mypy --strict bot/core

clean:
	rm -rf data .pytest_cache
