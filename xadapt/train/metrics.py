"""Task metrics, computed through `evaluate` modules that ship with xadapt and load from local paths.

`evaluate.load("seqeval")` fetches its script from the hub, which fails offline, so xadapt carries
its own modules in `xadapt/train/metric_modules/` and loads them by path:

- `seqeval_f1`: entity-level precision, recall and F1 over IOB2 tags (seqeval's default mode, the
  hub's `seqeval` `overall_*` scores);
- `classification`: accuracy and macro-F1 (scikit-learn, as the hub's `accuracy` and `f1` modules).

Any tool built on `evaluate` scores the same way with `evaluate.load(module_path("seqeval_f1"))`.
"""

from collections.abc import Sequence
from functools import cache
from pathlib import Path

MODULES = Path(__file__).with_name("metric_modules")

# metric name -> the key in `scores()` output that ranks runs
PRIMARY = {"seqeval_f1": "seqeval_f1", "accuracy": "accuracy"}


def module_path(name: str) -> str:
    """The folder of xadapt's `evaluate` module `name`, for `evaluate.load`."""
    return str(MODULES / name)


@cache
def metric(name: str):
    """xadapt's `evaluate` module `name` (an `evaluate.EvaluationModule`), loaded once per process and
    computed in memory (no cache files). `evaluate` is imported here, at the first score, because it
    pulls in transformers' pipelines: seconds that a command which never scores should not pay."""
    import evaluate

    return evaluate.load(module_path(name), keep_in_memory=True)


def ner_scores(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> dict[str, float]:
    """Entity-level precision, recall and F1 over IOB2 tag sequences."""
    return metric("seqeval_f1").compute(predictions=[list(s) for s in predicted], references=[list(s) for s in gold])


def classification_scores(gold: Sequence[int], predicted: Sequence[int]) -> dict[str, float]:
    """Accuracy and macro-F1 (the latter is what matters for skewed sentiment labels)."""
    return metric("classification").compute(predictions=[int(p) for p in predicted], references=[int(g) for g in gold])
