"""`xadapt demo --quickstart`: train a small set of parts for the demo once, then reuse them.

The quickstart trains, on the default model, a MAD-X task adapter for WikiANN NER on English with
the English and Swahili language adapters it stacks on (short masked-LM training), and a fully
fine-tuned model on the same English examples for the comparison view: English is the source,
Swahili the zero-shot target. Each run goes through the study runner exactly as `xadapt train`
does and is saved with its artifacts under `<root>/<task>-<train lang>-<method>/`; a run already
saved there is not trained again, and language adapters come from the usual cache. The demo
always looks in `quickstart_root()`.
"""

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from xadapt.errors import XadaptError
from xadapt.models import model_identity, resolve_model
from xadapt.settings import xadapt_home
from xadapt.methods import get_method
from xadapt.study.config import StudyConfig
from xadapt.study.plan import TaskRun
from xadapt.study.runner import RunContext, execute_run
from xadapt.study.sweep import validate
from xadapt.train.language import LanguageAdapterSettings
from xadapt.train.saved import RUN_FILE


@dataclass(frozen=True)
class QuickSettings:
    """Small enough for a few minutes on two CPU cores, large enough for entities to show up."""

    samples: int = 1000  # one epoch: the cost of two over 500 sentences, with more varied ones
    epochs: int = 1
    max_length: int = 64  # WikiANN sentences are short
    eval_limit: int = 100
    dev_limit: int = 50
    language_adapter: LanguageAdapterSettings = field(
        default_factory=lambda: LanguageAdapterSettings(steps=20, head_steps=20, heldout_sentences=64))


def quick_run(task: str, method: str, train_lang: str, eval_langs: tuple[str, ...],
              settings: QuickSettings = QuickSettings()) -> TaskRun:
    """One quickstart-sized run: seed 0 at the method's usual learning rate."""
    return TaskRun(method, task, train_lang, eval_langs, settings.samples, get_method(method).lr, 0,
                   settings.epochs)


def quickstart_runs(settings: QuickSettings = QuickSettings()) -> tuple[TaskRun, ...]:
    """What the demo's quickstart trains: English is the source, Swahili the zero-shot target."""
    return tuple(quick_run("wikiann", method, "en", ("en", "sw"), settings) for method in ("madx", "finetune"))


def train_runs(runs: Iterable[TaskRun], root: Path, model: str, data_dir=None,
               settings: QuickSettings = QuickSettings(), on_run: Callable[[TaskRun], None] = lambda run: None) -> list[Path]:
    """Train each run not yet saved under `root` and return the run directories."""
    contexts: dict[str, RunContext] = {}
    directories = []
    for run in runs:
        out = Path(root) / f"{run.task}-{run.train_lang}-{run.method}"
        directories.append(out)
        if (out / RUN_FILE).is_file():
            continue
        study = validate(
            StudyConfig(task=run.task, lang=run.train_lang, samples=run.samples, sizes=[run.samples],
                        methods=[run.method], seeds=[run.seed], epochs=run.epochs, patience=None, source=None,
                        targets=list(run.eval_langs), model=model, max_length=settings.max_length,
                        eval_limit=settings.eval_limit, dev_limit=settings.dev_limit,
                        language_adapter=settings.language_adapter),
            data_dir,
        )
        if study.task not in contexts:
            contexts[study.task] = RunContext(study, data_dir)
        on_run(run)
        records = execute_run(contexts[study.task], run, study_id="quickstart", artifacts=out)
        failed = [r["error"] for r in records if r["status"] != "ok"]
        if failed:
            raise XadaptError(f"quickstart run {out.name} failed: {failed[0]}")
        (out / "metrics.json").write_text(json.dumps(records, indent=2) + "\n", encoding="utf-8")
    return directories


def quickstart_root() -> Path:
    return xadapt_home() / "quickstart"


def quickstart(model: str, data_dir=None, on_run: Callable[[TaskRun], None] = lambda run: None) -> Path:
    """The folder with the quickstart's runs for `model`, trained first where missing."""
    root = quickstart_root() / model_identity(resolve_model(model))["fingerprint"]
    train_runs(quickstart_runs(), root, model, data_dir, on_run=on_run)
    return root
