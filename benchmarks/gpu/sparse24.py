"""2:4 sparsity's inference speed on a GPU (issue 24): a model's linear layers at 2:4 as semi-structured sparse tensors
against the same model dense, fp16.

    python benchmarks/gpu/sparse24.py                    # on an NVIDIA GPU (the kernels need compute capability 8.0+)
    python benchmarks/gpu/sparse24.py --smoke            # the rehearsal on CPU: a tiny BERT, masks and timing loop only

Every prunable weight (`core.BERT_TARGETS`) gets its magnitude 2:4 mask (`patterns.grouped_mask`, checked with
`check_pattern`), so the dense model computes exactly what the sparse one does; then the same weights become
`torch.sparse.to_sparse_semi_structured` tensors. Per batch size: the median milliseconds of a forward pass over
`--repeats` timed passes after `--warmup` (synchronised around each), the speed-up, and the largest difference between
the two models' outputs. The model is the encoder of `--model` (the GPU bundle's MiniLM-L6 by default; its head does
not matter for speed); the result goes to `--out` as JSON. Without CUDA it says so and measures nothing, unless
`--smoke`, which times the dense path on CPU and skips the sparse kernels. Not yet run on a GPU: none was available.
"""
from __future__ import annotations
import argparse, json, statistics, time
from pathlib import Path

import torch

from randprune.core import BERT_TARGETS, prunable_parameters
from randprune.patterns import check_pattern, grouped_mask

ROOT = Path(__file__).resolve().parents[2]


def masked_2of4(model:torch.nn.Module) -> list[str]:
    "Multiply every prunable weight of `model` by its magnitude 2:4 mask, in place; their names."
    params = prunable_parameters(model, BERT_TARGETS)
    with torch.no_grad():
        for name, p in params.items():
            mask = grouped_mask(p.abs(), "2:4")
            check_pattern(mask, "2:4", name)
            p.mul_(mask)
    return list(params)


def to_semi_structured(model:torch.nn.Module, names:list[str]):
    "Swap the (2:4-masked) weights `names` of `model` for their semi-structured sparse form."
    from torch.sparse import to_sparse_semi_structured
    modules = dict(model.named_modules())
    for name in names:
        linear = modules[name.removesuffix(".weight")]
        linear.weight = torch.nn.Parameter(to_sparse_semi_structured(linear.weight.detach()), requires_grad=False)


@torch.no_grad()
def timed(model:torch.nn.Module, inputs:dict, repeats:int, warmup:int) -> tuple[float, torch.Tensor]:
    "Median milliseconds of a forward pass of `model` on `inputs`, and its output."
    sync = torch.cuda.synchronize if inputs["input_ids"].is_cuda else (lambda: None)
    for _ in range(warmup): model(**inputs)
    times = []
    for _ in range(repeats):
        sync()
        start = time.perf_counter()
        out = model(**inputs)
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3, out[0].float()


def encoder(a) -> torch.nn.Module:
    "The model timed: a tiny BERT's encoder (--smoke) or `--model`'s, from safetensors only."
    from transformers import AutoModel
    if a.smoke:
        from randprune.testing import tiny_bert
        return tiny_bert().bert
    return AutoModel.from_pretrained(a.model, dtype=torch.float16, use_safetensors=True)


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default=str(ROOT/"benchmarks"/"gpu"/"bundle"/"model"), help="a model folder")
    p.add_argument("--batch_sizes", type=int, nargs="+", default=[8, 32, 128], help="sequences per forward pass")
    p.add_argument("--seq_len", type=int, default=128, help="tokens per sequence")
    p.add_argument("--repeats", type=int, default=50)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--out", default=str(ROOT/"benchmarks"/"results"/"gpu"/"sparse24.json"))
    p.add_argument("--smoke", action="store_true", help="CPU rehearsal: tiny BERT, dense timing only, no sparse kernel")
    a = p.parse_args(argv)
    cuda = torch.cuda.is_available()
    if not cuda and not a.smoke:
        print("no CUDA device: 2:4 semi-structured kernels run only on NVIDIA GPUs; nothing measured")
        return {}
    device = "cuda" if cuda else "cpu"
    model = encoder(a).to(device).eval()
    names = masked_2of4(model)
    batches = {bs: dict(input_ids=torch.randint(model.config.vocab_size, (bs, a.seq_len),
                                                generator=torch.Generator().manual_seed(bs)).to(device))
               for bs in a.batch_sizes}
    dense = {bs: timed(model, x, a.repeats, a.warmup) for bs, x in batches.items()}
    rows = [dict(batch_size=bs, dense_ms=ms) for bs, (ms, _) in dense.items()]
    if cuda:
        to_semi_structured(model, names)
        for r in rows:
            r["sparse_ms"], out = timed(model, batches[r["batch_size"]], a.repeats, a.warmup)
            r["speedup"] = r["dense_ms"] / r["sparse_ms"]
            r["max_abs_diff"] = float((out - dense[r["batch_size"]][1]).abs().max())
    result = dict(model="tiny BERT" if a.smoke else a.model, matrices=len(names), seq_len=a.seq_len, rows=rows,
                  device=torch.cuda.get_device_name() if cuda else "cpu", torch=torch.__version__,
                  sparse="measured" if cuda else "skipped: no CUDA (smoke)")
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(result, indent=1) + "\n")
    for r in rows: print(r)
    return result


if __name__ == "__main__":
    main()
