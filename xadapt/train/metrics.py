"""Task metrics that work offline.

`evaluate.load()` fetches metric scripts from the hub, so the metrics are computed with the
libraries those scripts wrap: seqeval for entity-level NER F1 (CoNLL-style, IOB2), scikit-learn
for accuracy and macro-F1.
"""

from collections.abc import Sequence

from seqeval.metrics import f1_score as entity_f1
from seqeval.metrics import precision_score as entity_precision
from seqeval.metrics import recall_score as entity_recall
from sklearn.metrics import accuracy_score, f1_score

# metric name -> the key in `scores()` output that ranks runs
PRIMARY = {"seqeval_f1": "seqeval_f1", "accuracy": "accuracy"}


def ner_scores(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> dict[str, float]:
    """Entity-level precision, recall and F1 over IOB2 tag sequences."""
    gold, predicted = [list(s) for s in gold], [list(s) for s in predicted]
    return {
        "seqeval_f1": float(entity_f1(gold, predicted, zero_division=0)),
        "precision": float(entity_precision(gold, predicted, zero_division=0)),
        "recall": float(entity_recall(gold, predicted, zero_division=0)),
    }


def classification_scores(gold: Sequence[int], predicted: Sequence[int]) -> dict[str, float]:
    """Accuracy and macro-F1 (the latter is what matters for skewed sentiment labels)."""
    return {
        "accuracy": float(accuracy_score(gold, predicted)),
        "macro_f1": float(f1_score(gold, predicted, average="macro", zero_division=0)),
    }
