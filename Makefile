# Two entry points (README.md): `make demo` and `make test`. Both set up .venv on a fresh machine.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

.PHONY: setup demo demo-offline test lint bench
setup: $(BIN)/.installed

# The issuer on http://127.0.0.1:8080 with seeded data in ./data, until Ctrl-C (README: The demo).
demo: setup
	$(BIN)/python -m issuer.demo

demo-offline: setup
	$(BIN)/python -m issuer.demo --offline

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

bench: setup
	$(BIN)/python bench/formats.py
	$(BIN)/python bench/issuance.py
	$(BIN)/python bench/verification.py
