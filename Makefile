# Newsroom Command: `make up` runs everything on this machine; `make test` runs every test.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: up test install install-test chromium bench lint clean

$(BIN)/python:
	@$(PY) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Newsroom Command needs Python 3.11 or newer; run: make PY=python3.11 ...")'
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

up: install
	$(BIN)/newsroom up

chromium:
	@sh .ci/find-chromium >/dev/null

test: install-test chromium
	NEWSROOM_CHROMIUM="$$(sh .ci/find-chromium)" $(BIN)/python -m pytest $(PYTEST_ARGS)

# `make bench BENCH_ARGS="--quick"` for a smoke run; `BENCH_ARGS="wall_soak --warmup 90 --minutes 30"` for the soak.
bench: install-test chromium
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	NEWSROOM_CHROMIUM="$$(sh .ci/find-chromium)" $(BIN)/python -m bench $(BENCH_ARGS)

lint: install-test
	$(BIN)/python -m pip install --quiet ruff mypy
	$(BIN)/ruff check dispatch dashboards feeds tests
	$(BIN)/mypy --strict dispatch feeds dashboards

clean:
	rm -rf $(VENV) .pytest_cache tests/_artifacts
