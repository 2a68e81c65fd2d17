# The two commands of the README's quickstart are `make demo` and `make test`.
# Both install what they need first: the tap and its development tools into .venv, Meltano into
# its own .venv-meltano (so its pins never fight the tap's), and the Meltano plugins into .meltano/.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MELTANO_VENV := .venv-meltano
MELTANO := $(MELTANO_VENV)/bin/meltano
MELTANO_STAMP := $(MELTANO_VENV)/.installed
PLUGINS_STAMP := .meltano/.installed
# Python files outside the two packages that mypy's default file list covers.
ECO_PY := demo report scripts/generate_docs.py tests/e2e

# Meltano must not phone home: no usage statistics, and every plugin is defined inline.
export MELTANO_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1

.PHONY: install meltano test lint typecheck pytest demo docs bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Meltano itself, then every plugin in meltano.yml (the extractor is this checkout, editable).
meltano: $(PLUGINS_STAMP)

$(MELTANO_STAMP):
	test -x $(MELTANO_VENV)/bin/python || $(PYTHON) -m venv $(MELTANO_VENV)
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

clean:
	rm -rf $(VENV) $(MELTANO_VENV) .meltano .mypy_cache .ruff_cache .pytest_cache dist build output
