"""What a study is: the grid of runs a sweep executes, and the settings every run shares.

`StudyConfig` is both the YAML files in `configs/studies/` (a test loads every shipped one into it)
and the study flags of `xadapt sweep`, which are derived from its fields: each field's default and
help (`metadata["help"]`) live here only (`xadapt.study.settings_merge` merges file and flags). Defaults are the CPU profile (capped evaluation sets,
short language-adapter training); the sweep prints its own time estimate before it starts.
`--paper` switches to the full protocol of Ruidan He et al. (2021) for GPU machines.

Every run of a study trains under one stopping rule, whatever its size: it stops after `patience`
epochs without a better dev score, at the latest after `epochs`, and optionally when its
`time_budget` is spent. A learning curve then compares sizes, not budgets. Two optional parts add
runs to the grid: `lr_sweep` (more learning rates at some sizes, for the sensitivity claim) and
`long_training` (runs without early stopping, for the overfitting claim).
"""

import math
import types
from dataclasses import MISSING, asdict, dataclass, field, fields, is_dataclass, replace
from typing import Any, Union, get_args, get_origin, get_type_hints

from xadapt.adapters.config import option
from xadapt.errors import XadaptError
from xadapt.methods import get_method
from xadapt.precision import AUTO, PRECISION_HELP, PRECISIONS
from xadapt.train.language import LanguageAdapterSettings

DEFAULT_METHODS = ("finetune", "adapter", "madx")  # entries of the training-method registry (`xadapt methods`)
LONG_TRAINING_EPOCHS = 10  # long runs train at least this many epochs: the overfitting claim judges nothing shorter
ZERO_SHOT_SIZES = ("largest", "all")  # source data is rarely the scarce part: by default zero-shot runs train on the largest size
RETIRED_SETTINGS = {
    "min_steps": "min_steps is gone: every size now trains under the same stopping rule (epochs is the maximum, "
    "patience stops a run whose dev score no longer improves); delete the line",
}


@dataclass
class LearningRateSweep:
    """Extra runs at every rate of `lrs` (per method), at `sizes`, in-language: what the sensitivity claim needs."""

    sizes: list[int] = field(metadata={"help": "the training sizes the extra rates are tried at, e.g. [300]"})
    lrs: dict[str, list[float]] = field(metadata={"help": "the rates tried, per method, e.g. {adapter: [1.0e-4, 3.0e-4, 1.0e-3]}"})


@dataclass
class LongTraining:
    """Extra runs of `methods` (default: the study's) at `sizes`, in-language, trained for `epochs`
    without early stopping: the drop from the best dev epoch to the last measures overfitting."""

    sizes: list[int] = field(metadata={"help": "the training sizes of the long runs, e.g. [100]"})
    epochs: int = option(20, f"epochs each long run trains, without early stopping (at least {LONG_TRAINING_EPOCHS})")
    methods: list[str] | None = option(None, "the methods trained long; null: the study's")


@dataclass
class FusionSettings:
    """The task adapters `fusion` runs fuse (AdapterFusion's knowledge-extraction stage), each trained once and
    cached: other benchmarks' adapters in the run's training language, and the study task's in other languages."""

    tasks: list[str] | dict[str, list[str]] | None = option(
        None, "other benchmarks whose adapters are fused, the same for every training language or per training language "
        "({sw: [sib200], en: [xnli]}); null: in each training language, every other benchmark with training data there")
    languages: list[str] = option([], "the study's task in these languages too (multi-source transfer)")
    samples: int = option(1000, "training examples per fused adapter (at most its training split)")


