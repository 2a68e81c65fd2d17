# The two commands of the README's quickstart are `make demo` and `make test`.
# Both install what they need first: the tap and its development tools into .venv, Meltano into
# its own .venv-meltano (so its pins never fight the tap's), and the Meltano plugins into .meltano/.

# Another Python: `make test PYTHON=/path/to/python3.13 VENV=.venv-3.13` (a virtualenv per Python).
PYTHON ?= python3
VENV ?= .venv
# Meltano and its plugins are shared by every Python the tap is tested on.
MELTANO_PYTHON ?= python3
# The exact versions of the tap's dependencies and tools, for every supported Python: `make lock`.
CONSTRAINTS := constraints.txt
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MELTANO_VENV := .venv-meltano
MELTANO := $(MELTANO_VENV)/bin/meltano
MELTANO_STAMP := $(MELTANO_VENV)/.installed
PLUGINS_STAMP := .meltano/.installed
# Python files outside the two packages that mypy's default file list covers.
ECO_PY := demo report scripts/generate_docs.py scripts/supported_pythons.py scripts/lock.py \
	tests/e2e tests/test_repo_files.py testkit bench

# Meltano must not phone home: no usage statistics, and every plugin is defined inline.
export MELTANO_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1

.PHONY: install meltano test lint typecheck typecheck-only pytest demo docs bench lock clean

install: $(STAMP)

$(STAMP): pyproject.toml $(CONSTRAINTS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --constraint $(CONSTRAINTS) -e '.[dev]'
	touch $(STAMP)

# Meltano itself, then every plugin in meltano.yml (the extractor is this checkout, editable).
meltano: $(PLUGINS_STAMP)

$(MELTANO_STAMP):
	test -x $(MELTANO_VENV)/bin/python || $(MELTANO_PYTHON) -m venv $(MELTANO_VENV)
	$(MELTANO_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(MELTANO_VENV)/bin/python -m pip install --quiet 'meltano~=4.4.1'
	touch $(MELTANO_STAMP)

$(PLUGINS_STAMP): $(MELTANO_STAMP) meltano.yml pyproject.toml
	$(MELTANO) install
	touch $(PLUGINS_STAMP)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(MAKE) --no-print-directory typecheck-only

# mypy without the install step: what the pre-commit hook runs, offline.
typecheck-only:
	$(BIN)/mypy
	$(BIN)/mypy $(ECO_PY)

pytest: install meltano
	$(BIN)/pytest

test: lint typecheck pytest

# Starts the console simulator, runs `meltano run tap-thinkst-canary target-duckdb` and prints
# what landed. Run it again: the second run only syncs what changed.
demo: install meltano
	$(BIN)/python -m demo

# The benchmark against the console simulator: prints its figures, writes bench/results/.
bench: install
	$(BIN)/python bench/run.py

# Regenerates the Meltano Hub definition and the README's settings and streams tables.
docs: install
	$(BIN)/python scripts/generate_docs.py

# Resolves the dependencies afresh on every supported Python and rewrites $(CONSTRAINTS).
lock:
	python3 scripts/lock.py $(CONSTRAINTS)

clean:
	rm -rf .venv .venv-[0-9]* $(MELTANO_VENV) .meltano .mypy_cache .ruff_cache .pytest_cache dist build output
