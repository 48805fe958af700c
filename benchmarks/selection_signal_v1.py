"""Selection signal: does any cheap score of a candidate mask predict how good that mask ends up?

MCSS is only worth its cost if the score it ranks candidates by predicts the outcome it stands for. This benchmark
measures that directly. For each of three stages (SST-2, the bundled MiniLM-L6 distilled from a fine-tuned teacher),
it draws every candidate MCSS would (IMP's mask + randomized ensemble masks), then, from the same starting state and
with common random numbers (one data order and dropout for every candidate):

* scores it every cheap way: `zero_step` (no training), `progressive` (training loss of fresh batches) and EMEP's
  validation `metric` and `loss`, each EMEP budget at two lengths; with the seconds each took;
* trains it for the whole stage (the outcome) and evaluates it on the dev set, which no score has seen.

Per score it reports the Spearman correlation with the outcome (bootstrap 95% CI over candidates, ranks within stage),
the regret of picking by it (best candidate's outcome minus the chosen one's; chosen minus IMP's) and its cost
relative to the stage's training. Rows go to a JSONL file as they come (rerun to resume).

    python benchmarks/selection_signal_v1.py                  # about an hour on 2 cores (bf16 where it is fast)
    python benchmarks/selection_signal_v1.py --smoke          # a minute: tiny sizes, for the code path only
"""
from __future__ import annotations
import argparse, json, math, time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from randprune.core import apply_masks, prunable_parameters
from randprune.data import DataConfig, get_task, load_glue, tokenize
from randprune.files import append_jsonl, read_jsonl, write_json
from randprune.machine import machine_info, resolve_precision
from randprune.models import load_model, load_tokenizer
from randprune.pipeline import FinetuneConfig, finetune
from randprune.sampling import SamplerConfig
from randprune.selection import SelectionConfig, SelectionContext, StageState, evaluate_candidate, stage_candidate
from randprune.train import Objective, TrainConfig, evaluate, make_loader, make_optimizer, task_metrics

SCORES = ("zero_step", "progressive", "metric", "loss")  # what each candidate is scored by (the EMEP ones at each length)
BOOTSTRAP = 2000 # resamples of the candidates for the correlations' intervals
STAGE_TRAIN = dict(lr=1e-4, weight_decay=0., max_grad_norm=0., schedule="constant", eval_every=10_000, keep_best=False)
TEACHER_TRAIN = dict(lr=5e-5, eval_every=150, group_by_length=False)


def parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default="runs/selection-signal", help="work folder (teacher, rows); rerun to resume")
    p.add_argument("--results", default="benchmarks/results/selection_signal.json", help="the summary written at the end")
    p.add_argument("--teacher_train", type=int, default=8000, help="sentences the teacher is fine-tuned on")
    p.add_argument("--train", type=int, default=2000, help="sentences each stage distils on")
    p.add_argument("--validation", type=int, default=500, help="held-out sentences the scores are measured on")
    p.add_argument("--stages", type=float, nargs="+", default=[0.54, 0.83, 0.92], help="sparsity of each stage")
    p.add_argument("--candidates", type=int, default=12, help="candidates per stage, IMP's included")
    p.add_argument("--emep_steps", type=int, nargs="+", default=[8, 24], help="EMEP lengths, in steps")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--smoke", action="store_true", help="tiny sizes: the code path only, no figures to publish")
    a = p.parse_args(argv)
    if a.smoke:
        a.teacher_train, a.train, a.validation, a.candidates, a.emep_steps = 300, 200, 64, 3, [2, 4]
        a.out, a.results = a.out + "-smoke", str(Path(a.out + "-smoke")/"summary.json")
    return a


def teacher(a) -> str:
    "The dense SST-2 teacher (fine-tuned once; its validation split is the students')."
    data = DataConfig(task="sst2", max_train_samples=a.teacher_train, validation_size=a.validation, max_seq_length=64)
    run = FinetuneConfig(out=f"{a.out}/teacher", epochs=1. if a.smoke else 2.)
    metrics = finetune(data, TrainConfig(mixed_precision="auto", **TEACHER_TRAIN), run)
    print(f"teacher: dev accuracy {metrics['dev']['accuracy']:.4f}")
    return f"{a.out}/teacher/final"


