"""What a study is: the grid of runs a sweep executes, and the settings every run shares.

`StudyConfig` mirrors the flags of `xadapt sweep` and the YAML files in `configs/studies/`;
a test loads every shipped YAML into it. Defaults are the CPU profile (short training, capped
evaluation sets, short language-adapter training); the sweep prints its own time estimate before
it starts. `--paper` switches to the full protocol of Ruidan He et al. (2021) for GPU machines.
"""

import math
from dataclasses import asdict, dataclass, field, fields, replace

from xadapt.errors import XadaptError
from xadapt.train.language import LanguageAdapterSettings

TASK_METHODS = ("finetune", "adapter", "madx")
# usual learning rates: fine-tuning 2e-5..5e-5, adapters 1e-4..1e-3 (He et al. 2021, Pfeiffer et al. 2020)
DEFAULT_LRS = {"finetune": 5e-5, "adapter": 1e-3, "madx": 1e-3}
ADAPTER_LR = 1e-3  # the top of the usual range: CPU-profile runs are short


@dataclass
class StudyConfig:
    """One sweep: sizes x methods x learning rates x seeds x (train language -> eval languages)."""

    task: str = "wikiann"  # benchmark name or alias (ner, topic, nli, sentiment, copa)
    lang: str = "sw"  # the low-resource target language
    samples: int = 1000  # largest in-language training size; default sizes are log-spaced up to it
    sizes: list[int] | None = None  # explicit training sizes (overrides the log-spaced default)
    methods: list[str] = field(default_factory=lambda: list(TASK_METHODS))
    lrs: dict[str, list[float]] | None = None  # per-method learning rates; default DEFAULT_LRS
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    epochs: int = 1  # CPU profile (small sets get more, see min_steps); the paper profile trains 20
    min_steps: int = 75  # small training sets get more epochs, so every run takes at least this many steps
    source: str | None = "en"  # zero-shot source language; None for in-language runs only
    targets: list[str] | None = None  # zero-shot target languages; default [lang]
    model: str = "multilingual-e5-small"
    max_length: int = 128  # tokens per training example
    batch_size: int = 8  # small batches: more optimiser steps for the same compute, which small sets need
    eval_limit: int | None = 200  # cap on test examples per evaluation, a fixed sample (None = all)
    dev_limit: int | None = 100  # cap on dev examples for the per-epoch curve and model selection (None = all)
    language_adapter: LanguageAdapterSettings = field(default_factory=LanguageAdapterSettings)

    def __post_init__(self):
        if isinstance(self.language_adapter, dict):
            known = {f.name for f in fields(LanguageAdapterSettings)}
            unknown = set(self.language_adapter) - known
            if unknown:
                raise XadaptError(f"unknown language_adapter settings {sorted(unknown)}; known: {sorted(known)}")
            self.language_adapter = LanguageAdapterSettings(
                **{k: v if k == "output_vocabulary" else _number(v) for k, v in self.language_adapter.items()}
            )
        for name, value in asdict(self.language_adapter).items():
            if name == "output_vocabulary":
                continue  # a choice, checked by LanguageAdapterSettings
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
                raise XadaptError(f"language_adapter.{name} must be a positive number, got {value!r}")
        if self.lrs is not None:
            if not isinstance(self.lrs, dict):
                raise XadaptError(f"lrs maps each method to its learning rates, e.g. {{adapter: [1.0e-4, 3.0e-4]}}; got {self.lrs!r}")
            self.lrs = {m: [_number(r) for r in (rates if isinstance(rates, (list, tuple)) else [rates])] for m, rates in self.lrs.items()}
        for name in ("eval_limit", "dev_limit"):
            limit = getattr(self, name)
            if limit is not None and limit < 1:
                raise XadaptError(f"{name} must be a positive number of examples or null (all), got {limit}")
        if self.samples < 1:
            raise XadaptError(f"--samples must be a positive number of examples, got {self.samples}")
        if self.epochs < 1:
            raise XadaptError(f"--epochs must be at least 1, got {self.epochs}")
        if self.min_steps < 0:
            raise XadaptError(f"min_steps must be 0 or more, got {self.min_steps}")
        if not self.methods:
            raise XadaptError("--methods is empty; name at least one, e.g. finetune,adapter,madx")
        if not self.seeds:
            raise XadaptError("--seeds is empty; give at least one seed, e.g. 0")
        for size in self.training_sizes():
            if size < 1:
                raise XadaptError(f"training sizes must be positive, got {size}")
        for method, rates in self.learning_rates().items():
            for rate in rates:
                if not (isinstance(rate, (int, float)) and math.isfinite(rate) and rate > 0):
                    raise XadaptError(f"learning rate {rate!r} for {method} is not a positive number")

    def training_sizes(self) -> list[int]:
        """Explicit sizes, or three log-spaced sizes up to `samples` (1000 -> 100, 300, 1000).

        The largest is `samples` itself, never a rounding of it: 1810 must not become 2000."""
        if self.sizes:
            return sorted(set(self.sizes))
        return sorted({min(self.samples, _one_significant_digit(self.samples / 10 ** (k / 2))) for k in (2, 1)} | {self.samples})

    def learning_rates(self) -> dict[str, list[float]]:
        """Rates per method: those given, else each method's usual rate."""
        given = self.lrs or {}
        return {m: list(given.get(m) or [DEFAULT_LRS.get(m, ADAPTER_LR)]) for m in self.methods}

    def epochs_for(self, size: int) -> int:
        """`epochs`, raised for small training sets until a run takes at least `min_steps` optimiser steps."""
        steps_per_epoch = math.ceil(size / self.batch_size)
        return max(self.epochs, math.ceil(self.min_steps / steps_per_epoch))

    def target_languages(self) -> list[str]:
        return list(self.targets or [self.lang])

    def to_dict(self) -> dict:
        return {**asdict(self), "language_adapter": self.language_adapter.identity()}

    @classmethod
    def from_dict(cls, values: dict) -> "StudyConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise XadaptError(f"unknown study settings {sorted(unknown)}; known: {sorted(known)}")
        return cls(**values)

    def paper_profile(self) -> "StudyConfig":
        """The full protocol: 20 epochs, all evaluation data, MAD-X-length language adapters."""
        return replace(
            self,
            epochs=20,
            min_steps=0,
            batch_size=16,
            eval_limit=None,
            dev_limit=None,
            max_length=256,
            language_adapter=replace(self.language_adapter, steps=100_000, batch_size=64, max_length=256, lr=1e-4, head_steps=10_000),
        )


def _number(value):
    """YAML 1.1 reads `1e-4` (no dot) as text; take such a rate as the number it spells."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _one_significant_digit(value: float) -> int:
    magnitude = 10 ** math.floor(math.log10(value))
    return max(1, int(round(value / magnitude) * magnitude))
