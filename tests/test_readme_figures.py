"""Figures that cannot drift: every measured figure in README.md's *Measured results* is what its results file gives.

Each check below recomputes a bullet's figures from the committed files in `benchmarks/results/` and formats them the
way the README writes them; the README must contain every such phrase. A last check takes every decimal number left in
the section once those phrases are removed: each must be a stated setting or goal (`SETTINGS`), not a measurement
without a file.
"""
import functools, json, re
from pathlib import Path

import pandas as pd
import pytest

from conftest import bench_module
from randprune.analysis import batch_table, selection_cost
from randprune.comparison import markdown_table, paired_differences, published_pairs, selection_summary, signed

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT/"benchmarks"/"results"
README = (ROOT/"README.md").read_text()
SECTION = " ".join(README[README.index("## Measured results"):README.index("## Developing")].split())  # line breaks: spaces
SETTINGS = {  # decimals in the section that are settings, goals or definitions, not measurements
    "0.3": "the selection-signal goal: a pooled interval above 0.3",
    "0.25": "EMEP for a quarter epoch (score names such as loss@0.25)",
    "0.85": "the teacher's gate",
    "1.5": "the evidence goal: at most 1.5x IMP's time",
    "1.7": "the scaling target",
}


def _flat(text:str) -> str:
    "Whitespace runs as one space: README lines wrap anywhere."
    return " ".join(text.split())

def _json(name:str) -> dict:
    return json.loads((RESULTS/name).read_text())

def _signal():
    sa = bench_module("signal_analysis")
    return sa, sa.complete(sa.load(RESULTS/"selection-signal"))


def selection_signal() -> list[str]:
    sa, df = _signal()
    table = sa.signal_table(df)
    lead, lo, hi = sa.lead(df, "loss@1", "metric@1")
    rep = sa.repeatability(df).set_index("stage")
    rho, dlo, dhi = sa.spearman_ci(df[df.stage == 3], "differs")
    teacher = _json("selection-signal/teacher-metrics.json")["dev"]["accuracy"]
    return [*sa.markdown_table(table).splitlines(), f"evidence teacher (dev {teacher:.3f})",
            f"the paper's `metric@1` is at {signed(table.loc['metric@1', 'rho pooled'])}",
            f"leads it by {signed(lead)} in ρ with a paired interval of [{signed(lo)}, {signed(hi)}]",
            f"(ρ {signed(rep.loc[3, 'rho'])}): an {rep.loc[3, 'range']:.0f}-point range",
            f"IMP's mask predicts (ρ {signed(rho)} [{signed(dlo)}, {signed(dhi)}])"]


def evidence_cpu() -> list[str]:
    batch = RESULTS/"evidence-cpu"
    df = batch_table(batch)
    dev = lambda arm: " / ".join(f"{d:.3f}" for d in df[df.method == arm].sort_values("seed").dev)
    pairs = paired_differences(df, "imp").set_index("arm")
    ci = lambda arm, n: f"{signed(pairs.loc[arm, 'delta'], n)} points, 95% confidence interval" if n == 2 else \
        f"{signed(pairs.loc[arm, 'delta'], n)} points [{signed(pairs.loc[arm, 'low'], n)}, {signed(pairs.loc[arm, 'high'], n)}]"
    own = selection_cost(batch).overhead
    secs = df.pivot(index="seed", columns="method", values="seconds")
    ratio = (secs.mcss / secs.imp).sort_values()
    kept = selection_summary(batch).set_index("arm").loc["mcss"]
    teacher = _json("evidence-cpu/teacher-metrics.json")["dev"]["accuracy"]
    return [f"a dense teacher at {teacher:.3f} dev accuracy", f"IMP {dev('imp')[:13]}", dev("imp")[14:],
            f"MCSS (4 candidates, 13 EMEP steps each, scored by validation loss) {dev('mcss')}",
            f"uniform random masks {df[df.method == 'uniform'].dev.iloc[0]:.3f} every time",
            f"**MCSS − IMP = {ci('mcss', 2)} [{signed(pairs.loc['mcss', 'low'])}, {signed(pairs.loc['mcss', 'high'])}]**",
            f"took {own.min():.2f}–{own.max():.2f}x **its own time without",
            f"took {ratio.iloc[0]:.2f}x, {ratio.iloc[1]:.2f}x and {ratio.iloc[2]:.2f}x (mean {ratio.mean():.2f}x",
            f"In {kept.kept_imp} of {kept.stages} stages the deterministic candidate won",
            dev("gmp"), f"**GMP − IMP = {ci('gmp', 1)}**"]


