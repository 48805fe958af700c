#!/usr/bin/env bash
# Fails if nbdev_clean would change a notebook, if nbdev_export would change the library,
# or if README.md is not what `make readme` makes from nbs/index.ipynb.
set -euo pipefail
cd "$(dirname "$0")/.."
snap=$(mktemp -d)
trap 'rm -rf "$snap"' EXIT
cp -rL nbs randprune README.md "$snap/"
status=0

nbdev_clean
if ! diff -r -q "$snap/nbs" nbs; then
  echo "FAIL: notebooks are not clean: nbdev_clean changed the files above (commit the cleaned notebooks)"; status=1
fi
nbdev_export
if ! diff -r -q -x __pycache__ "$snap/randprune" randprune; then
  echo "FAIL: library and notebooks are out of sync: nbdev_export changed the files above (export and commit)"; status=1
fi
jupyter nbconvert --to markdown --log-level WARN --output-dir "$snap/readme" --output README nbs/index.ipynb
if ! diff -q "$snap/readme/README.md" README.md; then
  echo "FAIL: README.md is out of date with nbs/index.ipynb (run: make readme)"; status=1
fi
[ $status = 0 ] && echo "notebooks clean, library in sync, README in sync"
exit $status
