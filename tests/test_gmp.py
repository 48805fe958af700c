"""GMP (gradual magnitude pruning, Zhu & Gupta 2017) as a `randprune prune` method, end to end on a tiny BERT: the
cubic schedule's sparsity after every pruning step, nested masks, exact zeros, and resume (the schedule's formula
itself is tested in `nbs/06_pipeline.ipynb`)."""
import json

import pytest
import torch

from conftest import TRAIN
from randprune.cli import main
from randprune.core import load_masks
from randprune.methods import gmp_sparsities
from randprune.runs import completed_steps


@pytest.mark.slow
def test_gmp_prunes_on_the_cubic_schedule_with_nested_masks(tiny, tmp_path):
    d, data = tiny  # the shared tiny teacher (conftest)
    argv = ["prune", *data, *TRAIN, "--teacher", str(d/"dense"/"final"), "--sparsity_schedule", "gmp", "--gmp_prunings", "5",
            "--stages", "0.5", "0.8", "--stage_epochs", "1", "--warmup_epochs", "0", "--schedule", "constant",
            "--out", str(tmp_path/"gmp")]
    main(argv)
    run = tmp_path/"gmp"
    metrics = json.loads((run/"metrics.json").read_text())
    expected = gmp_sparsities(0.8, 5)
    assert [s["name"] for s in metrics["steps"]] == [f"prune {k}" for k in range(1, 6)]
    masks = [load_masks(c/"masks.safetensors") for c in completed_steps(run)]
    for m, s in zip(masks, expected):
        kept = sum(int(v.sum()) for v in m.values()) / sum(v.numel() for v in m.values())
        assert abs((1 - kept) - s) < 0.01, (kept, s)  # per-matrix rounding only
    for before, after in zip(masks, masks[1:]):
        assert all(torch.all(before[n] | ~after[n]) for n in after)  # nothing pruned comes back
    assert all(r["pruned_weights_zero"] for r in metrics["sparsity"][:-1])
    (run/"metrics.json").unlink()
    main(argv)  # resumes after the last completed step and ends the same
    assert json.loads((run/"metrics.json").read_text())["dev"] == metrics["dev"]