def emep_cost() -> list[str]:
    e, old = _json("emep_cost.json")["precisions"], _json("emep_cost-foreach-adamw.json")["precisions"]
    bf, fp = e["bf16"], e["fp32"]
    ms = lambda p, k: f"{p['phases'][k] * 1e3:.0f}"
    return [f"**{sum(bf['emep_before']):.1f} → {sum(bf['emep_after']):.1f} s**",
            f"from {bf['mcss_over_imp_before']:.2f}x to {bf['mcss_over_imp_after']:.2f}x**",
            f"(fp32: {fp['mcss_over_imp_before']:.2f}x → {fp['mcss_over_imp_after']:.2f}x)",
            f"a KD stage {fp['stage'] / bf['stage']:.2f}x",
            f"EMEP {sum(fp['emep_before']) / sum(bf['emep_before']):.2f}x before and "
            f"{sum(fp['emep_after']) / sum(bf['emep_after']):.2f}x after",
            f"optimizer-and-masks phase {ms(old['fp32'], 'optimizer+masks')}–{ms(old['bf16'], 'optimizer+masks')} ms → "
            f"{ms(fp, 'optimizer+masks')}–{ms(bf, 'optimizer+masks')} ms",
            f"backward {ms(bf, 'backward')} ms, student forward {ms(bf, 'student')}, teacher forward {ms(bf, 'teacher')}, "
            f"optimizer and masks {ms(bf, 'optimizer+masks')}, loss and collation "
            f"{(bf['phases']['loss'] + bf['phases']['collate']) * 1e3:.0f}",
            f"measured {old['bf16']['mcss_over_imp_before']:.2f}x → {old['bf16']['mcss_over_imp_after']:.2f}x (bf16) and",
            f"{old['fp32']['mcss_over_imp_before']:.2f}x → {old['fp32']['mcss_over_imp_after']:.2f}x (fp32)"]


def precision() -> list[str]:
    p = _json("precision.json")
    sps, imp = p["samples_per_s"], p["imp"]
    d = imp["bf16_minus_fp32"]
    n_dev = round(1 / abs(next(x for x in d["differences"] if x)))  # one sentence's accuracy step
    return [f"bf16 matrix products measured {p['bf16_matmul_speedup']:.1f}x as fast as fp32",
            f"a KD stage **{sps['kd_stage']['no']:.1f} → {sps['kd_stage']['bf16']:.1f} samples/s "
            f"({sps['kd_stage']['bf16'] / sps['kd_stage']['no']:.2f}x)**",
            f"EMEP candidate (evaluated every 10 steps) {sps['emep_candidate']['no']:.1f} → "
            f"{sps['emep_candidate']['bf16']:.1f} ({sps['emep_candidate']['bf16'] / sps['emep_candidate']['no']:.2f}x)",
            f"from one fp32 teacher at dev {imp['teacher_dev']:.3f}",
            f"**bf16 − fp32 = {100 * d['mean']:.2f} points, 95% CI [{signed(100 * d['low'])}, {signed(100 * d['high'])}]**",
            "differences of " + ", ".join(f"{round(x * n_dev):+d}".replace("+0", "0") for x in d["differences"][:-1])
            .replace("+", "+") + f" and {round(d['differences'][-1] * n_dev):+d}".replace("-", "−"),
            f"one sentence being {100 / n_dev:.2f} points",
            f"seed-to-seed spread of {100 * d['fp32_seed_spread']:.2f} points"]


