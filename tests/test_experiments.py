"The papermill experiment suite: one notebook run end to end, parameter checks, and a batch with a failing run."
import json, os, subprocess, sys
from pathlib import Path

import papermill as pm
import pytest
import yaml

from randprune.experiment import parameter_names, parameters_source
from randprune.oneshot import ONESHOT_CONFIGS
from randprune.pipeline import FinetuneConfig, finetune
from randprune.files import read_jsonl
from randprune.testing import fake_batch, tiny_run

ROOT = Path(__file__).resolve().parent.parent
NB = ROOT/"nbs"/"experiments"/"prune_glue.ipynb"
ANALYSIS = ROOT/"nbs"/"experiments"/"ablation.ipynb"
ONESHOT_NB = ROOT/"nbs"/"experiments"/"oneshot.ipynb"

@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    "Parameters of a tiny run (tiny BERT, synthetic SST-2) that fine-tunes its own teacher."
    d = tmp_path_factory.mktemp("tiny")
    return d, dict(tiny_run(d, n_train=96).params, teacher_epochs=2, teacher_lr=3e-3, stages=[0.5, 0.75], warmup_epochs=0, stage_epochs=1)

def test_parameters_cell_is_the_config_fields():
    assert list(pm.inspect_notebook(str(NB))) == [*parameter_names(), "_explicit"]  # and what `randprune ablate` passes

def test_parameters_cell_is_generated_from_the_config_defaults():
    "Names, defaults and comments: the committed cell is exactly what `parameters_source` makes from the configs."
    cells = json.loads(NB.read_text())["cells"]
    cell = next(c for c in cells if "parameters" in c["metadata"].get("tags", []))
    assert "".join(cell["source"]) == parameters_source(), "regenerate it: nbs/experiments/prune_glue.ipynb's parameters cell"

def test_oneshot_parameters_cell_is_generated_from_its_configs():
    "The one-shot notebook's parameters are `randprune oneshot`'s flags, with their defaults and comments."
    assert list(pm.inspect_notebook(str(ONESHOT_NB))) == parameter_names(ONESHOT_CONFIGS)
    cell = next(c for c in json.loads(ONESHOT_NB.read_text())["cells"] if "parameters" in c["metadata"].get("tags", []))
    assert "".join(cell["source"]) == parameters_source(ONESHOT_CONFIGS, explicit=False), "regenerate it"

@pytest.mark.slow
def test_papermill_runs_oneshot(tmp_path):
    "The one-shot notebook prunes a tiny fine-tuned BERT at 2:4 with 3 candidates per matrix; a misspelt parameter stops it."
    t = tiny_run(tmp_path)
    finetune(t.data, t.training, FinetuneConfig(model=t.model, out=str(tmp_path/"dense"), epochs=2.), progress=False)
    params = dict(glue_dir=t.data.glue_dir, max_seq_length=16, model=str(tmp_path/"dense"/"final"), out=str(tmp_path/"run"),
                  pattern="2:4", candidates=3, calibration=16, batch_size=8)
    pm.execute_notebook(str(ONESHOT_NB), str(tmp_path/"executed.ipynb"), progress_bar=False, parameters=params)
    m = json.loads((tmp_path/"run"/"metrics.json").read_text())
    assert m["steps"][0]["name"] == "one-shot 2:4" and m["steps"][0]["sparsity"] == .5
    assert len(m["matrices"]) == 12 and all(len(r["errors"]) == 3 for r in m["matrices"])
    assert (tmp_path/"run"/"plots.png").stat().st_size > 10_000
    with pytest.raises(pm.PapermillExecutionError, match="did you mean 'pattern'"):
        pm.execute_notebook(str(ONESHOT_NB), str(tmp_path/"typo.ipynb"), progress_bar=False,
                            parameters=dict(params, patern="2:4", out=str(tmp_path/"typo")))

@pytest.mark.slow
def test_papermill_runs_prune_glue(tiny, tmp_path):
    d, params = tiny
    out = tmp_path/"run"
    pm.execute_notebook(str(NB), str(tmp_path/"executed.ipynb"), progress_bar=False,
                        parameters=dict(params, select="mcss", candidates=2, emep_epochs=0.5, out=str(out), teacher_out=str(d/"teacher")))
    metrics = json.loads((out/"metrics.json").read_text())
    assert [s["sparsity"] for s in metrics["steps"]] == [0.5, 0.75]
    assert len(metrics["steps"][1]["candidates"]) == 2
    assert (out/"plots.png").stat().st_size > 10_000
    executed = json.loads((tmp_path/"executed.ipynb").read_text())
    assert any("injected-parameters" in c["metadata"].get("tags", []) for c in executed["cells"])
    assert not any(o.get("output_type") == "error" for c in executed["cells"] for o in c.get("outputs", []))

