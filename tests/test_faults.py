"""Fault injection (issue 12, first part): broken numbers, files and interruptions end with a one-line message and a
non-zero exit, never with a result that looks real, and nothing is written that blocks the corrected rerun.

Each test was run against the code before the fix and failed there (exit 0 with NaN results, a traceback, a JSON
error naming no file, or a KeyboardInterrupt); strict JSON (`core.to_json`) is tested in `nbs/00_core.ipynb`, and the
table of faults and what the user sees is in `nbs/10_cli.ipynb`."""
import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from conftest import STAGES, TRAIN, fails
from randprune.cli import main

pytestmark = pytest.mark.slow  # every test here trains a tiny model end to end


def nan_teacher(tiny) -> Path:
    "A copy of the teacher whose (non-prunable) classifier holds a NaN."
    d, _ = tiny
    bad = d/"nan-teacher"
    if not bad.exists():
        import shutil
        shutil.copytree(d/"dense"/"final", bad)
        w = load_file(str(bad/"model.safetensors"))
        w["classifier.weight"][0, 0] = float("nan")
        save_file(w, str(bad/"model.safetensors"))
    return bad


def test_nan_teacher_is_refused_before_anything_is_written(tiny, capsys):
    d, data = tiny
    msg = fails(["prune", *data, *TRAIN, *STAGES, "--teacher", str(nan_teacher(tiny)), "--out", str(d/"p1")], capsys)
    assert "classifier.weight has 1 non-finite value" in msg and "nan-teacher" in msg
    assert not (d/"p1").exists()  # nothing written: the corrected command can use the same --out
    main(["prune", *data, *TRAIN, *STAGES, "--teacher", str(d/"dense"/"final"), "--out", str(d/"p1")])
    assert (d/"p1"/"metrics.json").exists()


def test_a_huge_learning_rate_stops_at_the_first_non_finite_loss(tiny, capsys):
    d, data = tiny
    msg = fails(["prune", *data, *TRAIN[:2], "--lr", "1e30", *TRAIN[4:], *STAGES, "--teacher", str(d/"dense"/"final"),
                 "--out", str(d/"p2")], capsys)
    assert "the training loss is nan" in msg and "stage 1" in msg
    assert not (d/"p2"/"metrics.json").exists() and not list((d/"p2").glob("checkpoints/step-*"))


def test_nan_label_names_file_and_line(tiny, capsys, tmp_path):
    d, _ = tiny
    from randprune.testing import write_glue_folder
    glue = write_glue_folder(tmp_path/"glue", "stsb", n_train=40, n_dev=8)
    f = glue/"STS-B"/"train.tsv"
    lines = f.read_text().splitlines()
    cells = lines[3].split("\t"); cells[-1] = "nan"; lines[3] = "\t".join(cells)
    f.write_text("\n".join(lines) + "\n")
    msg = fails(["finetune", "--task", "stsb", "--glue_dir", str(glue), *TRAIN, "--model", str(d/"base"), "--out", str(tmp_path/"ft")], capsys)
    assert "train.tsv:4" in msg and "not a finite number" in msg


def test_report_says_how_far_an_unfinished_run_got(tiny, capsys):
    d, data = tiny
    main(["prune", *data, *TRAIN, *STAGES, "--teacher", str(d/"dense"/"final"), "--out", str(d/"p3")])
    (d/"p3"/"metrics.json").unlink()  # as if killed after the last step
    assert "2 step(s) completed so far (the last step-01); rerun its command to resume" in fails(["report", str(d/"p3")], capsys)
    (d/"p3"/"metrics.json").write_text("")
    assert "metrics.json: not valid JSON" in fails(["report", str(d/"p3")], capsys)
    (d/"p3"/"metrics.json").write_text("{}")
    assert "metrics.json: incomplete (no task, dev)" in fails(["report", str(d/"p3")], capsys)


def test_invalid_yaml_grid_gives_file_and_line(tmp_path, capsys):
    grid = tmp_path/"grid.yaml"
    grid.write_text("batch: x\ngrid:\n  seed: [0, 1\n  method: [imp]\n")
    msg = fails(["ablate", str(grid), "--runs", str(tmp_path/"runs")], capsys)
    assert f"{grid}:4:" in msg


