"""Kill a pruning run mid-stage with SIGKILL, rerun the same command, and get the same final masks as a run that was
never interrupted (tiny BERT, synthetic GLUE files, CPU)."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from safetensors.torch import load_file

from transformers import BertConfig, BertModel

from randprune.core import load_masks
from randprune.testing import TINY_BERT
from randprune.testing import tiny_tokenizer, write_glue_folder
from randprune.pipeline import FinetuneConfig, finetune
from randprune.testing import tiny_run

pytestmark = pytest.mark.slow  # end-to-end training in subprocesses

COMMON = ["--task", "sst2", "--max_seq_length", "16", "--lr", "3e-3", "--batch_size", "16", "--eval_every", "2"]
POLL_S, KILL_TIMEOUT_S = 0.01, 300


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    d = tmp_path_factory.mktemp("resume")
    t = tiny_run(d)
    finetune(t.data, t.training, FinetuneConfig(model=t.model, out=str(d / "dense"), epochs=2), progress=False)
    return d


def prune_cmd(d, out, *extra):
    return [sys.executable, "-m", "randprune.cli", "prune", *COMMON, "--glue_dir", str(d / "glue"),
            "--teacher", str(d / "dense" / "final"), "--out", str(out), "--sampler", "ensemble", "--ratio", "0.01",
            "--stages", "0.5", "0.8", "0.9375", "--warmup_epochs", "0.5", "--stage_epochs", "4", *extra]


def logged_steps(out):
    log = out / "log.jsonl"
    return [json.loads(l)["step_name"] for l in log.read_text().splitlines()] if log.exists() else []


def test_killed_run_resumes_to_the_same_masks(setup):
    d = setup
    full = subprocess.run(prune_cmd(d, d / "full"), capture_output=True, text=True)
    assert full.returncode == 0, full.stderr

    proc = subprocess.Popen(prune_cmd(d, d / "killed"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + KILL_TIMEOUT_S
    while "stage 2" not in logged_steps(d / "killed"):  # mid-stage 2: its first evaluation is logged
        assert proc.poll() is None and time.time() < deadline, "the run ended before it could be killed"
        time.sleep(POLL_S)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = sorted(p.name for p in (d / "killed" / "checkpoints").iterdir())
    assert done[-1] in ("step-01", "step-02.tmp") and "step-02" not in done, done  # killed inside stage 2
    assert not (d / "killed" / "metrics.json").exists()

    resumed = subprocess.run(prune_cmd(d, d / "killed"), capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    a, b = load_masks(d / "full" / "masks.safetensors"), load_masks(d / "killed" / "masks.safetensors")
    assert list(a) == list(b) and all(torch.equal(a[n], b[n]) for n in a)
    full_m, resumed_m = (json.loads((d / r / "metrics.json").read_text()) for r in ("full", "killed"))
    assert full_m["dev"] == resumed_m["dev"]
    assert logged_steps(d / "killed").count("stage 1") == logged_steps(d / "full").count("stage 1")  # not redone


def test_resume_with_another_config_is_refused(setup):
    d = setup
    first = subprocess.run(prune_cmd(d, d / "other", "--stage_epochs", "0.2"), capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    again = subprocess.run(prune_cmd(d, d / "other", "--stage_epochs", "0.3"), capture_output=True, text=True)
    assert again.returncode != 0
    assert "different config" in again.stderr and "prune.stage_epochs: 0.2 -> 0.3" in again.stderr


def test_finetune_is_reproducible_across_processes(tmp_path):
    "The new classifier head is seeded: two fine-tuning processes with the same flags give the same model."
    write_glue_folder(tmp_path / "glue", "sst2", n_train=64, n_dev=16)
    base = tmp_path / "base"
    BertModel(BertConfig(**TINY_BERT)).save_pretrained(base)  # an encoder without a head, like MiniLM: the head is new
    tiny_tokenizer().save_pretrained(base)
    outs = []
    for name in ("a", "b"):
        cmd = [sys.executable, "-m", "randprune.cli", "finetune", *COMMON, "--glue_dir", str(tmp_path / "glue"),
               "--model", str(base), "--out", str(tmp_path / name), "--epochs", "0.5"]
        r = subprocess.run(cmd, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        outs.append(load_file(str(tmp_path / name / "final" / "model.safetensors")))
    assert all(torch.equal(outs[0][k], outs[1][k]) for k in outs[0])
