"README.md tells a newcomer how to set up, run the main job and the tests, and names every subcommand."
import re
from pathlib import Path

from randprune.cli import COMMANDS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT/"README.md").read_text()

def test_readme_names_the_ci_command_and_the_main_job():
    ci = [l.strip() for l in (ROOT/".ci"/"run").read_text().splitlines() if l.strip() and not re.match(r"(#|set |cd |export )", l.strip())]
    assert ci[-1] in README, f"README.md does not name the CI command {ci[-1]!r}"
    assert "make demo" in README

def test_readme_names_every_subcommand():
    missing = [c for c in [*COMMANDS, "report", "export", "notebooks"] if f"randprune {c}" not in README]
    assert not missing, f"README.md does not mention: {missing}"


def test_readme_selection_signal_table_is_what_the_records_give():
    "The README's selection-signal table is computed from the committed records here, so it cannot drift from them."
    from conftest import bench_module
    sa = bench_module("signal_analysis")
    records = sa.complete(sa.load(ROOT/"benchmarks"/"results"/"selection-signal"))
    assert set(records.stage) == {1, 3}, "the README reports both stages"
    table = sa.markdown_table(sa.signal_table(records))
    lines = {line.strip() for line in README.splitlines()}  # the table sits indented in a list item
    differs = "README.md's selection-signal table differs from the records:\n"
    assert all(row in lines for row in table.splitlines()), differs + table
