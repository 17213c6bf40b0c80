# claimwatch: everything bootstraps its own virtual environment in .venv/
# from nothing but Python 3.11, at the versions pinned in requirements.lock.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
STAMP := $(VENV)/.installed

.PHONY: install demo ui test test-fast lint lock bench clean

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -c 'import sys; assert sys.version_info >= (3, 11), "claimwatch needs Python >= 3.11"'
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $(STAMP)

demo: install
	$(BIN)/claimwatch demo

# The Airflow UI with the Disagreements page on http://127.0.0.1:8080, from this venv (no Docker).
ui: install
	$(BIN)/claimwatch ui

# Two test workers (pytest-xdist): most of the time goes to single-threaded subprocesses
# (`claimwatch run`, an Airflow stack), so a second worker uses the second core.  Each worker
# has its own Airflow home and temporary directory; tests pick free ports and unique database
# names.  worksteal evens out the long end-to-end tests.  `.venv/bin/pytest` alone runs serially.
WORKERS := -n 2 --dist worksteal

# Every suite, slow ones included (what CI runs).
test: install
	$(BIN)/pytest $(WORKERS)

# The quick loop: unit tests and fast integration tests.
test-fast: install
	$(BIN)/pytest $(WORKERS) -m "not slow"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Re-resolve the pinned dependency sets after editing pyproject.toml: everything (make install),
# and the runtime part alone, at the same versions (the Docker image).
lock: install
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --python-version 3.11 -c requirements.lock -o requirements-runtime.lock

bench: install
	$(BIN)/python bench/bench_extraction.py
	$(BIN)/python bench/bench_memory.py
	$(BIN)/python bench/bench_dedup.py
	$(BIN)/python bench/bench_detect.py
	$(BIN)/python bench/bench_validate.py
	$(BIN)/python bench/bench_claims_linear.py

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
