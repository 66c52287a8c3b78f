# Two commands do all the set-up on a fresh machine:
#   make app    install into .venv and serve the app on the built-in demo portfolio
#   make test   install into .venv and run the test suite
# Needs python3 (>= 3.11) and network access to the package registries.

VENV      ?= .venv
PYTHON    ?= python3
PORT      ?= 8501
BIN       := $(VENV)/bin
STAMP     := $(VENV)/.installed
# torch 2.13.0 is installed first, by pip, which honours the machine's pip configuration (a
# local CPU wheel on our machines: any other version pulls a multi-GB CUDA build). The rest is
# installed by uv when it installs (much faster), pip otherwise; uv ignores pip's config, so
# pip's find-links are passed on.
FIND_LINKS := $(if $(PIP_FIND_LINKS),$(foreach d,$(PIP_FIND_LINKS),--find-links $(d)),)
TORCH     := torch==2.13.0
EXTRAS    := dev,dice

# Imports and tests run 2-3x slower without bytecode caching.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: install app test lint clean
.DEFAULT_GOAL := help

help:
	@echo "make app     install into $(VENV) and serve the app on http://localhost:$(PORT)"
	@echo "make test    install into $(VENV) and run the tests"
	@echo "make lint    ruff check, ruff format --check, mypy"

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet --upgrade uv || true
	if [ -x $(BIN)/uv ]; then \
	  $(BIN)/uv pip install --python $(BIN)/python $(FIND_LINKS) -e ".[$(EXTRAS)]"; \
	else \
	  $(BIN)/python -m pip install -e ".[$(EXTRAS)]"; \
	fi
	touch $(STAMP)

app: $(STAMP)
	$(BIN)/streamlit run app/streamlit_app.py --server.port $(PORT)

test: $(STAMP)
	$(BIN)/python -m pytest -n 2

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
