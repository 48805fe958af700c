"""Pytest settings and what the suites share: the `slow` marker (end-to-end training; `make test` runs
them, `make test-fast` skips them), a tiny fine-tuned teacher, `fails` (a command's one-line error) and
`bench_module` (a benchmark script as a module)."""
from pathlib import Path

import pytest

from randprune.cli import main
from randprune.testing import tiny_run

TRAIN = ["--max_seq_length", "16", "--lr", "3e-3", "--batch_size", "16", "--eval_every", "5"]
STAGES = ["--sampler", "deterministic", "--warmup_epochs", "0", "--stage_epochs", "0.5", "--stages", "0.5", "0.75"]


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: end-to-end training runs (skipped by `make test-fast`)")


def fails(argv, capsys) -> str:
    "The one-line message `randprune ARGV` exits with (it must exit non-zero, and print no traceback)."
    with pytest.raises(SystemExit) as e: main(argv)
    assert e.value.code not in (0, None), f"{argv} exited {e.value.code}"
    msg = str(e.value.code)
    assert "Traceback" not in msg + capsys.readouterr().err and "\n" not in msg.strip(), msg
    return msg


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    "A tiny model, synthetic SST-2, and a fine-tuned tiny teacher: (folder, the data flags)."
    d = tmp_path_factory.mktemp("faults")
    t = tiny_run(d)
    data = ["--task", "sst2", "--glue_dir", t.data.glue_dir]
    main(["finetune", *data, *TRAIN, "--model", t.model, "--epochs", "1", "--out", str(d/"dense")])
    return d, data


def bench_module(name:str):
    "benchmarks/NAME.py as a module (registered in `sys.modules`, so that its dataclasses can look their module up)."
    import importlib.util, sys
    spec = importlib.util.spec_from_file_location(f"bench_{name}", Path(__file__).resolve().parents[1]/"benchmarks"/f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod
