"""Refuse, in one line and before the teacher is fine-tuned, to run `make evidence` on another kind of machine.

A batch's runs are paired and timed against each other, so they share a kind of machine (`units.check_machine`);
`randprune ablate` refuses each grid point of a batch whose published runs ran on another kind, but only after
`make evidence` has spent its first minutes fine-tuning the teacher. This asks first.

    .venv/bin/python tools/evidence_machine.py benchmarks/results/evidence-v3 benchmarks/evidence_v3_sst2.yaml ...
"""
import sys
from pathlib import Path

from randprune.ablate import load_grid
from randprune.units import check_machine

if __name__ == "__main__":
    results, grids = Path(sys.argv[1]), sys.argv[2:]
    try:
        for grid in grids: check_machine(results/load_grid(grid).batch)
    except ValueError as e: sys.exit(f"make evidence: {e}")
    print(f"make evidence: the published runs of its {len(grids)} grids (if any) ran on this kind of machine")
