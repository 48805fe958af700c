"""What MCSS costs next to IMP, and what bf16 and evaluating only what the score reads save (issue 32, piece 6).

One stage of the evidence protocol (`benchmarks/evidence_cpu.yaml`): SST-2, the bundled MiniLM-L6 distilling from a
copy of itself, 16x-stage masks (54%), 94 steps of 32 sentences, 500 validation sentences evaluated every 32 steps;
MCSS adds 4 candidates (IMP's + 3 ensemble masks), each 12 EMEP steps evaluated every 4, scored on the last 2.
Measured in one process, on the same batches, in fp32 and in bf16 autocast, "before" (EMEP evaluates at every point,
in fp32, as randprune did) and "after" (only the points the score reads, in the training's precision):

* MCSS's time / IMP's time for the stage: (stage + 4 EMEP candidates) / stage;
* bf16's speed-up of a KD stage and of an EMEP candidate;
* where a KD step's time goes (collation, teacher forward, student forward, loss, backward, optimizer and masks).

    python benchmarks/emep_cost.py            # about 5 minutes on 2 cores; benchmarks/results/emep_cost.json
    python benchmarks/emep_cost.py --smoke    # a tiny random BERT, seconds: the code path only
"""
from __future__ import annotations
import argparse, contextlib, json, time
from dataclasses import replace
from pathlib import Path

import torch

from randprune.core import MaskEnforcer, bundled_minilm, derive_seed, prunable_parameters
from randprune.data import DataConfig, get_task, load_glue, tokenize
from randprune.distill import distill_loss
from randprune.machine import bf16_speedup, machine_info
from randprune.models import load_model, load_tokenizer
from randprune.sampling import SamplerConfig, sample_masks
from randprune.selection import SelectionConfig, SelectionContext, StageState, emep_training, evaluate_candidate
from randprune.testing import synthetic_glue, tiny_bert, tiny_tokenizer
from randprune.train import Objective, Report, TrainConfig, TrainPlan, make_loader, make_optimizer, train

OUT = Path(__file__).parent/"results"/"emep_cost.json"
PRECISIONS = {"fp32": "no", "bf16": "bf16"}
STAGE = dict(lr=1e-4, weight_decay=0., max_grad_norm=0., schedule="constant", eval_every=32, keep_best=False, batch_size=32)
EMEP = dict(candidates=4, ratios=[5e-5, 1e-4, 8e-5], emep_lr=2e-4, emep_eval_every=4, score_last=2, score="loss")
PHASES = ("collate", "teacher", "student", "loss", "backward", "optimizer+masks")


def setup(smoke:bool):
    "Teacher, student, tokenizer, task and tokenized splits (train, validation)."
    task = get_task("sst2")
    if smoke:
        tok = tiny_tokenizer()
        teacher, student = tiny_bert(attn_implementation="eager").eval(), tiny_bert(attn_implementation="eager")
        ds = tokenize(synthetic_glue("sst2", n_train=200), tok, 32)
    else:
        path = bundled_minilm()
        tok, teacher, student = load_tokenizer(path), load_model(path, 2, pretrained=True).eval(), load_model(path, 2, pretrained=True)
        ds = tokenize(load_glue(DataConfig(task="sst2", max_train_samples=3000, validation_size=500, max_seq_length=64)), tok, 64)
    student.load_state_dict(teacher.state_dict())
    return teacher, student, tok, task, {"train": ds["train"], "validation": ds["validation"]}


def stage_seconds(ctx:SelectionContext, masks, steps:int) -> float:
    "Seconds of one stage's training (the part IMP and MCSS share)."
    start = time.perf_counter()
    train(ctx.model, ctx.data, ctx.tokenizer, ctx.task, ctx.training, TrainPlan(steps=steps, seed=1), ctx.objective, masks,
          ctx.optimizer, Report(progress=False))
    return time.perf_counter() - start


def emep_seconds(ctx:SelectionContext, state:StageState, before:bool) -> list[float]:
    "Seconds of each candidate's EMEP: `before` evaluates at every point in fp32, else only what the score reads."
    ctx = replace(ctx, training=replace(ctx.training, eval_precision="fp32" if before else "same"))
    every = emep_training(ctx.training, ctx.selection) if before else None  # passed explicitly: evaluated at every point
    return [evaluate_candidate(ctx, state, c, 0, training=every, steps=12)["seconds"] for c in range(ctx.selection.candidates)]


