"""The task adapters AdapterFusion runs fuse: which ones, and where each is cached once trained.

A source is one benchmark in one language, keyed `task-lang` (also its adapter's name inside a
fusion run). A fusion run trained in language L fuses the other benchmarks' adapters trained in L
(`fusion.tasks`) and the study task's adapters trained in the other languages of `fusion.languages`;
never the study task in L itself, which would be trained on more target data than the run's own
subset. Each source is a seq_bn task adapter trained like a study run (seed 0, the adapter's usual
rate, the study's stopping rule) on `fusion.samples` examples, cached under
``$XADAPT_HOME/task_adapters/<model fingerprint>/<task>-<lang>-<settings hash>[-bf16]``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from xadapt.errors import XadaptError
from xadapt.methods import get_method
from xadapt.precision import FP32
from xadapt.settings import xadapt_home

SOURCE_METHOD = "adapter"  # what each fused adapter is: a seq_bn task adapter, the kind Fuse layers fuse
DONE = "task_adapter.json"  # written last into a finished source's cache folder


@dataclass(frozen=True)
class FusionSource:
    task: str
    lang: str

    @property
    def key(self) -> str:
        return f"{self.task}-{self.lang}"

    @classmethod
    def parse(cls, key: str) -> FusionSource:
        task, _, lang = key.partition("-")
        return cls(task, lang)


def sources_for(study, train_lang: str) -> tuple[str, ...]:
    """The keys of the adapters a fusion run of `study` trained in `train_lang` fuses, in name order."""
    fusion = study.fusion
    names = fusion.tasks.get(train_lang, []) if isinstance(fusion.tasks, dict) else fusion.tasks or []
    tasks = [FusionSource(task, train_lang) for task in names if task != study.task]
    languages = [FusionSource(study.task, lang) for lang in fusion.languages if lang != train_lang]
    return tuple(sorted(source.key for source in [*tasks, *languages]))


def training_facts(study, source: FusionSource) -> dict:
    """Everything a source adapter's training depends on besides the model and precision (its cache key)."""
    return {"task": source.task, "lang": source.lang, "method": SOURCE_METHOD, "lr": get_method(SOURCE_METHOD).lr,
            "seed": 0, "samples": study.fusion.samples, "epochs": study.epochs, "patience": study.patience,
            "time_budget": study.time_budget, "batch_size": study.batch_size, "max_length": study.max_length,
            "dev_limit": study.dev_limit}


def cache_dir(study, model_fingerprint: str, source: FusionSource, precision: str) -> Path:
    digest = hashlib.sha256(json.dumps(training_facts(study, source), sort_keys=True).encode()).hexdigest()[:10]
    suffix = "" if precision == FP32 else f"-{precision}"
    return xadapt_home() / "task_adapters" / model_fingerprint / f"{source.key}-{digest}{suffix}"


def read_source_facts(folder: Path) -> dict:
    """What a finished source's cache says about it (its task, language, size and scores)."""
    try:
        return json.loads((Path(folder) / DONE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise XadaptError(f"the fused adapter's record {Path(folder) / DONE} is unreadable ({err}); "
                          "run the same command again to train it anew") from None
