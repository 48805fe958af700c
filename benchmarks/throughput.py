"""Training throughput: one KD stage through randprune's `train` vs a bare PyTorch loop over the same batches, and
the gain of length-grouped batches.

Both loops see the same model, teacher, 16x masks, batches (same seed, same order) and AdamW; the bare loop computes
the same distillation loss and re-applies the masks after each step, with nothing else (no Accelerate, no mask
hooks, no progress bar, no periodic evaluation). Samples/s are from one run on this machine (a ratio from one run:
these machines are noisy). `train` evaluates once at its last step (a 64-sentence validation split): counted.

    python benchmarks/throughput.py                       # SST-2 from RANDPRUNE_GLUE_DIR, the bundled MiniLM-L6
    python benchmarks/throughput.py --smoke               # a tiny random BERT on synthetic data (the test)
"""
from __future__ import annotations
import argparse, json, platform, time
from pathlib import Path

import torch

from randprune.core import bundled_minilm, derive_seed, prunable_parameters, tiny_bert
from randprune.data import DataConfig, get_task, load_glue, synthetic_glue, tiny_tokenizer, tokenize
from randprune.distill import distill_loss
from randprune.runs import load_model, load_tokenizer
from randprune.sampling import sample_masks
from randprune.train import Objective, TrainConfig, make_loader, make_optimizer, train


def setup(smoke: bool, n: int, max_len: int):
    "Teacher, student, tokenizer, task and tokenized splits."
    task = get_task("sst2")
    if smoke:
        tok = tiny_tokenizer()
        teacher, student = (tiny_bert(attn_implementation="eager") for _ in range(2))
        return teacher.eval(), student, tok, task, tokenize(synthetic_glue("sst2", n_train=n), tok, max_len)
    path = bundled_minilm()
    tok, teacher, student = load_tokenizer(path), load_model(path, 2).eval(), load_model(path, 2)
    student.load_state_dict(teacher.state_dict())
    ds = load_glue(DataConfig(task="sst2", max_train_samples=n + 64, validation_size=64, max_seq_length=max_len))
    return teacher, student, tok, task, tokenize(ds, tok, max_len)


def bare_loop(student, teacher, data, tok, cfg: TrainConfig, masks, steps: int, seed: int) -> float:
    "Seconds for `steps` plain KD steps over `train`'s batches."
    loader = make_loader(data["train"], tok, cfg.batch_size, derive_seed(seed, "order"), cfg.group_by_length)
    opt, params = make_optimizer(student, cfg), dict(student.named_parameters())
    start, step = time.perf_counter(), 0
    while step < steps:
        for batch in loader:
            out = student(**batch, output_attentions=True, output_hidden_states=True)
            with torch.no_grad():
                t = teacher(**{k: v for k, v in batch.items() if k != "labels"}, output_attentions=True, output_hidden_states=True)
            distill_loss(out, t, batch["labels"])[0].backward()
            opt.step(); opt.zero_grad()
            with torch.no_grad():
                for n, m in masks.items(): params[n].mul_(m)
            step += 1
            if step == steps: break
    return time.perf_counter() - start


def randprune_stage(student, teacher, data, tok, cfg: TrainConfig, masks, steps: int, seed: int) -> float:
    "Seconds for `steps` KD steps through `randprune.train.train`."
    start = time.perf_counter()
    train(student, data, tok, get_task("sst2"), cfg, steps=steps, seed=seed, objective=Objective("kd", teacher), masks=masks, progress=False)
    return time.perf_counter() - start


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--smoke", action="store_true", help="tiny random BERT, synthetic data, few steps")
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--n", type=int, default=2000, help="training sentences")
    ap.add_argument("--batch_size", type=int, default=32)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "throughput.json"))
    a = ap.parse_args(argv)
    steps, n = (6, 128) if a.smoke else (a.steps, a.n)
    teacher, student, tok, task, data = setup(a.smoke, n, 64)
    masks = sample_masks(prunable_parameters(student), 0.9375, method="deterministic")
    initial = {k: v.clone() for k, v in student.state_dict().items()}
    rows = {}
    for grouped in (False, True):
        cfg = TrainConfig(batch_size=a.batch_size, eval_every=10**9, keep_best=False, group_by_length=grouped, max_grad_norm=0.)
        for name, fn in (("randprune", randprune_stage), ("bare", bare_loop)):
            student.load_state_dict(initial)
            fn(student, teacher, data, tok, cfg, masks, 2, seed=1)  # warm-up (allocations, kernels)
            student.load_state_dict(initial)
            rows[f"{name}{'_grouped' if grouped else ''}"] = steps * a.batch_size / fn(student, teacher, data, tok, cfg, masks, steps, seed=0)
    result = dict(samples_per_s=rows, randprune_over_bare=rows["randprune"] / rows["bare"],
                  randprune_over_bare_grouped=rows["randprune_grouped"] / rows["bare_grouped"],
                  grouping_gain=rows["randprune_grouped"] / rows["randprune"],
                  settings=dict(smoke=a.smoke, steps=steps, n=n, batch_size=a.batch_size, threads=torch.get_num_threads(),
                                machine=platform.processor() or platform.machine(), torch=torch.__version__))
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(result, indent=1))
    for k, v in rows.items(): print(f"{k:20s} {v:8.1f} samples/s")
    print(f"randprune / bare: {result['randprune_over_bare']:.3f} (random batches), {result['randprune_over_bare_grouped']:.3f} (grouped); "
          f"grouping gain: {result['grouping_gain']:.2f}x")
    return result


if __name__ == "__main__":
    main()
