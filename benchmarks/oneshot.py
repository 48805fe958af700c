"""One-shot pruning (issue 24): do random candidate masks chosen by reconstruction error beat the deterministic mask?

The evidence teacher (SST-2, MiniLM-L6, dev 0.865: `make quality`'s) pruned in one pass without retraining, at 50%
within each output row (Wanda's unstructured setting) and at 2:4, four ways: magnitude and Wanda (the top scores), and
each randomized (8 candidates per matrix: the top scores' mask and 7 draws with p ∝ score^5, the least reconstruction
error kept), 5 seeds of each randomized one. Calibration: 128 training sentences the teacher never trained on (drawn
from those after its 16,000; never the selection split or dev). Reported: dev accuracy (872 sentences), each
matrix's reconstruction error, seconds.

Every unit (pattern, method, seed) is one JSON file in `benchmarks/results/oneshot/`, written when it is done; a rerun
skips the recorded ones and refuses a record made with other settings or another teacher.

The recovery arm (`--recovery`, records in `benchmarks/results/oneshot-recovery/`): the same masks, then one
distillation epoch from the dense teacher on the evidence students' 3,000 training sentences (their settings: lr 1e-4,
batch 32, no weight decay or clipping, bf16), masks enforced; its dev accuracy beside the one-shot one. How much does
retraining recover, and does the randomized masks' difference survive it? A randomized unit whose masks are the
deterministic unit's (the same digest: selection kept the top scores' mask in every matrix) is not trained again: the
same masks and the same seeded training give the same model on the same machine, so it takes that unit's figures and
says so (`trained_as`).

    python benchmarks/oneshot.py --budget 20      # one piece
    python benchmarks/oneshot.py --recovery --budget 20
    python benchmarks/oneshot.py --smoke          # a tiny random BERT: the code path, under runs/ (with --recovery too)
"""
from __future__ import annotations
import argparse, json, time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from datasets import DatasetDict

from randprune.core import BERT_TARGETS, MaskSet, prunable_parameters
from randprune.data import DataConfig, get_task, load_glue, tokenize
from randprune.dist import masks_digest
from randprune.files import write_json
from randprune.machine import machine_info
from randprune.models import load_model, load_tokenizer
from randprune.oneshot import OneshotConfig, calibration_batches, oneshot_masks
from randprune.pipeline import FinetuneConfig, finetune
from randprune.testing import tiny_run
from randprune.train import Objective, Report, TrainConfig, TrainPlan, evaluate, make_loader, train
from randprune.units import Budget, check_record, progress_line, weights_digest

RESULTS = Path(__file__).parent/"results"/"oneshot"
RECOVERY_RESULTS = RESULTS.with_name("oneshot-recovery")
METHODS = {"magnitude": ("magnitude", 1), "wanda": ("wanda", 1), "random_magnitude": ("magnitude", 8),
           "random_wanda": ("wanda", 8)} # method -> (score, candidates per matrix)


@dataclass
class Settings:
    "The protocol: every record holds it, and a record made with other settings is refused."
    teacher_train:int = 16000 # the teacher's training sentences; calibration comes from those after them
    validation:int = 500 # the selection split carved first (calibration never touches it)
    calibration:int = 128 # calibration sentences
    max_seq_length:int = 64
    batch_size:int = 32
    patterns:tuple = ("row", "2:4")
    sparsity:float = .5 # of the row pattern (2:4 is 50% by construction)
    seeds:int = 5 # of each randomized method
    power:float = 5.


@dataclass
class Recovery:
    "The recovery arm: one distillation epoch after the one-shot masks (the evidence students' training settings)."
    sentences:int = 3000 # the first of the teacher's training sentences (the evidence students' 3,000)
    epochs:float = 1.
    lr:float = 1e-4
    batch_size:int = 32
    precision:str = "bf16" # fixed, as the evidence batch's (not `auto`, which a loaded machine can flip)
    seed:int = 0 # data order and dropout (the same for every unit: common random numbers)


def units(s:Settings) -> list[tuple[str, str, int]]:
    "Every (pattern, method, seed): the deterministic methods once (seed 0), the randomized ones `s.seeds` times."
    return [(p, m, k) for p in s.patterns for m, (_, c) in METHODS.items() for k in range(s.seeds if c > 1 else 1)]


