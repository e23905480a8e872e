# The whole developer workflow: `make run` and `make test` each set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench fuzz mutate clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "kfn needs Python 3.11 or newer (found: $$($(PYTHON) --version))"; exit 1; }
	@echo "Setting up $(VENV) (Python packages from pyproject.toml)..."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/kfn run

# The suite under coverage, the `kfn run` processes it starts included; the report
# fails the target below the floor in pyproject.toml ([tool.coverage.report]).
test: $(STAMP)
	@rm -f .coverage .coverage.*
	@$(BIN)/python -m coverage run -m pytest $(PYTEST_ARGS); status=$$?; \
	$(BIN)/python -m coverage combine --quiet && \
	$(BIN)/python -m coverage report --precision=1 || { [ $$status -ne 0 ] || status=1; }; \
	exit $$status

bench:
	$(PYTHON) bench/run.py

# The attack and overload suite run long (FUZZ_SECONDS per test); it writes RELIABILITY.md.
FUZZ_SECONDS ?= 120
fuzz: $(STAMP)
	KFN_FUZZ_SECONDS=$(FUZZ_SECONDS) KFN_RELIABILITY_REPORT=RELIABILITY.md \
		$(BIN)/python -m pytest -m adversarial tests/adversarial $(PYTEST_ARGS)

# Mutation testing of the contract's modules, bounded (MINUTES), at low priority; it
# writes mutation/RESULTS.md and is not part of `make test`.
MINUTES ?= 45
WORKERS ?= 2
mutate:
	nice -n 19 $(PYTHON) mutation/run.py --minutes $(MINUTES) --workers $(WORKERS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage .coverage.* .mutate
