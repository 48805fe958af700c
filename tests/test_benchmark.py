"""The sampler benchmark script runs and writes its figures (tiny shapes; the real run is `make bench`)."""
import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_benchmark():
    spec = importlib.util.spec_from_file_location("sampler_bench", ROOT / "benchmarks" / "sampler.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_benchmark_writes_table_and_json(tmp_path, capsys):
    bench = load_benchmark()
    out = tmp_path / "sampler.json"
    rows = bench.main(["--shapes", "96x64", "--stages", "0.5", "0.9", "--ratios", "1e-2", "--repeats", "1",
                       "--out", str(out)])
    data = json.loads(out.read_text())
    assert len(rows) == len(data["rows"]) == 2
    for r in data["rows"]:
        assert r["t_reference"] > 0 and r["t_fast"] > 0 and r["t_deterministic"] > 0
        assert 0 <= r["differs_fast"] <= 1 and 0 <= r["differs_reference"] <= 1
    assert data["summary"]["settings"] == 2
    assert "ref/fast" in capsys.readouterr().out


def test_throughput_benchmark_smoke(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("throughput", ROOT / "benchmarks" / "throughput.py")
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    r = mod.main(["--smoke", "--out", str(tmp_path / "t.json")])
    assert set(r["samples_per_s"]) == {"randprune", "bare", "randprune_grouped", "bare_grouped"}
    assert all(v > 0 for v in r["samples_per_s"].values())
    assert json.loads((tmp_path / "t.json").read_text())["settings"]["smoke"] is True
    assert "grouping gain" in capsys.readouterr().out