def inputs(a, s:Settings, r:Recovery|None=None) -> tuple[str, object, dict, list]:
    "The teacher's folder, its tokenizer, the tokenized dev split (and `r`'s training sentences) and the calibration's."
    if a.smoke:
        t = tiny_run(Path(a.work)/"inputs")
        finetune(t.data, t.training, FinetuneConfig(model=t.model, out=str(Path(a.work)/"teacher"), epochs=2.), progress=False)
        path, data = str(Path(a.work)/"teacher"/"final"), replace(t.data, max_seq_length=s.max_seq_length)
        pool = load_glue(data)["train"]
    else:
        path = str(Path(a.teacher)/"final")
        data = DataConfig(task="sst2", validation_size=s.validation, max_seq_length=s.max_seq_length)
        pool = load_glue(data)["train"].select(range(s.teacher_train, s.teacher_train + 2000))  # never trained on
    tok, full = load_tokenizer(path), load_glue(data)
    splits = dict(train=pool, dev=full["dev"])  # train: the calibration pool
    if r: splits["students"] = full["train"].select(range(min(r.sentences, len(full["train"]))))  # the teacher's first
    ds = tokenize(DatasetDict(splits), tok, s.max_seq_length)
    return path, tok, ds, calibration_batches(ds["train"], tok, s.calibration, s.batch_size, 0)


def pruned(path:str, batches, s:Settings, pattern:str, method:str, seed:int) -> tuple:
    "The teacher pruned one-shot by `method`: the model, its masks, the per-matrix rows and the seconds it took."
    task, (score, candidates) = get_task("sst2"), METHODS[method]
    model = load_model(path, task.num_labels).eval()
    start = time.perf_counter()
    config = OneshotConfig(sparsity=s.sparsity, pattern=pattern, score=score, candidates=candidates, power=s.power, seed=seed)
    masks, rows = oneshot_masks(model, prunable_parameters(model, BERT_TARGETS), batches, config, progress=False)
    return model, masks, rows, time.perf_counter() - start


def record(path:str, tok, ds, batches, s:Settings, pattern:str, method:str, seed:int) -> dict:
    "One unit: the teacher pruned one-shot; its dev accuracy, per-matrix choices and errors, seconds."
    model, masks, rows, seconds = pruned(path, batches, s, pattern, method, seed)
    dev = evaluate(model, make_loader(ds["dev"], tok, 64), get_task("sst2"))
    return dict(pattern=pattern, method=method, seed=seed, dev=dev, seconds=seconds, matrices=rows,
                kept=1 - MaskSet(masks).sparsity)


def record_path(results:Path, pattern:str, method:str, seed:int) -> Path:
    "Where the record of unit (`pattern`, `method`, `seed`) is published."
    return results/f"{pattern.replace(':', 'of')}_{method}_seed{seed}.json"


def recovered(path:str, tok, ds, batches, s:Settings, r:Recovery, pattern:str, method:str, seed:int,
              results:Path) -> dict:
    "One unit of the recovery arm: the one-shot masks, then `r.epochs` of distillation from the dense teacher."
    task = get_task("sst2")
    model, masks, rows, seconds = pruned(path, batches, s, pattern, method, seed)
    digest = masks_digest(masks)
    unit = dict(pattern=pattern, method=method, seed=seed, seconds=seconds, matrices=rows,
                kept=1 - MaskSet(masks).sparsity, masks_sha256=digest)
    base = record_path(results, pattern, method.removeprefix("random_"), 0)
    same = json.loads(base.read_text()) if method.startswith("random_") and base.is_file() else {}
    if same.get("masks_sha256") == digest:  # the deterministic unit's masks, the same training: its model, bit for bit
        return dict(unit, dev=same["dev"], oneshot_dev=same["oneshot_dev"], train_seconds=0., trained_as=same["method"])
    dev_loader = make_loader(ds["dev"], tok, 64)
    oneshot_dev, teacher = evaluate(model, dev_loader, task), load_model(path, task.num_labels).eval()
    start = time.perf_counter()
    cfg = TrainConfig(lr=r.lr, batch_size=r.batch_size, weight_decay=0., max_grad_norm=0., mixed_precision=r.precision)
    plan = TrainPlan(epochs=r.epochs, seed=r.seed, validate=False)
    train(model, dict(train=ds["students"]), tok, task, cfg, plan, Objective("kd", teacher), masks, report=Report(progress=False))
    train_seconds, dev = time.perf_counter() - start, evaluate(model, dev_loader, task)
    return dict(unit, dev=dev, oneshot_dev=oneshot_dev, train_seconds=train_seconds)



