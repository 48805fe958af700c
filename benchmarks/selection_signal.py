"""Selection signal (issue 33): does any cheap score of a candidate mask predict the outcome it stands for?

MCSS trusts that a short, high-learning-rate training run (EMEP) ranks candidate masks the way full training would.
This measures it. SST-2, the bundled MiniLM-L6 distilling from the evidence teacher (`make quality`'s: 16,000
sentences, gate dev accuracy >= 0.85), students on 3,000 sentences, the 500-sentence selection split carved from the
whole training file (disjoint from every training set, the teacher's included). At stages 1 and 3 of the 16x schedule
(54% and 92%; stage 3 starts from IMP through stages 1 and 2), 12 candidates: IMP's mask, 6 ensemble masks at the
reference ratios, 5 at ratios scaled so each matrix gets as many ensemble draws K as the same matrix of BERT-base.
For every candidate, from the stage's starting state and with common random numbers (one data order and dropout for
all candidates):

* its scores: `zero_step`; EMEP at the recipe's length (one epoch) and a quarter of it, each giving `metric`
  (accuracy), `loss` (minus the validation loss), both the mean of the last `score_last` evaluations, and
  `progressive` (minus the training loss of its last `score_last x emep_eval_every` steps, no validation needed);
* its outcome: the candidate trained for the whole stage, then its accuracy on 2,000 held-out training sentences
  that no model trained on and nothing selects on, and on the dev set (reported, never used); and again under a
  second training seed (is there a real difference to find?).

Each candidate's record is one JSON file in `benchmarks/results/selection-signal/stage-S/`, written the moment it is
done; a rerun skips the recorded ones (and refuses records made with other settings, another teacher, or another
starting state for the stage). `--budget MINUTES` starts no candidate after that long.

    python benchmarks/selection_signal.py --stages 1 --budget 40     # one piece (a stage is about 30 minutes here)
    python benchmarks/selection_signal.py --smoke                    # a tiny random BERT: the code path, under runs/
"""
from __future__ import annotations
import argparse, json, time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from datasets import DatasetDict

from randprune.core import apply_masks, kept_difference, derive_seed, prunable_parameters
from randprune.data import DataConfig, get_task, load_glue, tokenize
from randprune.dist import masks_digest
from randprune.files import write_json
from randprune.machine import machine_info, resolve_precision
from randprune.models import load_model, load_tokenizer
from randprune.pipeline import FinetuneConfig, finetune
from randprune.sampling import REFERENCE_RATIOS, SamplerConfig, n_draws, n_keep, sample_masks
from randprune.selection import (SelectionConfig, SelectionContext, StageState, candidate_masks, emep_training,
                                 evaluate_candidate)
from randprune.testing import tiny_run
from randprune.train import Objective, Report, TrainConfig, TrainPlan, evaluate, make_loader, make_optimizer, train
from randprune.units import Budget, check_record, progress_line, weights_digest

SCHEDULE = (0.54, 0.83, 0.92, 0.9375)  # the paper's 16x stages
RESULTS = Path(__file__).parent/"results"/"selection-signal"
BERT_BASE_HIDDEN = 768  # the paper's model: its matrices are (768/hidden)^2 times larger than the same ones here
TEACHER_MIN = 0.85  # the evidence teacher's gate (dev accuracy)


@dataclass
class Settings:
    "The protocol: every record holds it, and a record made with other settings is refused."
    teacher_train:int = 16000 # the teacher's training sentences (the first of what the selection split leaves)
    train:int = 3000 # the students' (the first 3,000 of the teacher's)
    validation:int = 500 # the selection split every score is measured on
    held_out:int = 2000 # outcome sentences: after the teacher's, so nothing trained or selected on them
    max_seq_length:int = 64
    batch_size:int = 32
    lr:float = 1e-4 # a stage's distillation (constant, no decay, no clipping: the evidence protocol)
    emep_lr:float = 2e-4 # EMEP (linear, 10% warm-up: the recipe)
    emep_eval_every:int = 8
    score_last:int = 4
    emep_epochs:tuple = (1., 0.25) # the recipe's EMEP length and a quarter of it
    candidates:int = 12 # IMP's + randomized
    reference_candidates:int = 6 # of the randomized: at the reference ratios (the rest at BERT-base-equivalent ones)
    zero_step_batches:int = 4
    seed:int = 0


