"""Rewrite README's evidence-v3 table from the published runs, so that it cannot drift from them (issue 34).

The table sits in `nbs/index.ipynb` between the lines `<!-- evidence-v3 -->` and `<!-- /evidence-v3 -->`; this puts
`comparison.markdown_table` of every published batch under `benchmarks/results/evidence-v3/` there, then regenerates
README.md (`make readme`). `make evidence` runs it after every piece; `tests/test_readme_figures.py` fails if the
README's table is not what the published runs give.

    .venv/bin/python tools/evidence_table.py
"""
import json, re, subprocess, sys
from pathlib import Path

from randprune.comparison import markdown_table, published_pairs

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT/"benchmarks"/"results"/"evidence-v3"
INDEX = ROOT/"nbs"/"index.ipynb"
BLOCK = re.compile(r"(<!-- evidence-v3 -->\n)(.*?)(  <!-- /evidence-v3 -->)", re.S)


def table() -> str:
    "The README's evidence-v3 table, as the published runs give it."
    return markdown_table(published_pairs(RESULTS))


def rewrite(index:Path=INDEX) -> bool:
    "Put `table()` between the markers of `index`'s one cell that holds them; whether anything changed."
    nb = json.loads(index.read_text())
    cells = [c for c in nb["cells"] if "<!-- evidence-v3 -->" in "".join(c["source"])]
    if len(cells) != 1: sys.exit(f"{index}: expected one cell with the evidence-v3 markers, found {len(cells)}")
    old = "".join(cells[0]["source"])
    rows = "".join(f"  {line}\n" for line in table().splitlines())
    new = BLOCK.sub(lambda m: m[1] + rows + m[3], old)
    if new == old: return False
    cells[0]["source"] = new.splitlines(keepends=True)
    index.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    return True


if __name__ == "__main__":
    changed = rewrite()
    if changed: subprocess.run(["make", "-s", "readme"], cwd=ROOT, check=True)
    print("README's evidence-v3 table " + ("rewritten from the published runs" if changed else "already up to date"))
