"""The paper recipe on one GPU: MiniLM-L6 on MRPC, STS-B and SST-2, IMP vs MCSS + EMEP, 3 seeds, in one call.

    benchmarks/gpu/run.sh                 # on the GPU machine, with the bundle beside it (`make gpu-bundle` builds it)
    benchmarks/gpu/run.sh --smoke         # the rehearsal on CPU: a tiny random BERT on synthetic data (a CI test)

It first times the bundled model at 2:4 against dense (`sparse24.py`: semi-structured sparse kernels, fp16; a few
seconds, into `sparse24.json`), then prints the measured training samples/s, sizes each task's training subset from
it so that the batch fits `--budget_s` (the full training set where it fits, the stated subset where not), fine-tunes one dense teacher per
task, runs every (task, seed, method) with `--recipe paper` (`--parallel` runs at once on the one GPU), and ends
with the paired MCSS - IMP differences (95% t intervals) and the time ratio. The run folders go to `--work`; the
small result files (results.json, summary.txt) to `--out`.
"""
from __future__ import annotations
import argparse, json, math, os, subprocess, sys, time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch

from randprune.analysis import batch_table
from randprune.comparison import gate_failures, paired_differences
from randprune.data import DataConfig, get_task, load_glue, split_indices, tokenize
from randprune.testing import write_glue_folder
from randprune.experiment import paper_recipe
from randprune.models import load_model, load_tokenizer
from randprune.testing import tiny_run
from randprune.train import Objective, Report, TrainConfig, TrainPlan, train

sys.path.insert(0, str(Path(__file__).parent))
import sparse24  # noqa: E402  (beside this file)

ROOT = Path(__file__).resolve().parents[2]
TASKS = ("mrpc", "stsb", "sst2")
METHODS = dict(imp=["--sampler", "deterministic"], mcss=["--select", "mcss"])  # label -> its flags
TEACHER = dict(epochs=3, lr=5e-5)  # the dense teacher's fine-tuning (MiniLM-L6 has no official GLUE teacher)
EVAL_OVERHEAD = 1.3  # assumed cost of the periodic validation passes, as a factor on training time
PARALLEL_EFFICIENCY = .5  # assumed: P runs at once on one GPU give P x this x one run's samples/s
SMOKE = ["--stages", "0.5", "0.75", "--warmup_epochs", "0", "--stage_epochs", "1", "--candidates", "2", "--emep_epochs",
         "0.25", "--emep_eval_every", "2", "--score_last", "1", "--eval_every", "4", "--early_stopping", "0"]  # tiny budget
SMOKE_DATA = ["--max_seq_length", "16", "--validation_dev_multiple", "0", "--validation_size", "0.25", "--batch_size", "16",
              "--lr", "3e-3", "--mixed_precision", "no"]


def inputs(a) -> tuple[str, str]:
    "The model folder (fp32) and the GLUE folder."
    if a.smoke:
        run = tiny_run(Path(a.work)/"inputs")
        for t in a.tasks: write_glue_folder(run.data.glue_dir, t, n_train=160, n_dev=32)
        return run.model, run.data.glue_dir
    model = Path(a.work)/"model-fp32"
    if not (model/"config.json").exists():  # the bundle holds fp16 weights (half the size to carry); train in fp32
        from transformers import AutoModel
        AutoModel.from_pretrained(f"{a.bundle}/model", dtype=torch.float32).save_pretrained(model)
        load_tokenizer(f"{a.bundle}/model").save_pretrained(model)
    return str(model), f"{a.bundle}/glue"


def samples_per_s(model:str, glue:str, task:str, batch_size:int, steps:int) -> float:
    "Measured KD training samples/s of one run (a stage's loop: teacher + student, masks off)."
    t, tok = get_task(task), load_tokenizer(model)
    teacher, student = load_model(model, t.num_labels).eval(), load_model(model, t.num_labels)
    ds = tokenize(load_glue(DataConfig(task=task, glue_dir=glue, max_train_samples=batch_size * (steps + 2),
                                       validation_size=64)), tok, paper_recipe(task)["max_seq_length"])
    cfg = TrainConfig(batch_size=batch_size, eval_every=10**9, keep_best=False, mixed_precision="auto")
    kw = dict(objective=Objective("kd", teacher), report=Report(progress=False))
    train(student, ds, tok, t, cfg, TrainPlan(steps=2), **kw)  # warm-up: allocations, kernels
    start = time.perf_counter()
    train(student, ds, tok, t, cfg, TrainPlan(steps=steps), **kw)
    return steps * batch_size / (time.perf_counter() - start)


def _count(path:Path) -> int: return sum(1 for _ in path.open(encoding="utf-8")) - 1  # rows after the header


def passes(task:str, seeds:int) -> float:
    "Training passes over the training split that a task's teacher and runs make under the paper recipe (no early stop)."
    r = paper_recipe(task)
    imp = r["warmup_epochs"] + len(r["stages"]) * r["stage_epochs"]
    mcss = imp + len(r["stages"]) * r["candidates"] * r["emep_epochs"]
    return TEACHER["epochs"] + seeds * (imp + mcss)


def train_size(task:str, glue:str, budget_s:float, sps:float, seeds:int, parallel:int) -> int:
    "The largest training subset (of what the recipe's validation split leaves) whose runs fit `budget_s`; all of it if it fits."
    t, r = get_task(task), paper_recipe(task)
    full, dev = _count(Path(glue)/t.folder/"train.tsv"), _count(Path(glue)/t.folder/t.dev_file)
    rate = sps * max(1, parallel) * PARALLEL_EFFICIENCY / EVAL_OVERHEAD
    split = DataConfig(task=task, validation_dev_multiple=r["validation_dev_multiple"], validation_max_fraction=r["validation_max_fraction"])
    n = len(split_indices(split, full, dev)[0])
    while n > 200 and passes(task, seeds) * n / rate > budget_s: n = int(n * .9)
    return n


