#!/usr/bin/env bash
# `pip install` is a way in: build the wheel, install it into a fresh virtualenv in a temporary folder outside the
# clone, and from there run a tiny fine-tune + prune, `randprune report`, a one-point `randprune ablate` (the
# notebooks the wheel ships) and `randprune notebooks`. Fails if any of them fails or the clone's code is used.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
TORCH=${TORCH:-torch==2.13.0}
work=$(mktemp -d) && trap 'rm -rf "$work"' EXIT
"$PY" -m pip wheel -q --no-deps -w "$work/dist" .
"$("$PY" -c 'import sys; print(sys._base_executable)')" -m venv "$work/venv"
V=$work/venv/bin
"$V/python" -m pip install -q "$TORCH" ${TORCH_PIP_ARGS:-}
"$V/python" -m pip install -q "$work"/dist/randprune-*.whl
cd "$work" && export PATH="$V:$PATH" && unset PYTHONPATH
python -c "import randprune, sys; assert randprune.__file__.startswith('$work/venv'), randprune.__file__"
python -c "import json; from randprune.testing import tiny_run; json.dump(tiny_run('tiny').params, open('tiny.json', 'w'))"
flags=(--task sst2 --glue_dir tiny/glue --max_seq_length 16 --lr 3e-3 --batch_size 16 --eval_every 5)
stage=(--warmup_epochs 0 --stage_epochs 0.5 --stages 0.5 0.75)
randprune finetune "${flags[@]}" --model tiny/base --epochs 1 --out runs/dense
randprune prune "${flags[@]}" "${stage[@]}" --teacher runs/dense/final --sampler deterministic --out runs/imp
report=$(randprune report runs/imp) && grep -q "stage 2" <<<"$report"  # no pipe: grep closing it early is no failure
cat > grid.yaml <<YAML
batch: wheel
params: {task: sst2, glue_dir: tiny/glue, max_seq_length: 16, lr: 3.0e-3, batch_size: 16, eval_every: 5,
         teacher: runs/dense/final, warmup_epochs: 0, stage_epochs: 0.5, stages: [0.5, 0.75]}
analysis_params: {guarded: []}   # a tiny random model is not expected to beat the majority class
grid:
  seed: [0]
  method: [{name: imp, method: deterministic}]
YAML
randprune ablate grid.yaml --runs runs
test -f runs/wheel/seed=0_method=imp/metrics.json && test -f runs/wheel/ablation.ipynb
randprune notebooks mine && test -f mine/prune_glue.ipynb
echo "wheel: installed outside the clone; finetune, prune, report, ablate and notebooks ran"
