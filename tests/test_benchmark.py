"""The benchmark scripts run and write their figures (tiny shapes and models; the real runs: `make bench`, `make quality`,
`benchmarks/throughput.py`, `benchmarks/gpu/run.sh`)."""
import argparse, json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import bench_module

ROOT = Path(__file__).resolve().parents[1]


def load_benchmark():
    return bench_module("sampler")


def test_benchmark_writes_table_and_json(tmp_path, capsys):
    bench = load_benchmark()
    out = tmp_path / "sampler.json"
    rows = bench.main(["--shapes", "96x64", "--stages", "0.5", "0.9", "--ratios", "1e-2", "--repeats", "1",
                       "--out", str(out)])
    data = json.loads(out.read_text())
    assert len(rows) == len(data["rows"]) == 2
    for r in data["rows"]:
        assert r["t_reference"] > 0 and r["t_fast"] > 0 and r["t_deterministic"] > 0
        assert 0 < r["differs_reference"] < 1  # randomized: not top-k's mask, not disjoint from it
        assert abs(r["differs_fast"] - r["differs_reference"]) <= r["differs_reference"] / 2  # the same distribution
    assert data["summary"]["settings"] == 2
    assert "ref/fast" in capsys.readouterr().out


def test_throughput_benchmark_smoke(tmp_path, capsys):
    mod = bench_module("throughput")
    r = mod.main(["--smoke", "--out", str(tmp_path / "t.json")])
    assert set(r["samples_per_s"]) == {"randprune", "bare", "randprune_grouped", "bare_grouped"}
    assert all(v > 0 for v in r["samples_per_s"].values())
    assert json.loads((tmp_path / "t.json").read_text())["settings"]["smoke"] is True
    assert "grouping gain" in capsys.readouterr().out


@pytest.mark.slow
def test_gpu_benchmark_smoke(tmp_path):
    "`benchmarks/gpu/run.sh --smoke`: the GPU script's whole path (probe, sizing, teachers, paired runs, analysis) on CPU."
    out = tmp_path / "out"
    env = {**os.environ, "PYTHON": sys.executable, "OMP_NUM_THREADS": "1"}
    p = subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu" / "run.sh"), "--smoke", "--tasks", "sst2", "--seeds", "2",
                        "--parallel", "2", "--work", str(tmp_path / "work"), "--out", str(out)],
                       env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-3000:]
    assert p.stdout.index("training samples/s") < p.stdout.index("MCSS - IMP")  # the throughput is printed first
    s24 = json.loads((out / "sparse24.json").read_text())  # 2:4 timing first: on CPU the dense path only
    assert s24["sparse"] == "skipped: no CUDA (smoke)" and s24["matrices"] == 12 and s24["rows"][0]["dense_ms"] > 0
    r = json.loads((out / "results.json").read_text())
    assert r["samples_per_s"] > 0 and r["train_sizes"] == {"sst2": 160} and r["settings"]["smoke"] is True
    assert sorted((x["seed"], x["method"]) for x in r["runs"]) == [("0", "imp"), ("0", "mcss"), ("1", "imp"), ("1", "mcss")]
    assert [(x["task"], x["arm"], x["seeds"]) for x in r["paired"]] == [("sst2", "mcss", 2)]
    m = json.loads((tmp_path / "work" / "batch" / "seed=0_task=sst2_method=mcss" / "metrics.json").read_text())
    assert any(c.get("score") is not None for s in m["steps"] for c in s.get("candidates") or [])  # MCSS really scored candidates


def test_export_benchmark_smoke(tmp_path, capsys):
    mod = bench_module("export")
    r = mod.main(["--smoke", "--repeats", "2", "--out", str(tmp_path / "e.json")])
    assert r["max_abs_logit_diff"] < 1e-6 and r["prunable_ratio"] < 1 / 6 and json.loads((tmp_path / "e.json").read_text())["sparsity"] == 0.9375
    assert set(r["latency_s"]) == {"batch 1", "batch 32"} and "CSR" in capsys.readouterr().out


@pytest.mark.slow
def test_scaling_benchmark_smoke(tmp_path, capsys):
    "`benchmarks/scaling.py --smoke`: both launches, the equal first-stage scores, both ablate timings, the report."
    mod = bench_module("scaling")
    r = mod.main(["--smoke", "--out", str(tmp_path / "s.json")])
    assert r["selection"]["same_scores"] and len(r["selection"]["one"]["scores"]) == mod.CANDIDATES
    assert r["selection"]["one"]["selection_s"] > 0 and r["ablate"]["one_s"] > 0 and r["ablate"]["two_s"] > 0
    assert json.loads((tmp_path / "s.json").read_text())["settings"]["smoke"] is True
    assert "speed-up" in capsys.readouterr().out


