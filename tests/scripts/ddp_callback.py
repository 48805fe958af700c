"""One rank of a 2-process CPU (gloo) `Trainer` run with `RandPruneCallback`: writes its masks' hash and whether every
pruned weight is zero to OUT/rank-R.json (run by tests/test_callback_ddp.py through torch.distributed.run)."""
import hashlib, json, os, sys
from pathlib import Path

import torch
from transformers import DataCollatorWithPadding, Trainer, TrainingArguments

from randprune.callback import CallbackConfig, RandPruneCallback
from randprune.core import prunable_parameters, tiny_bert
from randprune.data import synthetic_glue, tiny_tokenizer, tokenize

out = Path(sys.argv[1])
tok = tiny_tokenizer()
ds = tokenize(synthetic_glue("sst2", n_train=96), tok, 16)
cb = RandPruneCallback(CallbackConfig(stages=[.5, .75], warmup_steps=2, stage_steps=3, method="ensemble"))
args = TrainingArguments(str(out/"trainer"), max_steps=10, per_device_train_batch_size=4, gradient_accumulation_steps=2,
                         learning_rate=3e-3, save_strategy="no", logging_strategy="no", report_to=[], use_cpu=True,
                         ddp_backend="gloo", seed=0, disable_tqdm=True)
trainer = Trainer(model=tiny_bert(), args=args, train_dataset=ds["train"], data_collator=DataCollatorWithPadding(tok), callbacks=[cb])
trainer.train()
digest = hashlib.sha256(b"".join(cb.masks[n].numpy().tobytes() for n in sorted(cb.masks))).hexdigest()
weights = prunable_parameters(trainer.model)
zero = all(bool((w[~cb.masks[n]] == 0).all()) for n, w in weights.items())
rank = int(os.environ.get("RANK", 0))
(out/f"rank-{rank}.json").write_text(json.dumps(dict(digest=digest, zero=zero, world=int(os.environ.get("WORLD_SIZE", 1)),
                                                     stages=[h["step"] for h in cb.history], sparsity=cb.masks.sparsity)))
