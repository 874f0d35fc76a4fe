# Two commands on a fresh machine with only Python: `make run` and `make test`.
# `make bundle` builds the workstation app (dist/BackClinic/); see README, "Install on a workstation".
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test
STAMP_BUNDLE := $(VENV)/.installed-bundle

# `make test` runs the suite on every core (pytest-xdist) with 1,000 fuzzed case files;
# `make test-slow` runs the slow tests (the bundle build) and the full 5,000 (CI runs both).
TEST_WORKERS ?= auto
FUZZ_EXAMPLES ?= 1000

.PHONY: run test test-slow lint demo bundle screenshots clean

$(BIN)/python:
	@echo "== Creating a Python environment in $(VENV)/ (once)"
	$(PYTHON) -m venv $(VENV)
	@echo "== Updating pip in $(VENV)/"
	$(BIN)/python -m pip install --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	@echo "== Installing BackClinic and its libraries (Qt, SQLAlchemy, reportlab...) into $(VENV)/;"
	@echo "   the first time this downloads about 200 MB, a few minutes on a slow line"
	$(BIN)/python -m pip install --progress-bar on -e .
	touch $@

$(STAMP_TEST): pyproject.toml | $(BIN)/python
	@echo "== Installing BackClinic with its test tools and PyInstaller into $(VENV)/"
	$(BIN)/python -m pip install --progress-bar on -e '.[test,bundle]'
	touch $@ $(STAMP_RUN) $(STAMP_BUNDLE)

$(STAMP_BUNDLE): pyproject.toml | $(BIN)/python
	@echo "== Installing BackClinic with PyInstaller into $(VENV)/"
	$(BIN)/python -m pip install --progress-bar on -e '.[bundle]'
	touch $@ $(STAMP_RUN)

run: $(STAMP_RUN)
	@echo "== Starting BackClinic"
	$(BIN)/python main.py

lint: $(STAMP_TEST)
	$(BIN)/ruff check backclinic tests benchmarks main.py packaging
	$(BIN)/ruff format --check backclinic tests benchmarks main.py packaging
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	QT_QPA_PLATFORM=offscreen BACKCLINIC_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) \
		$(BIN)/pytest -q -n $(TEST_WORKERS) -m "not slow"

test-slow: $(STAMP_TEST)
	QT_QPA_PLATFORM=offscreen $(BIN)/pytest -q -m slow
	QT_QPA_PLATFORM=offscreen BACKCLINIC_FUZZ_EXAMPLES=5000 \
		$(BIN)/pytest -q tests/services/test_case_file_fuzz.py

demo: $(STAMP_RUN)
	$(BIN)/python main.py demo

bundle: $(STAMP_BUNDLE)
	@echo "== Building the one-folder app in dist/BackClinic/ with PyInstaller (about a minute)"
	$(BIN)/pyinstaller --noconfirm --clean --log-level WARN packaging/backclinic.spec
	@echo "== Built dist/BackClinic/ ($$(du -sh dist/BackClinic | cut -f1)); start it with dist/BackClinic/BackClinic"

# PNGs of the main screens and a printed page, from a throwaway demo clinic (needs pdftoppm).
screenshots: $(STAMP_RUN)
	QT_QPA_PLATFORM=offscreen $(BIN)/python scripts/screenshots.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis build dist
