"""Nested, deterministic training subsets; stratified for classification."""

from collections import Counter

import datasets
import numpy as np
import pytest

from xadapt.data import load_split, nested_subsets
from xadapt.data.subsets import stratified_order
from xadapt.errors import XadaptError


def _synthetic(n: int = 1000) -> datasets.Dataset:
    # three imbalanced classes: 60 % / 30 % / 10 %
    labels = [0] * (n * 6 // 10) + [1] * (n * 3 // 10) + [2] * (n - n * 6 // 10 - n * 3 // 10)
    return datasets.Dataset.from_dict({"id": list(range(n)), "label": labels})


def _ids(ds: datasets.Dataset) -> list[int]:
    return list(ds["id"])


@pytest.mark.parametrize("stratify", [None, "label"])
def test_subsets_are_nested_and_sized(stratify):
    subsets = nested_subsets(_synthetic(), sizes=[300, 100, 1000], seed=0, stratify_column=stratify)
    assert sorted(subsets) == [100, 300, 1000]
    assert [len(subsets[size]) for size in (100, 300, 1000)] == [100, 300, 1000]
    assert set(_ids(subsets[100])) < set(_ids(subsets[300])) < set(_ids(subsets[1000]))
    assert len(set(_ids(subsets[300]))) == 300  # no example drawn twice


@pytest.mark.parametrize("stratify", [None, "label"])
def test_subsets_are_deterministic_per_seed(stratify):
    ds = _synthetic()
    first = nested_subsets(ds, [100, 300], seed=3, stratify_column=stratify)
    again = nested_subsets(ds, [100, 300], seed=3, stratify_column=stratify)
    other = nested_subsets(ds, [100, 300], seed=4, stratify_column=stratify)
    assert _ids(first[300]) == _ids(again[300])
    assert set(_ids(first[100])) != set(_ids(other[100]))


def test_every_stratified_prefix_keeps_the_label_proportions():
    labels = _synthetic()["label"]
    order = stratified_order(list(labels), np.random.default_rng(0))
    assert sorted(order.tolist()) == list(range(len(labels)))
    chosen = np.array(labels)[order]
    sizes = np.arange(1, len(labels) + 1)
    for label, total in Counter(labels).items():
        counts = np.cumsum(chosen == label)  # how many of this label each prefix holds
        assert np.all(np.abs(counts - total * sizes / len(labels)) < 1), label


def test_stratified_subsets_match_their_shares():
    ds = _synthetic()
    for size, subset in nested_subsets(ds, sizes=[10, 37, 100, 333], seed=5, stratify_column="label").items():
        counts = Counter(subset["label"])
        assert all(abs(counts[label] - share * size) < 1 for label, share in ((0, 0.6), (1, 0.3), (2, 0.1)))


def test_unstratified_subsets_are_plain_random_samples():
    subsets = nested_subsets(_synthetic(), sizes=[100], seed=0)
    ids = _ids(subsets[100])
    assert ids != sorted(ids) and max(ids) > 600  # drawn from the whole split, not the first rows


def test_stratified_on_real_sib200(real_data):
    train = load_split("sib200", "sw", "train", data_dir=real_data)
    full = Counter(train["label"])
    subsets = nested_subsets(train, sizes=[100, 300], seed=0, stratify_column="label")
    for size, subset in subsets.items():
        counts = Counter(subset["label"])
        assert all(abs(counts[label] - n * size / len(train)) < 1 for label, n in full.items())
    assert set(subsets[100]["text"]) < set(subsets[300]["text"])


def test_ner_subsets_on_real_wikiann(real_data):
    train = load_split("wikiann", "sw", "train", data_dir=real_data)
    subsets = nested_subsets(train, sizes=[100, 300, 1000], seed=1)
    small = {" ".join(tokens) for tokens in subsets[100]["tokens"]}
    assert small <= {" ".join(tokens) for tokens in subsets[300]["tokens"]}
    assert len(subsets[1000]) == 1000 and subsets[1000].column_names == ["tokens", "tags"]


def test_too_many_examples_says_how_many_there_are():
    with pytest.raises(XadaptError, match="1000-example subset: the split has only 701 examples"):
        nested_subsets(_synthetic(701), sizes=[100, 1000])


def test_bad_sizes_and_columns():
    ds = _synthetic(50)
    with pytest.raises(XadaptError, match="positive"):
        nested_subsets(ds, sizes=[0, 10])
    with pytest.raises(XadaptError, match="no subset sizes"):
        nested_subsets(ds, sizes=[])
    with pytest.raises(XadaptError, match="cannot stratify on 'tags'.*id, label"):
        nested_subsets(ds, sizes=[10], stratify_column="tags")
