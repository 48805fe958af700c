"""Loading from the hub (`nyu-mll/glue`) without a network: `datasets.load_dataset` is replaced by in-memory data
with the hub's column names, so the renaming and split selection are what is tested."""
import datasets
import pytest
from datasets import Dataset, DatasetDict

from randprune.data import DataConfig, load_glue

HUB = {  # config -> (text columns, dev split)
    "sst2": (["sentence"], "validation"),
    "mnli": (["premise", "hypothesis"], "validation_mismatched"),
    "qqp": (["question1", "question2"], "validation"),
}


def fake_load_dataset(name, config):
    assert name == "nyu-mll/glue"
    cols, dev = HUB[config]
    split = lambda n: Dataset.from_dict({**{c: [f"{c} {i}" for i in range(n)] for c in cols}, "label": [i % 2 for i in range(n)],
                                         "idx": list(range(n))})
    return DatasetDict(train=split(20), **{dev: split(6)}, test=split(3))


@pytest.mark.parametrize("task,config", [("sst2", "sst2"), ("mnli-mm", "mnli"), ("qqp", "qqp")])
def test_hub_columns_are_renamed(monkeypatch, task, config):
    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    monkeypatch.delenv("RANDPRUNE_GLUE_DIR", raising=False)
    ds = load_glue(DataConfig(task=task, validation_size=2))
    assert (len(ds["train"]), len(ds["validation"]), len(ds["dev"])) == (18, 2, 6)
    expected = {"text_a", "label"} | ({"text_b"} if len(HUB[config][0]) == 2 else set())
    assert set(ds["dev"].column_names) == expected
    assert ds["dev"]["text_a"][0] == f"{HUB[config][0][0]} 0"


def test_hub_unreachable_is_a_clear_error(monkeypatch):
    def offline(*a, **k): raise OSError("no network")
    monkeypatch.setattr(datasets, "load_dataset", offline)
    monkeypatch.delenv("RANDPRUNE_GLUE_DIR", raising=False)
    with pytest.raises(ConnectionError, match="pass --glue_dir or set RANDPRUNE_GLUE_DIR"):
        load_glue(DataConfig(task="sst2"))