def export() -> list[str]:
    e, e8 = _json("export.json"), _json("export-8x.json")
    mib = lambda b: f"{b / 2**20:.1f}"
    ms = lambda x: f"{x * 1e3:.1f}" if x < .1 else f"{x * 1e3:.0f}"
    lat = lambda r, b: r["latency_s"][f"batch {b}"]
    return [f"{e['prunable_export_bytes'] / 2**20:.2f} MiB exported vs {mib(e['prunable_dense_bytes'])} MiB dense",
            f"(**{e['prunable_ratio']:.3f}** of their size", f"the whole weights file {mib(e['export_bytes'])} vs "
            f"{mib(e['save_pretrained_bytes'])} MiB ({e['model_ratio']:.2f}x",
            f"max |difference| {e['max_abs_logit_diff_vs_default_attention']:.1e} here".replace("e-08", "e-8"),
            f"takes {e['load_s']['load_pruned']:.2f} s vs {e['load_s']['from_pretrained']:.2f} s",
            *[f"{ms(lat(e, b)['dense'])} → {ms(lat(e, b)['csr'])} ms ({lat(e, b)['dense'] / lat(e, b)['csr']:.2f}x" for b in (1, 32)],
            f"batch 1 {lat(e8, 1)['dense'] / lat(e8, 1)['csr']:.2f}x faster",
            f"batch 32 {ms(lat(e8, 32)['dense'])} → {ms(lat(e8, 32)['csr'])} ms "
            f"({lat(e8, 32)['dense'] / lat(e8, 32)['csr']:.2f}x"]


def scaling() -> list[str]:
    s = _json("scaling.json")
    sel, ab = s["selection"], s["ablate"]
    return [f"**{sel['one']['selection_s']:.1f} → {sel['two']['selection_s']:.1f} s, {sel['speedup']:.2f}x**",
            f"the whole command {sel['command_speedup']:.2f}x",
            f"{ab['one_s']:.1f} → {ab['two_s']:.1f} s ({ab['speedup']:.2f}x)"]


def throughput() -> list[str]:
    t = _json("throughput.json")
    return [f"runs at {t['randprune_over_bare']:.3f}x the samples/s", f"({t['randprune_over_bare_grouped']:.3f}x with length",
            f"SST-2 training {t['grouping_gain']:.2f}x faster"]


def evidence_v3() -> list[str]:
    return markdown_table(published_pairs(RESULTS/"evidence-v3")).splitlines()  # tools/evidence_table.py writes it


def oneshot() -> list[str]:
    bench = bench_module("oneshot")
    df = bench.load(RESULTS/"oneshot")
    rows = bench.markdown_table(bench.comparison(df)).splitlines()
    det = df[~df.method.str.startswith("random_")].set_index(["pattern", "method"]).dev
    said = lambda d: [f"Magnitude {d['row', 'magnitude']:.3f} and Wanda {d['row', 'wanda']:.3f} at 50% per row",
                      f"{d['2:4', 'magnitude']:.3f} and {d['2:4', 'wanda']:.3f} at 2:4"]
    rec = bench.load(RESULTS/"oneshot-recovery")
    rc = bench.comparison(rec).set_index(["pattern", "method"]).loc[("2:4", "random_magnitude")]
    rec_det = rec[~rec.method.str.startswith("random_")].set_index(["pattern", "method"]).dev
    return (rows + [line.replace("Magnitude", "magnitude") for line in said(det)]
            + bench.markdown_table(bench.comparison(rec)).splitlines() + said(rec_det)
            + [f"end {signed(rc.delta)} points [{signed(rc.low)}, {signed(rc.high)}] from magnitude's"])


CHECKS = [functools.cache(f) for f in  # cached: the last test reads them all again
          (selection_signal, evidence_cpu, evidence_v3, oneshot, emep_cost, precision, export, scaling, throughput)]


def test_readme_test_time_is_the_recorded_one():
    t = _json("make_test.json")
    assert _flat(f"set-up included, took {t['ci_seconds']} s (`benchmarks/results/make_test.json`)") in _flat(README)


@pytest.mark.parametrize("check", CHECKS, ids=lambda f: f.__wrapped__.__name__)
def test_readme_figures_are_what_the_results_files_give(check):
    missing = [p for p in map(_flat, check()) if p not in SECTION]
    assert not missing, f"README.md's Measured results lack (or state otherwise) these figures from the files: {missing}"


def test_every_decimal_in_measured_results_comes_from_a_file():
    rest = SECTION
    for check in CHECKS:
        for phrase in map(_flat, check()): rest = rest.replace(phrase, " ")
    left = [t for t in re.findall(r"(?<![\w.])[+−-]?\d+\.\d+", rest) if t.lstrip("+−-") not in SETTINGS]
    assert not left, f"decimals in README.md's Measured results that no results file gives: {left}"