def test_ctrl_c_says_how_to_resume(tiny, capsys, monkeypatch):
    d, data = tiny
    import randprune.cli as cli
    def interrupted(*a, **k): raise KeyboardInterrupt
    monkeypatch.setattr(cli, "prune", interrupted)
    msg = fails(["prune", *data, *TRAIN, *STAGES, "--teacher", str(d/"dense"/"final"), "--out", str(d/"p4")], capsys)
    assert msg == "randprune prune: interrupted; rerun the same command to resume"


def test_model_folder_without_tokenizer_is_refused(tiny, capsys):
    d, data = tiny
    import shutil
    bare = d/"no-tokenizer"
    shutil.copytree(d/"dense"/"final", bare, ignore=shutil.ignore_patterns("tokenizer*", "vocab*", "special_tokens*"))
    msg = fails(["prune", *data, *TRAIN, *STAGES, "--teacher", str(bare), "--out", str(d/"p5")], capsys)
    assert "has no tokenizer files" in msg and "or name one with --tokenizer" in msg and not (d/"p5").exists()
    main(["prune", *data, *TRAIN, *STAGES, "--teacher", str(bare), "--tokenizer", str(d/"dense"/"final"), "--out", str(d/"p5")])
    assert (d/"p5"/"final"/"tokenizer.json").exists()  # the pruned model brings the tokenizer it was trained with


def test_run_folder_as_teacher_points_at_final(tiny, capsys):
    d, data = tiny
    msg = fails(["prune", *data, *TRAIN, *STAGES, "--teacher", str(d/"dense"), "--out", str(d/"p6")], capsys)
    assert f"is a run folder, not a model folder: its model is {d/'dense'/'final'}" in msg and not (d/"p6").exists()


def test_bad_flags_are_refused_before_anything_runs(tiny, capsys):
    d, data = tiny
    common = ["prune", *data, *TRAIN, *STAGES, "--teacher", str(d/"dense"/"final")]
    assert "match no parameter" in fails([*common, "--ignore", "bert.encoder.layer.9.*", "--out", str(d/"p7")], capsys)
    assert "stage_epochs > 0" in fails([*common, "--stage_epochs", "-1", "--out", str(d/"p7")], capsys)
    assert not (d/"p7").exists()


@pytest.mark.parametrize("flag,value", [("--power", "inf"), ("--warmup_epochs", "nan"), ("--stage_epochs", "nan"),
                                        ("--lr", "inf"), ("--ratios", "nan"), ("--temperature", "inf")])
def test_a_number_that_is_not_finite_is_refused_before_anything_is_written(tiny, capsys, flag, value):
    d, data = tiny
    common = ["prune", *data, *TRAIN, *STAGES, "--teacher", str(d/"dense"/"final"), "--select", "mcss", "--out", str(d/"p8")]
    msg = fails([*common, flag, value], capsys)
    assert f"{flag[2:]} must be a finite number, got {value}" in msg
    assert not (d/"p8").exists()  # nothing written: the corrected rerun is not blocked


def test_an_infinite_number_of_epochs_is_one_line(tiny, capsys):
    d, data = tiny
    assert "epochs must be a finite number, got inf" in fails(["finetune", *data, "--epochs", "inf", "--out", str(d/"f9")], capsys)
    assert not (d/"f9").exists()


def test_damaged_newest_checkpoint_is_set_aside_and_the_run_resumes(tiny, capsys, caplog):
    d, data = tiny
    argv = ["prune", *data, *TRAIN, *STAGES, "--teacher", str(d/"dense"/"final"), "--out", str(d/"p8")]
    main(argv)
    import shutil
    run = d/"p8"
    (run/"metrics.json").unlink(); shutil.rmtree(run/"final")  # as if killed just after the last checkpoint
    f = run/"checkpoints"/"step-01"/"model.safetensors"; f.write_bytes(f.read_bytes()[:1000])  # truncated
    (run/"checkpoints"/"step-02.tmp").mkdir()  # a write cut off
    main(argv)  # resumes from step-00 instead of dying on the truncated file
    assert (run/"metrics.json").exists() and (run/"checkpoints"/"step-01.damaged").exists()
    assert not (run/"checkpoints"/"step-02.tmp").exists()
    assert "step-01 is damaged" in caplog.text and "resuming from step-00" in caplog.text


