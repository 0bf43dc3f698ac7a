# Genre Tagger: `make run` installs and starts the app, `make test` installs and runs every test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# A CPU build of PyTorch: an unpinned torch pulls gigabytes of CUDA packages (see DEVELOPERS.md).
TORCH ?= torch==2.13.0
PREFIX ?= $(HOME)/.local

.PHONY: run test setup setup-app system-deps lint bench bundle install clean

run: setup-app
	$(BIN)/genre-tagger-gui

test: system-deps setup
	$(BIN)/ruff check desktop trainer tests benchmarks scripts packaging
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest

setup: $(VENV)/.dev-installed
setup-app: $(VENV)/.app-installed

system-deps:
	scripts/system-deps.sh

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.app-installed: pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install -q -e '.[app]'
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install -q '$(TORCH)'
	$(BIN)/python -m pip install -q -e '.[app,train,dev]'
	touch $@ $(VENV)/.app-installed

lint: setup
	$(BIN)/ruff check desktop trainer tests benchmarks scripts packaging

bench: setup
	$(BIN)/python benchmarks/bench_trainer.py

# A one-folder bundle in dist/genre-tagger (PyInstaller, no torch inside), smoke-tested.
bundle:
	packaging/build.sh

# Desktop entry, icons, AppStream metainfo, and the bundle when built. PREFIX defaults to ~/.local.
install:
	packaging/install.sh $(PREFIX)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