def ratios(s:Settings, hidden:int) -> list[float]:
    "Candidate c's ratio is entry c - 1: the reference ratios, cycled, then the same ratios scaled to BERT-base's K."
    scale = (BERT_BASE_HIDDEN / hidden) ** 2
    ref = [REFERENCE_RATIOS[k % len(REFERENCE_RATIOS)] for k in range(s.reference_candidates)]
    scaled = range(s.candidates - 1 - s.reference_candidates)
    return ref + [REFERENCE_RATIOS[k % len(REFERENCE_RATIOS)] * scale for k in scaled]


def teacher(a, s:Settings) -> str:
    "The evidence teacher (fine-tuned once, as `make quality` does), gated; its folder."
    if a.smoke:
        t = tiny_run(Path(a.work)/"inputs")
        out = str(Path(a.work)/"teacher")
        finetune(t.data, t.training, FinetuneConfig(model=t.model, out=out, epochs=2.), progress=False)
        return str(Path(a.work)/"teacher"/"final")
    data = DataConfig(task="sst2", max_train_samples=s.teacher_train, validation_size=s.validation,
                      max_seq_length=s.max_seq_length)
    training = TrainConfig(lr=5e-5, eval_every=150, group_by_length=False)
    m = finetune(data, training, FinetuneConfig(out=a.teacher, epochs=2.))
    if m["dev"]["accuracy"] < TEACHER_MIN:
        raise SystemExit(f"the teacher's dev accuracy {m['dev']['accuracy']:.4f} is below the gate {TEACHER_MIN}: "
                         "not a benchmark")
    return str(Path(a.teacher)/"final")


def splits(a, s:Settings, tok) -> dict:
    "Tokenized train, validation (selection), held-out (outcome) and dev splits."
    if a.smoke:
        t = tiny_run(Path(a.work)/"inputs")
        ds = load_glue(t.data)
        held = ds["dev"]
    else:
        cfg = DataConfig(task="sst2", max_train_samples=s.train, validation_size=s.validation,
                         max_seq_length=s.max_seq_length)
        ds = load_glue(cfg)
        full = load_glue(replace(cfg, max_train_samples=0))  # every sentence the selection split leaves
        assert ds["validation"]["text_a"] == full["validation"]["text_a"]
        held = full["train"].select(range(s.teacher_train, s.teacher_train + s.held_out))  # after the teacher's
    parts = DatasetDict(train=ds["train"], validation=ds["validation"], held_out=held, dev=ds["dev"])
    return tokenize(parts, tok, s.max_seq_length)


def context(a, s:Settings, path:str) -> tuple[SelectionContext, dict]:
    "The student (a copy of the teacher) and its settings; every split."
    task, tok = get_task("sst2"), load_tokenizer(path)
    ds = splits(a, s, tok)
    training = TrainConfig(lr=s.lr, batch_size=s.batch_size, weight_decay=0., max_grad_norm=0., schedule="constant",
                           keep_best=False,
                           eval_every=10**9, mixed_precision=resolve_precision("auto"), seed=s.seed)
    student, t = load_model(path, task.num_labels), load_model(path, task.num_labels).eval()
    sel = SelectionConfig(candidates=s.candidates, ratios=ratios(s, student.config.hidden_size), emep_lr=s.emep_lr,
                          emep_eval_every=s.emep_eval_every, score_last=s.score_last,
                          zero_step_batches=s.zero_step_batches,
                          score="zero_step", noise_resamples=0)
    ctx = SelectionContext(student, make_optimizer(student, training), prunable_parameters(student),
                           {"train": ds["train"], "validation": ds["validation"]}, tok, task, training, SamplerConfig(),
                           sel,
                           s.seed, Objective("kd", t))
    return ctx, ds


