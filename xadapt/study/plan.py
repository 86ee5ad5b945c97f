"""Expand a `StudyConfig` into the concrete jobs a sweep runs.

A plan is data: language-adapter jobs (one per language the MAD-X runs need, shared by all of
them through the cache) and task runs (one per size x method x rate x seed x training language).
An in-language run trains and evaluates on the target language; a zero-shot run trains on the
source language and is evaluated on every target. The plan is what an executor fans out, so a
cluster engine can take the same list without touching the study code.
"""

from dataclasses import dataclass

from xadapt.study.config import StudyConfig


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
    epochs: int

    def needs_language_adapters(self) -> tuple[str, ...]:
        if self.method != "madx":
            return ()
        return tuple(dict.fromkeys((self.train_lang, *self.eval_langs)))


@dataclass(frozen=True)
class Plan:
    language_adapters: tuple[str, ...]
    runs: tuple[TaskRun, ...]


def make_plan(study: StudyConfig) -> Plan:
    """All runs of the grid, smallest training size first so early results cover every method."""
    pairs = [(study.lang, (study.lang,))]
    if study.source and study.source != study.lang:
        pairs.append((study.source, tuple(study.target_languages())))
    runs = [
        TaskRun(method, study.task, train_lang, eval_langs, size, lr, seed, study.epochs_for(size))
        for size in study.training_sizes()
        for train_lang, eval_langs in pairs
        for seed in study.seeds
        for method, rates in study.learning_rates().items()
        for lr in rates
    ]
    languages = tuple(dict.fromkeys(lang for run in runs for lang in run.needs_language_adapters()))
    return Plan(language_adapters=languages, runs=tuple(runs))
