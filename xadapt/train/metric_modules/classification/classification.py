"""xadapt's sentence-classification scores as an `evaluate` module: `evaluate.load(PATH_OF_THIS_FOLDER)`.

Accuracy and macro-averaged F1 (the one that matters for skewed sentiment labels), computed by
scikit-learn as the hub's `accuracy` and `f1` (`average="macro"`) modules do; a class that is
never predicted contributes an F1 of 0.
"""

import datasets
import evaluate
from sklearn.metrics import accuracy_score, f1_score

_DESCRIPTION = "Accuracy and macro-F1 (scikit-learn) over integer class labels."
_INPUTS = """
Args:
    predictions: a list of predicted class ids.
    references: the gold class ids.
Returns:
    accuracy, macro_f1: floats in [0, 1].
"""


class Classification(evaluate.Metric):
    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION, citation="", inputs_description=_INPUTS,
            features=datasets.Features({"predictions": datasets.Value("int64"), "references": datasets.Value("int64")}),
        )

    def _compute(self, predictions, references) -> dict[str, float]:
        return {
            "accuracy": float(accuracy_score(references, predictions)),
            "macro_f1": float(f1_score(references, predictions, average="macro", zero_division=0)),
        }
