"""One rank of a 2-process CPU (gloo) `Trainer` run with `RandPruneCallback`: writes its masks' hash and whether every
pruned weight is zero to OUT/rank-R.json (run by tests/test_callback_ddp.py through torch.distributed.run).
Usage: ddp_callback.py OUT METHOD (a sampler's name, or "mcss": then also every candidate's score)."""
import hashlib, json, os, sys
from pathlib import Path

import torch
from transformers import DataCollatorWithPadding, Trainer, TrainingArguments

from randprune.callback import CallbackConfig, RandPruneCallback
from randprune.core import prunable_parameters
from randprune.testing import tiny_bert
from randprune.data import compute_metrics, get_task, tokenize
from randprune.testing import synthetic_glue, tiny_tokenizer
from randprune.selection import SelectionConfig

out, method = Path(sys.argv[1]), sys.argv[2]
tok = tiny_tokenizer()
ds = tokenize(synthetic_glue("sst2", n_train=96), tok, 16)
selection = SelectionConfig(candidates=3, emep_epochs=.5, emep_eval_every=2, score_last=2, score="loss")
cb = RandPruneCallback(CallbackConfig(stages=[.5, .75], warmup_steps=2, stage_steps=3,
                                      **(dict(select="mcss") if method == "mcss" else dict(sampler=method))),
                       selection=selection if method == "mcss" else None)  # settings a method ignores are refused
args = TrainingArguments(str(out/"trainer"), max_steps=10, per_device_train_batch_size=4, gradient_accumulation_steps=2,
                         learning_rate=3e-3, save_strategy="no", logging_strategy="no", report_to=[], use_cpu=True,
                         ddp_backend="gloo", seed=0, disable_tqdm=True)
trainer = Trainer(model=tiny_bert(), args=args, train_dataset=ds["train"], data_collator=DataCollatorWithPadding(tok),
                  compute_metrics=lambda p: compute_metrics(get_task("sst2"), p.predictions, p.label_ids))
cb.attach(trainer, selection_data=ds["validation"])
trainer.train()
digest = hashlib.sha256(b"".join(cb.masks[n].numpy().tobytes() for n in sorted(cb.masks))).hexdigest()
weights = prunable_parameters(trainer.model)
zero = all(bool((w[~cb.masks[n]] == 0).all()) for n, w in weights.items())
rank = int(os.environ.get("RANK", 0))
(out/f"rank-{rank}.json").write_text(json.dumps(dict(digest=digest, zero=zero, world=int(os.environ.get("WORLD_SIZE", 1)),
                                                     stages=[h["step"] for h in cb.history], sparsity=cb.masks.sparsity,
                                                     candidates=[(r["stage"], r["candidate"], r["score"], r["winner"]) for r in cb.candidates])))
import torch.distributed as torch_dist
if torch_dist.is_initialized():  # a clean exit: gloo can abort (SIGABRT) in teardown when the group is left alive
    torch_dist.barrier()
    torch_dist.destroy_process_group()
