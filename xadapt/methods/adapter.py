"""A task adapter trained alone on the frozen encoder: `adapter` (seq_bn, the name He et al. 2021 use)
and one entry per adapter method of `xadapt.adapters.METHODS` (lora, par_bn, prefix, mam, ...)."""

from __future__ import annotations

import copy
from pathlib import Path

from xadapt.adapters import METHODS as ADAPTER_METHODS
from xadapt.adapters import AdapterModel
from xadapt.methods.base import HEAD_DIR, Composer, Prepared, TrainingMethod
from xadapt.methods.budget import sized_config
from xadapt.methods.registry import add

ADAPTER_DIR = "adapter"  # inside a saved run: the task adapter
ADAPTER_LR = 1e-3  # the top of the usual 1e-4..1e-3 (He et al. 2021, Pfeiffer et al. 2020)


class TaskAdapterMethod(TrainingMethod):
    """A method that trains one task adapter (saved in `adapter/`) and the head; `compose` places the adapter."""

    lr = ADAPTER_LR
    parts = (ADAPTER_DIR, HEAD_DIR)

    def compose(self, name: str) -> Composer:
        raise NotImplementedError

    def save(self, model: AdapterModel, name: str, directory: Path, tokenizer) -> None:
        model.save_adapter(directory / ADAPTER_DIR, name)
        super().save(model, name, directory, tokenizer)

    def attach(self, model: AdapterModel, run_dir: Path, name: str) -> Composer:
        model.load_adapter(Path(run_dir) / ADAPTER_DIR, name=name)
        super().attach(model, run_dir, name)
        return self.compose(name)


class SingleAdapter(TaskAdapterMethod):
    """A task adapter of one adapter method, alone, with the head; optionally sized to a parameter budget."""

    single_adapter = True

    def __init__(self, name: str, adapter_method: str, summary: str, budget: float | None = None):
        self.name, self.adapter_method, self.budget = name, adapter_method, budget
        self.summary = summary
        self.trains = f"a {adapter_method} task adapter and the head; the encoder stays frozen"
        self.demo_title = "task adapter" if name == "adapter" else f"{name} task adapter"

    def at_budget(self, share: float, name: str) -> SingleAdapter:
        """This method with its adapter sized to `share` of the encoder's layer parameters."""
        return SingleAdapter(name, self.adapter_method, f"{self.summary}, sized to {share:.2%} of the encoder layers", share)

    def task_adapter(self, model: AdapterModel, name: str) -> None:
        """Add the task adapter `name` (sized to the budget, if any) and train it with its head."""
        config = ADAPTER_METHODS[self.adapter_method].config_class()
        if self.budget is not None:
            config = sized_config(self.adapter_method, self.budget, model)
        model.add_adapter(name, copy.deepcopy(config))
        model.train_adapter(name)

    def build(self, model: AdapterModel, name: str, prepared: Prepared) -> Composer:
        self.task_adapter(model, name)
        return self.compose(name)

    def compose(self, name: str) -> Composer:
        return lambda language: name


add(SingleAdapter("adapter", "seq_bn", "a seq_bn task adapter (Pfeiffer), the 'adapter' of He et al. 2021"))
for _name, _entry in ADAPTER_METHODS.items():
    add(SingleAdapter(_name, _name, f"a task adapter: {_entry.summary}"))