@dataclass
class StudyConfig:
    """One sweep: sizes x methods x learning rates x seeds x (train language -> eval languages).

    Each field's `help` (its metadata) is the help of its `xadapt sweep` flag (`--kebab-name`, a list as
    comma-separated text) and of its study-file key; `xadapt.study.settings_merge` merges the two."""

    task: str = option("wikiann", "Benchmark name or alias: wikiann (ner), sib200 (topic), xnli (nli), afrisenti (sentiment), "
                       "masakhaner, xcopa (copa).")
    lang: str = option("sw", "The low-resource target language, e.g. sw.")
    samples: int = option(1000, "Largest in-language training size; the default sizes are log-spaced up to it (100, 300, 1000).")
    sizes: list[int] | None = option(None, "Explicit training sizes instead of the log-spaced default.", example="100,300,1000")
    methods: list[str] = option(list(DEFAULT_METHODS), "Training methods, entries of the method registry (`xadapt methods`).",
                                example="finetune,adapter,madx")
    lrs: dict[str, list[float]] | None = option(
        None, "Learning rates per method (flag: 1e-4,3e-4 for every method, or finetune=2e-5,adapter=1e-4:1e-3); "
        "default: each method's usual rate.", example="1e-4,3e-4")
    seeds: list[int] = option([0, 1, 2], "Seeds; each draws its own nested training subsets and initialisation.", example="0,1,2")
    epochs: int = option(20, "The most epochs a run trains (the papers train 20).")
    patience: int | None = option(3, "Stop a run after this many epochs without a better dev score; 0 (in a study file also null) trains every epoch.")
    time_budget: float | None = option(None, "Seconds of training per run after which no further epoch starts (default: no limit).")
    source: str | None = option("en", "Zero-shot source language; none (null) for in-language runs only.")
    zero_shot_sizes: str = option("largest", "Source-language training sizes of the zero-shot runs: the largest only, or all.",
                                  choices=ZERO_SHOT_SIZES)
    targets: list[str] | None = option(None, "Zero-shot target languages (default: the target language).", example="sw,yo")
    model: str = option("multilingual-e5-small", "Packaged model, local transformers directory or hub id.")
    max_length: int = option(128, "Tokens per training example.")
    batch_size: int = option(8, "Examples per optimiser step; small batches give small training sets the steps they need.")
    eval_limit: int | None = option(500, "Cap on test examples per evaluation, a fixed sample (null in a study file, or --paper: all).")
    dev_limit: int | None = option(200, "Cap on dev examples for the per-epoch curve, model selection and early stopping (null in a study file, or --paper: all).")
    language_adapter: LanguageAdapterSettings = option(
        LanguageAdapterSettings(), "MAD-X language adapters: masked-LM training on raw text, cached and shared by all madx runs.")
    precision: str = option(AUTO, PRECISION_HELP, choices=PRECISIONS)
    lr_sweep: LearningRateSweep | None = option(None, "More learning rates at some sizes (in-language runs).")
    long_training: LongTraining | None = option(None, "Runs without early stopping at some sizes (in-language runs).")
    fusion: FusionSettings | None = option(None, "What `fusion` runs fuse (default: other benchmarks, when fusion is a method).")

    def __post_init__(self):
        for name, hint in get_type_hints(type(self)).items():
            value = getattr(self, name)
            if not _conforms(value, hint):
                raise SettingError(name, f"study setting {name} must be {_describe(hint)}, got {value!r}")
        self.lr_sweep = _part(LearningRateSweep, self.lr_sweep, "lr_sweep")
        self.long_training = _part(LongTraining, self.long_training, "long_training")
        self.fusion = _part(FusionSettings, self.fusion, "fusion")
        fuses = any(get_method(m).fuses_adapters for m in self.all_methods())
        if self.fusion is None and fuses:
            self.fusion = FusionSettings()
        if self.fusion is not None and not fuses:
            raise SettingError("fusion", "fusion: says what fusion runs fuse, and no method of the study fuses adapters; "
                                         "add fusion to the methods or remove the fusion settings")
        if self.fusion is not None and not (_conforms(self.fusion.tasks, list[str] | dict[str, list[str]] | None)
                                            and _conforms(self.fusion.languages, list[str])):
            raise SettingError("fusion", "fusion.tasks is a list of benchmarks (or a mapping of training language to such a list) "
                                         "and fusion.languages a list of languages, e.g. {tasks: [sib200, xnli], languages: [en]}")
        if self.fusion is not None and (isinstance(self.fusion.samples, bool) or not isinstance(self.fusion.samples, int)
                                        or self.fusion.samples < 1):
            raise SettingError("fusion", f"fusion.samples must be a positive number of examples, got {self.fusion.samples!r}")
        if self.precision not in PRECISIONS:
            raise SettingError("precision", f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        if self.zero_shot_sizes not in ZERO_SHOT_SIZES:
            raise XadaptError(f"zero_shot_sizes must be one of {', '.join(ZERO_SHOT_SIZES)}, got {self.zero_shot_sizes!r}")
        if self.lr_sweep is not None:
            self.lr_sweep.sizes = _sizes(self.lr_sweep.sizes, "lr_sweep.sizes")
            self.lr_sweep.lrs = _rates(self.lr_sweep.lrs, "lr_sweep.lrs")
        if self.long_training is not None:
            self.long_training.sizes = _sizes(self.long_training.sizes, "long_training.sizes")
            epochs = self.long_training.epochs
            if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < LONG_TRAINING_EPOCHS:
                raise SettingError("long_training", f"long_training.epochs must be a whole number of at least {LONG_TRAINING_EPOCHS} "
                                   f"(shorter runs show no overfitting), got {epochs!r}")
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
            self.lrs = _rates(self.lrs, "lrs")
        for name in ("eval_limit", "dev_limit"):
            limit = getattr(self, name)
            if limit is not None and limit < 1:
                raise XadaptError(f"{name} must be a positive number of examples or null (all), got {limit}")
        if self.samples < 1:
            raise XadaptError(f"--samples must be a positive number of examples, got {self.samples}")
        if self.epochs < 1:
            raise XadaptError(f"--epochs must be at least 1, got {self.epochs}")
        if self.patience == 0:
            self.patience = None  # 0 epochs of patience: train every epoch, as --patience 0 says
        if self.patience is not None and self.patience < 1:
            raise SettingError("patience", f"--patience must be a whole number of epochs, at least 1 (0 or null: no early stopping), got {self.patience!r}")
        if self.time_budget is not None:
            self.time_budget = float(_number(self.time_budget))  # 600 and 600.0 are one budget, with one run id
            if not 0 < self.time_budget < math.inf:
                raise SettingError("time_budget", f"--time-budget must be a positive number of seconds per run (or null: none), got {self.time_budget!r}")
        if not self.methods:
            raise XadaptError("--methods is empty; name at least one, e.g. finetune,adapter,madx")
        if not self.seeds:
            raise XadaptError("--seeds is empty; give at least one seed, e.g. 0")
        for size in self.training_sizes():
            if size < 1:
                raise XadaptError(f"training sizes must be positive, got {size}")
        grids = [self.learning_rates(), *([self.lr_sweep.lrs] if self.lr_sweep else [])]
        for method, rates in (item for grid in grids for item in grid.items()):
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
        """Rates per method of the main grid: those given, else each method's usual rate."""
        return {m: self.rates_for(m) for m in self.methods}

    def rates_for(self, method: str) -> list[float]:
        """The rates `lrs` gives `method`, else its usual rate (its registry entry's)."""
        return list((self.lrs or {}).get(method) or [get_method(method).lr])

    def zero_shot_training_sizes(self) -> list[int]:
        """The sizes the zero-shot runs train at on the source language."""
        sizes = self.training_sizes()
        return sizes if self.zero_shot_sizes == "all" else sizes[-1:]

    def target_languages(self) -> list[str]:
        return list(self.targets or [self.lang])

    def all_methods(self) -> list[str]:
        """Every method some run of the study trains, in the order they are first named."""
        extra = [*(self.lr_sweep.lrs if self.lr_sweep else []), *((self.long_training.methods or []) if self.long_training else [])]
        return list(dict.fromkeys([*self.methods, *extra]))

    def to_dict(self) -> dict:
        """The study as `study.json` records it; the optional parts only when present, and the
        precision only when it is not `auto`, so the ids of studies without them do not depend on
        their existence. (What `auto` resolved to is in `study.json`'s environments and every record.)"""
        values = {**asdict(self), "language_adapter": self.language_adapter.identity()}
        for name in ("lr_sweep", "long_training", "time_budget", "fusion"):
            if values[name] is None:
                del values[name]
        if values["precision"] == AUTO:
            del values["precision"]
        return values

    @classmethod
    def from_dict(cls, values: dict) -> "StudyConfig":
        for name, message in RETIRED_SETTINGS.items():
            if name in values:
                raise XadaptError(message)
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise XadaptError(f"unknown study settings {sorted(unknown)}; known: {sorted(known)}")
        return cls(**values)

    def paper_profile(self) -> "StudyConfig":
        """The full protocol: 20 epochs without early stopping (the best dev epoch is scored), all
        evaluation data, MAD-X-length language adapters."""
        return replace(
            self,
            epochs=20,
            patience=None,
            time_budget=None,
            batch_size=16,
            eval_limit=None,
            dev_limit=None,
            max_length=256,
            language_adapter=replace(self.language_adapter, steps=100_000, batch_size=64, max_length=256, lr=1e-4, head_steps=10_000),
        )


class SettingError(XadaptError):
    """A study setting of the wrong kind; `key` names it, so a study file's reader can add its line."""

    def __init__(self, key: str, message: str):
        super().__init__(message)
        self.key = key


_WORDS = {int: "a whole number", float: "a number", str: "text", dict: "a mapping", type(None): "null"}


def _conforms(value: Any, hint: Any) -> bool:
    """Whether `value` (as a study file or flag gives it) has the type `hint` names; YAML's 1e-4 text counts as a number."""
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType):
        return any(_conforms(value, arg) for arg in args)
    if origin is list:
        return isinstance(value, (list, tuple)) and all(_conforms(item, args[0]) for item in value)
    if origin is dict or hint is dict:
        return isinstance(value, dict)
    if hint is type(None):
        return value is None
    if hint in (int, float) and isinstance(value, bool):
        return False
    if hint is float:
        return isinstance(value, (int, float)) or isinstance(_number(value), float)
    if isinstance(hint, type) and is_dataclass(hint):
        return isinstance(value, (hint, dict))
    return isinstance(value, hint) if isinstance(hint, type) else True


