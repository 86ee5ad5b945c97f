"""A run's model as its training method builds it for training (`xadapt.train.saved` loads a saved one)."""

from __future__ import annotations

from xadapt.adapters import AdapterModel
from xadapt.methods.base import Composer, Prepared, TrainingMethod
from xadapt.methods.registry import get_method
from xadapt.train.task import TASK


def build_run_model(method: str | TrainingMethod, model_dir, head: str, num_labels: int,
                    prepared: Prepared = Prepared()) -> tuple[AdapterModel, Composer]:
    """The base model with a fresh `head` and whatever `method` trains (named `TASK`), and its composer."""
    method = get_method(method) if isinstance(method, str) else method
    model = AdapterModel.from_pretrained(model_dir)
    model.add_head(TASK, head, num_labels=num_labels, pooling=method.head_pooling)
    return model, method.build(model, TASK, prepared)