def _ablate(grid:dict, d:Path, *flags, runs="runs") -> subprocess.CompletedProcess:
    (d/"grid.yaml").write_text(yaml.safe_dump(grid))
    return subprocess.run([sys.executable, "-m", "randprune.cli", "ablate", str(d/"grid.yaml"), "--runs", str(d/runs), *flags],
                          cwd=d, capture_output=True, text=True, stdin=subprocess.DEVNULL, env={**os.environ, "OMP_NUM_THREADS": "1"})

def test_unknown_parameter_fails_before_any_run(tiny, tmp_path):
    _, params = tiny
    r = _ablate(dict(batch="typo", params=dict(params, candidats=4), grid=dict(seed=[0])), tmp_path)
    assert r.returncode != 0
    assert "unknown parameter 'candidats' (did you mean 'candidates'?)" in r.stderr
    assert "Traceback" not in r.stderr and not (tmp_path/"runs").exists()

@pytest.mark.slow
def test_batch_continues_past_a_failed_run(tiny, tmp_path):
    _, params = tiny
    grid = dict(batch="b", params=dict(params, teacher_out="{batch_dir}/teacher"),
                analysis_params=dict(guarded=[]),  # a tiny model need not beat the majority class: no collapse gate
                grid=dict(method=[dict(name="imp", sampler="deterministic"), dict(name="broken", sampler="uniform", ignore=["no.such.weight"]),
                                  dict(name="uniform", sampler="uniform")], seed=[0]))
    r = _ablate(grid, tmp_path)
    assert r.returncode == 1, r.stderr
    assert "2 ran, 0 already finished, 1 failed" in r.stdout and "FAILED method=broken_seed=0" in r.stdout
    batch = tmp_path/"runs"/"b"
    for ok in ("method=imp_seed=0", "method=uniform_seed=0"):
        assert (batch/ok/"metrics.json").exists() and (batch/ok/"prune_glue.ipynb").exists()
        assert not (batch/ok/"checkpoints").exists()
    assert "match no parameter" in (batch/"method=broken_seed=0"/"error.txt").read_text()
    analysis = json.loads((batch/"ablation.ipynb").read_text())
    assert not any(o.get("output_type") == "error" for c in analysis["cells"] for o in c.get("outputs", []))
    assert json.loads((batch/"batch.json").read_text())["failed"].keys() == {"method=broken_seed=0"}
    again = _ablate(grid, tmp_path)  # finished runs are skipped; the broken one is tried again
    assert "0 ran, 2 already finished, 1 failed" in again.stdout

@pytest.mark.parametrize("grid", sorted((ROOT/"benchmarks").glob("*.yaml")), ids=lambda p: p.name)
def test_committed_grids_expand(grid):
    from randprune.ablate import expand, load_grid
    g = load_grid(grid)
    runs = expand(g, f"runs/{g.batch}")
    assert len(runs) >= 9 and len({p.get("seed", 0) for _, _, p in runs}) >= 3
    assert all(p.get("teacher") or p["teacher_out"].startswith(f"runs/{g.batch}/teachers/") for _, _, p in runs)

def test_sampler_notebook_plots_the_committed_results(tmp_path):
    out = tmp_path/"sampler.ipynb"
    pm.execute_notebook(str(ROOT/"nbs"/"experiments"/"sampler.ipynb"), str(out), progress_bar=False, cwd=str(ROOT))
    cells = json.loads(out.read_text())["cells"]
    assert sum("image/png" in o.get("data", {}) for c in cells for o in c.get("outputs", [])) == 2
    assert "48 settings" in "".join("".join(o.get("text", "")) for c in cells for o in c.get("outputs", []))

def _outputs(nb:Path) -> str:
    "Every text an executed notebook shows."
    cells = json.loads(nb.read_text())["cells"]
    return "".join("".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/html", "")) +
                   "".join(o.get("data", {}).get("text/markdown", "")) for c in cells for o in c.get("outputs", []))

