"""xadapt's entity-level NER scores as an `evaluate` module: `evaluate.load(PATH_OF_THIS_FOLDER)`.

Precision, recall and F1 over whole entities in IOB2 tag sequences, computed by seqeval in its
default (CoNLL) mode, which is what the hub's `seqeval` module reports as its `overall_*` scores.
A sequence with no predicted or no gold entity scores 0 rather than raising.
"""

import datasets
import evaluate
from seqeval.metrics import f1_score, precision_score, recall_score

_DESCRIPTION = "Entity-level precision, recall and F1 (seqeval, IOB2, default mode) over tag sequences."
_INPUTS = """
Args:
    predictions: a list of predicted tag sequences, e.g. [["B-PER", "I-PER", "O"]].
    references: the gold tag sequences, aligned with the predictions.
Returns:
    seqeval_f1, precision, recall: floats in [0, 1].
"""
_CITATION = """@misc{seqeval, title={seqeval: A Python framework for sequence labeling evaluation},
  author={Hiroki Nakayama}, year={2018}, url={https://github.com/chakki-works/seqeval}}"""


class SeqevalF1(evaluate.Metric):
    def _info(self) -> evaluate.MetricInfo:
        tags = datasets.Sequence(datasets.Value("string"))
        return evaluate.MetricInfo(
            description=_DESCRIPTION, citation=_CITATION, inputs_description=_INPUTS,
            features=datasets.Features({"predictions": tags, "references": tags}),
        )

    def _compute(self, predictions, references) -> dict[str, float]:
        return {
            "seqeval_f1": float(f1_score(references, predictions, zero_division=0)),
            "precision": float(precision_score(references, predictions, zero_division=0)),
            "recall": float(recall_score(references, predictions, zero_division=0)),
        }