def context(a, path:str) -> tuple[SelectionContext, object]:
    "The student (a copy of the teacher), its data and settings; and the dev loader (the outcome's set)."
    task, tok = get_task("sst2"), load_tokenizer(path)
    ds = tokenize(load_glue(DataConfig(task="sst2", max_train_samples=a.train, validation_size=a.validation, max_seq_length=64)), tok, 64)
    training = TrainConfig(mixed_precision=resolve_precision("auto"), seed=a.seed, **STAGE_TRAIN)
    student, t = load_model(path, task.num_labels), load_model(path, task.num_labels).eval()
    sel = SelectionConfig(candidates=a.candidates, emep_lr=2e-4, score_last=1, noise_resamples=0)
    ctx = SelectionContext(student, make_optimizer(student, training), prunable_parameters(student),
                           {"train": ds["train"], "validation": ds["validation"]}, tok, task, training, SamplerConfig(), sel,
                           a.seed, Objective("kd", t))
    return ctx, make_loader(ds["dev"], tok, training.eval_batch_size)


def scored(ctx, state, c:int, score:str, steps:int) -> dict:
    "Candidate `c` scored by `score` after `steps` EMEP steps (0: zero-step), by the library's own evaluation."
    sel = replace(ctx.selection, score=score, emep_eval_every=4 if score == "progressive" else max(steps, 1),
                  score_last=1000 if score == "progressive" else 1)
    row = evaluate_candidate(replace(ctx, selection=sel), state, c, 0, steps=steps)
    out = {score: row["score"], "seconds": row["seconds"]}
    if score == "loss":  # the same run's last evaluation also gives the metric (score_last=1: exactly what `metric` scores)
        logits = torch.tensor(row["units"]["logits"])
        out["metric"] = task_metrics(ctx.task, logits, torch.tensor(ctx.data["validation"]["labels"]))["accuracy"]
    return out


def outcome(ctx, state, c:int, dev) -> dict:
    "Candidate `c` trained for the whole stage (every candidate on the same batches): dev accuracy and loss."
    row = evaluate_candidate(ctx, state, c, 1., training=ctx.training, restore=False)
    dev_scores = evaluate(ctx.model, dev, ctx.task)
    return dict(dev_accuracy=dev_scores["accuracy"], dev_loss=dev_scores["eval_loss"], validation_accuracy=row["best"],
                train_seconds=row["seconds"], steps=row["steps"])


def candidate_row(a, ctx, state, c:int, dev) -> dict:
    "Every score of candidate `c` and its outcome."
    row, seconds = dict(stage=state.stage, sparsity=state.sparsity, candidate=c, ratio=ctx.selection.ratio(state.stage, c)), {}
    z = scored(ctx, state, c, "zero_step", 0)
    row["zero_step"], seconds["zero_step"] = z["zero_step"], z["seconds"]
    for steps in a.emep_steps:
        p, v = scored(ctx, state, c, "progressive", steps), scored(ctx, state, c, "loss", steps)
        row.update({f"progressive@{steps}": p["progressive"], f"loss@{steps}": v["loss"], f"metric@{steps}": v["metric"]})
        seconds.update({f"progressive@{steps}": p["seconds"], f"loss@{steps}": v["seconds"], f"metric@{steps}": v["seconds"]})
    row.update(outcome(ctx, state, c, dev), seconds=seconds)
    state.restore(ctx.model, ctx.optimizer)
    return row


def run(a) -> list[dict]:
    "Every stage's candidates, resumed from the rows file; stage k + 1 starts from IMP's candidate trained at stage k."
    ctx, dev = context(a, teacher(a))
    rows_file, masks = Path(a.out)/"rows.jsonl", None
    done = {(r["stage"], r["candidate"]): r for r in read_jsonl(rows_file)}
    for k, sparsity in enumerate(a.stages, 1):
        state = StageState.capture(k, sparsity, masks, ctx.model, ctx.optimizer)
        for c in range(a.candidates):
            if (k, c) in done: continue
            start = time.perf_counter()
            append_jsonl(rows_file, row := candidate_row(a, ctx, state, c, dev))
            done[(k, c)] = row
            print(f"stage {k} candidate {c}: dev {row['dev_accuracy']:.4f} ({time.perf_counter() - start:.0f} s)", flush=True)
        masks = stage_candidate(ctx, state, 0)  # the next stage starts from IMP's mask, trained for the stage (common seeds)
        evaluate_candidate(ctx, state, 0, 1., training=ctx.training, masks=masks, restore=False)
        apply_masks(ctx.model, masks)
    return [done[k] for k in sorted(done)]


