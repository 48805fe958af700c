"""Training throughput: one KD stage through randprune's `train` vs a bare PyTorch loop over the same batches, and
the gain of length-grouped batches; with --precision, fp32 vs bf16 side by side.

Both loops see the same model, teacher, 16x masks, batches (same seed, same order) and AdamW; the bare loop computes
the same distillation loss and re-applies the masks after each step, with nothing else (no Accelerate, no mask
hooks, no progress bar, no periodic evaluation). Samples/s are from one run on this machine (a ratio from one run:
these machines are noisy). `train` evaluates once at its last step (a 64-sentence validation split): counted.

    python benchmarks/throughput.py                       # SST-2 from RANDPRUNE_GLUE_DIR, the bundled MiniLM-L6
    python benchmarks/throughput.py --smoke               # a tiny random BERT on synthetic data (the test)
    python benchmarks/throughput.py --precision           # fp32 vs bf16: samples/s of a KD stage and an EMEP candidate,
                                                          # and the dev accuracy of short IMP runs (3 seeds) in both

--precision trains in both precisions whatever this CPU is (bf16 autocast; master weights, masks and AdamW states
fp32) and says what `--mixed_precision auto` picks here. Its IMP runs (2 stages, 2x then 4x, one epoch each, from a
teacher fine-tuned once in fp32) go to runs/bench-precision and resume; results: benchmarks/results/precision.json.
"""
from __future__ import annotations
import argparse, json, platform, time
from pathlib import Path

import torch

from randprune.core import bundled_minilm, derive_seed, prunable_parameters
from randprune.testing import tiny_bert
from randprune.machine import bf16_speedup, machine_info, resolve_precision
from randprune.data import DataConfig, get_task, load_glue, tokenize
from randprune.testing import synthetic_glue, tiny_tokenizer
from randprune.distill import distill_loss
from randprune.models import load_model, load_tokenizer
from randprune.sampling import sample_masks
from randprune.train import Objective, Report, TrainConfig, TrainPlan, make_loader, make_optimizer, train


def setup(smoke: bool, n: int, max_len: int):
    "Teacher, student, tokenizer, task and tokenized splits."
    task = get_task("sst2")
    if smoke:
        tok = tiny_tokenizer()
        teacher, student = (tiny_bert(attn_implementation="eager") for _ in range(2))
        return teacher.eval(), student, tok, task, tokenize(synthetic_glue("sst2", n_train=n), tok, max_len)
    path = bundled_minilm()
    tok, teacher, student = load_tokenizer(path), load_model(path, 2, pretrained=True).eval(), load_model(path, 2, pretrained=True)
    student.load_state_dict(teacher.state_dict())
    ds = load_glue(DataConfig(task="sst2", max_train_samples=n, validation_size=64, max_seq_length=max_len))
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
    train(student, data, tok, get_task("sst2"), cfg, TrainPlan(steps=steps, seed=seed), Objective("kd", teacher), masks,
          report=Report(progress=False))
    return time.perf_counter() - start


DEFAULT_OUT = Path(__file__).parent / "results" / "throughput.json"
PRECISIONS = ("no", "bf16")  # fp32, then bf16 autocast
IMP_SEEDS = (0, 1, 2)
GATE = 0.05  # the teacher and every IMP run must end at least this far above the majority class
T_95 = {2: 4.303, 3: 3.182, 4: 2.776}  # two-sided 95% t quantiles, by degrees of freedom


def speeds(a, teacher, student, tok, data, masks, initial) -> dict:
    "Samples/s of a KD stage and of an EMEP candidate (evaluated every 10 steps) in each precision."
    out = {}
    for prec in PRECISIONS:
        stage = TrainConfig(batch_size=a.batch_size, eval_every=10**9, keep_best=False, max_grad_norm=0., mixed_precision=prec)
        emep = TrainConfig(batch_size=a.batch_size, lr=2e-4, schedule="linear", eval_every=10, keep_best=False, max_grad_norm=0.,
                           mixed_precision=prec)
        for name, cfg in (("kd_stage", stage), ("emep_candidate", emep)):
            student.load_state_dict(initial)
            randprune_stage(student, teacher, data, tok, cfg, masks, 2, seed=1)  # warm-up
            student.load_state_dict(initial)
            out.setdefault(name, {})[prec] = a.steps * a.batch_size / randprune_stage(student, teacher, data, tok, cfg, masks, a.steps, seed=0)
    return out


