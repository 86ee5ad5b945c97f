"""Named protocols: a whole paper's study in one flag (`xadapt sweep --protocol he2021 --lang sw`).

A protocol turns a study (its task, language, sizes, methods, seeds) into the grid that answers
every claim of a paper the study's data can speak to. `configs/studies/<name>.yaml` holds the same
study written out for the default settings (a test checks they agree).
"""

from collections.abc import Callable
from dataclasses import dataclass, replace

from xadapt.errors import XadaptError
from xadapt.study.config import LearningRateSweep, LongTraining, StudyConfig

# Decade-wide grids around each method's usual rate, holding that rate, so the main grid's runs count twice
HE2021_LRS = {"finetune": [2e-5, 5e-5, 1e-4], "adapter": [1e-4, 3e-4, 1e-3]}
HE2021_LONG_EPOCHS = 20  # the papers' training length, without early stopping, for the overfitting claim


@dataclass(frozen=True)
class Protocol:
    name: str
    description: str
    apply: Callable[[StudyConfig], StudyConfig]


def _he2021(study: StudyConfig) -> StudyConfig:
    """Ruidan He et al. (2021)'s five claims: sizes and zero-shot pairs from `study`, a learning-rate sweep
    at the middle size, and runs trained 20 epochs without early stopping at the smallest."""
    sizes = study.training_sizes()
    compared = [m for m in ("finetune", "adapter") if m in study.methods]
    if len(compared) < 2:
        raise XadaptError("--protocol he2021 compares finetune with adapter; keep both in --methods")
    return replace(
        study,
        lr_sweep=LearningRateSweep(sizes=[sizes[len(sizes) // 2]], lrs={m: list(HE2021_LRS[m]) for m in compared}),
        long_training=LongTraining(sizes=[sizes[0]], epochs=HE2021_LONG_EPOCHS, methods=compared),
    )


PROTOCOLS = {
    protocol.name: protocol
    for protocol in (
        Protocol("he2021", "Ruidan He et al. 2021: sizes, zero-shot, a learning-rate sweep and long runs for overfitting", _he2021),
    )
}


def apply_protocol(name: str, study: StudyConfig) -> StudyConfig:
    if name not in PROTOCOLS:
        raise XadaptError(f"unknown protocol {name!r}; choose from {', '.join(PROTOCOLS)}")
    return PROTOCOLS[name].apply(study)
