"""Precision (issue 21): bf16 keeps fp32 master weights and exact zeros, gives nearly the first-stage masks of fp32 after
a warm-up trained in each (the deterministic sampler), is recorded with the machine, and a run is never resumed in another precision. How `auto`
resolves (the probe mocked) is tested in `nbs/00c_machine.ipynb`."""
import json

import pytest
import torch
from safetensors.torch import load_file

from conftest import STAGES, TRAIN, fails
from randprune.cli import main
from randprune.core import kept_difference, load_masks

pytestmark = pytest.mark.slow  # every test here trains a tiny model end to end


def test_bf16_keeps_fp32_weights_exact_zeros_and_the_deterministic_masks(tiny, tmp_path):
    d, data = tiny
    runs = {}
    for prec in ("no", "bf16"):
        out = tmp_path/prec
        main(["prune", *data, *TRAIN, *STAGES, "--warmup_epochs", "0.5", "--mixed_precision", prec, "--teacher",
              str(d/"dense"/"final"), "--out", str(out)])
        runs[prec] = out
        assert json.loads((out/"metrics.json").read_text())["machine"]["precision"] == prec
        assert json.loads((out/"config.json").read_text())["train"]["mixed_precision"] == prec
        weights, masks = load_file(str(out/"final"/"model.safetensors")), load_masks(out/"masks.safetensors")
        assert {str(w.dtype) for w in weights.values()} == {"torch.float32"}  # master weights stay fp32
        assert all(int((weights[n][~m] != 0).sum()) == 0 for n, m in masks.items())  # pruned weights exactly zero
    first = {p: load_file(str(r/"checkpoints"/"step-00"/"model.safetensors")) for p, r in runs.items()}
    assert any(not torch.equal(first["no"][n], first["bf16"][n]) for n in first["no"])  # bf16 really trained in bf16
    stage1 = {p: load_masks(r/"checkpoints"/"step-01"/"masks.safetensors") for p, r in runs.items()}
    assert kept_difference(stage1["no"], stage1["bf16"]) < 0.1  # from warm-ups trained apart: magnitudes ranked alike


def test_a_run_is_not_resumed_in_another_precision(tiny, tmp_path, capsys):
    d, data = tiny
    argv = ["prune", *data, *TRAIN, *STAGES, "--teacher", str(d/"dense"/"final"), "--out", str(tmp_path/"p")]
    main([*argv, "--mixed_precision", "bf16"])
    (tmp_path/"p"/"metrics.json").unlink()  # unfinished: it would resume
    msg = fails([*argv, "--mixed_precision", "no"], capsys)
    assert "train.mixed_precision: 'bf16' -> 'no'" in msg and "the precision is part of a run's identity" in msg, msg
    main([*argv, "--mixed_precision", "bf16"])  # the precision it started with: resumes
    assert (tmp_path/"p"/"metrics.json").exists()


def test_report_shows_the_machine(tiny, tmp_path, capsys):
    d, data = tiny
    out = tmp_path/"p"
    main(["prune", *data, *TRAIN, *STAGES, "--teacher", str(d/"dense"/"final"), "--out", str(out)])
    capsys.readouterr()
    main(["report", str(out)])
    line = next(l for l in capsys.readouterr().out.splitlines() if l.strip().startswith("machine"))
    assert "threads" in line and "precision no" in line, line
