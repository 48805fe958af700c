#!/usr/bin/env bash
# Builds benchmarks/gpu/bundle (git-ignored), what benchmarks/gpu/run.sh needs on a GPU machine with no network:
# model/ (the bundled MiniLM-L6 in fp16, with its tokenizer), glue/ (MRPC, STS-B, SST-2), wheels/ (datasets and the two
# packages of its own that the GPU image lacks, for its Python 3.12). Then: device run with carry [benchmarks/gpu/bundle].
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-.venv/bin/python}
GLUE=${RANDPRUNE_GLUE_DIR:-../shared/glue_data}
B=benchmarks/gpu/bundle
rm -rf "$B" && mkdir -p "$B/glue" "$B/wheels"
"$PY" - "$B/model" <<'PY'
import sys, torch
from transformers import AutoModel
from randprune.core import bundled_minilm
from randprune.runs import load_tokenizer
AutoModel.from_pretrained(bundled_minilm(), dtype=torch.float16).save_pretrained(sys.argv[1])
load_tokenizer(bundled_minilm()).save_pretrained(sys.argv[1])
PY
for t in MRPC STS-B SST-2; do mkdir -p "$B/glue/$t" && cp "$GLUE/$t/train.tsv" "$GLUE/$t/dev.tsv" "$B/glue/$t/"; done
pins=$("$PY" -m pip list --format=freeze 2>/dev/null | grep -iE '^(datasets|dill|multiprocess)==')
"$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d "$B/wheels" $pins
du -sh "$B" "$B"/*
