# Two commands on a fresh clone: `make run` and `make test`. Both build .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m bot

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/pyright

test: lint
	$(BIN)/python -m pytest

# Each script exits 1 when it misses its target; the leading "-" lets the others still print their figures.
bench: $(STAMP)
	-$(BIN)/python benchmarks/ask.py
	-$(BIN)/python benchmarks/guard.py
	-$(BIN)/python -m benchmarks.latency
	-$(BIN)/python -m benchmarks.burst
	-$(BIN)/python -m benchmarks.import_while_serving
	-$(BIN)/python -m benchmarks.startup

clean:
	rm -rf $(VENV)
