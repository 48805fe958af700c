#!/usr/bin/env bash
# The GPU benchmark in one call (see run.py): the paper recipe, MiniLM-L6, MRPC + STS-B + SST-2, IMP vs MCSS, 3 seeds.
#   benchmarks/gpu/run.sh            # on a GPU machine with no network: needs benchmarks/gpu/bundle (make gpu-bundle)
#   benchmarks/gpu/run.sh --smoke    # the rehearsal on CPU (tests/test_benchmark.py runs it)
# Wheels for packages the GPU image lacks (datasets, dill, multiprocess) are installed from the bundle when needed.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-python3}
BUNDLE=${RANDPRUNE_GPU_BUNDLE:-benchmarks/gpu/bundle}
if ! "$PY" -c "import datasets" 2>/dev/null; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/randprune-site "$BUNDLE"/wheels/*.whl
  export PYTHONPATH=/tmp/randprune-site${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
exec "$PY" benchmarks/gpu/run.py --bundle "$BUNDLE" "$@"
