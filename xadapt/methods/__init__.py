"""Training methods: what trains in a task run, how it composes, what it needs and saves.

One registry (`TRAINING_METHODS`, filled by the modules below); `get_method(name)` looks an entry
up, `lora@0.5%` sizes a single adapter method to a parameter budget. Everything that trains,
evaluates, saves, loads, estimates, reports or serves a run asks its entry.

    finetune                   full fine-tuning
    head                       linear probe: the frozen encoder, only the head trains
    adapter, seq_bn, lora, ... one task adapter alone (every adapter method of `xadapt.adapters`)
    madx                       a task adapter stacked on a language adapter (MAD-X)
    fusion                     AdapterFusion over task adapters trained first

Adding a method: a module with a `TrainingMethod` subclass decorated with `@register`, imported
below. The sweep, `xadapt train`/`eval`, the estimate, the report and the demo pick it up.
"""

# each module registers its entries, in this order (the order `xadapt methods` lists them in)
from xadapt.methods import finetune, head, adapter, madx, fusion, top_layers  # noqa: F401, I001
from xadapt.methods.base import Composer, Prepared, TrainingMethod
from xadapt.methods.model import build_run_model
from xadapt.methods.registry import TRAINING_METHODS, get_method, single_adapter_methods

__all__ = ["Composer", "Prepared", "TRAINING_METHODS", "TrainingMethod", "build_run_model", "get_method",
           "single_adapter_methods"]
