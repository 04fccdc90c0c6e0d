# d2l_rnn: `make demo` runs the chapter, `make test` runs the suite.
# Both create .venv on first use with $(PYTHON) (3.8-3.11).
PYTHON ?= python3.11
VENV ?= .venv
EXTRAS ?= cpu,test,notebook
BIN := $(VENV)/bin

.PHONY: all demo test lint clean bench-dist

all: test

$(BIN)/.installed: pyproject.toml
	@$(PYTHON) -c '' 2>/dev/null || { echo "error: $(PYTHON) does not run here; install Python 3.8-3.11 or run make PYTHON=/path/to/python3.11" >&2; exit 2; }
	@$(PYTHON) d2l_rnn/_compat.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[$(EXTRAS)]"
	@touch $@

demo: $(BIN)/.installed
	$(BIN)/python -m d2l_rnn.demo

lint: $(BIN)/.installed
	$(BIN)/ruff check .

test: lint
	$(BIN)/python -m pytest

# dist_sync scaling: 1 process, 1 worker, 2 workers (see benchmarks/bench_dist.py).
bench-dist: $(BIN)/.installed
	$(BIN)/python benchmarks/bench_dist.py

# Notebooks: `make notebooks` re-executes every notebooks/*.ipynb in place
# (fresh outputs, written only if every cell ran); `make lab` registers the
# .venv's Python as the kernel the notebooks name and starts JupyterLab.
.PHONY: notebooks kernel lab
KERNEL_NAME := d2l_rnn
LAB_ARGS ?=

notebooks: $(BIN)/.installed
	$(BIN)/python -m d2l_rnn.notebooks notebooks

kernel: $(BIN)/.installed
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL_NAME) --display-name "Python 3 ($(KERNEL_NAME))"

lab: kernel
	$(BIN)/jupyter lab notebooks $(LAB_ARGS)

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache
