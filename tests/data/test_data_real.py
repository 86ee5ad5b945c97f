"""The real benchmark data: split sizes from shared/data/README.md, label recovery, standard columns."""

import csv
from collections import Counter

import pytest

from xadapt.data import get_task, inventory, load_split, resolve_eval_split
from xadapt.errors import XadaptError


@pytest.mark.parametrize(
    ("task", "lang", "sizes"),
    [
        ("sib200", "sw", (701, 99, 204)),
        ("sib200", "en", (701, 99, 204)),
        ("wikiann", "sw", (1000, 1000, 1000)),
        ("masakhaner", "swa", (6593, 942, 1883)),
        ("afrisenti", "sw", (1810, 453, 748)),
    ],
)
def test_split_sizes_match_readme(real_data, task, lang, sizes):
    loaded = tuple(len(load_split(task, lang, split, data_dir=real_data)) for split in ("train", "dev", "test"))
    assert loaded == sizes


def test_inventory_counts_match_readme(real_data):
    rows = {(row.task, row.lang): row.sizes for row in inventory(real_data)}
    assert rows[("wikiann", "en")] == {"train": 20000, "dev": 10000, "test": None}
    assert rows[("wikiann", "hi")] == {"train": 5000, "dev": 1000, "test": None}
    assert rows[("wikiann", "yo")] == {"train": 100, "dev": 100, "test": 100}
    assert rows[("xnli", "en")] == {"train": 2490, "dev": None, "test": 5010}
    assert rows[("xnli", "sw")] == {"train": None, "dev": 2490, "test": 5010}
    assert rows[("xcopa", "en")] == {"train": 400, "dev": 100, "test": None}
    assert rows[("xcopa", "sw")] == {"train": None, "dev": 100, "test": 500}
    assert rows[("masakhaner1", "sw")] == {"train": 2109, "dev": 300, "test": 604}
    assert len([key for key in rows if key[0] == "sib200"]) == 45
    assert len([key for key in rows if key[0] == "masakhaner"]) == 19


@pytest.mark.parametrize("task", ["sib200", "wikiann", "masakhaner", "xnli", "afrisenti", "xcopa"])
def test_swahili_is_found_for_every_task(real_data, task):
    assert "sw" in get_task(task).languages(real_data)


def test_inventory_sizes_equal_loaded_sizes_for_swahili(real_data):
    for row in inventory(real_data, lang="sw"):
        for split, size in row.sizes.items():
            if size is not None:
                assert len(load_split(row.task, "sw", split, data_dir=real_data)) == size, (row.task, split)


def test_xnli_recovered_test_labels(real_data):
    test = load_split("xnli", "sw", "test", data_dir=real_data)
    labels = get_task("xnli").labels
    assert Counter(labels[i] for i in test["label"]) == {"entailment": 1670, "neutral": 1670, "contradiction": 1670}
    english = load_split("xnli", "en", "test", data_dir=real_data)
    assert english["label"] == test["label"]
    # the recovery is by row index: the CSV rows must be the same sentences as the English test file
    with (real_data / "xnli/xnli_en_with_labels/xnli.test - english.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    same = sum(row["sentence1"] == premise for row, premise in zip(rows, english["text"]))
    assert same >= 4990
    assert [labels.index(row["gold_label"]) for row in rows] == english["label"]


def test_xnli_dev_labels_are_parallel_and_english_dev_trains(real_data):
    sw_dev = load_split("xnli", "sw", "dev", data_dir=real_data)
    en_train = load_split("xnli", "en", "train", data_dir=real_data)
    assert sw_dev["label"] == en_train["label"]
    assert Counter(sw_dev["label"]) == {0: 830, 1: 830, 2: 830}
    assert sw_dev[0]["text"] == "Naye akasema, Mama, niko nyumbani."
    assert not sw_dev[0]["text"].endswith("\r") and not sw_dev[0]["text_pair"].endswith("\r")


def test_wikiann_swahili_test_is_the_labelled_masakhane_copy(real_data):
    test = load_split("wikiann", "sw", "test", data_dir=real_data)
    names = test.features["tags"].feature.names
    assert test[0]["tokens"] == ["Msimbo", "wa", "posta", "ni", "33413", "."]
    assert [names[t] for t in test[0]["tags"]][:3] == ["B-LOC", "I-LOC", "I-LOC"]
    assert any(tag != 0 for row in test["tags"] for tag in row)


def test_afrisenti_label_counts(real_data):
    train = load_split("sentiment", "sw", "train", data_dir=real_data)
    names = train.features["label"].names
    assert Counter(names[i] for i in train["label"]) == {"neutral": 1072, "positive": 547, "negative": 191}


def test_xcopa_columns_and_english_training_set(real_data):
    train = load_split("copa", "en", "train", data_dir=real_data)
    assert train.column_names == ["premise", "choice1", "choice2", "question", "label"]
    assert train[0]["premise"] == "My body cast a shadow over the grass." and train[0]["label"] == 0
    sw = load_split("xcopa", "sw", "dev", data_dir=real_data)
    en = load_split("xcopa", "en", "dev", data_dir=real_data)
    assert sw["label"] == en["label"]  # XCOPA val is parallel to English COPA val
    assert set(sw["question"]) == {"cause", "effect"}


def test_eval_split_resolution_on_real_data(real_data):
    assert resolve_eval_split("wikiann", "sw", data_dir=real_data) == ("test", None)
    assert resolve_eval_split("wikiann", "en", data_dir=real_data) == (
        "dev",
        "WikiANN en has no labelled test split; evaluating on dev",
    )
    assert resolve_eval_split("xnli", "swa", data_dir=real_data) == ("test", None)
    assert resolve_eval_split("xcopa", "en", data_dir=real_data)[0] == "dev"
    with pytest.raises(XadaptError, match="no labelled test file"):
        load_split("wikiann", "de", "test", data_dir=real_data)
