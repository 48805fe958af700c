"""The compact export (`randprune export`): size, load time and CPU inference latency, dense vs sparse kernels.

A 16x model (MiniLM-L6 with IMP masks on every prunable matrix; or a finished run folder given with --run) is saved
with `save_pretrained` and with `export_pruned`; the export is loaded back with `load_pruned` and must give identical
logits. Latency: a sequence-classification forward pass at 64 tokens, batch 1 and 32, dense weights vs torch's CSR
kernels (`sparse_kernels`), median of repeated runs after a warm-up, on this machine's threads. Figures are from one
run (these machines are noisy): ratios, not a law; where sparse kernels are slower, the table says so.

    python benchmarks/export.py                  # the bundled MiniLM-L6, pruned 16x by magnitude (no training)
    python benchmarks/export.py --run runs/x     # a finished run's final/ model
    python benchmarks/export.py --smoke          # a tiny random BERT (the test)
"""
from __future__ import annotations
import argparse, json, platform, statistics, tempfile, time
from pathlib import Path

import torch

from randprune.core import apply_masks, bundled_minilm, prunable_parameters
from randprune.testing import tiny_bert
from randprune.export import SPARSE_FILE, compress, export_pruned, load_dense, load_pruned, sparse_kernels
from randprune.files import write_json
from randprune.models import load_model, load_tokenizer
from randprune.sampling import sample_masks
from randprune.testing import tiny_tokenizer

SPARSITY = 0.9375  # 16x (the default; --sparsity)
GOAL = 1 / 6  # the prunable matrices' exported size over their dense size
SEQ_LEN = 64
TOLERANCE = 1e-6  # logits: float noise of loading, not of the export (whose exact round trip is tested in nbs/11_export)
NOISE = 0.1  # latency ratios within 10% of 1 are not a difference on these shared machines


def model_folder(args, tmp: Path) -> Path:
    "A pruned model folder: --run's final/, else MiniLM (or, --smoke, a tiny BERT) with magnitude masks."
    if args.run: return Path(args.run)/"final" if (Path(args.run)/"final").exists() else Path(args.run)
    if args.smoke: model, tok = tiny_bert(), tiny_tokenizer()
    else: model, tok = load_model(bundled_minilm(), 2, pretrained=True), load_tokenizer(bundled_minilm())
    apply_masks(model, sample_masks(prunable_parameters(model), args.sparsity, method="deterministic"))
    model.save_pretrained(tmp/"dense"); tok.save_pretrained(tmp/"dense")
    return tmp/"dense"


def cpu_model() -> str:
    "The processor's model name (from /proc/cpuinfo), else what platform says."
    try: return next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration): return platform.processor() or platform.machine()


def folder_bytes(folder: Path, pattern: str = "*") -> int:
    return sum(f.stat().st_size for f in folder.glob(pattern) if f.is_file())


def timed(fn, repeats: int) -> float:
    "Median seconds of `fn()` over `repeats` runs, after one warm-up."
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter(); fn(); times.append(time.perf_counter() - start)
    return statistics.median(times)


def nbytes(tensors) -> int:
    return sum(t.numel() * t.element_size() for t in tensors)


def prunable_bytes(model) -> tuple[int, int]:
    "Bytes of the prunable matrices, dense and as `compress` stores them."
    ps = prunable_parameters(model).values()
    return nbytes(ps), sum(nbytes(compress(p).values()) for p in ps)


