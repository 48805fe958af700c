"""Safe by default (issue 20): no code from a file, nothing deleted or overwritten that randprune did not write, no
training on a silently damaged model, grids checked whole, locks that name their holder, a closed pipe is no error.

Each test was run against the code before the fix and failed there (the planted pickle ran, the user's folder or the
teacher was destroyed, the damaged teacher trained, a traceback, a lock blocked by an unrelated process, `Broken
pipe`). The Trainer callback's cases (resume from another folder, stages past the end, ignored settings) are tested in
`nbs/12_callback.ipynb`; the library-level ones (`claim_output`, locks, checksums, `check_types`) in their notebooks."""
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from conftest import STAGES, TRAIN, fails
from randprune.cli import main
from randprune.export import load_pruned

pytestmark = pytest.mark.slow  # every test here trains a tiny model end to end


class Planted:
    "A pickle that, if unpickled, makes a folder (the proof that a file's code ran)."
    def __init__(self, proof: Path): self.proof = str(proof)
    def __reduce__(self): return os.mkdir, (self.proof,)


def prune_argv(tiny, out, *more):
    d, data = tiny
    return ["prune", *data, *TRAIN, *STAGES, *more, "--teacher", str(d/"dense"/"final"), "--out", str(out)]


def unfinish(run: Path, *steps: str):
    "As if the run was killed after its last checkpoint (or before `steps`' checkpoints)."
    (run/"metrics.json").unlink(); shutil.rmtree(run/"final")
    for s in steps: shutil.rmtree(run/"checkpoints"/s)


def test_a_pickle_planted_in_a_checkpoint_runs_nothing_and_is_set_aside(tiny, tmp_path):
    run, proof = tmp_path/"p", tmp_path/"pwned"
    main(prune_argv(tiny, run))
    unfinish(run)
    torch.save(Planted(proof), run/"checkpoints"/"step-01"/"training_state.pt")
    main(prune_argv(tiny, run))
    assert not proof.exists(), "the planted pickle ran"
    assert (run/"checkpoints"/"step-01.damaged").exists() and (run/"metrics.json").exists()


def test_a_pickle_planted_as_the_winners_weights_runs_nothing_and_the_winner_is_trained_again(tiny, tmp_path):
    run, proof = tmp_path/"p", tmp_path/"pwned"
    argv = prune_argv(tiny, run, "--select", "mcss", "--candidates", "2", "--selection", "full")
    main(argv)
    first = json.loads((run/"metrics.json").read_text())
    unfinish(run, "step-01")  # killed after stage 2's candidates were scored, before its checkpoint
    torch.save(Planted(proof), run/"best-stage-2.pt")
    main(argv)
    assert not proof.exists(), "the planted pickle ran"
    assert (run/"best-stage-2.pt.damaged").exists()
    assert json.loads((run/"metrics.json").read_text())["dev"] == first["dev"]  # the same winner, trained the same way


def test_export_never_replaces_what_it_did_not_write(tiny, tmp_path, capsys):
    run = tmp_path/"runs"/"a"
    main(prune_argv(tiny, run))
    mine = tmp_path/"mine"; mine.mkdir(); (mine/"thesis.tex").write_text("years of work")
    assert "holds files randprune did not write" in fails(["export", str(run), str(mine)], capsys)
    assert "is also the run folder" in fails(["export", str(run), str(run)], capsys)
    assert "contains the run folder" in fails(["export", str(run), str(tmp_path/"runs")], capsys)
    (tmp_path/"afile").write_text("x")
    assert "is a file, not a folder" in fails(["export", str(run), str(tmp_path/"afile")], capsys)
    assert (mine/"thesis.tex").read_text() == "years of work" and (run/"metrics.json").exists()
    main(["export", str(run), str(tmp_path/"exp")])
    main(["export", str(run), str(tmp_path/"exp")])  # an earlier export of it is replaced
    load_pruned(tmp_path/"exp")


def test_out_equal_to_the_teacher_or_the_model_is_refused_and_both_still_load(tiny, tmp_path, capsys):
    d, data = tiny
    teacher = tmp_path/"teacher"; shutil.copytree(d/"dense"/"final", teacher)
    before = (teacher/"config.json").read_text()
    argv = ["prune", *data, *TRAIN, *STAGES, "--teacher", str(teacher), "--out", str(teacher)]
    assert "is also the teacher folder" in fails(argv, capsys)
    assert "is also the model folder" in fails(["finetune", *data, *TRAIN, "--model", str(teacher), "--out", str(teacher)], capsys)
    assert "contains the teacher folder" in fails([*argv[:-1], str(tmp_path)], capsys)
    assert (teacher/"config.json").read_text() == before
    main(["prune", *data, *TRAIN, *STAGES, "--teacher", str(teacher), "--out", str(tmp_path/"p")])  # it still loads


