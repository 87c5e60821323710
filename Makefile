# Two commands on a fresh clone: `make run` and `make test`. Both build .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-postgres lint bench clean

# Exits non-zero on a Python older than the project's minimum (pyproject.toml: requires-python).
NEW_ENOUGH := import sys; sys.exit(sys.version_info < (3, 11))

# Checked before anything is built, in one line: make's $(error) stops with it.
# The stamp is written only after a complete install, so an interrupted one is simply run again; a .venv whose
# Python or pip does not work (its creation was cut short) is made anew, and a creation that fails leaves none.
$(STAMP): pyproject.toml
	$(if $(shell $(PYTHON) -c '$(NEW_ENOUGH)' 2>/dev/null && echo ok),,$(error The bot needs Python 3.11 or newer; \
	  $(PYTHON) is $(or $(shell $(PYTHON) -V 2>/dev/null),not installed). Install one and run \
	  make PYTHON=python3.12 (or its path)))
	@$(BIN)/python -c '$(NEW_ENOUGH); import pip' 2>/dev/null || { rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); } \
	  || { rm -rf $(VENV); echo "Could not create $(VENV) with $(PYTHON) (on Debian or Ubuntu: apt install python3-venv)." >&2; exit 1; }
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

# The store, scheduler and end-to-end tests again, on a throw-away PostgreSQL server that the run starts on
# 127.0.0.1 (installing Debian's postgresql package first when the machine has none) and removes afterwards.
test-postgres: $(STAMP)
	$(BIN)/python -m tests.postgres_server $(BIN)/python -m pytest tests/store tests/test_scheduler.py tests/e2e

# Each script exits 1 when it misses its target; the leading "-" lets the others still print their figures.
# benchmarks.engines runs /ask and the burst again on SQLite and on a throw-away PostgreSQL server that it starts
# on 127.0.0.1 (as make test-postgres does), and prints the two side by side.
bench: $(STAMP)
	-$(BIN)/python -m benchmarks.ask
	-$(BIN)/python benchmarks/guard.py
	-$(BIN)/python -m benchmarks.latency
	-$(BIN)/python -m benchmarks.burst
	-$(BIN)/python -m benchmarks.engines
	-$(BIN)/python -m benchmarks.import_while_serving
	-$(BIN)/python -m benchmarks.startup

clean:
	rm -rf $(VENV)
