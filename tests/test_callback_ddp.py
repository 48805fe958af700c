"""`RandPruneCallback` under the Trainer's DDP: two CPU processes (gloo) sample bit-identical masks (an ensemble, so
randomized), prune at the same optimizer steps under gradient accumulation, and keep every pruned weight at zero."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parent/"scripts"/"ddp_callback.py"


@pytest.mark.slow
def test_two_processes_prune_with_the_same_masks(tmp_path):
    r = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29533",
                        str(SCRIPT), str(tmp_path)], capture_output=True, text=True, timeout=600,
                       env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})
    assert r.returncode == 0, r.stderr[-3000:]
    ranks = [json.loads((tmp_path/f"rank-{i}.json").read_text()) for i in range(2)]
    assert [x["world"] for x in ranks] == [2, 2]
    assert ranks[0]["digest"] == ranks[1]["digest"]  # bit-identical masks on every rank
    assert all(x["zero"] for x in ranks) and all(x["stages"] == [2, 5] for x in ranks)
    assert abs(ranks[0]["sparsity"] - 0.75) < 1e-3
