# d2l_rnn: `make demo` runs the chapter, `make test` runs the suite but its
# slow tier (`make test-all` runs everything, as CI does),
# `make bench` the speed benchmarks (training, EPOCHS=200 by default, each
# row interleaved and then alone; then generation; the training run against
# the chapter's function; Ctrl-C to exit on 1 MB; it adds PyTorch on Python
# 3.11; the optimizers' epoch times, and the quality table: the best
# validation perplexity in QUALITY_BUDGET seconds each, 180 by default, of
# `d2l-rnn train --data` and two PyTorch baselines on the whole Time Machine,
# about 16 minutes). All create a venv on first use with $(PYTHON) (3.8-3.13):
# .venv for the default python3.11, .venv-py313 for PYTHON=python3.13 and so
# on, so several interpreters coexist; a `python3.X` that is a pyenv shim of
# a version not enabled is found in pyenv (tools/find_python.sh). On 3.13
# MXNet goes in last, without its dependencies (see pyproject.toml).
# GPU=1 uses the cu112 flavour (.venv-cu112).
#
# What goes into the venv grows with what is asked for, one stamp file each:
# .installed (the package and MXNet: all `make demo` needs), .notebook-installed
# (+ JupyterLab, ipykernel, nbclient, matplotlib: `make lab`, `make notebooks`),
# .test-installed (+ pytest, pytest-xdist, ruff, mypy, hatchling: `make test`,
# which also executes the notebooks, so it has both).
PYTHON ?= python3.11
PYTHON_EXE := $(or $(shell tools/find_python.sh $(PYTHON)),$(PYTHON))
PYTAG := $(if $(filter python3.11,$(PYTHON)),,-py$(subst .,,$(subst python,,$(notdir $(PYTHON)))))
CU112_VENV := .venv-cu112$(PYTAG)
ifeq ($(GPU),1)
VENV ?= $(CU112_VENV)
EXTRAS ?= cu112
else
VENV ?= .venv$(PYTAG)
EXTRAS ?= cpu
endif
BIN := $(VENV)/bin
EPOCHS ?= 200
QUALITY_BUDGET ?= 180

.PHONY: all demo test test-all lint typecheck bench clean bench-dist test-cu112

all: test

$(BIN)/.installed: pyproject.toml
	@$(PYTHON_EXE) -c '' 2>/dev/null || { echo "error: $(PYTHON) is missing or does not run; install Python 3.8-3.13 or run make PYTHON=/path/to/python3.11" >&2; exit 2; }
	@$(PYTHON_EXE) d2l_rnn/_compat.py
	$(PYTHON_EXE) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[$(EXTRAS)]"
	@mxnet=$$($(BIN)/python d2l_rnn/_compat.py --mxnet-without-deps $(EXTRAS)); \
	if [ -n "$$mxnet" ]; then \
		echo "$(BIN)/python -m pip install -q --no-deps $$mxnet"; \
		$(BIN)/python -m pip install -q --no-deps "$$mxnet"; \
	fi
	@touch $@

# The notebooks name the kernel "d2l_rnn": registered here, inside the venv
# (--sys-prefix, so only this venv's Jupyter sees it), with the checkout on
# its PYTHONPATH, so `$(BIN)/jupyter nbconvert --execute` and `make lab` run
# the notebooks on this venv's Python with no further step.
$(BIN)/.notebook-installed: $(BIN)/.installed
	$(BIN)/python -m pip install -q -e ".[$(EXTRAS),notebook]"
	$(REGISTER_KERNEL)
	@touch $@

$(BIN)/.test-installed: $(BIN)/.notebook-installed
	$(BIN)/python -m pip install -q -e ".[$(EXTRAS),notebook,test]"
	@touch $@

# torch==2.13.0 is the CPU wheel; the benchmark's extra only, never the library's.
$(BIN)/.bench-installed: $(BIN)/.installed
	$(BIN)/python -m pip install -q -e ".[$(EXTRAS),bench]"
	@touch $@

bench: $(BIN)/.bench-installed
	$(BIN)/python -m benchmarks.speed --epochs $(EPOCHS)
	$(BIN)/python -m benchmarks.generation
	$(BIN)/python -m benchmarks.run_path
	$(BIN)/python -m benchmarks.stop_latency
	$(BIN)/python benchmarks/bench_dist.py
	$(BIN)/python -m benchmarks.optimizer_speed
	$(BIN)/python -m benchmarks.quality --budget $(QUALITY_BUDGET)

demo: $(BIN)/.installed
	$(BIN)/python -m d2l_rnn.cli.demo

lint: $(BIN)/.test-installed
	$(BIN)/ruff check .

# mypy on the package's own modules (configured in pyproject.toml).
typecheck: $(BIN)/.test-installed
	$(BIN)/mypy

# The suite runs on up to TEST_WORKERS processes (pytest-xdist; "auto": one
# per core, at most 4); --dist loadgroup keeps the tests of one xdist_group
# (the chapter's 200-epoch run, the kvstore jobs) on one worker. `make test`
# leaves out the slow tier (@pytest.mark.extended); `make test-all` and CI
# run it too.
TEST_WORKERS ?= auto
PYTEST := $(BIN)/python -m pytest -n $(TEST_WORKERS) --maxprocesses 4 --dist loadgroup

test: lint typecheck
	$(PYTEST) -m "not extended"

test-all: lint typecheck
	$(PYTEST)

# dist_sync scaling: 1 process, 1 worker, 2 workers (see benchmarks/bench_dist.py).
bench-dist: $(BIN)/.installed
	$(BIN)/python benchmarks/bench_dist.py

# Notebooks: `make notebooks` re-executes every notebooks/*.ipynb in place
# (fresh outputs, written only if every cell ran); `make lab` starts
# JupyterLab on the kernel the install step registered; `make kernel`
# registers it again (after moving the checkout, say). Both put the checkout
# on the kernel's PYTHONPATH, so notebooks import `benchmarks`.
.PHONY: notebooks kernel lab
KERNEL_NAME := d2l_rnn
LAB_ARGS ?=
REGISTER_KERNEL = $(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL_NAME) \
	--display-name "Python 3 ($(KERNEL_NAME))" --env PYTHONPATH "$(CURDIR)"

notebooks: $(BIN)/.notebook-installed
	$(BIN)/python -m tools.notebooks notebooks

kernel: $(BIN)/.notebook-installed
	$(REGISTER_KERNEL)

lab: $(BIN)/.notebook-installed
	PYTHONPATH=$(CURDIR)$${PYTHONPATH:+:$$PYTHONPATH} $(BIN)/jupyter lab notebooks $(LAB_ARGS)

# The whole suite on the GPU flavour, in a venv made afresh each time, with a
# stand-in libcuda.so.1 (tests/stub_driver.py) in place of the NVIDIA driver.
test-cu112:
	rm -rf $(CU112_VENV)
	$(MAKE) --no-print-directory GPU=1 VENV=$(CU112_VENV) $(CU112_VENV)/bin/.test-installed
	$(CU112_VENV)/bin/python tests/stub_driver.py $(CU112_VENV)/stub-driver
	LD_LIBRARY_PATH=$(CURDIR)/$(CU112_VENV)/stub-driver$${LD_LIBRARY_PATH:+:$$LD_LIBRARY_PATH} \
		$(CU112_VENV)/bin/python -m pytest

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache
