"""Loading splits into standard columns, from hand-made files and from a stand-in for the hub."""

import datasets
import pytest

from xadapt.data import get_task, load_split
from xadapt.errors import XadaptError


def test_sequence_classification_columns(tiny_data):
    ds = load_split("sib200", "sw", "train", data_dir=tiny_data)
    assert ds.column_names == ["text", "label"]
    assert len(ds) == 12
    assert ds.features["label"].names == get_task("sib200").labels
    assert ds[0] == {"text": "Sentensi ya mfano namba 1.", "label": get_task("sib200").labels.index("sports")}


def test_token_classification_columns(tiny_data):
    ds = load_split("wikiann", "sw", "train", data_dir=tiny_data)
    assert ds.column_names == ["tokens", "tags"]
    assert ds["tokens"] == [["Juma", "alikwenda", "Nairobi"], ["Benki", "Kuu"], ["Habari"]]
    names = ds.features["tags"].feature.names
    assert [[names[t] for t in row] for row in ds["tags"]] == [["B-PER", "O", "B-LOC"], ["B-ORG", "I-ORG"], ["O"]]
    # the last sentence of a file needs no trailing blank line
    assert load_split("wikiann", "sw", "dev", data_dir=tiny_data)["tokens"][-1] == ["Asha"]


def test_wikiann_test_comes_from_the_labelled_masakhane_copy(tiny_data):
    ds = load_split("wikiann", "sw", "test", data_dir=tiny_data)
    assert ds["tokens"] == [["Msimbo", "wa"], ["Dodoma"]]
    assert ds["tags"] == [[5, 6], [5]]


def test_xnli_english_dev_is_the_training_set_and_test_labels_are_recovered(tiny_data):
    train = load_split("nli", "en", "train", data_dir=tiny_data)
    assert train.column_names == ["text", "text_pair", "label"] and len(train) == 3
    test = load_split("xnli", "sw", "test", data_dir=tiny_data)
    labels = get_task("xnli").labels
    assert [labels[i] for i in test["label"]] == ["entailment", "contradiction", "entailment", "neutral"]
    assert test[2]["text"] == '"Nukuu", alisema.'  # quotes are text, not CSV quoting
    assert load_split("xnli", "en", "test", data_dir=tiny_data)["label"] == test["label"]


def test_xnli_label_count_mismatch_is_reported(tiny_data, tmp_path):
    import shutil

    shutil.copytree(tiny_data / "xnli", tmp_path / "xnli")
    (tmp_path / "xnli/xtreme_xnli/test-sw.tsv").write_text("Moja.\tMbili.\n", encoding="utf-8")
    with pytest.raises(XadaptError, match=r"has 1 rows but .*xnli\.test - english\.csv has 4 labels"):
        load_split("xnli", "sw", "test", data_dir=tmp_path)


class _FakeHub:
    """Stands in for `datasets.load_dataset`, recording what was asked."""

    def __init__(self, ds: datasets.Dataset):
        self.ds = ds
        self.calls: list[tuple] = []

    def __call__(self, path, name=None, split=None):
        self.calls.append((path, name, split))
        return self.ds


def test_hub_is_used_only_when_allowed_and_no_local_copy(tiny_data, monkeypatch):
    # the hub orders its labels differently: conversion must go by name
    hub_ds = datasets.Dataset.from_dict(
        {"premise": ["P"], "hypothesis": ["H"], "label": [0]},
        features=datasets.Features(
            {
                "premise": datasets.Value("string"),
                "hypothesis": datasets.Value("string"),
                "label": datasets.ClassLabel(names=["contradiction", "entailment", "neutral"]),
            }
        ),
    )
    fake = _FakeHub(hub_ds)
    monkeypatch.setattr(datasets, "load_dataset", fake)
    load_split("xnli", "sw", "dev", data_dir=tiny_data, allow_hub=True)
    assert fake.calls == []  # a local copy exists
    with pytest.raises(XadaptError, match="allow_hub=True"):
        load_split("xnli", "fr", "dev", data_dir=tiny_data)
    ds = load_split("xnli", "fr", "dev", data_dir=tiny_data, allow_hub=True)
    assert fake.calls == [("facebook/xnli", "fr", "validation")]
    assert ds.column_names == ["text", "text_pair", "label"]
    assert ds[0] == {"text": "P", "text_pair": "H", "label": get_task("xnli").labels.index("contradiction")}


def test_hub_ner_tags_and_hidden_labels(tiny_data, monkeypatch):
    tags = datasets.ClassLabel(names=["O", "B-LOC", "I-LOC", "B-PER", "I-PER", "B-ORG", "I-ORG"])
    hub_ds = datasets.Dataset.from_dict(
        {"tokens": [["Dar", "es", "Salaam"]], "ner_tags": [[1, 2, 2]], "langs": [["sw"] * 3]},
        features=datasets.Features(
            {"tokens": datasets.List(datasets.Value("string")), "ner_tags": datasets.List(tags),
             "langs": datasets.List(datasets.Value("string"))}
        ),
    )
    monkeypatch.setattr(datasets, "load_dataset", _FakeHub(hub_ds))
    ds = load_split("wikiann", "en", "test", data_dir=tiny_data, allow_hub=True)
    names = get_task("wikiann").labels
    assert [names[t] for t in ds[0]["tags"]] == ["B-LOC", "I-LOC", "I-LOC"]

    hidden = datasets.Dataset.from_dict(
        {"premise": ["P"], "choice1": ["A"], "choice2": ["B"], "question": ["cause"], "label": [-1], "idx": [0]}
    )
    monkeypatch.setattr(datasets, "load_dataset", _FakeHub(hidden))
    with pytest.raises(XadaptError, match="no gold labels"):
        load_split("xcopa", "et", "test", data_dir=tiny_data, allow_hub=True)


def test_hub_failure_becomes_a_user_error(tiny_data, monkeypatch):
    def offline(*args, **kwargs):
        raise ConnectionError("no network")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(XadaptError, match=r"could not load Davlan/sib200 \(config 'yor_Latn'.*no network"):
        load_split("sib200", "yo", "train", data_dir=tiny_data, allow_hub=True)