def test_a_teacher_whose_weights_file_lost_a_tensor_is_refused(tiny, tmp_path, capsys):
    d, data = tiny
    bad = tmp_path/"teacher"; shutil.copytree(d/"dense"/"final", bad)
    f = bad/"model.safetensors"
    raw = f.read_bytes()
    f.write_bytes(raw.replace(b"output.LayerNorm.bias", b"output.LayerNorm.bia_", 1))  # one damaged header byte
    msg = fails(["prune", *data, *TRAIN, *STAGES, "--teacher", str(bad), "--out", str(tmp_path/"p")], capsys)
    assert "lacks the weights bert.encoder.layer.0.attention.output.LayerNorm.bias" in msg, msg
    assert not (tmp_path/"p").exists()


def test_folders_that_are_no_model_say_what_they_are(tiny, tmp_path, capsys):
    d, data = tiny
    main(["export", str(d/"dense"), str(tmp_path/"exp")])
    argv = lambda teacher: ["prune", *data, *TRAIN, *STAGES, "--teacher", str(teacher), "--out", str(tmp_path/"p")]
    assert "is a randprune export" in fails(argv(tmp_path/"exp"), capsys)
    (tmp_path/"empty").mkdir()
    assert "has no config.json: not a Hugging Face model folder" in fails(argv(tmp_path/"empty"), capsys)
    (tmp_path/"out-file").write_text("x")
    assert "is a file, not a folder" in fails([*argv(d/"dense"/"final")[:-1], str(tmp_path/"out-file")], capsys)


def test_grid_values_and_the_analysis_axes_are_checked_before_any_run(tiny, tmp_path, capsys):
    d, _ = tiny
    def grid(params: str, axes: str) -> list[str]:
        g = tmp_path/"grid.yaml"
        g.write_text(f"batch: b\nparams: {{teacher: {d/'dense'/'final'}, {params}}}\ngrid:\n{axes}")
        return ["ablate", str(g), "--runs", str(tmp_path/"runs")]
    methods = "  method: [imp, mcss]\n"
    assert "parameter stage_epochs: 'abc' is not of type float" in fails(grid("stage_epochs: abc", methods), capsys)
    assert "parameter seed: 'zero' is not of type int" in fails(grid("lr: 0.001", methods + "  seed: [zero]\n"), capsys)
    assert "compares the grid axis 'method', which the grid lacks" in fails(grid("lr: 0.001", "  seed: [0, 1]\n"), capsys)
    assert not (tmp_path/"runs").exists()


def test_a_lock_names_its_holder_and_a_reused_pid_is_not_one(tiny, tmp_path, capsys, caplog):
    run = tmp_path/"p"; run.mkdir()
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])  # alive, but never held the lock
    try:
        (run/".lock").write_text(json.dumps(dict(host=socket.gethostname(), pid=stranger.pid, start="another-boot:1")))
        main(prune_argv(tiny, run))  # the pid was reused: the lock is stale, taken over with a note
        assert f"took over the stale lock of pid {stranger.pid}" in caplog.text and (run/"metrics.json").exists()
    finally: stranger.kill(); stranger.wait()
    other = tmp_path/"q"; other.mkdir()
    (other/".lock").write_text(json.dumps(dict(host="node-7", pid=os.getpid(), start=None)))
    assert f"is locked by pid {os.getpid()} on host node-7" in fails(prune_argv(tiny, other), capsys)
    assert (other/".lock").exists()  # never taken over from another host


def test_masks_and_exports_get_the_permissions_of_every_other_file(tiny, tmp_path):
    run = tmp_path/"p"
    main(prune_argv(tiny, run))
    main(["export", str(run), str(tmp_path/"exp")])
    mask = os.umask(0); os.umask(mask)
    for f in (run/"masks.safetensors", run/"metrics.json", tmp_path/"exp"/"model.sparse.safetensors"):
        assert oct(f.stat().st_mode & 0o777) == oct(0o666 & ~mask), f


def test_a_closed_pipe_ends_report_quietly(tiny, tmp_path):
    run = tmp_path/"p"
    main(prune_argv(tiny, run))
    code = "from randprune.cli import main; import sys; main(sys.argv[1:])"
    proc = subprocess.Popen([sys.executable, "-c", code, "report", *[str(run)] * 300], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)  # far more than a pipe holds
    proc.stdout.readline(); proc.stdout.close()  # `| head -1`
    err = proc.stderr.read().decode(); proc.wait(timeout=300)
    assert proc.returncode == 0 and "Broken pipe" not in err and "Traceback" not in err, (proc.returncode, err[-2000:])
