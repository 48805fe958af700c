"""`RandPruneCallback` under the Trainer's DDP: two CPU processes (gloo) sample bit-identical masks (an ensemble, so
randomized), prune at the same optimizer steps under gradient accumulation, and keep every pruned weight at zero; with
MCSS every rank scores every candidate the same and takes the same winner."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parent/"scripts"/"ddp_callback.py"


@pytest.mark.slow
@pytest.mark.parametrize("method,port", [("ensemble", 29533), ("mcss", 29534)])
def test_two_processes_prune_with_the_same_masks(tmp_path, method, port):
    r = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(port),
                        str(SCRIPT), str(tmp_path), method], capture_output=True, text=True, timeout=600,
                       env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})
    assert r.returncode == 0, r.stderr[-3000:]
    ranks = [json.loads((tmp_path/f"rank-{i}.json").read_text()) for i in range(2)]
    assert [x["world"] for x in ranks] == [2, 2]
    assert ranks[0]["digest"] == ranks[1]["digest"]  # bit-identical masks on every rank
    assert all(x["zero"] for x in ranks) and all(x["stages"] == [2, 5] for x in ranks)
    assert abs(ranks[0]["sparsity"] - 0.75) < 1e-3
    assert ranks[0]["candidates"] == ranks[1]["candidates"]  # the same scores (bit for bit) and winners on both ranks
    assert len(ranks[0]["candidates"]) == (6 if method == "mcss" else 0)
    if method == "mcss": assert len({c[2] for c in ranks[0]["candidates"]}) > 1  # scores that differ: a real choice