def test_emep_cost_benchmark_smoke(tmp_path, capsys):
    mod = bench_module("emep_cost")
    r = mod.main(["--smoke", "--out", str(tmp_path / "e.json")])
    for p in ("fp32", "bf16"):
        row = r["precisions"][p]
        assert len(row["emep_before"]) == len(row["emep_after"]) == 4 and row["stage"] > 0
        assert row["mcss_over_imp_after"] > 1 and set(row["phases"]) == set(mod.PHASES)
    assert json.loads((tmp_path / "e.json").read_text())["settings"]["smoke"] is True
    assert "MCSS / IMP" in capsys.readouterr().out


@pytest.mark.slow
def test_selection_signal_records_each_candidate_once(tmp_path, capsys):
    "Each candidate's record is written once; a rerun skips them all; a record made with other settings is refused."
    mod = bench_module("selection_signal")
    argv = ["--smoke", "--work", str(tmp_path)]
    assert mod.main(argv) == 6
    records = sorted((tmp_path / "results").glob("stage-*/candidate-*.json"))
    assert [p.parent.name for p in records] == ["stage-1"] * 3 + ["stage-3"] * 3
    r = json.loads(records[1].read_text())
    assert r["kind"] == "reference" and r["differs"] > 0 and {"zero_step", "metric@1", "loss@0.25", "progressive@1"} <= set(r["scores"])
    assert 0 <= r["held_out"] <= 1 and 0 <= r["dev_repeat"] <= 1 and r["teacher_sha256"] and r["start_sha256"]
    u = r["units"]["emep@1"]  # per validation example, what the margin rule's paired noise resamples
    assert len(u["correct"]) == len(u["loss"]) > 0 and set(u["correct"]) <= {0, 1}
    assert -np.mean(u["train_loss"]) == pytest.approx(r["scores"]["progressive@1"])
    assert -np.mean(r["units"]["zero_step"]) == pytest.approx(r["scores"]["zero_step"])
    table = _analysis().signal_table(_analysis().load(tmp_path / "results"), resamples=20)  # the page reads these
    assert len(table) == 7 and table["rho pooled"].dropna().between(-1, 1).all()
    stamps = [p.stat().st_mtime_ns for p in records]
    assert mod.main(argv) == 6 and [p.stat().st_mtime_ns for p in records] == stamps  # nothing measured twice
    assert "6 of 6 candidates published" in capsys.readouterr().out
    r["settings"]["lr"] = 1.0
    records[0].write_text(json.dumps(r))
    with pytest.raises(SystemExit, match="was made with another settings"): mod.main(argv)


def _analysis():
    return bench_module("signal_analysis")


def _signal_records(folder:Path, n:int=4):
    "Records where `metric@1` ranks candidates like their outcome within each stage, while stage 3's are all lower."
    for stage in (1, 3):
        for c in range(n):
            correct = [1] * (50 + 10 * c) + [0] * (50 - 10 * c)
            held = 0.9 + 0.01 * c - 0.1 * stage
            units = {"zero_step": [1.0, 2.0], "emep@1": dict(correct=correct, loss=[0.5] * 100, train_loss=[0.5] * 8)}
            rec = dict(stage=stage, candidate=c, settings=dict(candidates=n), kind="imp" if c == 0 else "reference",
                       ratio=None, draws=None,
                       differs=0.01 * c, scores={"metric@1": np.mean(correct) + stage, "zero_step": -1.5},
                       held_out=held, held_out_repeat=held, dev=0.8, dev_repeat=0.8, units=units,
                       seconds={"zero_step": 1.0, "emep@1": 30.0})
            (folder / f"stage-{stage}").mkdir(parents=True, exist_ok=True)
            (folder / f"stage-{stage}" / f"candidate-{c:02d}.json").write_text(json.dumps(rec))


def test_signal_analysis_finds_a_score_that_ranks_like_the_outcome(tmp_path):
    "Ranks are compared within each stage; the rules are the library's; a score equal for all predicts nothing."
    sa = _analysis()
    _signal_records(tmp_path)
    df = sa.load(tmp_path)
    assert len(df) == 8 and df.outcome.tolist()[:2] == pytest.approx([80., 81.])
    assert len(sa.complete(df)) == 8 and sa.complete(df[df.candidate > 0]).empty  # a stage is whole or left out
    assert sa.spearman_ci(df, "metric@1", resamples=50)[:3] == pytest.approx((1., 1., 1.))  # pooled, within stages
    assert np.corrcoef(df["metric@1"], df.outcome)[0, 1] < 0  # where stages were not kept apart it would look negative
    assert np.isnan(sa.spearman_ci(df, "zero_step", resamples=50)[0])
    assert sa.lead(df, "metric@1", "metric@1", resamples=50) == pytest.approx((0., 0., 0.))  # paired: no lead over itself
    inverse = df.assign(inverse=-df["metric@1"])
    assert sa.lead(inverse, "metric@1", "inverse", resamples=50) == pytest.approx((2., 2., 2.))  # rho +1 vs -1
    r = sa.regret(df, "metric@1")
    assert r.picked.tolist() == [3, 3] and r.vs_best.tolist() == [0, 0] and r.vs_imp.tolist() == pytest.approx([3, 3])
    assert sa.regret(df, "metric@1", "margin", z=1e6).picked.tolist() == [0, 0]  # no margin that large: IMP's kept
    assert sa.regret(df, "metric@1", "margin", z=1.).picked.tolist() == [3, 3]  # 30 points of 100 examples clear it
    table = sa.signal_table(df, ("metric@1", "zero_step"), resamples=50)
    assert table.loc["metric@1", "x EMEP"] == 1 and table.loc["zero_step", "x EMEP"] == pytest.approx(1 / 30)
    assert sa.verdict(table) == ([], ["metric@1"])  # predictive, but not at a tenth of EMEP's cost
    assert "| `metric@1` | +1.00 | +1.00 | +1.00 [+1.00, +1.00] | +0.00 | +3.00 | 1.00 |" in sa.markdown_table(table)
    rep = sa.repeatability(df)
    assert rep.seed_sd.tolist() == [0, 0] and rep.range.tolist() == pytest.approx([3, 3])