def latency(model, vocab: int, batch: int, repeats: int) -> float:
    x = torch.randint(5, vocab, (batch, SEQ_LEN), generator=torch.Generator().manual_seed(batch))
    with torch.inference_mode(): return timed(lambda: model(input_ids=x), repeats)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", default="", help="a finished run folder (default: MiniLM-L6 pruned 16x by magnitude)")
    ap.add_argument("--smoke", action="store_true", help="a tiny random BERT: checks the script, measures nothing")
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--sparsity", type=float, default=SPARSITY, help="of the prunable weights (default 0.9375: 16x)")
    ap.add_argument("--out", default="benchmarks/results/export.json")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        src = model_folder(args, tmp)
        dense = load_dense(src)
        export = export_pruned(src, tmp/"export")
        pruned = load_pruned(export)
        x = torch.randint(5, dense.config.vocab_size, (4, SEQ_LEN), generator=torch.Generator().manual_seed(0))
        with torch.inference_mode(): a, b = dense(input_ids=x).logits, pruned(input_ids=x).logits
        identical, max_diff = torch.equal(a, b), float((a - b).abs().max())  # `from_pretrained` may differ by ~1e-9 itself
        from transformers import AutoModelForSequenceClassification
        sdpa = AutoModelForSequenceClassification.from_pretrained(src).eval()  # transformers' default attention
        with torch.inference_mode(): vs_sdpa = float((sdpa(input_ids=x).logits - b).abs().max())
        dense_matrices, export_matrices = prunable_bytes(dense)
        res = dict(model=str(src) if args.run else ("tiny BERT" if args.smoke else "MiniLM-L6 (bundled), magnitude masks"),
                   sparsity=args.sparsity, identical_logits=identical, max_abs_logit_diff=max_diff,
                   max_abs_logit_diff_vs_default_attention=vs_sdpa, threads=torch.get_num_threads(), machine=cpu_model(),
                   save_pretrained_bytes=folder_bytes(src, "*.safetensors"), export_bytes=folder_bytes(export, SPARSE_FILE),
                   prunable_dense_bytes=dense_matrices, prunable_export_bytes=export_matrices,
                   load_s=dict(from_pretrained=timed(lambda: load_dense(src), 5), load_pruned=timed(lambda: load_pruned(export), 5)))
        res["prunable_ratio"] = export_matrices / dense_matrices
        res["model_ratio"] = res["export_bytes"] / res["save_pretrained_bytes"]
        csr = sparse_kernels(load_pruned(export))
        res["latency_s"] = {f"batch {b}": dict(dense=latency(dense, dense.config.vocab_size, b, args.repeats),
                                               csr=latency(csr, dense.config.vocab_size, b, args.repeats)) for b in (1, 32)}
    print(f"{res['model']}, {args.sparsity:.2%} of the prunable weights pruned, {res['threads']} threads on {res['machine']}; one run")
    print(f"  weights file: save_pretrained {res['save_pretrained_bytes']/2**20:.1f} MiB, export {res['export_bytes']/2**20:.1f} MiB ({res['model_ratio']:.2f}x)")
    print(f"  prunable matrices: {res['prunable_dense_bytes']/2**20:.1f} MiB dense -> {res['prunable_export_bytes']/2**20:.2f} MiB "
          f"({res['prunable_ratio']:.3f}; goal <= {GOAL:.3f}: {'met' if res['prunable_ratio'] <= GOAL else 'NOT MET'})")
    print(f"  load: from_pretrained {res['load_s']['from_pretrained']:.3f} s, load_pruned {res['load_s']['load_pruned']:.3f} s")
    print(f"  logits after the round trip vs the model loaded with from_pretrained: "
          f"{'identical' if identical else f'max |difference| {max_diff:.1e}'} (eager attention, as load_pruned sets it; vs "
          f"transformers' default attention: max |difference| {vs_sdpa:.1e})")
    for b, t in res["latency_s"].items():
        ratio = t["dense"] / t["csr"]
        verdict = "about the same: inside this machine's noise" if abs(ratio - 1) < NOISE else "faster" if ratio > 1 else "SLOWER"
        print(f"  latency {b} x {SEQ_LEN} tokens: dense {t['dense']*1e3:.1f} ms, CSR {t['csr']*1e3:.1f} ms "
              f"(CSR {ratio:.2f}x: {verdict})")
    if max_diff > TOLERANCE: raise SystemExit(f"FAILED: the exported model's logits differ from the original's by {max_diff:.1e}")
    write_json(args.out, res); print(f"wrote {args.out}")
    return res


if __name__ == "__main__":
    main()