def cli(args:list, log:Path, env:dict):
    "Run `randprune ARGS` in its own process; its output to `log`; fail with the log's end."
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as f: rc = subprocess.run([sys.executable, "-m", "randprune.cli", *args], stdout=f, stderr=subprocess.STDOUT, env=env).returncode
    if rc: raise RuntimeError(f"randprune {' '.join(map(str, args))} failed ({rc}):\n{log.read_text()[-3000:]}")


def run_all(a, model:str, glue:str, sizes:dict) -> Path:
    "Teachers (one per task), then every (task, seed, method) run with the paper recipe; the batch folder."
    work, batch = Path(a.work), Path(a.work)/"batch"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           **({"OMP_NUM_THREADS": "1"} if a.parallel > 1 and not torch.cuda.is_available() else {})}
    extra, data = (SMOKE, SMOKE_DATA) if a.smoke else ([], [])
    common = lambda t: ["--task", t, "--glue_dir", glue, "--max_train_samples", str(sizes[t]), *data]
    teachers = {t: work/"teachers"/t for t in a.tasks}
    tune = lambda t: cli(["finetune", *common(t), "--model", model, "--out", teachers[t], "--epochs",
                          str(1 if a.smoke else TEACHER["epochs"]), *([] if a.smoke else ["--lr", str(TEACHER["lr"])])],
                         work/"logs"/f"teacher-{t}.log", env)
    points = [(s, t, m) for s in range(a.seeds) for t in a.tasks for m in METHODS]
    def prune(point):
        s, t, m = point
        out = batch/f"seed={s}_task={t}_method={m}"
        cli(["prune", "--recipe", "paper", *common(t), "--teacher", teachers[t]/"final", *METHODS[m], "--seed", str(s),
             "--out", out, *extra], work/"logs"/f"{out.name}.log", env)
        (out/"params.json").write_text(json.dumps(dict(labels=dict(seed=str(s), task=t, method=m)), indent=1))
    with ThreadPoolExecutor(a.parallel) as pool:
        list(pool.map(tune, a.tasks))
        list(pool.map(prune, points))
    return batch


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--smoke", action="store_true", help="tiny random BERT on synthetic data, tiny stages (CPU rehearsal)")
    ap.add_argument("--bundle", default=str(ROOT/"benchmarks"/"gpu"/"bundle"), help="the carried folder: model/ (fp16), glue/")
    ap.add_argument("--work", default="/tmp/randprune-gpu", help="run folders (large)")
    ap.add_argument("--out", default=os.environ.get("OUT", str(ROOT/"benchmarks"/"results"/"gpu")), help="result files (small)")
    ap.add_argument("--tasks", nargs="+", default=list(TASKS), choices=sorted({*TASKS, "cola", "rte"}))
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--budget_s", type=float, default=420., help="seconds the teachers and runs may take, for sizing")
    ap.add_argument("--parallel", type=int, default=6, help="runs at once (on the one GPU)")
    a = ap.parse_args(argv)
    start, device = time.perf_counter(), torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu"
    if not a.smoke and device == "cpu": sys.exit("no GPU: run with --smoke to rehearse on CPU")
    smoke = ["--smoke", "--repeats", "2", "--warmup", "1", "--batch_sizes", "2", "--seq_len", "16"]
    where = smoke if a.smoke else ["--model", str(Path(a.bundle)/"model")]
    sparse24.main(where + ["--out", str(Path(a.out)/"sparse24.json")])
    model, glue = inputs(a)
    sps = samples_per_s(model, glue, a.tasks[0], 16 if a.smoke else 64, 3 if a.smoke else 30)
    print(f"{device}: {sps:.0f} training samples/s (KD, one run, {a.tasks[0]})", flush=True)
    sizes = {t: 160 if a.smoke else train_size(t, glue, a.budget_s / len(a.tasks), sps, a.seeds, a.parallel) for t in a.tasks}
    print("training examples per task (before the validation split):", sizes, flush=True)
    df = batch_table(run_all(a, model, glue, sizes))
    paired, failures = paired_differences(df, "imp"), gate_failures(df)
    result = dict(device=device, samples_per_s=sps, train_sizes=sizes, seconds=time.perf_counter() - start,
                  settings=dict(smoke=a.smoke, seeds=a.seeds, parallel=a.parallel, budget_s=a.budget_s, torch=torch.__version__,
                                teacher=TEACHER, recipe="paper" + (" (smoke budget)" if a.smoke else "")),
                  runs=df.to_dict("records"), paired=paired.to_dict("records"), degenerate=failures)
    Path(a.out).mkdir(parents=True, exist_ok=True)
    Path(a.out, "results.json").write_text(json.dumps(result, indent=1, default=str))
    summary = f"{df.to_string(index=False)}\n\nMCSS - IMP (points, 95% t interval over seeds):\n{paired.to_string(index=False)}\n"
    Path(a.out, "summary.txt").write_text(summary)
    print(summary + f"total {result['seconds']:.0f} s")
    if failures:  # a collapsed comparison is not a result
        print("\nDEGENERATE: IMP or MCSS ended at the majority class:\n  " + "\n  ".join(failures), file=sys.stderr)
        if not a.smoke: sys.exit(1)
    return result


if __name__ == "__main__":
    main()