def test_comparison_notebook_fails_a_thin_or_degenerate_batch(tmp_path):
    "The comparison notebook's failing path: a collapsed guarded run, a misspelt guarded arm, too few seeds."
    devs = {("sst2", "imp", s): (.80 + s / 100, 10) for s in range(3)}
    devs.update({("sst2", "mcss", s): (.52 if s == 2 else .82 + s / 50, 12) for s in range(3)})
    batch = fake_batch(tmp_path/"batch", devs, majority=.51, dev_examples=100)
    out = tmp_path/"ablation.ipynb"
    with pytest.raises(pm.PapermillExecutionError, match="degenerate batch"):
        pm.execute_notebook(str(ANALYSIS), str(out), progress_bar=False, parameters=dict(
            batch=str(batch), guarded=["imp", "mcss", "msccs"], min_seeds=4))
    shown = _outputs(out)
    for line in ("DEGENERATE BATCH", "task=sst2_method=mcss_seed=2: dev 0.5200 is within 0.02 of the majority class",
                 "guarded method 'msccs' has no finished run", "sst2: imp has 3 finished seeds, fewer than 4"):
        assert line in shown, line
    assert "sst2: mcss - imp = " in shown and "3 seeds (2 better, 1 worse, 0 tied" in shown

def test_comparison_notebook_passes_a_sound_batch(tmp_path):
    devs = {("sst2", m, s): (.80 + s / 100 + (m == "mcss") * .01 * (s + 1), 10 + 2 * (m == "mcss")) for m in ("imp", "mcss")
            for s in range(3)}
    out = tmp_path/"ablation.ipynb"
    pm.execute_notebook(str(ANALYSIS), str(out), progress_bar=False, parameters=dict(
        batch=str(fake_batch(tmp_path/"batch", devs, majority=.51, dev_examples=100)), min_seeds=3))
    shown = _outputs(out)
    assert "gates passed" in shown and "DEGENERATE" not in shown
    assert "sst2: mcss - imp = +2.00 points [" in shown and "no difference measurable at this budget" in shown

def test_unknown_parameter_fails_in_plain_papermill(tmp_path):
    with pytest.raises(pm.PapermillExecutionError, match=r"unknown parameter 'candidats' \(did you mean 'candidates'\?\)"):
        pm.execute_notebook(str(NB), str(tmp_path/"x.ipynb"), progress_bar=False, parameters=dict(candidats=4, out=str(tmp_path/"run")))
    assert not (tmp_path/"run").exists()

@pytest.mark.slow
def test_shards_and_workers_give_the_unsharded_batch(tiny, tmp_path):
    "Two shards (the first with 2 workers sharing one teacher) end with the runs, results and summary of one whole run."
    _, params = tiny
    grid = dict(batch="b", params=dict(params, teacher_out="{batch_dir}/teacher"), analysis_params=dict(guarded=[]),
                grid=dict(method=[dict(name="imp", sampler="deterministic")], seed=[0, 1, 2]))
    runs = [f"method=imp_seed={k}" for k in range(3)]
    whole = _ablate(grid, tmp_path, runs="whole")
    assert whole.returncode == 0, whole.stderr[-3000:]
    first = _ablate(grid, tmp_path, "--shard", "1/2", "--workers", "2", runs="sharded")
    assert first.returncode == 0, first.stderr[-3000:]
    assert "2 ran" in first.stdout and "the analysis waits for 1 run(s) of other shards" in first.stdout
    sharded = tmp_path/"sharded"/"b"
    assert sorted(p.name for p in sharded.glob("method=*")) == [runs[0], runs[2]] and not (sharded/"ablation.ipynb").exists()
    last = _ablate(grid, tmp_path, "--shard", "2/2", runs="sharded")
    assert last.returncode == 0, last.stderr[-3000:]
    assert (sharded/"ablation.ipynb").exists()  # the last shard ran the analysis
    assert json.loads((sharded/"batch.json").read_text())["finished"] == runs
    assert len(read_jsonl(sharded/"teacher"/"log.jsonl")) == len(read_jsonl(tmp_path/"whole"/"b"/"teacher"/"log.jsonl"))  # fine-tuned once
    for run in runs:
        a, b = (json.loads((tmp_path/r/"b"/run/"metrics.json").read_text()) for r in ("whole", "sharded"))
        assert b["dev"] == pytest.approx(a["dev"], abs=1e-6) and b["steps"][-1]["masks_sha256"] == a["steps"][-1]["masks_sha256"]

