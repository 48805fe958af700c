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

