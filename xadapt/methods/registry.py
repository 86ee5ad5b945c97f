"""The one table of training methods: name -> `TrainingMethod` (see `xadapt.methods`).

A single-adapter method may carry a parameter budget in its name, `lora@0.5%`: the adapter is
sized to that share of the encoder's transformer-layer parameters (`xadapt.methods.budget`), so
methods of the unified view compare at matched budgets.
"""

from __future__ import annotations

import re

from xadapt.errors import XadaptError
from xadapt.methods.base import TrainingMethod

TRAINING_METHODS: dict[str, TrainingMethod] = {}
_BUDGET = re.compile(r"^(?P<base>[a-z_]+)@(?P<percent>\d+(\.\d+)?)%$")


def register(cls: type[TrainingMethod]) -> type[TrainingMethod]:
    """Class decorator: add one instance of `cls` under its `name`."""
    return add(cls())


def add(method: TrainingMethod):
    """Add `method` under its name (a name may be registered once)."""
    if method.name in TRAINING_METHODS:
        raise XadaptError(f"training method {method.name!r} is registered twice")
    TRAINING_METHODS[method.name] = method
    return type(method)


def get_method(name: str) -> TrainingMethod:
    """The registered method `name` (or `method@P%`, a single-adapter method at a parameter budget)."""
    if name in TRAINING_METHODS:
        return TRAINING_METHODS[name]
    match = _BUDGET.match(name) if isinstance(name, str) else None
    if match and match["base"] in TRAINING_METHODS:
        base = TRAINING_METHODS[match["base"]]
        share = float(match["percent"]) / 100
        if not base.single_adapter or base.adapter_method is None:
            raise XadaptError(f"{name}: a parameter budget applies to single adapter methods "
                              f"({', '.join(single_adapter_methods())}), not {base.name}")
        if not 0 < share < 1:
            raise XadaptError(f"{name}: the budget must lie between 0% and 100% of the encoder's layer parameters")
        return base.at_budget(share, name)
    raise XadaptError(f"unknown training method {name!r}; choose from {', '.join(TRAINING_METHODS)} "
                      "(or a single adapter method at a budget, e.g. lora@0.5%; `xadapt methods` lists them)")


def single_adapter_methods() -> list[str]:
    return [name for name, method in TRAINING_METHODS.items() if method.single_adapter]