def phases(ctx:SelectionContext, masks, precision:str, steps:int) -> dict:
    "Mean seconds per KD step in each phase (synchronous on the CPU, so wall-clock stamps split it)."
    loader = make_loader(ctx.data["train"], ctx.tokenizer, ctx.training.batch_size, derive_seed(0, "order"), True)
    cast = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if precision == "bf16" else contextlib.nullcontext
    model, teacher, opt, total = ctx.model, ctx.objective.teacher, ctx.optimizer, dict.fromkeys(PHASES, 0.)
    model.train()
    with MaskEnforcer(model, masks, opt):
        batches = iter(loader)
        for k in range(steps + 1):  # the first is a warm-up
            t = [time.perf_counter()]
            batch = next(batches); t.append(time.perf_counter())
            with cast():
                with torch.no_grad(): out_t = teacher(**{k_: v for k_, v in batch.items() if k_ != "labels"}, output_attentions=True,
                                                      output_hidden_states=True)
                t.append(time.perf_counter())
                out = model(**batch, output_attentions=True, output_hidden_states=True); t.append(time.perf_counter())
                loss = distill_loss(out, out_t, batch["labels"])[0]; t.append(time.perf_counter())
            loss.backward(); t.append(time.perf_counter())
            opt.step(); opt.zero_grad(); t.append(time.perf_counter())
            if k: total = {p: total[p] + t[i + 1] - t[i] for i, p in enumerate(PHASES)}
    return {p: v / steps for p, v in total.items()}


def measure(a, precision:str, parts) -> dict:
    "Every figure of one precision, from the same starting state."
    teacher, student, tok, task, data = parts
    training = TrainConfig(mixed_precision=PRECISIONS[precision], **STAGE)
    ctx = SelectionContext(student, make_optimizer(student, training), prunable_parameters(student), data, tok, task, training,
                           SamplerConfig(), SelectionConfig(**EMEP), seed=0, objective=Objective("kd", teacher))
    state = StageState.capture(1, 0.54, None, student, ctx.optimizer)
    masks = sample_masks(ctx.params, 0.54, None, "deterministic")
    emep_seconds(ctx, state, before=False)  # warm-up: allocations, kernels
    out = dict(emep_before=emep_seconds(ctx, state, before=True), emep_after=emep_seconds(ctx, state, before=False))
    state.restore(student, ctx.optimizer)
    out["stage"] = stage_seconds(ctx, masks, a.steps)
    state.restore(student, ctx.optimizer)
    out["phases"] = phases(ctx, masks, precision, a.phase_steps)
    state.restore(student, ctx.optimizer)
    for when in ("before", "after"): out[f"mcss_over_imp_{when}"] = (out["stage"] + sum(out[f"emep_{when}"])) / out["stage"]
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--smoke", action="store_true", help="a tiny random BERT on synthetic data: the code path only")
    ap.add_argument("--steps", type=int, default=94, help="steps of the stage's training (the evidence protocol: 94)")
    ap.add_argument("--phase_steps", type=int, default=8, help="KD steps profiled phase by phase")
    ap.add_argument("--out", default="", help=f"the JSON written (default: {OUT}; with --smoke runs/emep_cost-smoke.json)")
    a = ap.parse_args(argv)
    if a.smoke: a.steps, a.phase_steps = 8, 2
    a.out = a.out or str(Path("runs")/"emep_cost-smoke.json" if a.smoke else OUT)
    parts = setup(a.smoke)
    rows = {p: measure(a, p, parts) for p in PRECISIONS}
    f, b = rows["fp32"], rows["bf16"]
    result = dict(benchmark="emep_cost", machine=machine_info(), threads=torch.get_num_threads(), bf16_matmul_speedup=bf16_speedup(),
                  settings=dict(vars(a), stage=STAGE, emep=EMEP), precisions=rows,
                  bf16_speedup=dict(stage=f["stage"] / b["stage"], emep_before=sum(f["emep_before"]) / sum(b["emep_before"]),
                                    emep_after=sum(f["emep_after"]) / sum(b["emep_after"]),
                                    emep_fp32_before_over_bf16_after=sum(f["emep_before"]) / sum(b["emep_after"])))
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(result, indent=1))
    m = result["machine"]
    print(f"{m['cpu']} ({', '.join(m['flags'])}), {result['threads']} threads; bf16 matmul {result['bf16_matmul_speedup']:.1f}x fp32")
    for p, r in rows.items():
        print(f"{p}: stage {r['stage']:.1f} s; 4 EMEP candidates {sum(r['emep_before']):.1f} s before, {sum(r['emep_after']):.1f} s after; "
              f"MCSS / IMP {r['mcss_over_imp_before']:.2f}x before, {r['mcss_over_imp_after']:.2f}x after")
        print("   KD step: " + ", ".join(f"{k} {1000 * v:.0f} ms" for k, v in r["phases"].items()))
    s = result["bf16_speedup"]
    print(f"bf16 / fp32 speed-up: stage {s['stage']:.2f}x, EMEP {s['emep_before']:.2f}x before, {s['emep_after']:.2f}x after "
          f"(fp32 before -> bf16 after: {s['emep_fp32_before_over_bf16_after']:.2f}x)")
    if not a.smoke and min(s["stage"], s["emep_after"]) < 1: print("NOTE: bf16 is not faster than fp32 here (a CPU without fast bf16 arithmetic?)")
    print(f"wrote {a.out}")
    return result


if __name__ == "__main__":
    main()
