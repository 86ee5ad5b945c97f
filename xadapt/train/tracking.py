"""Experiment tracking through transformers' own integrations (`--report-to`), one registry entry per tracker.

- `tensorboard`: event files under `<directory>/<run name>` (`transformers.integrations.TensorBoardCallback`
  with its writer);
- `wandb`: a W&B run per training run (`WandbCallback`), grouped by the sweep's study id; W&B reads
  its usual environment (`WANDB_MODE=offline`, `WANDB_DIR`, `WANDB_PROJECT`);
- `mlflow`: an MLflow run per training run (`MLflowCallback`) in an experiment named after the
  study; MLflow reads `MLFLOW_TRACKING_URI` (a `file:` store works offline).

Every tracked run is named after its run id. `Trainer` logs the training loss once per epoch, and
xadapt's per-epoch evaluation logs the dev loss and dev score through `Trainer.log`, so the
trackers see the curve the record holds. The trackers are optional: `pip install 'xadapt[tracking]'`;
`check` refuses a missing one before any training starts. (The integrations are imported only when a
run is reported: this module stays light enough for the CLI to read its registry.)
"""

import importlib.util
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from xadapt.errors import XadaptError

NONE = "none"
TENSORBOARD_DIR = "tensorboard"  # event files go to <folder>/tensorboard/<run name>/: a run's or sweep's OUT, or runs/


@dataclass(frozen=True)
class Tracker:
    name: str
    module: str  # the package the integration needs
    callbacks: Callable[[Path, str], list]  # (TensorBoard directory, run name) -> transformers `TrainerCallback`s
    group_variable: str | None = None  # the environment variable that groups runs (the sweep's study id)


def _tensorboard(directory: Path, run_name: str) -> list:
    from torch.utils.tensorboard import SummaryWriter
    from transformers.integrations import TensorBoardCallback

    return [TensorBoardCallback(tb_writer=SummaryWriter(log_dir=str(directory / run_name)))]


def _wandb(directory: Path, run_name: str) -> list:
    import wandb
    from transformers import TrainerCallback
    from transformers.integrations import WandbCallback

    class FinishRun(TrainerCallback):
        """End the W&B run with the training run: `WandbCallback` leaves it open, so the next run would join it."""

        def on_train_end(self, args, state, control, **kwargs):
            wandb.finish()

    return [WandbCallback(), FinishRun()]


def _mlflow(directory: Path, run_name: str) -> list:
    from transformers.integrations import MLflowCallback

    return [MLflowCallback()]


TRACKERS: dict[str, Tracker] = {}


def register(tracker: Tracker) -> Tracker:
    if tracker.name in TRACKERS or tracker.name == NONE:
        raise ValueError(f"tracker {tracker.name!r} is registered twice")
    TRACKERS[tracker.name] = tracker
    return tracker


register(Tracker("tensorboard", "tensorboard", _tensorboard))
register(Tracker("wandb", "wandb", _wandb, group_variable="WANDB_RUN_GROUP"))
register(Tracker("mlflow", "mlflow", _mlflow, group_variable="MLFLOW_EXPERIMENT_NAME"))
CHOICES = (NONE, *TRACKERS)


@dataclass(frozen=True)
class Tracking:
    """Where a command's runs are reported: the tracker, TensorBoard's directory, the group of a sweep."""

    report_to: str = NONE
    directory: str = f"runs/{TENSORBOARD_DIR}"
    group: str | None = None

    def check(self) -> None:
        """Refuse an unknown tracker, or one whose package is missing, before any work starts."""
        if self.report_to not in CHOICES:
            raise XadaptError(f"unknown tracker {self.report_to!r} for --report-to; choose from {', '.join(CHOICES)}")
        tracker = TRACKERS.get(self.report_to)
        if tracker is not None and importlib.util.find_spec(tracker.module) is None:
            raise XadaptError(f"--report-to {tracker.name} needs the {tracker.module} package, which is not installed: "
                              "pip install 'xadapt[tracking]' (or drop --report-to)")

    def callbacks(self, run_name: str) -> list:
        tracker = TRACKERS.get(self.report_to)
        return tracker.callbacks(Path(self.directory), run_name) if tracker else []

    @contextmanager
    def grouped(self) -> Iterator[None]:
        """While a run trains: its tracker's group variable set to the sweep's group, unless the user set it."""
        tracker = TRACKERS.get(self.report_to)
        variable = tracker.group_variable if tracker else None
        if variable is None or self.group is None or variable in os.environ:
            yield
            return
        os.environ[variable] = self.group
        try:
            yield
        finally:
            os.environ.pop(variable, None)