def _describe(hint: Any) -> str:
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType):
        return " or ".join(_describe(arg) for arg in args)
    if origin is list:
        item = args[0]
        return f"a list of {'whole numbers, e.g. [100, 300]' if item is int else 'names, e.g. [finetune, adapter]' if item is str else 'numbers'}"
    if origin is dict or (isinstance(hint, type) and is_dataclass(hint)):
        return "a mapping"
    return _WORDS.get(hint, getattr(hint, "__name__", str(hint)))


def _part(kind: type, value: Any, name: str):
    """An optional part of a study (`lr_sweep`, `long_training`) from its mapping in a study file."""
    if value is None or isinstance(value, kind):
        return value
    if not isinstance(value, dict):
        example = {LearningRateSweep: "{sizes: [300], lrs: {adapter: [1.0e-4, 1.0e-3]}}", LongTraining: "{sizes: [100], epochs: 20}",
                   FusionSettings: "{tasks: [sib200, xnli], languages: [en]}"}[kind]
        raise XadaptError(f"{name} must be a mapping such as {example}; got {value!r}")
    known = {f.name for f in fields(kind)}
    unknown = set(value) - known
    if unknown:
        raise XadaptError(f"unknown {name} settings {sorted(unknown)}; known: {sorted(known)}")
    required = [f.name for f in fields(kind) if f.name not in value and f.default is MISSING and f.default_factory is MISSING]
    if required:
        raise XadaptError(f"{name} needs {', '.join(required)}")
    return kind(**value)


def _sizes(sizes: Any, name: str) -> list[int]:
    if not isinstance(sizes, (list, tuple)) or not sizes or any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in sizes):
        raise XadaptError(f"{name} must be a list of positive training sizes, e.g. [100, 300]; got {sizes!r}")
    return sorted(set(sizes))


def _rates(rates: Any, name: str) -> dict[str, list[float]]:
    if not isinstance(rates, dict):
        raise XadaptError(f"{name} maps each method to its learning rates, e.g. {{adapter: [1.0e-4, 3.0e-4]}}; got {rates!r}")
    return {m: [_number(r) for r in (values if isinstance(values, (list, tuple)) else [values])] for m, values in rates.items()}


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
