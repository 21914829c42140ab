# Renkei: `make run` serves the app with demo data; `make test` runs ruff, mypy, vulture and the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The port `make run` serves on; without BASE_URL the app's links use it too (renkei/config.py).
PORT ?= 5000
export PORT
# Tests run in parallel, one process per core; a test file stays in one process (the browser
# journeys of a file build on each other).
PARALLEL ?= -n auto --dist loadfile
FLASK := $(BIN)/flask --app renkei
CATALOG := renkei/translations/ja/LC_MESSAGES/messages
NPM ?= npm

.PHONY: run test lint format deadcode translations messages clean constraints drills

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

# constraints.txt holds the versions CI tested, so a fresh machine installs the same
# (`make constraints` writes it again from .venv after a deliberate upgrade). Two stamps:
# running needs the app's own dependencies only; testing adds the [test] extras (pytest,
# Playwright, ruff, mypy, ...) on top.
RUNTIME := $(VENV)/.installed-runtime
TESTING := $(VENV)/.installed-test

$(RUNTIME): pyproject.toml constraints.txt | $(BIN)/activate
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e .
	touch $@

$(TESTING): $(RUNTIME)
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

# The browser tests' accessibility checker (axe-core), at the version package-lock.json pins;
# the app itself runs without Node.
node_modules/.installed: package.json package-lock.json
	$(NPM) ci --ignore-scripts --no-audit --no-fund
	touch $@

$(CATALOG).mo: $(CATALOG).po | $(RUNTIME)
	$(BIN)/pybabel compile --use-fuzzy -d renkei/translations -D messages --statistics

translations: $(CATALOG).mo

run: $(RUNTIME) translations
	$(FLASK) migrate
	$(FLASK) load-demo
	$(FLASK) serve --host 127.0.0.1 --port $(PORT)

test: $(TESTING) translations node_modules/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy renkei
	$(BIN)/vulture
	$(BIN)/pytest $(PARALLEL) $(PYTEST_ARGS)

# The fault drills' short versions (drills/README.md): a crash, a database restart, a mail
# outage, a full disk, a restore, the clock. Some need root (a mount) or PostgreSQL's binaries.
drills: $(TESTING) translations
	$(BIN)/python drills/run_all.py $(DRILLS)

format: $(TESTING)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Code nothing uses (vulture: pyproject.toml, vulture_whitelist.py). Not part of `make test`:
# it takes an import used only in a quoted annotation for unused.
deadcode: $(TESTING)
	$(BIN)/vulture

# Re-extract the interface strings after changing templates or code, then translate the new
# entries in $(CATALOG).po.
messages: $(RUNTIME)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o renkei/translations/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i renkei/translations/messages.pot -d renkei/translations -D messages --no-fuzzy-matching --ignore-obsolete

constraints: $(TESTING)
	$(BIN)/pip freeze --exclude-editable --exclude pip > constraints.txt

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache .mypy_cache
