#!/usr/bin/env bash
# For anyone with an NVIDIA GPU: check the cu112 flavour on real hardware.
#
#   benchmarks/gpu_check.sh          (from anywhere; VENV=... to pick the venv)
#
# 1. installs the GPU flavour into .venv-cu112 (`make GPU=1`; 2.3 GB of
#    wheels from PyPI on the first run);
# 2. runs the tests marked `gpu` (model, training step and prediction on
#    mx.gpu(0); CPU and GPU losses agree to 1e-4), failing rather than
#    skipping them when the GPU does not work;
# 3. trains the chapter's model (200 epochs) on the GPU and prints the
#    seconds per epoch next to the chapter's 0.04.
# The project's own machines have no GPU: `make test-cu112` is their check.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv-cu112}

if ! command -v nvidia-smi >/dev/null || ! nvidia-smi -L >/dev/null 2>&1; then
    echo "error: no working NVIDIA driver here (nvidia-smi is missing or fails);" \
         "this check needs an NVIDIA GPU. Without one, 'make test-cu112' tests" \
         "the GPU flavour against a stand-in driver." >&2
    exit 2
fi
nvidia-smi -L
# Older drivers cannot report the compute capability; then just go on.
cap=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -n 1 || true)
if [[ "$cap" =~ ^([0-9]+)\. ]] && (( BASH_REMATCH[1] >= 9 )); then
    echo "warning: compute capability $cap: libmxnet.so of mxnet-cu112 carries" \
         "machine code for 5.0, 6.0, 7.0, 8.0 and 8.6 only and no PTX, so" \
         "MXNet's own kernels may not run on this card (see the README)." >&2
fi
# Load only the kernels that are used (CUDA runtime >= 11.7, driver >= 515).
export CUDA_MODULE_LOADING=${CUDA_MODULE_LOADING:-LAZY}

make --no-print-directory GPU=1 VENV="$VENV" "$VENV/bin/.test-installed"

# Stop here, clearly, if MXNet cannot put an array on the GPU.
"$VENV/bin/python" -c "
import sys, d2l_rnn
ctx = d2l_rnn.try_gpu()
sys.exit(None if ctx.device_type == 'gpu' else
         'error: MXNet cannot use the GPU: try_gpu() returned %s' % ctx)"

echo "== the tests marked gpu"
D2L_RNN_REQUIRE_GPU=1 "$VENV/bin/python" -m pytest -m gpu -q -p no:cacheprovider

echo "== the chapter's training on the GPU"
"$VENV/bin/python" - <<'PY'
import time

import d2l_rnn
import d2l_rnn.demo

ctx = d2l_rnn.try_gpu()
start = time.perf_counter()
history = d2l_rnn.demo.main()
seconds = time.perf_counter() - start
print("%.3f s per epoch on %s over %d epochs, start-up included "
      "(the chapter printed 0.04); final perplexity %.2f"
      % (seconds / len(history), ctx, len(history), history[-1]))
PY
