"""Sampler benchmark: reference vs fast randomized-ensemble sampler vs deterministic top-k.

For every shape, stage and sampling ratio, times the three samplers in the same run on the same matrix and
current mask, and measures how far each randomized mask is from the deterministic one. Stages are nested: every
sampler prunes inside the deterministic mask of the previous stage, so all three see the same alive weights.
Weights are Gaussian (std 0.04, the scale of trained BERT-base weights): real BERT-base weights cannot be
downloaded here.

    python benchmarks/sampler.py                    # BERT-base shapes, the paper's stages and ratios
    python benchmarks/sampler.py --shapes 768x768   # one shape
"""
from __future__ import annotations
import argparse, json, platform, statistics, time
from pathlib import Path

import torch

from randprune.core import as_generator, kept_difference
from randprune.sampling import (PAPER_STAGES, REFERENCE_RATIOS, deterministic_mask, ensemble_mask,
                                n_draws, n_keep)

BERT_BASE_SHAPES = ("768x768", "3072x768", "768x3072")
WEIGHT_STD = 0.04


def timed(fn):
    "Run `fn` once; return its result and the wall time in seconds."
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def best_of(fn, repeats: int):
    "Run `fn` `repeats` times; return the last result and the fastest wall time."
    times = []
    for _ in range(repeats):
        out, t = timed(fn)
        times.append(t)
    return out, min(times)


def bench_setting(weight, mask, sparsity, ratio, seed, repeats):
    "Time deterministic, fast and reference on one matrix/stage/ratio; return a result row."
    det, t_det = best_of(lambda: deterministic_mask(weight, sparsity, mask), repeats)
    fast, t_fast = best_of(lambda: ensemble_mask(weight, sparsity, mask, ratio=ratio, seed=seed), repeats)
    ref, t_ref = timed(lambda: ensemble_mask(weight, sparsity, mask, ratio=ratio, seed=seed, implementation="reference"))
    k = n_keep(weight.numel(), sparsity)
    return dict(shape="x".join(map(str, weight.shape)), stage=sparsity, ratio=ratio, k=k,
                draws=n_draws(weight.numel(), k, ratio), t_deterministic=t_det, t_fast=t_fast, t_reference=t_ref,
                reference_over_fast=t_ref / t_fast, fast_over_deterministic=t_fast / t_det,
                differs_reference=kept_difference(ref, det), differs_fast=kept_difference(fast, det))


def run(shapes, stages, ratios, seed, repeats, progress=print):
    "All settings, stage by stage (nested inside the previous deterministic mask)."
    rows = []
    for shape in shapes:
        rows_, cols = map(int, shape.split("x"))
        weight = torch.randn(rows_, cols, generator=as_generator(seed)) * WEIGHT_STD
        mask = None
        for sparsity in stages:
            for ratio in ratios:
                row = bench_setting(weight, mask, sparsity, ratio, seed, repeats)
                rows.append(row)
                progress(format_row(row))
            mask = deterministic_mask(weight, sparsity, mask)
    return rows


HEADER = (f"{'shape':>9} {'stage':>6} {'ratio':>7} {'K':>4} {'det ms':>7} {'fast ms':>8} {'ref s':>7} "
          f"{'ref/fast':>8} {'fast/det':>8} {'diff ref':>8} {'diff fast':>9}")


def format_row(r):
    return (f"{r['shape']:>9} {r['stage']:>6g} {r['ratio']:>7g} {r['draws']:>4} {r['t_deterministic']*1e3:>7.1f} "
            f"{r['t_fast']*1e3:>8.1f} {r['t_reference']:>7.2f} {r['reference_over_fast']:>8.0f} "
            f"{r['fast_over_deterministic']:>8.2f} {r['differs_reference']:>8.4f} {r['differs_fast']:>9.4f}")


def summary(rows):
    "Medians and extremes of the ratios, and the mask statistics' agreement."
    rf = [r["reference_over_fast"] for r in rows]
    fd = [r["fast_over_deterministic"] for r in rows]
    gap = [abs(r["differs_fast"] - r["differs_reference"]) for r in rows]
    return dict(reference_over_fast_median=statistics.median(rf), reference_over_fast_min=min(rf),
                fast_over_deterministic_median=statistics.median(fd), fast_over_deterministic_max=max(fd),
                differs_abs_gap_max=max(gap), settings=len(rows))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shapes", nargs="+", default=list(BERT_BASE_SHAPES), help="ROWSxCOLS, e.g. 768x3072")
    ap.add_argument("--stages", nargs="+", type=float, default=list(PAPER_STAGES), help="sparsity per stage (nested)")
    ap.add_argument("--ratios", nargs="+", type=float, default=list(REFERENCE_RATIOS), help="sampling ratios r")
    ap.add_argument("--seed", type=int, default=0, help="seed of the weights and of the samplers")
    ap.add_argument("--repeats", type=int, default=3, help="timing repeats of the fast and deterministic samplers (best of)")
    ap.add_argument("--out", default="benchmarks/results/sampler.json", help="JSON file for the figures")
    args = ap.parse_args(argv)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {platform.processor() or platform.machine()}")
    print(HEADER)
    rows = run(args.shapes, args.stages, args.ratios, args.seed, args.repeats)
    summ = summary(rows)
    print("\n" + "\n".join(f"{k}: {v:.4g}" if isinstance(v, float) else f"{k}: {v}" for k, v in summ.items()))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(dict(args=vars(args), torch=torch.__version__, threads=torch.get_num_threads(),
                                   device="cpu", rows=rows, summary=summ), indent=1))
    print(f"wrote {out}")
    return rows


if __name__ == "__main__":
    main()
