"""Evaluate a model (any adapter composition, or a fine-tuned encoder) on an encoded split.

One function serves per-epoch dev evaluation, final test evaluation and `xadapt eval`, so that
every number in a study is computed the same way.
"""

from dataclasses import dataclass

import torch
from datasets import Dataset
from torch.utils.data import DataLoader

from xadapt.train.features import labelled_positions
from xadapt.train.metrics import classification_scores, ner_scores


@dataclass
class Evaluation:
    loss: float
    scores: dict[str, float]


@torch.inference_mode()
def evaluate(model, encoded: Dataset, collator, *, head: str, labels: list[str], batch_size: int = 64) -> Evaluation:
    """Mean loss and task scores of `model` (a callable taking a batch, e.g. `ComposedModel`) on `encoded`."""
    was_training = model.training
    model.eval()
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]["input_ids"]))  # less padding
    loader = DataLoader(encoded.select(order), batch_size=batch_size, collate_fn=collator)
    total_loss, total_examples = 0.0, 0
    gold, predicted = [], []
    for batch in loader:
        out = model(**batch)
        n = batch["labels"].shape[0]
        total_loss += out.loss.item() * n
        total_examples += n
        if head == "token_classification":
            for tags, guess in zip(labelled_positions(batch["labels"], batch["labels"]),
                                   labelled_positions(out.logits.argmax(-1), batch["labels"])):
                gold.append([labels[t] for t in tags])
                predicted.append([labels[t] for t in guess])
        else:
            gold += batch["labels"].tolist()
            predicted += out.logits.argmax(-1).tolist()
    model.train(was_training)
    scores = ner_scores(gold, predicted) if head == "token_classification" else classification_scores(gold, predicted)
    return Evaluation(loss=total_loss / max(total_examples, 1), scores=scores)