def train_stage(ctx:SelectionContext, masks, stage:int, seed_key:str="step"):
    "Distil the masked model for one epoch of the stage (the pipeline's stage training; no validation)."
    apply_masks(ctx.model, masks)
    plan = TrainPlan(epochs=1., seed=derive_seed(ctx.seed, seed_key, stage), validate=False)
    train(ctx.model, ctx.data, ctx.tokenizer, ctx.task, ctx.training, plan, ctx.objective, masks, ctx.optimizer,
          Report(progress=False))


def start_state(ctx:SelectionContext, stage:int) -> StageState:
    "The stage's starting point: IMP through the stages before it, each trained for its epoch."
    masks = None
    for k in range(1, stage):
        masks = sample_masks(ctx.params, SCHEDULE[k - 1], masks, "deterministic")
        train_stage(ctx, masks, k)
    return StageState.capture(stage, SCHEDULE[stage - 1], masks, ctx.model, ctx.optimizer)


def emep(ctx:SelectionContext, state:StageState, masks, epochs:float) -> dict:
    "One EMEP run of a candidate (the seed every candidate shares): its metric, loss and progressive scores."
    start, sel = time.perf_counter(), ctx.selection
    state.restore(ctx.model, ctx.optimizer)
    apply_masks(ctx.model, masks)
    plan = TrainPlan(epochs=epochs, seed=derive_seed(ctx.seed, "candidate-train", state.stage), eval_last=sel.score_last)
    res = train(ctx.model, ctx.data, ctx.tokenizer, ctx.task, emep_training(ctx.training, sel), plan, ctx.objective,
                masks, ctx.optimizer, Report(progress=False))
    last, logits = res.history[-sel.score_last:], res.last[0]
    labels = torch.tensor(ctx.data["validation"]["labels"])
    losses = res.losses[-sel.score_last * sel.emep_eval_every:]
    per_example = np.round(F.cross_entropy(logits, labels, reduction="none").numpy(), 5)
    units = dict(correct=(logits.argmax(-1) == labels).int().tolist(),  # the paired noise's resampling units
                 loss=per_example.tolist(), train_loss=losses)
    return dict(metric=float(np.mean([h["accuracy"] for h in last])),
                loss=-float(np.mean([h["eval_loss"] for h in last])),
                progressive=-float(np.mean(losses)), steps=res.steps, seconds=time.perf_counter() - start, units=units)


def outcome(ctx:SelectionContext, state:StageState, masks, ds:dict, seed_key:str) -> dict:
    "The candidate trained for the whole stage: its held-out and dev accuracy."
    start = time.perf_counter()
    state.restore(ctx.model, ctx.optimizer)
    train_stage(ctx, masks, state.stage, seed_key)
    loader = lambda split: make_loader(ds[split], ctx.tokenizer, ctx.training.eval_batch_size)
    acc = lambda split: evaluate(ctx.model, loader(split), ctx.task)["accuracy"]
    return dict(held_out=acc("held_out"), dev=acc("dev"), seconds=time.perf_counter() - start)


