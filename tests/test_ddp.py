"""`randprune finetune` and `randprune prune` data-parallel under `torch.distributed.run` (2 CPU processes, gloo): one writer per run folder,
masks checked identical on every process at every stage, each process taking its share of the batches, and a resume
under the same launcher ending where the uninterrupted run ended."""
import json
import math
import os
import shutil
import subprocess
import sys

import pytest

from randprune.data import load_glue
from randprune.files import read_jsonl
from randprune.testing import tiny_run

BATCH = 8


def launch(nproc, port, *args):
    "`randprune` under torch.distributed.run with `nproc` processes of one thread each; the completed process."
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(nproc), "--master_port", str(port),
           "-m", "randprune.cli", *args]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    return r


@pytest.fixture(scope="module")
def teacher(tmp_path_factory):
    "A teacher fine-tuned data-parallel (2 processes)."
    d = tmp_path_factory.mktemp("ddp")
    tr = tiny_run(d)
    launch(2, 29540, "finetune", "--model", tr.model, "--out", str(d/"teacher"), "--task", "sst2", "--glue_dir", tr.data.glue_dir,
           "--max_seq_length", "16", "--lr", "3e-3", "--batch_size", str(BATCH), "--eval_every", "4", "--epochs", "2")
    log = read_jsonl(d/"teacher"/"log.jsonl")
    assert len(log) == len({row["step"] for row in log}) and (d/"teacher"/"final"/"model.safetensors").exists()
    return tr, d


def prune_args(tr, d, out):
    return ["prune", "--teacher", str(d/"teacher"/"final"), "--out", str(out), "--task", "sst2", "--glue_dir", tr.data.glue_dir,
            "--max_seq_length", "16", "--lr", "3e-3", "--batch_size", str(BATCH), "--eval_every", "4", "--select", "mcss",
            "--candidates", "2", "--stages", "0.5", "0.75", "--emep_epochs", "0.5", "--warmup_epochs", "0", "--noise_resamples", "0"]


@pytest.mark.slow
def test_prune_data_parallel_writes_once_and_resumes(teacher):
    tr, d = teacher
    out = d/"p2"
    r = launch(2, 29541, *prune_args(tr, d, out))
    assert r.stdout.count("prune: ") == 1  # the result line, from the main process only
    log = read_jsonl(out/"log.jsonl")
    keys = [(row["step_name"], row["step"]) for row in log]
    assert len(keys) == len(set(keys))  # one writer: no row twice
    share = math.ceil(math.ceil(len(load_glue(tr.data)["train"]) / BATCH) / 2)  # each process: half the batches
    assert max(row["step"] for row in log if row["step_name"] == "stage 1") == share
    sel = read_jsonl(out/"selection.jsonl")
    assert [(s["stage"], s["candidate"]) for s in sel] == [(1, 0), (1, 1), (2, 0), (2, 1)]
    metrics = json.loads((out/"metrics.json").read_text())
    assert all(len(h["masks_sha256"]) == 64 for h in metrics["steps"])  # checked equal on both processes at each stage
    # cut the run back to its first stage, then resume under the same launcher
    for p in ("metrics.json", "masks.safetensors", "final", "checkpoints/step-01"):
        (shutil.rmtree if (out/p).is_dir() else os.remove)(out/p)
    launch(2, 29542, *prune_args(tr, d, out))
    resumed = json.loads((out/"metrics.json").read_text())
    stage1 = lambda rows: sum(row["step_name"] == "stage 1" for row in rows)
    assert stage1(read_jsonl(out/"log.jsonl")) == stage1(log)  # resumed after stage 1, not retrained from the start
    assert [h["masks_sha256"] for h in resumed["steps"]] == [h["masks_sha256"] for h in metrics["steps"]]
    assert resumed["dev"] == pytest.approx(metrics["dev"], abs=1e-6)


@pytest.mark.slow
def test_candidate_parallel_selection_equals_one_process(teacher):
    tr, d = teacher
    args = lambda out: [*prune_args(tr, d, out), "--candidates", "3", "--score", "loss"]  # uneven shares: 0, 2 and 1; no ties
    launch(1, 29543, *args(d/"c1"))
    launch(2, 29544, *args(d/"c2"))
    same = ("stage", "candidate", "ratio", "draws", "differs", "score", "best", "steps", "winner")
    rows = {n: [{k: r.get(k) for k in same} for r in read_jsonl(d/n/"selection.jsonl")] for n in ("c1", "c2")}
    assert [r for r in rows["c2"] if r["stage"] == 1] == [r for r in rows["c1"] if r["stage"] == 1]  # exactly
    assert len({r["score"] for r in rows["c2"] if r["stage"] == 1}) > 1  # the candidates really differ
    assert sorted(r["candidate"] for r in rows["c2"] if r["stage"] == 2) == [0, 1, 2]
    digests = {n: [h["masks_sha256"] for h in json.loads((d/n/"metrics.json").read_text())["steps"]] for n in ("c1", "c2")}
    assert digests["c2"][0] == digests["c1"][0]  # the same chosen masks (later stages start from data-parallel weights)
