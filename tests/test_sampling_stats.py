"""Statistical equivalence of the fast and reference randomized-ensemble samplers.

Larger than the notebook's check: nested masks, both tie rules, few and many draws. Each case compares per-weight
keep frequencies over many seeds and the mean distance from the deterministic mask. A control case with a wrong
power shows the statistics can tell samplers apart (so the equivalence checks can fail).
"""
import pytest
import torch

from randprune.core import kept_difference
from randprune.sampling import as_generator, deterministic_mask, ensemble_mask

SEEDS = 200


def stats(weight, sparsity, mask, impl, seed0, **kw):
    "Per-weight keep frequency and mean kept-difference from deterministic over SEEDS seeds."
    det = deterministic_mask(weight, sparsity, mask)
    masks = [ensemble_mask(weight, sparsity, mask, seed=seed0 + s, implementation=impl, **kw) for s in range(SEEDS)]
    freq = torch.stack(masks).double().mean(0).flatten()
    return freq, sum(kept_difference(m, det) for m in masks) / SEEDS


def correlation(a, b):
    return float(torch.corrcoef(torch.stack([a, b]))[0, 1])


@pytest.fixture(scope="module")
def weight():
    return torch.randn(64, 64, generator=as_generator(7)) * 0.04


CASES = [  # (previous sparsity, sparsity, ratio, tie_break)
    (None, 0.54, 5e-3, "magnitude"),   # K = 11 draws
    (0.54, 0.83, 1e-2, "magnitude"),   # nested, K = 34
    (0.83, 0.9375, 3e-2, "random"),    # nested, random ties, K = 115
    (None, 0.5, 1e-9, "magnitude"),    # a single draw
]


@pytest.mark.parametrize("prev,sparsity,ratio,tie_break", CASES)
def test_fast_matches_reference(weight, prev, sparsity, ratio, tie_break):
    mask = None if prev is None else deterministic_mask(weight, prev)
    f_ref, d_ref = stats(weight, sparsity, mask, "reference", 0, ratio=ratio, tie_break=tie_break)
    f_fast, d_fast = stats(weight, sparsity, mask, "fast", 10_000, ratio=ratio, tie_break=tie_break)
    alive = (mask if mask is not None else torch.ones_like(weight, dtype=torch.bool)).flatten()
    assert correlation(f_ref[alive], f_fast[alive]) > 0.98
    assert abs(d_fast - d_ref) <= 0.05 * d_ref + 2e-3, (d_ref, d_fast)
    assert (f_fast[~alive] == 0).all()


def test_statistics_detect_a_different_sampler(weight):
    "Control: power 3 instead of 5 is visibly different, so the checks above have teeth."
    _, d5 = stats(weight, 0.54, None, "reference", 0, ratio=5e-3)
    _, d3 = stats(weight, 0.54, None, "fast", 10_000, ratio=5e-3, power=3.)
    assert abs(d3 - d5) > 0.05 * d5 + 2e-3, (d5, d3)
