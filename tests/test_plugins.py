"""Plug-ins (issues 19, 32): a sampler installed outside the package -- a module and a dist-info with an entry point in the
group `randprune.samplers`, as `pip install` leaves them -- runs through `randprune prune`, MCSS's candidates, the
Trainer callback and `randprune masks` without editing a module, its settings part of the run's identity; a selection
score and a rule installed the same way (`randprune.scores`, `randprune.rules`) run through MCSS's EMEP and `full`; a
selection mode (`randprune.selections`) runs through `randprune prune` and the Trainer callback (issue 31)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import STAGES, TRAIN

pytestmark = pytest.mark.slow  # every test here trains a tiny model end to end

TOY = '''
from dataclasses import dataclass
import torch
from randprune.sampling import Sampler

@dataclass
class ToySettings:
    sharpness: float = 1.0  # p ∝ |w|^sharpness

class Toy(Sampler):
    "k weights drawn without replacement with p ∝ |w|^sharpness (a toy)."
    name, Settings = "toy", ToySettings
    def compute_mask(self, weight, keep, mask, generator):
        out = torch.zeros(weight.numel(), dtype=torch.bool)
        if keep:
            p = weight.detach().abs().flatten().double() ** self.settings.sharpness * mask.flatten()
            out[torch.multinomial(p, keep, replacement=False, generator=generator)] = True
        return out.view(weight.shape)
'''

SELECTION = '''
from randprune.scores import Rule, Score
from randprune.strategies import Emep

class Quick(Emep):
    "EMEP at half the budget (a toy mode)."
    name = "quick"
    def score(self, candidate, **kw):
        return self.evaluate(self.ctx, self.state, candidate, self.ctx.selection.emep_epochs / 2, **kw)

class Blend(Score):
    "Accuracy minus the validation loss, plus 1000 (a toy that reads two fields, and shows in the log)."
    name = "blend"
    def value(self, row, task): return 1000 + row["accuracy"] - row["eval_loss"]

class Last(Rule):
    "The highest-numbered candidate (a toy)."
    name = "last"
    def choose(self, rows): return max(r["candidate"] for r in rows)
'''

CALLBACK = '''
import sys, torch
from transformers import DataCollatorWithPadding, Trainer, TrainingArguments
from randprune.callback import CallbackConfig, RandPruneCallback
from randprune.core import prunable_parameters
from randprune.data import tokenize
from randprune.sampling import SamplerConfig
from randprune.testing import synthetic_glue, tiny_bert, tiny_tokenizer
ds = tokenize(synthetic_glue("sst2", n_train=64), tiny_tokenizer(), 16)
cb = RandPruneCallback(CallbackConfig(stages=[.5, .75], stage_steps=3, sampler="toy"),
                       sampler=SamplerConfig(options={"toy": {"sharpness": 2.0}}))
args = TrainingArguments(sys.argv[1], max_steps=8, per_device_train_batch_size=8, learning_rate=3e-3, save_strategy="no",
                         logging_strategy="no", report_to=[], use_cpu=True, seed=0, disable_tqdm=True)
trainer = Trainer(model=tiny_bert(), args=args, train_dataset=ds["train"], callbacks=[cb],
                  data_collator=DataCollatorWithPadding(tiny_tokenizer()))
trainer.train()
weights = prunable_parameters(trainer.model)
assert [h["stage"] for h in cb.history] == [1, 2], cb.history
assert abs(cb.masks.sparsity - .75) < 1e-2 and all(bool((w[~cb.masks[n]] == 0).all()) for n, w in weights.items())
print("callback ok")
'''

CALLBACK_MODE = '''
import sys
from transformers import DataCollatorWithPadding, Trainer, TrainingArguments
from randprune.callback import CallbackConfig, RandPruneCallback
from randprune.data import tokenize
from randprune.selection import SelectionConfig
from randprune.testing import synthetic_glue, tiny_bert, tiny_tokenizer
ds = tokenize(synthetic_glue("sst2", n_train=64), tiny_tokenizer(), 16)
sel = SelectionConfig(candidates=3, selection=sys.argv[2], emep_epochs=.5, emep_eval_every=1, score_last=1, score="loss")
cb = RandPruneCallback(CallbackConfig(stages=[.5], warmup_steps=1, select="mcss"), selection=sel)
args = TrainingArguments(sys.argv[1], max_steps=2, per_device_train_batch_size=8, learning_rate=3e-3, save_strategy="no",
                         logging_strategy="no", report_to=[], use_cpu=True, seed=0, disable_tqdm=True)
trainer = cb.attach(Trainer(model=tiny_bert(), args=args, train_dataset=ds["train"],
                            data_collator=DataCollatorWithPadding(tiny_tokenizer())), selection_data=ds["validation"])
trainer.train()
print("steps", [r["steps"] for r in cb.candidates])
'''


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict:
    "An environment in which the toy sampler is installed (its module and its entry point on the path)."
    site = tmp_path_factory.mktemp("site")
    (site/"toy_sampler.py").write_text(TOY)
    info = site/"toy_sampler-0.1.dist-info"
    info.mkdir()
    (info/"METADATA").write_text("Metadata-Version: 2.1\nName: toy-sampler\nVersion: 0.1\n")
    (site/"toy_selection.py").write_text(SELECTION)
    (info/"entry_points.txt").write_text("[randprune.samplers]\ntoy = toy_sampler:Toy\n"
                                         "[randprune.scores]\nblend = toy_selection:Blend\n[randprune.rules]\nlast = toy_selection:Last\n"
                                         "[randprune.selections]\nquick = toy_selection:Quick\n")
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), *filter(None, [os.environ.get("PYTHONPATH")])]))


def randprune(env, *argv) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "randprune.cli", *argv], env=env, capture_output=True, text=True, timeout=600)


def test_an_installed_sampler_prunes_with_its_settings_in_the_runs_identity(tiny, installed, tmp_path):
    d, data = tiny
    argv = ["prune", *data, *TRAIN, *STAGES[2:], "--teacher", str(d/"dense"/"final"), "--out", str(tmp_path/"toy"),
            "--sampler", "toy"]
    opts = lambda s: ["--options", json.dumps({"toy": {"sharpness": s}})]
    r = randprune(installed, *argv, *opts(2.0))
    assert r.returncode == 0, r.stderr[-3000:]
    config = json.loads((tmp_path/"toy"/"config.json").read_text())
    assert config["prune"]["sampler"] == "toy" and config["sampler"]["options"] == {"toy": {"sharpness": 2.0}}
    metrics = json.loads((tmp_path/"toy"/"metrics.json").read_text())
    assert all(r["pruned_weights_zero"] for r in metrics["sparsity"][:-1])
    (tmp_path/"toy"/"metrics.json").unlink()  # unfinished: a changed setting must not resume it
    r = randprune(installed, *argv, *opts(3.0))
    assert r.returncode != 0 and "sampler.options" in r.stderr, r.stderr[-2000:]
    r = randprune(installed, *argv[:-1], "toy", "--options", json.dumps({"toy": {"sharp": 1}}))
    assert r.returncode != 0 and "do not fit its settings (sharpness)" in r.stderr, r.stderr[-2000:]
    assert "invalid choice: 'toy'" in randprune(dict(os.environ), *argv, *opts(2.0)).stderr  # not installed: not a choice


def test_mcss_draws_its_candidates_with_an_installed_sampler(tiny, installed, tmp_path):
    d, data = tiny
    r = randprune(installed, "prune", *data, *TRAIN, *STAGES[2:], "--teacher", str(d/"dense"/"final"), "--out", str(tmp_path/"m"),
                  "--select", "mcss", "--candidate_sampler", "toy", "--candidates", "3", "--emep_epochs", "0.25")
    assert r.returncode == 0, r.stderr[-3000:]
    rows = [json.loads(l) for l in (tmp_path/"m"/"selection.jsonl").read_text().splitlines()]
    assert sorted({(row["stage"], row["candidate"]) for row in rows}) == [(s, c) for s in (1, 2) for c in range(3)]
    assert all(row["differs"] > 0 for row in rows if row["candidate"])  # the toy's candidates are not IMP's mask


def test_the_callback_and_randprune_masks_take_an_installed_sampler(tiny, installed, tmp_path):
    d, _ = tiny
    r = subprocess.run([sys.executable, "-c", CALLBACK, str(tmp_path/"trainer")], env=installed, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0 and "callback ok" in r.stdout, r.stderr[-3000:]
    r = randprune(installed, "masks", "--model", str(d/"dense"/"final"), "--stages", "0.5", "0.75", "--out", str(tmp_path/"masks"),
                  "--options", json.dumps({"toy": {"sharpness": 2.0}}))
    assert r.returncode == 0, r.stderr[-3000:]
    assert (tmp_path/"masks"/"masks_toy.safetensors").exists() and "toy_differs" in (tmp_path/"masks"/"stages.csv").read_text()


@pytest.mark.parametrize("mode", ["emep", "full"])
def test_mcss_scores_and_chooses_with_an_installed_score_and_rule(tiny, installed, tmp_path, mode):
    d, data = tiny
    r = randprune(installed, "prune", *data, *TRAIN, *STAGES[2:], "--teacher", str(d/"dense"/"final"), "--out", str(tmp_path/mode),
                  "--select", "mcss", "--candidates", "3", "--emep_epochs", "0.25", "--selection", mode, "--score", "blend",
                  "--rule", "last")
    assert r.returncode == 0, r.stderr[-3000:]
    steps = json.loads((tmp_path/mode/"metrics.json").read_text())["steps"]
    rows = [row for s in steps for row in s.get("candidates") or []]
    assert [(row["stage"], row["candidate"]) for row in rows if row["winner"]] == [(1, 2), (2, 2)], rows
    assert all(998 < row["score"] < 1001 for row in rows), [row["score"] for row in rows]  # the plug-in's value()
    help_text = randprune(installed, "prune", "--help").stdout
    assert "blend" in help_text and "last" in help_text


def test_an_installed_selection_mode_runs_through_prune_and_the_callback(tiny, installed, tmp_path):
    d, data = tiny
    steps = {}
    for mode in ("quick", "emep"):
        r = randprune(installed, "prune", *data, *TRAIN, *STAGES[2:], "--teacher", str(d/"dense"/"final"), "--out",
                      str(tmp_path/mode), "--select", "mcss", "--candidates", "3", "--emep_epochs", "0.5", "--selection", mode)
        assert r.returncode == 0, r.stderr[-3000:]
        rows = [json.loads(l) for l in (tmp_path/mode/"selection.jsonl").read_text().splitlines()]
        steps[mode] = [row["steps"] for row in rows]
    assert steps["quick"] == [s // 2 for s in steps["emep"]] and min(steps["quick"]) > 0, steps  # the plug-in's budget
    assert json.loads((tmp_path/"quick"/"config.json").read_text())["selection"]["selection"] == "quick"
    for mode, expected in (("quick", "steps [2, 2, 2]"), ("emep", "steps [4, 4, 4]")):  # half an epoch of 8 batches, halved
        r = subprocess.run([sys.executable, "-c", CALLBACK_MODE, str(tmp_path/f"trainer-{mode}"), mode], env=installed,
                           capture_output=True, text=True, timeout=600)
        assert r.returncode == 0 and expected in r.stdout, (r.stdout[-500:], r.stderr[-3000:])
    assert "quick" in randprune(installed, "prune", "--help").stdout
    assert "invalid choice: 'quick'" in randprune(dict(os.environ), "prune", *data, "--selection", "quick").stderr
