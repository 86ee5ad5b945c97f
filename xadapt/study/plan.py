"""Expand a `StudyConfig` into the concrete jobs a sweep runs.

A plan is data: language-adapter jobs (one per language the MAD-X runs need, shared by all of
them through the cache), the task adapters AdapterFusion runs fuse (each trained once) and task runs (one per size x method x rate x seed x training language).
An in-language run trains and evaluates on the target language; a zero-shot run trains on the
source language and is evaluated on every target. A study's `lr_sweep` and `long_training` parts
add in-language runs; a run that two parts both ask for is planned once. The plan is what an executor fans out, so a
cluster engine can take the same list without touching the study code.
"""

from dataclasses import dataclass

from xadapt.methods import get_method
from xadapt.study.config import StudyConfig
from xadapt.study.fusion_sources import sources_for


@dataclass(frozen=True)
class TaskRun:
    """One training run and the languages it is evaluated on."""

    method: str
    task: str
    train_lang: str
    eval_langs: tuple[str, ...]
    samples: int
    lr: float
    seed: int
    epochs: int  # the most epochs it trains
    patience: int | None = None  # epochs without a better dev score before it stops; None: all `epochs`
    time_budget: float | None = None  # seconds of training after which no further epoch starts
    fuse: tuple[str, ...] = ()  # AdapterFusion: the fused task adapters (`FusionSource` keys, task-lang)

    def needs_language_adapters(self) -> tuple[str, ...]:
        if not get_method(self.method).needs_language_adapters:
            return ()
        return tuple(dict.fromkeys((self.train_lang, *self.eval_langs)))


@dataclass(frozen=True)
class Plan:
    language_adapters: tuple[str, ...]
    runs: tuple[TaskRun, ...]
    fused_adapters: tuple[str, ...] = ()  # task adapters AdapterFusion runs fuse, trained before them


def make_plan(study: StudyConfig) -> Plan:
    """All runs of the study, smallest training size first so early results cover every method."""
    in_language = [(study.lang, (study.lang,))]
    stopping = {"epochs": study.epochs, "patience": study.patience, "time_budget": study.time_budget}
    runs = _grid(study, study.training_sizes(), in_language, study.learning_rates(), stopping)
    if study.source and study.source != study.lang:
        zero_shot = [(study.source, tuple(study.target_languages()))]
        runs += _grid(study, study.zero_shot_training_sizes(), zero_shot, study.learning_rates(), stopping)
    if study.lr_sweep:
        runs += _grid(study, study.lr_sweep.sizes, in_language, study.lr_sweep.lrs, stopping)
    if study.long_training:
        long = study.long_training
        rates = {method: study.rates_for(method) for method in long.methods or study.methods}
        runs += _grid(study, long.sizes, in_language, rates, {"epochs": long.epochs, "patience": None, "time_budget": None})
    runs = sorted(dict.fromkeys(runs), key=lambda run: run.samples)  # stable: within a size, the order planned
    languages = tuple(dict.fromkeys(lang for run in runs for lang in run.needs_language_adapters()))
    fused = tuple(dict.fromkeys(key for run in runs for key in run.fuse))
    return Plan(language_adapters=languages, runs=tuple(runs), fused_adapters=fused)


def _grid(study: StudyConfig, sizes, pairs, rates: dict[str, list[float]], stopping: dict) -> list[TaskRun]:
    return [
        TaskRun(method, study.task, train_lang, eval_langs, size, lr, seed, **stopping,
                fuse=sources_for(study, train_lang) if get_method(method).fuses_adapters else ())
        for size in sizes
        for train_lang, eval_langs in pairs
        for seed in study.seeds
        for method, method_rates in rates.items()
        for lr in method_rates
    ]