def imp_runs(smoke: bool) -> dict:
    "Dev accuracy of short IMP runs in each precision, per seed (a teacher fine-tuned once, in fp32)."
    from randprune.pipeline import FinetuneConfig, PruneConfig, finetune, prune
    from randprune.distill import DistillConfig
    from randprune.sampling import SamplerConfig
    from randprune.selection import SelectionConfig
    from randprune.testing import tiny_run
    root = Path("runs/bench-precision" + ("-smoke" if smoke else ""))
    if smoke:
        t = tiny_run(root/"inputs")
        data, model, ft_train, n_ft = t.data, t.model, t.training, 1
        stage_data = t.data
    else:
        data = DataConfig(task="sst2", max_train_samples=5700, validation_size=300, max_seq_length=64)
        stage_data = DataConfig(task="sst2", max_train_samples=1700, validation_size=300, max_seq_length=64)
        model, ft_train, n_ft = "", TrainConfig(lr=5e-5, eval_every=100), 1
    teacher = finetune(data, ft_train, FinetuneConfig(model=model, out=str(root/"teacher"), epochs=n_ft), progress=False)
    rows = {}
    for prec in PRECISIONS:
        for seed in IMP_SEEDS:
            cfg = TrainConfig(lr=ft_train.lr if smoke else 1e-4, batch_size=ft_train.batch_size, schedule="constant", weight_decay=0.,
                              max_grad_norm=0., eval_every=ft_train.eval_every if smoke else 40, mixed_precision=prec, seed=seed)
            run = PruneConfig(teacher=str(root/"teacher"/"final"), out=str(root/f"imp-{prec}-seed{seed}"), sampler="deterministic",
                              stages=[.5, .75], warmup_epochs=0., stage_epochs=.5 if smoke else 1.)
            m = prune(stage_data, cfg, SamplerConfig(), SelectionConfig(), DistillConfig(), run, progress=False)
            rows.setdefault(prec, {})[seed] = dict(dev=m["dev"]["accuracy"], seconds=m["seconds"])
    return dict(teacher_dev=teacher["dev"]["accuracy"], runs=rows, dev_majority=m["dev_majority"])


def paired(rows: dict) -> dict:
    "bf16 - fp32 dev accuracy per seed: mean, 95% t interval, and the seed-to-seed spread of fp32 runs."
    import statistics
    d = [rows["bf16"][s]["dev"] - rows["no"][s]["dev"] for s in IMP_SEEDS]
    mean, sd = statistics.mean(d), statistics.stdev(d)
    half = T_95[len(d) - 1] * sd / len(d) ** .5
    return dict(differences=d, mean=mean, low=mean - half, high=mean + half,
                fp32_seed_spread=statistics.stdev(rows["no"][s]["dev"] for s in IMP_SEEDS))


def precision_main(a) -> dict:
    "--precision: fp32 vs bf16 on this machine."
    steps, n = (6, 128) if a.smoke else (a.steps, a.n)
    a.steps = steps
    teacher, student, tok, task, data = setup(a.smoke, n, 64)
    masks = sample_masks(prunable_parameters(student), 0.9375, method="deterministic")
    initial = {k: v.clone() for k, v in student.state_dict().items()}
    result = dict(machine=machine_info(), auto=resolve_precision("auto", announce=False), bf16_matmul_speedup=bf16_speedup(),
                  samples_per_s=speeds(a, teacher, student, tok, data, masks, initial), imp=imp_runs(a.smoke),
                  settings=dict(smoke=a.smoke, steps=steps, n=n, batch_size=a.batch_size))
    result["imp"]["bf16_minus_fp32"] = paired(result["imp"]["runs"])
    out = Path(a.out) if Path(a.out) != DEFAULT_OUT else DEFAULT_OUT.with_name("precision.json")
    out.parent.mkdir(parents=True, exist_ok=True); out.write_text(json.dumps(result, indent=1))
    print(f"{result['machine']['cpu']} ({', '.join(result['machine']['flags'])}), {result['machine']['threads']} threads: "
          f"bf16 matmul {result['bf16_matmul_speedup']:.1f}x fp32; --mixed_precision auto -> {result['auto']}")
    for name, r in result["samples_per_s"].items():
        print(f"  {name:15s} fp32 {r['no']:7.1f}  bf16 {r['bf16']:7.1f} samples/s  ({r['bf16'] / r['no']:.2f}x)")
    p = result["imp"]["bf16_minus_fp32"]
    interval = f"[{100 * p['low']:+.2f}, {100 * p['high']:+.2f}] (95% t)" if p["high"] > p["low"] else "(no spread: no interval)"
    print(f"  IMP 4x dev accuracy, bf16 - fp32 over seeds {list(IMP_SEEDS)}: {100 * p['mean']:+.2f} points {interval}; "
          f"fp32 seed-to-seed std {100 * p['fp32_seed_spread']:.2f} points")
    imp, floor = result["imp"], result["imp"]["dev_majority"] + GATE
    low = [f"{p}/seed{s}" for p, r in imp["runs"].items() for s, v in r.items() if v["dev"] < floor]
    if not a.smoke and (imp["teacher_dev"] < floor or low):
        print(f"  DEGENERATE: not a comparison: teacher {imp['teacher_dev']:.4f}, runs within {GATE} of the majority class "
              f"({imp['dev_majority']:.4f}): {low or 'none'}")
    print(f"wrote {out}")
    return result


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--smoke", action="store_true", help="tiny random BERT, synthetic data, few steps")
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--n", type=int, default=2000, help="training sentences")
    ap.add_argument("--batch_size", type=int, default=32)
    ap.add_argument("--out", default=str(DEFAULT_OUT))
    ap.add_argument("--precision", action="store_true", help="fp32 vs bf16 (speed and accuracy) instead")
    a = ap.parse_args(argv)
    if a.precision: return precision_main(a)
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
                                machine=machine_info()["cpu"], torch=torch.__version__))
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(result, indent=1))
    for k, v in rows.items(): print(f"{k:20s} {v:8.1f} samples/s")
    print(f"randprune / bare: {result['randprune_over_bare']:.3f} (random batches), {result['randprune_over_bare_grouped']:.3f} (grouped); "
          f"grouping gain: {result['grouping_gain']:.2f}x")
    return result


if __name__ == "__main__":
    main()