def candidate_record(s:Settings, ctx:SelectionContext, ds:dict, state:StageState, c:int) -> dict:
    "Every score of candidate `c` at the stage of `state`, its outcome under two seeds, and what it is."
    state.restore(ctx.model, ctx.optimizer)
    weights = {n: state.weights[n] for n in ctx.params}
    masks = candidate_masks(weights, state.sparsity, state.masks, ctx.sampler, ctx.selection, state.stage, c, ctx.seed)
    imp = sample_masks(weights, state.sparsity, state.masks, "deterministic")
    ratio = ctx.selection.ratio(state.stage, c)
    draws = None if ratio is None else float(np.mean([n_draws(w.numel(), n_keep(w.numel(), state.sparsity), ratio)
                                                      for w in weights.values()]))
    kind = "imp" if c == 0 else "reference" if c <= s.reference_candidates else "scaled"
    zero = evaluate_candidate(ctx, state, c, 0, masks=masks)
    runs = {f"{e:g}": emep(ctx, state, masks, e) for e in s.emep_epochs}  # EMEP length (epochs) -> its scores
    emeps = {f"{k}@{e}": r[k] for e, r in runs.items() for k in ("metric", "loss", "progressive")}
    scores = dict(zero_step=zero["score"], **emeps)
    seconds = dict(zero_step=zero["seconds"], **{f"emep@{e}": r["seconds"] for e, r in runs.items()})
    first, second = outcome(ctx, state, masks, ds, "step"), outcome(ctx, state, masks, ds, "step-repeat")
    seconds.update(outcome=first["seconds"], outcome_repeat=second["seconds"])
    state.restore(ctx.model, ctx.optimizer)
    return dict(stage=state.stage, sparsity=state.sparsity, candidate=c, kind=kind, ratio=ratio, draws=draws,
                differs=kept_difference(masks, imp), scores=scores, emep_steps={e: r["steps"] for e, r in runs.items()},
                units=dict(zero_step=zero["units"]["values"], **{f"emep@{e}": r["units"] for e, r in runs.items()}),
                held_out=first["held_out"], dev=first["dev"], held_out_repeat=second["held_out"],
                dev_repeat=second["dev"],
                seconds=seconds)


def run_stage(a, s:Settings, ctx:SelectionContext, ds:dict, initial:StageState, stage:int, identity:dict,
              budget:Budget) -> int:
    "Record stage `stage`'s candidates that are not recorded yet, until the budget is spent; how many are recorded."
    folder = Path(a.results)/f"stage-{stage}"
    paths = [folder/f"candidate-{c:02d}.json" for c in range(s.candidates)]
    if all(p.exists() for p in paths) and all(check_record(p, identity) for p in paths): return len(paths)
    initial.restore(ctx.model, ctx.optimizer)
    state = start_state(ctx, stage)
    identity = dict(identity, start_sha256=masks_digest(state.weights))
    for c, path in enumerate(paths):
        if check_record(path, identity) or budget.spent: continue
        start = time.perf_counter()
        rec = dict(identity, **candidate_record(s, ctx, ds, state, c),
                   machine=machine_info(ctx.training.mixed_precision),
                   recorded=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json(path, rec)
        print(f"stage {stage} candidate {c} ({rec['kind']}): held-out {rec['held_out']:.4f}, dev {rec['dev']:.4f}, "
              f"differs {rec['differs']:.3f} ({time.perf_counter() - start:.0f} s)", flush=True)
    return sum(p.exists() for p in paths)


def parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--stages", type=int, nargs="+", default=[1, 3], help="stages of the 16x schedule (1-based)")
    p.add_argument("--budget", type=float, default=0., help="minutes after which no candidate starts (0 = no limit)")
    p.add_argument("--results", default=str(RESULTS), help="where each candidate's record is published")
    p.add_argument("--teacher", default="runs/evidence/teacher", help="the evidence teacher's folder (made if missing)")
    p.add_argument("--work", default="runs/selection-signal-smoke", help="--smoke: its inputs and records")
    p.add_argument("--smoke", action="store_true", help="a tiny random BERT on synthetic data: the code path only")
    a = p.parse_args(argv)
    if a.smoke and a.results == str(RESULTS): a.results = str(Path(a.work)/"results")
    return a


def main(argv=None) -> int:
    a = parse(argv)
    budget = Budget(a.budget)
    s = Settings(candidates=3, reference_candidates=1, emep_eval_every=2, score_last=2, batch_size=16,
                 max_seq_length=16,
                 zero_step_batches=1) if a.smoke else Settings()
    path = teacher(a, s)
    ctx, ds = context(a, s, path)
    identity = dict(settings=json.loads(json.dumps(asdict(s))), teacher_sha256=weights_digest(path),
                    precision=ctx.training.mixed_precision)
    initial = StageState.capture(0, 0., None, ctx.model, ctx.optimizer)
    done = sum(run_stage(a, s, ctx, ds, initial, k, identity, budget) for k in a.stages)
    print(progress_line(done, s.candidates * len(a.stages), "candidates"))
    return done


if __name__ == "__main__":
    main()