@pytest.mark.slow
def test_oneshot_benchmark_records_each_unit_once(tmp_path, capsys):
    "`benchmarks/oneshot.py --smoke` (issue 24): every (pattern, method, seed) recorded once, a rerun skips them, other settings refused."
    mod = bench_module("oneshot")
    argv = ["--smoke", "--work", str(tmp_path)]
    assert mod.main(argv) == 12  # 2 patterns x (2 deterministic + 2 randomized x 2 seeds)
    r = json.loads((tmp_path / "results" / "2of4_random_wanda_seed1.json").read_text())
    assert r["kept"] == 0.5 and len(r["matrices"]) == 12 and all(len(m["errors"]) == 8 for m in r["matrices"])
    assert all(m["error"] <= m["top_error"] for m in r["matrices"]) and 0 <= r["dev"]["accuracy"] <= 1
    stamps = [p.stat().st_mtime_ns for p in sorted((tmp_path / "results").iterdir())]
    assert mod.main(argv) == 12 and [p.stat().st_mtime_ns for p in sorted((tmp_path / "results").iterdir())] == stamps
    assert "12 of 12 units published" in capsys.readouterr().out
    r["settings"]["power"] = 1.0
    (tmp_path / "results" / "row_magnitude_seed0.json").write_text(json.dumps(r))
    with pytest.raises(SystemExit, match="was made with another settings"): mod.main(argv)


def test_oneshot_recovery_arm_distils_the_same_masks(tmp_path):
    "`--recovery`: each unit's one-shot masks, then a distillation epoch with the masks enforced; recorded apart, once."
    mod = bench_module("oneshot")
    argv = ["--smoke", "--recovery", "--work", str(tmp_path)]
    assert mod.main(argv) == 12
    r = json.loads((tmp_path / "results-recovery" / "2of4_wanda_seed0.json").read_text())
    assert r["recovery"]["sentences"] == 64 and r["train_seconds"] > 0 and r["kept"] == 0.5
    assert sorted(r["dev"]) == sorted(r["oneshot_dev"]) == ["accuracy", "eval_loss"]
    assert r["dev"] != r["oneshot_dev"]  # trained: the model moved
    assert not (tmp_path / "results").exists()  # the one-shot arm's records are apart
    stamps = [p.stat().st_mtime_ns for p in sorted((tmp_path / "results-recovery").iterdir())]
    assert mod.main(argv) == 12
    assert [p.stat().st_mtime_ns for p in sorted((tmp_path / "results-recovery").iterdir())] == stamps


def test_oneshot_recovery_reuses_only_identical_masks(tmp_path, monkeypatch):
    "A randomized unit with the deterministic unit's masks takes its record; retrained, it gives the same model."
    mod = bench_module("oneshot")
    a = argparse.Namespace(smoke=True, work=str(tmp_path), teacher="")
    s = mod.Settings(calibration=16, batch_size=8, max_seq_length=16, seeds=2)
    r = mod.Recovery(sentences=64, batch_size=8, precision="no")
    path, tok, ds, batches = mod.inputs(a, s, r)
    monkeypatch.setitem(mod.METHODS, "random_magnitude", ("magnitude", 1))  # one candidate: the top scores' mask
    unit = lambda method, results, seed=1: mod.recovered(path, tok, ds, batches, s, r, "row", method, seed, results)
    base = unit("magnitude", tmp_path)
    mod.record_path(tmp_path, "row", "magnitude", 0).write_text(json.dumps(base))
    reused, retrained = unit("random_magnitude", tmp_path), unit("random_magnitude", tmp_path / "none")
    assert reused["trained_as"] == "magnitude" and reused["train_seconds"] == 0. and "trained_as" not in retrained
    assert reused["masks_sha256"] == retrained["masks_sha256"] == base["masks_sha256"]
    assert reused["dev"] == retrained["dev"] == base["dev"]  # the premise: the same masks, the same model, bit for bit
    monkeypatch.setitem(mod.METHODS, "random_magnitude", ("magnitude", 8))
    other = unit("random_magnitude", tmp_path, seed=0)  # seed 0's draws win 3 of the 12 matrices
    assert other["masks_sha256"] != base["masks_sha256"] and "trained_as" not in other  # other masks: trained
