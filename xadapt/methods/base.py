"""What a training method is: one entry of the training-method registry (`xadapt.methods`).

A training method says what of the model trains for a task run, how the trained parts compose at
inference, what it needs prepared before it starts (MAD-X: language adapters; AdapterFusion: the
adapters it fuses), what a run saves, its usual learning rate and weight decay, and how the demo
serves it. Everything that used to test a method's name (the runner, saving and loading, the
sweep's checks and estimate, the demo) asks the entry instead.

Inside a run's `AdapterModel` the trained adapter (or fusion) and head are named `name` (the
runner uses "task"); the demo loads many runs into one shared model, each under a name of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import torch

from xadapt.adapters import AdapterModel
from xadapt.adapters.composition import Composition

# A composition for the name of the language adapter under the task's parts (MAD-X), or None.
Composer = Callable[[str | None], Composition | None]

HEAD_DIR = "head"  # inside a saved run: every method saves its head here


@dataclass(frozen=True)
class Prepared:
    """Parts trained before a run, each in a folder of its own (absolute paths)."""

    language_adapters: dict[str, Path] = field(default_factory=dict)  # language -> adapter folder (MAD-X)
    fused_adapters: dict[str, Path] = field(default_factory=dict)  # adapter name -> adapter folder (AdapterFusion)


class TrainingMethod:
    """One registered way of training a task run; subclasses fill in the class attributes and hooks."""

    name: ClassVar[str]
    summary: ClassVar[str]  # one line for `xadapt methods` and --help
    trains: ClassVar[str]  # what the optimiser updates, in words
    lr: ClassVar[float]  # the usual learning rate (He et al. 2021: fine-tuning 2e-5..5e-5, adapters 1e-4..1e-3)
    weight_decay: ClassVar[float] = 0.0
    parts: ClassVar[tuple[str, ...]]  # folders a saved run holds beside run.json
    demo_title: ClassVar[str]  # how the demo names a saved run of this method
    # seconds per training example-epoch on 2 Zen 4 cores in fp32 (multilingual-e5-small, batch 8): the estimate only
    seconds_per_example: ClassVar[float] = 0.0135
    needs_language_adapters: ClassVar[bool] = False  # MAD-X: a language adapter for the training and every evaluation language
    fuses_adapters: ClassVar[bool] = False  # AdapterFusion: trained task adapters to fuse, prepared by the sweep
    whole_encoder: ClassVar[bool] = False  # saves a whole encoder (hundreds of MB): a sweep keeps it at the largest size only
    single_adapter: ClassVar[bool] = False  # one adapter trained alone: what He et al. (2021) compare with fine-tuning
    adapter_method: ClassVar[str | None] = None  # the adapter method of that adapter (`xadapt.adapters.METHODS`)
    head_pooling: ClassVar[str] = "first"  # what a sentence-level head reads: the first token, or the mean of the tokens

    # ----- training ------------------------------------------------------------------------------

    def build(self, model: AdapterModel, name: str, prepared: Prepared) -> Composer:
        """Add the parts that train (under `name`) and what they sit on, freeze the rest, and return
        the composition for each language adapter name. The head `name` is already on `model`."""
        raise NotImplementedError

    def extra_loss(self, model: AdapterModel, name: str) -> torch.Tensor | None:
        """A term added to the training loss (AdapterFusion's regulariser); None for most methods."""
        return None

    # ----- saving, loading, serving ----------------------------------------------------------------

    def save(self, model: AdapterModel, name: str, directory: Path, tokenizer) -> None:
        """Write what the run trained into `directory` (a staging folder); the head included."""
        model.save_head(directory / HEAD_DIR, name)

    def encoder_dir(self, run_dir: Path, facts: dict) -> Path:
        """The encoder a saved run computes with: the base model, or the run's own fine-tuned one."""
        return Path(facts["base_model"])

    def attach(self, model: AdapterModel, run_dir: Path, name: str) -> Composer:
        """Load a saved run's parts into `model` under `name` (a shared model may hold many runs)."""
        model.load_head(run_dir / HEAD_DIR, name=name)
        return lambda language: None

    def describe(self, facts: dict) -> str:
        """What a saved run of this method is, for the demo's lists."""
        return self.demo_title