def ranks(x:np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata
    return rankdata(x)


def spearman(rows:list[dict], key:str, outcome_key:str="dev_accuracy") -> float:
    "Spearman correlation of `key` with the outcome, ranks taken within each stage (stages pooled)."
    xs, ys = [], []
    for s in sorted({r["stage"] for r in rows}):
        st = [r for r in rows if r["stage"] == s]
        xs += list(ranks(np.array([r[key] for r in st]))); ys += list(ranks(np.array([r[outcome_key] for r in st])))
    if len(set(xs)) < 2 or len(set(ys)) < 2: return float("nan")
    return float(np.corrcoef(xs, ys)[0, 1])


def interval(rows:list[dict], key:str, seed:int) -> tuple[float, float]:
    "Bootstrap 95% interval of `spearman`, resampling candidates within each stage."
    g = np.random.default_rng(seed)
    by_stage = [[r for r in rows if r["stage"] == s] for s in sorted({r["stage"] for r in rows})]
    vals = [spearman([st[i] for st in by_stage for i in g.integers(len(st), size=len(st))], key) for _ in range(BOOTSTRAP)]
    vals = [v for v in vals if math.isfinite(v)]
    return (float(np.percentile(vals, 2.5)), float(np.percentile(vals, 97.5))) if vals else (float("nan"),) * 2


def regret(rows:list[dict], key:str) -> dict:
    "Per stage, the outcome of the candidate `key` picks: behind the best candidate, and ahead of IMP's (points)."
    out = {}
    for s in sorted({r["stage"] for r in rows}):
        st = [r for r in rows if r["stage"] == s]
        pick = max(st, key=lambda r: (r[key], -r["candidate"]))
        imp, best = next(r for r in st if r["candidate"] == 0), max(r["dev_accuracy"] for r in st)
        out[s] = dict(pick=pick["candidate"], vs_best=100 * (pick["dev_accuracy"] - best), vs_imp=100 * (pick["dev_accuracy"] - imp["dev_accuracy"]))
    return out


def summary(a, rows:list[dict]) -> dict:
    "Per score: Spearman with the dev outcome and its interval, regret, and the cost of scoring 4 candidates."
    keys = ["zero_step"] + [f"{s}@{n}" for n in a.emep_steps for s in ("progressive", "metric", "loss")]
    stage_train = float(np.mean([r["train_seconds"] for r in rows]))
    out = dict(benchmark="selection_signal", settings=vars(a), machine=machine_info(resolve_precision("auto")),
               candidates=len(rows), stage_train_seconds=stage_train, scores={})
    for key in keys:
        lo, hi = interval(rows, key, a.seed)
        cost = float(np.mean([r["seconds"][key] for r in rows]))
        out["scores"][key] = dict(spearman=spearman(rows, key), ci95=[lo, hi], regret=regret(rows, key), seconds=cost,
                                  overhead_4=4 * cost / stage_train)
    out["outcome_spread"] = {s: 100 * float(np.ptp([r["dev_accuracy"] for r in rows if r["stage"] == s]))
                             for s in sorted({r["stage"] for r in rows})}
    out["predictive"] = [k for k, v in out["scores"].items() if v["ci95"][0] > 0.3]
    return out


def report(s:dict):
    print(f"\n{s['candidates']} candidates; full stage training {s['stage_train_seconds']:.0f} s per candidate; "
          f"dev accuracy spread within stage (points): {s['outcome_spread']}")
    print(f"{'score':<16}{'Spearman':>9}  {'95% CI':<16}{'regret vs best':>16}{'vs IMP':>10}{'cost 4 cand.':>14}")
    for k, v in s["scores"].items():
        rb = np.mean([r["vs_best"] for r in v["regret"].values()]); ri = np.mean([r["vs_imp"] for r in v["regret"].values()])
        print(f"{k:<16}{v['spearman']:>9.2f}  [{v['ci95'][0]:+.2f}, {v['ci95'][1]:+.2f}]  {rb:>14.2f}  {ri:>8.2f}  {v['overhead_4']:>12.2f}x")
    if not s["predictive"]:
        print("\nNO SCORE PREDICTS THE OUTCOME: no Spearman 95% interval lies above 0.3 (selection by these scores is not shown to select)")
    else: print(f"\npredictive (95% interval above 0.3): {', '.join(s['predictive'])}")


def main(argv=None):
    a = parse(argv)
    rows = run(a)
    s = summary(a, rows)
    report(s)
    write_json(a.results, s)
    if not a.smoke:
        Path(a.results).with_suffix(".jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    print(f"written: {a.results}")


if __name__ == "__main__":
    main()