def load(folder=RESULTS) -> "pd.DataFrame":
    "One row per unit: pattern, method, seed, dev, seconds, mean error, random wins; recovery: `oneshot_dev`, `trained_as`."
    import pandas as pd
    rows = [json.loads(f.read_text()) for f in sorted(Path(folder).glob("*.json"))]
    return pd.DataFrame([dict(pattern=r["pattern"], method=r["method"], seed=r["seed"], dev=r["dev"]["accuracy"],
                              seconds=r["seconds"], error=sum(m["error"] for m in r["matrices"]) / len(r["matrices"]),
                              random_won=sum(m["chosen"] > 0 for m in r["matrices"]), matrices=len(r["matrices"]),
                              oneshot_dev=r.get("oneshot_dev", {}).get("accuracy"), trained_as=r.get("trained_as"))
                         for r in rows]).dropna(axis=1, how="all")  # the recovery arm's columns, only there


def comparison(df) -> "pd.DataFrame":
    "Per pattern and score: each randomized method against its deterministic mask (dev points over seeds, `paired_stats`)."
    import pandas as pd
    from randprune.comparison import paired_stats
    out = []
    for (pattern, method), g in df[df.method.str.startswith("random_")].groupby(["pattern", "method"], sort=False):
        base = df[(df.pattern == pattern) & (df.method == method.removeprefix("random_"))]
        if base.empty: continue
        s = paired_stats(100 * (g.dev - base.dev.iloc[0]))
        out.append(dict(pattern=pattern, method=method, base_dev=base.dev.iloc[0], dev=g.dev.mean(), **s,
                        time_ratio=g.seconds.mean() / base.seconds.iloc[0], error=g.error.mean(), base_error=base.error.iloc[0],
                        random_won=g.random_won.mean(), matrices=int(g.matrices.iloc[0])))
    return pd.DataFrame(out)


def markdown_table(c) -> str:
    "The README's table of `comparison`."
    from randprune.comparison import interval, signed
    head = ["| pattern | method | deterministic dev | randomized dev (mean) | − deterministic (points) | 95% interval | seeds |"
            " random masks kept (of matrices) | error: randomized / deterministic | time × |", "|---|---|---|---|---|---|---|---|---|---|"]
    return "\n".join(head + [f"| {r.pattern} | {r.method} | {r.base_dev:.4f} | {r.dev:.4f} | {signed(r.delta)} | {interval(r.low, r.high)} | "
                             f"{r.seeds} | {r.random_won:.1f} of {r.matrices} | {r.error:.4f} / {r.base_error:.4f} | "
                             f"{r.time_ratio:.2f} |" for r in c.itertuples()])

def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--budget", type=float, default=0., help="minutes after which no unit starts (0 = no limit)")
    p.add_argument("--results", default="", help="where each unit's record is published (default: the arm's folder)")
    p.add_argument("--teacher", default="runs/evidence/teacher", help="the evidence teacher's run folder")
    p.add_argument("--work", default="runs/oneshot-smoke", help="--smoke: its inputs and records")
    p.add_argument("--smoke", action="store_true", help="a tiny random BERT on synthetic data: the code path only")
    p.add_argument("--recovery", action="store_true", help="the recovery arm: one distillation epoch after the masks")
    a = p.parse_args(argv)
    s = Settings(calibration=16, batch_size=8, max_seq_length=16, seeds=2) if a.smoke else Settings()
    r = (Recovery(sentences=64, batch_size=8, precision="no") if a.smoke else Recovery()) if a.recovery else None
    arm = RECOVERY_RESULTS if r else RESULTS
    smoke_results = Path(a.work)/("results-recovery" if r else "results")
    results = Path(a.results) if a.results else smoke_results if a.smoke else arm
    budget, (path, tok, ds, batches) = Budget(a.budget), inputs(a, s, r)
    identity = dict(settings=json.loads(json.dumps(asdict(s))), teacher_sha256=weights_digest(path))
    if r: identity["recovery"] = asdict(r)
    todo = units(s)
    for pattern, method, seed in todo:
        out = record_path(results, pattern, method, seed)
        if check_record(out, identity): continue
        if budget.spent: break
        unit = (recovered(path, tok, ds, batches, s, r, pattern, method, seed, results) if r else
                record(path, tok, ds, batches, s, pattern, method, seed))
        rec = dict(identity, **unit, machine=machine_info(r.precision if r else "no"),
                   recorded=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
        out.parent.mkdir(parents=True, exist_ok=True)
        write_json(out, rec)
        print(f"{pattern} {method} seed {seed}: dev {rec['dev']['accuracy']:.4f} ({rec['seconds']:.0f} s)", flush=True)
    done = sum(record_path(results, p, m, k).exists() for p, m, k in todo)
    print(progress_line(done, len(todo), "units"))
    return done

if __name__ == "__main__":
    main()
