"""Tokenisation and collation against the packaged model's tokenizer."""

import pytest
import torch
from datasets import Dataset
from transformers import AutoTokenizer

from xadapt.models import resolve_model
from xadapt.train.features import IGNORE, collator_for, encode, labelled_positions


@pytest.fixture(scope="module")
def tokenizer():
    return AutoTokenizer.from_pretrained(resolve_model("multilingual-e5-small"))


def test_ner_labels_sit_on_first_subwords(tokenizer):
    split = Dataset.from_list([{"tokens": ["Uswidi", "ni", "nchi"], "tags": [5, 0, 0]}])
    row = encode(split, "token_classification", tokenizer, 64)[0]
    pieces = tokenizer.convert_ids_to_tokens(row["input_ids"])
    labelled = [p for p, label in zip(pieces, row["labels"]) if label != IGNORE]
    assert labelled[0].startswith("▁") and len(labelled) == 3
    assert [label for label in row["labels"] if label != IGNORE] == [5, 0, 0]
    assert row["labels"][0] == IGNORE and row["labels"][-1] == IGNORE


def test_truncation_drops_labels_of_cut_words(tokenizer):
    split = Dataset.from_list([{"tokens": ["neno"] * 50, "tags": [1] * 50}])
    row = encode(split, "token_classification", tokenizer, 16)[0]
    assert len(row["input_ids"]) == 16
    assert sum(label != IGNORE for label in row["labels"]) == 14


def test_batches_pad_to_their_longest_member(tokenizer):
    split = Dataset.from_list([{"text": "Habari", "label": 0}, {"text": "Habari za asubuhi rafiki yangu", "label": 1}])
    rows = list(encode(split, "sequence_classification", tokenizer, 64))
    batch = collator_for("sequence_classification", tokenizer)(rows)
    assert batch["input_ids"].shape == (2, max(len(r["input_ids"]) for r in rows))
    assert batch["labels"].tolist() == [0, 1]
    assert batch["attention_mask"][0].sum() == len(rows[0]["input_ids"])


def test_multiple_choice_batches_are_batch_by_choice_by_length(tokenizer):
    split = Dataset.from_list(
        [{"premise": "Mwanaume alifungua bomba.", "question": "effect", "choice1": "Maji yalitoka.", "choice2": "Choo kilijaa.", "label": 0}]
        * 3
    )
    rows = list(encode(split, "multiple_choice", tokenizer, 64))
    batch = collator_for("multiple_choice", tokenizer)(rows)
    assert batch["input_ids"].shape[:2] == (3, 2)
    assert "What happened as a result?" in tokenizer.decode(batch["input_ids"][0, 0])


def test_predictions_are_read_where_gold_labels_are():
    logits = torch.zeros(1, 4, 3)
    logits[0, 1, 2] = logits[0, 3, 1] = 1.0
    labels = torch.tensor([[IGNORE, 0, IGNORE, 0]])
    assert labelled_positions(logits.argmax(-1), labels) == [[2, 1]]
    assert labelled_positions(labels, labels) == [[0, 0]]
