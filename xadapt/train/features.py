"""Turn a loaded split (standard columns, see `xadapt.data`) into model inputs, and batch them.

Padding is dynamic: each example keeps its own length and the collator pads a batch to its
longest member. NER labels sit on the first sub-word of each word (-100 elsewhere), the
convention of Devlin et al.; predictions are read back at the same positions.
"""

import hashlib
from collections.abc import Sequence

import torch
from datasets import Dataset
from transformers import DataCollatorForTokenClassification, DataCollatorWithPadding, PreTrainedTokenizerBase

IGNORE = -100
# XCOPA asks for the cause or the effect of the premise; the question is spelled out as in XLM-R's COPA recipe
COPA_QUESTIONS = {"cause": "What was the cause?", "effect": "What happened as a result?"}


def _token_classification(batch: dict, tokenizer: PreTrainedTokenizerBase, max_length: int) -> dict:
    enc = tokenizer(batch["tokens"], is_split_into_words=True, truncation=True, max_length=max_length)
    enc["labels"] = []
    for row, tags in enumerate(batch["tags"]):
        labels, previous = [], None
        for word in enc.word_ids(row):
            labels.append(IGNORE if word is None or word == previous else tags[word])
            previous = word
        enc["labels"].append(labels)
    return enc


def _sequence_classification(batch: dict, tokenizer: PreTrainedTokenizerBase, max_length: int) -> dict:
    pair = batch.get("text_pair")
    enc = tokenizer(batch["text"], pair, truncation=True, max_length=max_length)
    enc["labels"] = batch["label"]
    return enc


def _multiple_choice(batch: dict, tokenizer: PreTrainedTokenizerBase, max_length: int) -> dict:
    first, second = [], []
    for premise, question, c1, c2 in zip(batch["premise"], batch["question"], batch["choice1"], batch["choice2"]):
        context = f"{premise} {COPA_QUESTIONS[question]}"
        first += [context, context]
        second += [c1, c2]
    flat = tokenizer(first, second, truncation=True, max_length=max_length)
    enc = {key: [values[i : i + 2] for i in range(0, len(values), 2)] for key, values in flat.items()}
    enc["labels"] = batch["label"]
    return enc


_ENCODERS = {
    "token_classification": _token_classification,
    "sequence_classification": _sequence_classification,
    "multiple_choice": _multiple_choice,
}


def encode(split: Dataset, head: str, tokenizer: PreTrainedTokenizerBase, max_length: int) -> Dataset:
    """Tokenise a split for `head`, keeping only model inputs and `labels`.

    The result's fingerprint is derived from the inputs' names rather than left to `datasets`,
    which would pickle the whole tokenizer to hash it: about 3 s per call for a 250k-word vocabulary.
    """
    facts = f"{split._fingerprint}|{head}|{max_length}|{type(tokenizer).__name__}|{tokenizer.name_or_path}|{len(tokenizer)}"
    return split.map(
        _ENCODERS[head],
        batched=True,
        fn_kwargs={"tokenizer": tokenizer, "max_length": max_length},
        remove_columns=split.column_names,
        desc=None,
        new_fingerprint=hashlib.sha256(facts.encode()).hexdigest()[:16],
    )


class MultipleChoiceCollator:
    """Pad [choices, length] examples to one [batch, choices, longest] tensor per key."""

    def __init__(self, tokenizer: PreTrainedTokenizerBase):
        self.tokenizer = tokenizer

    def __call__(self, features: Sequence[dict]) -> dict[str, torch.Tensor]:
        n_choices = len(features[0]["input_ids"])
        keys = [k for k in features[0] if k != "labels"]
        flat = [{k: f[k][c] for k in keys} for f in features for c in range(n_choices)]
        batch = self.tokenizer.pad(flat, return_tensors="pt")
        batch = {k: v.view(len(features), n_choices, -1) for k, v in batch.items()}
        batch["labels"] = torch.tensor([f["labels"] for f in features])
        return batch


def collator_for(head: str, tokenizer: PreTrainedTokenizerBase):
    """The dynamic-padding collator for a head type."""
    if head == "token_classification":
        return DataCollatorForTokenClassification(tokenizer, label_pad_token_id=IGNORE)
    if head == "multiple_choice":
        return MultipleChoiceCollator(tokenizer)
    return DataCollatorWithPadding(tokenizer)


def labelled_positions(values: torch.Tensor, labels: torch.Tensor) -> list[list[int]]:
    """Per sentence, `values` ([batch, length] ids) at the positions that carry a gold label."""
    keep = labels != IGNORE
    return [row[mask].tolist() for row, mask in zip(values, keep)]