@pytest.mark.slow
def test_a_budgeted_batch_lands_run_by_run(tiny, tmp_path):
    "A budget stops a batch after its first run, published at once; a rerun with the run folders gone (a new session) runs only the other, with the teacher rebuilt to the same digest; another teacher, or another kind of machine, is refused."
    import shutil, torch
    from safetensors.torch import load_file, save_file
    _, params = tiny
    grid = dict(batch="b", params=dict(params, teacher_out="{batch_dir}/teacher"), analysis_params=dict(guarded=[]),
                grid=dict(method=[dict(name="imp", sampler="deterministic")], seed=[0, 1]))
    pub, runs = tmp_path/"results"/"b", [f"method=imp_seed={k}" for k in (0, 1)]
    first = _ablate(grid, tmp_path, "--budget", "0.01", "--publish", str(tmp_path/"results"))
    assert first.returncode == 0, first.stderr[-3000:]
    assert "1 ran" in first.stdout and "1 not started" in first.stdout, first.stdout
    assert "1 of 2 runs published; rerun to continue" in first.stdout and not (pub/"ablation.ipynb").exists()
    assert sorted(p.name for p in (pub/runs[0]).iterdir()) == ["metrics.json", "params.json", "unit.json"]  # small files only
    shutil.rmtree(tmp_path/"runs")  # a new session: the run folders, the teacher's too, are gone
    second = _ablate(grid, tmp_path, "--publish", str(tmp_path/"results"))
    assert second.returncode == 0, second.stderr[-3000:]
    assert "1 ran, 1 already finished, 0 failed" in second.stdout and "2 of 2 runs published" in second.stdout, second.stdout
    assert not (tmp_path/"runs"/"b"/runs[0]).exists()  # the published run is not trained twice
    assert (pub/"ablation.ipynb").exists() and json.loads((pub/"batch.json").read_text())["finished"] == [runs[1]]
    digests = {json.loads((pub/r/"unit.json").read_text())["teacher_sha256"] for r in runs}
    assert len(digests) == 1  # the teacher fine-tuned again from its seed is the same teacher
    weights = tmp_path/"runs"/"b"/"teacher"/"final"/"model.safetensors"
    save_file({k: v + 1e-3 if v.is_floating_point() else v for k, v in load_file(weights).items()}, weights, metadata={"format": "pt"})
    shutil.rmtree(pub/runs[1])
    third = _ablate(grid, tmp_path, "--publish", str(tmp_path/"results"))
    assert third.returncode == 1 and "is not the one this batch's published units distilled from" in third.stdout, third.stdout
    assert not (pub/runs[1]).exists()
    m = json.loads((pub/runs[0]/"metrics.json").read_text())
    (pub/runs[0]/"metrics.json").write_text(json.dumps(dict(m, machine=dict(m["machine"], cpu="Another CPU"))))
    fourth = _ablate(grid, tmp_path, "--publish", str(tmp_path/"results"))  # the batch ran on another kind of machine
    assert fourth.returncode == 1, fourth.stdout
    assert "this batch's published units ran on Another CPU (" in fourth.stdout, fourth.stdout
    assert not (pub/runs[1]).exists()
    shutil.rmtree(tmp_path/"runs"/"b"/runs[1])
    fifth = _ablate(grid, tmp_path, "--publish", str(tmp_path/"results"))  # refused before it starts: nothing trained
    assert fifth.returncode == 1 and "0 ran" in fifth.stdout and "units ran on Another CPU (" in fifth.stdout, fifth.stdout
    assert not (tmp_path/"runs"/"b"/runs[1]).exists()

def test_make_evidence_refuses_another_kind_of_machine_at_once(tmp_path):
    "tools/evidence_machine.py, `make evidence`'s first step: one line, exit 1, where the published runs ran elsewhere."
    run = tmp_path/"sst2"/"seed=0_method=imp"  # the SST-2 grid's batch, published under tmp_path
    script = [sys.executable, str(ROOT/"tools"/"evidence_machine.py"), str(tmp_path), str(ROOT/"benchmarks"/"evidence_v3_sst2.yaml")]
    assert subprocess.run(script, capture_output=True, text=True).returncode == 0  # nothing published: any machine
    run.mkdir(parents=True)
    (run/"metrics.json").write_text(json.dumps(dict(machine=dict(cpu="Another CPU", flags=["avx2"], gpu=None))))
    r = subprocess.run(script, capture_output=True, text=True)
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert r.stderr.startswith("make evidence: this batch's published units ran on Another CPU (avx2), not on "), r.stderr