def test_how_paths_and_tasks_are_spelled_is_not_identity(tiny, tmp_path, monkeypatch):
    d, data = tiny
    import shutil
    shutil.copytree(d/"dense"/"final", tmp_path/"teacher")
    monkeypatch.chdir(tmp_path)
    argv = lambda teacher, out, task: ["prune", "--task", task, *data[2:], *TRAIN, *STAGES, "--teacher", teacher, "--out", out]
    main(argv("teacher", "runs/base", "sst2"))
    (tmp_path/"runs"/"base"/"metrics.json").unlink()  # unfinished: the next commands must resume it, not refuse
    main(argv("./teacher", str(tmp_path/"runs"/"base"), "SST-2"))
    shutil.move(tmp_path/"runs"/"base", tmp_path/"moved")
    main(argv(str(tmp_path/"teacher"), "moved", "sst2"))  # a moved run folder is still the same run
    assert json.loads((tmp_path/"moved"/"config.json").read_text())["data"]["task"] == "sst2"


def test_a_run_that_never_completed_a_step_restarts_with_the_corrected_config(tiny, caplog):
    d, data = tiny
    out = d/"p9"
    out.mkdir()
    (out/"config.json").write_text('{"data": {"task": "sst2"}}')  # what a run stopped before its first step leaves
    main(["prune", *data, *TRAIN, *STAGES, "--teacher", str(d/"dense"/"final"), "--out", str(out)])
    assert (out/"metrics.json").exists() and "restarting with the new config" in caplog.text


def test_model_and_tokenizer_and_task_must_fit_before_training(tiny, capsys, tmp_path):
    d, data = tiny
    import shutil
    from transformers import AutoTokenizer
    common = [*TRAIN, *STAGES, "--out", str(tmp_path/"p")]
    big = tmp_path/"big-vocab"
    shutil.copytree(d/"dense"/"final", big)
    tok = AutoTokenizer.from_pretrained(big); tok.add_tokens([f"w{i}" for i in range(40)]); tok.save_pretrained(big)
    assert "but the model embeds only 128" in fails(["prune", *data, "--teacher", str(big), *common], capsys)
    long = ["prune", *data, "--teacher", str(d/"dense"/"final"), *common, "--max_seq_length", "512"]
    assert "longer than its 64 position embeddings" in fails(long, capsys)
    from randprune.testing import write_glue_folder
    glue = write_glue_folder(tmp_path/"glue", "stsb", n_train=40, n_dev=8)
    stsb = ["prune", "--task", "stsb", "--glue_dir", str(glue), "--teacher", str(d/"dense"/"final"), *common]
    assert "does not load as a 1-label classifier (fine-tuned for another task?)" in fails(stsb, capsys)
    assert not (tmp_path/"p").exists()


def test_a_second_process_on_the_same_out_is_refused(tiny, capsys):
    d, data = tiny
    import subprocess, sys
    out = d/"p10"
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        out.mkdir(); (out/".lock").write_text(str(holder.pid))  # as a running prune into `out` leaves it
        argv = ["prune", *data, *TRAIN, *STAGES, "--teacher", str(d/"dense"/"final"), "--out", str(out)]
        assert f"is in use by another randprune process (pid {holder.pid} on this host)" in fails(argv, capsys)
    finally: holder.kill(); holder.wait()
    main(argv)  # the holder is gone: its lock is stale, and the run goes ahead
    assert (out/"metrics.json").exists() and not (out/".lock").exists()


def test_a_teacher_replaced_under_an_unfinished_run_is_refused_and_nothing_is_set_aside(tiny, capsys, tmp_path):
    d, data = tiny
    import shutil
    from randprune.testing import tiny_bert
    teacher, run = tmp_path/"teacher", tmp_path/"p"
    shutil.copytree(d/"dense"/"final", teacher)
    argv = ["prune", *data, *TRAIN, *STAGES, "--teacher", str(teacher), "--out", str(run)]
    main(argv)
    (run/"metrics.json").unlink(); shutil.rmtree(run/"final")  # as if killed just after the last checkpoint
    tiny_bert(hidden_size=48).save_pretrained(teacher)  # another model saved where the teacher was
    msg = fails(argv, capsys)
    assert "the teacher file config.json has changed since the run started" in msg, msg
    assert sorted(p.name for p in (run/"checkpoints").iterdir()) == ["step-00", "step-01"]  # none set aside


