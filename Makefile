# The README's two commands: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: run test bench lint messages clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamp files make re-runs fast and re-install when pyproject.toml changes.
$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed-run

## run: install, migrate the SQLite database in instance/, load demo data if empty, serve on :5000 (PORT=…) with a worker
run: $(VENV)/.installed-run
	$(BIN)/tracker init
	$(BIN)/tracker demo --if-empty
	$(BIN)/tracker serve --with-worker $(if $(PORT),--port $(PORT))

## test: install with the dev extras, lint and type-check, and run the whole suite
test: $(VENV)/.installed-dev lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## lint: ruff (mistakes, import order) and mypy (the package type-checks)
lint: $(VENV)/.installed-dev
	$(BIN)/ruff check tracker tests bench setup.py
	$(BIN)/mypy

## bench: progress-read and widget throughput benchmarks (writes bench/results/)
bench: $(VENV)/.installed-dev
	$(BIN)/python bench/progress.py
	$(BIN)/python bench/widget.py

## messages: extract every message (code and templates), merge it into each catalog, compile
messages: $(VENV)/.installed-dev
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -k _l -o tracker/translations/messages.pot .
	$(BIN)/pybabel update -i tracker/translations/messages.pot -d tracker/translations --no-fuzzy-matching
	$(BIN)/pybabel compile -d tracker/translations

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
