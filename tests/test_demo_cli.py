"""The mask report as users run it: `randprune masks` (here `python -m randprune.cli masks`), in a subprocess."""
import json
import subprocess
import sys

import pytest

from randprune.core import prunable_parameters
from randprune.testing import tiny_bert
from randprune.core import bundled_minilm
from randprune.models import load_model


def run(*args, cwd):
    return subprocess.run([sys.executable, "-m", "randprune.cli", "masks", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600)


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("tiny")
    tiny_bert().save_pretrained(d)
    return d


def test_demo_runs_and_writes_reports(tiny_folder, tmp_path):
    r = run("--model", str(tiny_folder), "--stages", "0.5", "0.9375", "--ratio", "1e-2", "--out", "out", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "Per matrix" in r.stdout and "(prunable)" in r.stdout
    config = json.loads((tmp_path / "out" / "config.json").read_text())
    assert (config["demo"]["stages"], config["sampler"]["ratio"]) == ([0.5, 0.9375], 1e-2)
    assert (tmp_path / "out" / "masks_ensemble.safetensors").is_file()


def test_demo_bad_model_folder_fails_clearly(tmp_path):
    r = run("--model", str(tmp_path / "missing"), cwd=tmp_path)
    assert r.returncode != 0
    assert "no model folder" in r.stderr


def test_demo_rejects_decreasing_stages(tiny_folder, tmp_path):
    r = run("--model", str(tiny_folder), "--stages", "0.9", "0.5", cwd=tmp_path)
    assert r.returncode != 0 and "stages must be increasing" in r.stderr


def test_bundled_minilm_default_selection():
    "The real pretrained MiniLM-L6: 6 layers x 6 matrices selected by the default targets."
    model = load_model(bundled_minilm())
    params = prunable_parameters(model)
    assert len(params) == 36
    assert sum(p.numel() for p in params.values()) == 6 * (4 * 384 * 384 + 2 * 384 * 1536)