def test_a_same_shape_teacher_or_changed_data_under_an_unfinished_run_is_refused(tiny, capsys, tmp_path):
    "Another fine-tune of the same shape (the checkpoints fit it) or an edited train.tsv: refused, naming the file."
    d, data = tiny
    import shutil
    from randprune.testing import write_glue_folder
    teacher, run, glue = tmp_path/"teacher", tmp_path/"p", write_glue_folder(tmp_path/"glue", "sst2", n_train=40, n_dev=8)
    shutil.copytree(d/"dense"/"final", teacher)
    argv = ["prune", "--task", "sst2", "--glue_dir", str(glue), *TRAIN, *STAGES, "--teacher", str(teacher), "--out", str(run)]
    main(argv)
    (run/"metrics.json").unlink(); shutil.rmtree(run/"final")  # as if killed just after the last checkpoint
    _rewrite_weight(lambda v: v * 1.01)(teacher)
    assert "the teacher file model.safetensors has changed since the run started" in fails(argv, capsys)
    shutil.copy(d/"dense"/"final"/"model.safetensors", teacher/"model.safetensors")  # put back
    tsv = glue/"SST-2"/"train.tsv"
    lines = tsv.read_text().splitlines(True); tsv.write_text("".join([lines[0], *lines[2:], lines[1]]))  # reordered
    assert "the data file train.tsv has changed since the run started" in fails(argv, capsys)


def _run_with_file_size_limit(argv, limit:int):
    "Run `randprune ARGV` in a child process that cannot write a file larger than `limit` bytes (EFBIG, as on a full disk)."
    import subprocess, sys
    code = ("import resource, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
            f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit})); "
            "from randprune.cli import main; main(sys.argv[1:])")
    return subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=300)


def test_a_write_that_fails_midway_leaves_no_half_checkpoint_and_the_rerun_resumes(tiny, tmp_path):
    d, data = tiny
    teacher = d/"dense"/"final"
    argv = ["prune", *data, *TRAIN, *STAGES, "--teacher", str(teacher), "--out", str(tmp_path/"p")]
    size = (teacher/"model.safetensors").stat().st_size
    r = _run_with_file_size_limit(argv, size // 2)  # every small file fits; the weights do not
    assert r.returncode != 0 and "Traceback" not in r.stderr, r.stderr[-3000:]
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("randprune prune: error: could not write") and "rerun the same command" in last, last
    assert not list((tmp_path/"p").rglob("*randprune-tmp")), list((tmp_path/"p").rglob("*"))
    main(argv)  # space again: the same command into the same --out finishes
    assert (tmp_path/"p"/"metrics.json").exists()


def test_a_selection_log_line_cut_off_by_a_crash_is_evaluated_again(tiny, tmp_path):
    d, data = tiny
    import shutil
    run = tmp_path/"p"
    argv = ["prune", *data, *TRAIN, *STAGES, "--select", "mcss", "--candidates", "2", "--emep_epochs", "0.25",
            "--teacher", str(d/"dense"/"final"), "--out", str(run)]
    main(argv)
    log, first = run/"selection.jsonl", json.loads((run/"metrics.json").read_text())
    rows = [json.loads(l) for l in log.read_text().splitlines()]
    (run/"metrics.json").unlink(); shutil.rmtree(run/"final"); shutil.rmtree(run/"checkpoints"/"step-01")
    log.write_text(log.read_text()[:-len(json.dumps(rows[-1])) // 2 - 1])  # killed while writing the last row
    main(argv)  # the cut-off candidate is evaluated again; the run ends as the uninterrupted one did
    again = [json.loads(l) for l in log.read_text().splitlines()]
    strip = lambda r: {k: v for k, v in r.items() if k != "seconds"}
    assert [strip(r) for r in again] == [strip(r) for r in rows]
    assert json.loads((run/"metrics.json").read_text())["dev"] == first["dev"]


def test_two_identical_runs_write_identical_files(tiny):
    "Mask files are byte-identical (safetensors' own header order differs between writes); metrics apart from times."
    d, data = tiny
    for out in ("same-a", "same-b"):
        main(["prune", *data, *TRAIN, *STAGES[2:], "--sampler", "ensemble", "--teacher", str(d/"dense"/"final"),
              "--out", str(d/out)])
    a, b = d/"same-a", d/"same-b"
    assert (a/"masks.safetensors").read_bytes() == (b/"masks.safetensors").read_bytes()
    assert (a/"final"/"model.safetensors").read_bytes() == (b/"final"/"model.safetensors").read_bytes()
    assert untimed(json.loads((a/"metrics.json").read_text())) == untimed(json.loads((b/"metrics.json").read_text()))


def untimed(obj):
    "`obj` without its times and machine description, at any depth."
    if isinstance(obj, dict): return {k: untimed(v) for k, v in obj.items() if "seconds" not in k and k != "machine"}
    if isinstance(obj, list): return [untimed(v) for v in obj]
    return obj


def test_an_export_over_a_folder_holding_a_file_of_yours_is_one_line_and_keeps_it(tiny, capsys):
    d, _ = tiny
    main(["export", str(d/"dense"), str(d/"exp")])
    (d/"exp"/"note.txt").write_text("mine")
    assert "holds note.txt, which no export writes" in fails(["export", str(d/"dense"), str(d/"exp")], capsys)
    assert (d/"exp"/"note.txt").read_text() == "mine"


def _rewrite_weight(change):
    def damage(c:Path):
        w = load_file(str(c/"model.safetensors"))
        save_file({**w, "classifier.weight": change(w["classifier.weight"]).contiguous()}, str(c/"model.safetensors"))
    return damage


def _drop_a_mask(c:Path):
    from randprune.core import load_masks, save_masks
    save_masks(dict(list(load_masks(c/"masks.safetensors").items())[1:]), c/"masks.safetensors")


@pytest.mark.parametrize("damage", [lambda c: (c/"state.json").write_text('{"x":1}'), _rewrite_weight(lambda v: v.to(torch.int32)),
                                    _rewrite_weight(lambda v: v.reshape(-1)), _drop_a_mask],
                         ids=["state.json", "int32 weight", "reshaped weight", "dropped mask"])
def test_every_kind_of_damaged_checkpoint_is_set_aside_and_resumes_to_the_same_weights(tiny, damage, tmp_path):
    d, data = tiny
    argv = lambda out: ["prune", *data, *TRAIN, *STAGES, "--teacher", str(d/"dense"/"final"), "--out", str(out)]
    if not (d/"clean"/"metrics.json").exists(): main(argv(d/"clean"))
    import shutil
    run = tmp_path/"run"
    shutil.copytree(d/"clean", run); (run/"metrics.json").unlink(); shutil.rmtree(run/"final")
    damage(run/"checkpoints"/"step-01")
    main(argv(run))
    assert (run/"checkpoints"/"step-01.damaged").exists()
    clean, resumed = load_file(str(d/"clean"/"final"/"model.safetensors")), load_file(str(run/"final"/"model.safetensors"))
    assert all(torch.equal(clean[k], resumed[k]) for k in clean)
    assert (run/"masks.safetensors").read_bytes() == (d/"clean"/"masks.safetensors").read_bytes()


def test_a_teacher_weight_stored_as_integers_is_one_line(tiny, capsys, tmp_path):
    d, data = tiny
    import shutil
    bad = tmp_path/"int-teacher"
    shutil.copytree(d/"dense"/"final", bad)
    _rewrite_weight(lambda v: v.to(torch.int32))(bad)
    msg = fails(["prune", *data, *TRAIN, *STAGES, "--teacher", str(bad), "--out", str(tmp_path/"p")], capsys)
    assert "classifier.weight is stored as I32, not as floating-point numbers" in msg and not (tmp_path/"p").exists()


class _Planted:
    def __reduce__(self):
        import os
        return (os.makedirs, ("/tmp/randprune-planted-pickle-ran",))


def _bad_inputs(d:Path, data:list, tmp:Path) -> dict:
    "Bad inputs of part 5 of the reliability audit: name -> (argv, what the one line says)."
    import pickle, shutil
    from randprune.testing import write_glue_folder
    teacher, out = d/"dense"/"final", str(tmp/"out")
    prune = lambda *flags, glue=data: ["prune", *glue, *TRAIN, *STAGES, *flags, "--out", out]
    cfg = tmp/"cfg"; shutil.copytree(teacher, cfg)
    (cfg/"config.json").write_text(json.dumps({**json.loads((cfg/"config.json").read_text()), "hidden_size": "32"}))
    planted = tmp/"planted"; shutil.copytree(teacher, planted); (planted/"model.safetensors").unlink()
    with open(planted/"pytorch_model.bin", "wb") as f: pickle.dump({"w": _Planted()}, f)
    latin = write_glue_folder(tmp/"latin", "sst2", n_train=40, n_dev=8)
    tsv = latin/"SST-2"/"train.tsv"; raw = tsv.read_bytes(); tsv.write_bytes(raw[:40] + b"\xe9" + raw[40:])
    empty = write_glue_folder(tmp/"empty", "sst2", n_train=40, n_dev=8)
    dev = empty/"SST-2"/"dev.tsv"; dev.write_text(dev.read_text().splitlines()[0] + "\n")
    return {"config.json type": (prune("--teacher", str(cfg)), "config.json: not a model config transformers can read"),
            "planted pickle": (prune("--teacher", str(planted)), "could run code): refused, nothing of it ran"),
            "planted pickle export": (["export", str(planted), str(tmp/"exp")], "could run code): refused, nothing of it ran"),
            "unknown plug-in": (prune("--teacher", str(teacher), "--options", '{"nope": {"a": 1}}'), "options name no sampler 'nope'"),
            "latin-1 byte": (prune("--teacher", str(teacher), glue=["--task", "sst2", "--glue_dir", str(latin)]),
                             "train.tsv:3: byte 0xe9 is not UTF-8 text"),
            "empty dev": (prune("--teacher", str(teacher), glue=["--task", "sst2", "--glue_dir", str(empty)]),
                          "dev.tsv: no examples, only a header")}


@pytest.mark.parametrize("case", ["config.json type", "planted pickle", "planted pickle export", "unknown plug-in",
                                  "latin-1 byte", "empty dev"])
def test_bad_inputs_are_one_line_naming_the_file(tiny, capsys, tmp_path, case):
    d, data = tiny
    argv, says = _bad_inputs(d, data, tmp_path)[case]
    assert says in fails(argv, capsys)
    assert not (tmp_path/"out").exists() and not Path("/tmp/randprune-planted-pickle-ran").exists()


def test_options_that_are_not_json_say_so(tiny, capsys):
    d, data = tiny
    with pytest.raises(SystemExit): main(["prune", *data, "--teacher", str(d/"dense"/"final"), "--options", "{alpha"])
    assert "--options: not JSON (Expecting property name" in capsys.readouterr().err


def test_oneshot_runs_from_the_command_line_and_refuses_bad_input_in_one_line(tiny, capsys, tmp_path):
    "`randprune oneshot` (issue 24): a 2:4 run with random candidates, `report` reads it; bad settings are one line."
    d, data = tiny
    base = ["oneshot", *data, "--max_seq_length", "16", "--model", str(d/"dense"/"final"), "--calibration", "16"]
    main([*base, "--pattern", "2:4", "--score", "wanda", "--candidates", "3", "--out", str(tmp_path/"os")])
    assert json.loads((tmp_path/"os"/"metrics.json").read_text())["steps"][0]["name"] == "one-shot 2:4"
    capsys.readouterr()
    main(["report", str(tmp_path/"os")])
    assert "one-shot: a random candidate won" in capsys.readouterr().out
    assert "pattern must be 'matrix', 'row' or 'N:M'" in fails([*base, "--pattern", "4:2", "--out", str(tmp_path/"b")], capsys)
    assert "--model is required" in fails(["oneshot", *data, "--out", str(tmp_path/"c")], capsys)
    assert "needs the weights of linear layers; not such: bert.embeddings.LayerNorm.weight" in fails(
        [*base, "--targets", "bert.embeddings.LayerNorm.weight", "--out", str(tmp_path/"d")], capsys)
    assert not any((tmp_path/x).exists() for x in "bcd")  # refused before a run folder was made
