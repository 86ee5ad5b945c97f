"""Synthetic sweeps: records shaped like the ones `xadapt sweep` appends, with known numbers.

The builders are handed to tests as fixtures rather than imported: test directories here are not
packages, so a helper module name could clash with another directory's."""

import math

import pytest

from xadapt.study.report import write_report
from xadapt.study.results import ResultsStore, run_id

METHODS = ("finetune", "adapter", "madx")
SIZES = (100, 300, 1000)
LRS = (1e-4, 1e-3)
SEEDS = (1, 2, 3)
LAYERS = list(range(5))
# (train language, evaluation languages): one in-language pair and a zero-shot run to two targets
LANGUAGES = (("sw", ("sw",)), ("en", ("sw", "yo")))
FAILED = {"method": "finetune", "samples": 1000, "lr": 1e-3, "seed": 3, "train_lang": "sw"}
PARAMS = {"finetune": 117_000_000, "adapter": 894_000, "madx": 1_200_000}


def _record(
    method: str = "adapter",
    samples: int = 100,
    lr: float = 1e-4,
    seed: int = 1,
    train_lang: str = "sw",
    eval_lang: str = "sw",
    score: float | None = 0.5,
    dev_score: float | None = None,
    status: str = "ok",
    error: str | None = None,
    drift: bool = True,
) -> dict:
    """One record; its curve peaks at `dev_score` (default: `score`) in epoch 2 and then overfits."""
    run = {"method": method, "task": "wikiann", "train_lang": train_lang, "samples": samples, "lr": lr, "seed": seed}
    peak = score if dev_score is None else dev_score
    curve = [
        {"epoch": 1, "train_loss": 1.0, "dev_loss": 0.8, "dev_score": None if peak is None else peak - 0.1},
        {"epoch": 2, "train_loss": 0.5, "dev_loss": 0.6, "dev_score": peak},
        {"epoch": 3, "train_loss": 0.2, "dev_loss": 0.7, "dev_score": None if peak is None else peak - 0.05},
    ]
    speed = {"finetune": 0.08, "adapter": 0.02, "madx": 0.01}.get(method, 0.05)
    return {
        **run,
        "run_id": run_id(run),
        "study_id": "synthetic",
        "status": status,
        "error": error,
        "eval_lang": eval_lang,
        "epochs": 3,
        "metric": "seqeval_f1",
        "score": score,
        "last_score": None if score is None else score - 0.02,
        "best_epoch": 2,
        "eval_split": "test",
        "extra": {"macro_f1": None},
        "curve": curve if status == "ok" else curve[:1],
        "trainable_params": PARAMS.get(method, 1000),
        "total_params": 117_000_000 + (0 if method == "finetune" else PARAMS.get(method, 1000)),
        "seconds": 10.0,
        "model": {"name": "multilingual-e5-small", "fingerprint": "abcd"},
        "data": {"task": "wikiann", "fingerprint": "ef01"},
        "drift": {"measure": "rsa", "layers": LAYERS, "similarity": [1 - speed * layer for layer in LAYERS]}
        if drift and status == "ok"
        else None,
    }


def _score(method: str, samples: int, lr: float, seed: int, train_lang: str, eval_lang: str) -> float:
    """Adapters beat fine-tuning and prefer the larger rate; zero-shot costs 0.2."""
    base = {"finetune": 0.45, "adapter": 0.5, "madx": 0.55}[method] + 0.1 * math.log10(samples / 100)
    likes_large_lr = method != "finetune"
    lr_effect = 0.05 if (lr == max(LRS)) == likes_large_lr else 0.0
    return round(base + lr_effect + 0.01 * seed - (0.2 if train_lang != eval_lang else 0.0), 6)


def _sweep(
    lrs: tuple[float, ...] = LRS, sizes: tuple[int, ...] = SIZES, drift: bool = True, zero_shot: bool = True
) -> list[dict]:
    records = []
    for method in METHODS:
        for samples in sizes:
            for lr in lrs:
                for seed in SEEDS:
                    for train_lang, targets in LANGUAGES if zero_shot else LANGUAGES[:1]:
                        cell = {"method": method, "samples": samples, "lr": lr, "seed": seed, "train_lang": train_lang}
                        failed = cell == FAILED
                        for eval_lang in targets:
                            records.append(
                                _record(
                                    **cell,
                                    eval_lang=eval_lang,
                                    score=None if failed else _score(**cell, eval_lang=eval_lang),
                                    status="failed" if failed else "ok",
                                    error="NaN loss at epoch 2 | lower the learning rate" if failed else None,
                                    drift=drift,
                                )
                            )
    return records


def _write(out_dir, records: list[dict]):
    store = ResultsStore(out_dir)
    for record in records:
        store.append(record)
    return out_dir


@pytest.fixture(scope="session")
def full_sweep(tmp_path_factory):
    """A whole sweep's results.jsonl (no study.json): 3 methods × 3 sizes × 2 rates × 3 seeds,
    in-language sw and zero-shot en → sw, yo, one failed run, drift everywhere."""
    return _write(tmp_path_factory.mktemp("sweep"), _sweep())


@pytest.fixture
def make_record():
    """`make_record(**fields)`: one record with a three-epoch curve peaking at its dev score."""
    return _record


@pytest.fixture
def sweep_records():
    """`sweep_records(lrs=..., sizes=..., drift=..., zero_shot=...)`: the records of a synthetic sweep."""
    return _sweep


@pytest.fixture
def write_sweep():
    """`write_sweep(out_dir, records)`: append records through `ResultsStore`; returns out_dir."""
    return _write


@pytest.fixture
def score_of():
    """The synthetic score of a cell, to check tables against."""
    return _score


@pytest.fixture(scope="session")
def full_report(full_sweep):
    """`report.md` of `full_sweep`, written once: drawing the plots is the slow part of the suite."""
    return write_report(full_sweep)
