"""Pieces every CLI command shares: the console, progress messages and the user-error guard."""

import functools
import os
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from xadapt.errors import XadaptError, no_space_left
from xadapt.settings import home_path
from xadapt.train.tracking import CHOICES as TRACKING_CHOICES

# The CLI draws its own progress; the libraries' per-model and per-map progress bars would only
# interleave with it. Set before any command imports transformers or datasets; a user's own
# setting wins.
for _variable in ("HF_HUB_DISABLE_PROGRESS_BARS", "HF_DATASETS_DISABLE_PROGRESS_BARS"):
    os.environ.setdefault(_variable, "1")

console = Console()
err_console = Console(stderr=True)

F = TypeVar("F", bound=Callable)


class OutputVocabulary(str, Enum):
    """What a language adapter's MLM head scores while it trains (`LanguageAdapterSettings.output_vocabulary`)."""

    full = "full"
    corpus = "corpus"


class PrecisionChoice(str, Enum):
    """The numeric precision of training and evaluation (`xadapt.precision`)."""

    auto = "auto"
    fp32 = "fp32"
    bf16 = "bf16"


ReportTo = Enum("ReportTo", {name: name for name in TRACKING_CHOICES}, type=str)  # the tracking registry's trackers
REPORT_TO_HELP = ("Report each run to a tracker through transformers' integrations: TensorBoard event files, a W&B run "
                  "(WANDB_MODE=offline works), an MLflow run (MLFLOW_TRACKING_URI); runs are named by run id. "
                  "Needs pip install 'xadapt[tracking]'.")


PATIENCE_HELP = "Stop a run after this many epochs without a better dev score; 0 trains every epoch up to --epochs."
TIME_BUDGET_HELP = "Seconds of training per run after which no further epoch starts (default: no limit)."
OUTPUT_VOCABULARY_HELP = (
    "What the MLM head scores while a language adapter trains: the full vocabulary, or only the tokens of the "
    "language's training text (about 1.5x faster steps, higher held-out perplexity)."
)


FUSE_TASKS_HELP = ("fusion: the other benchmarks whose task adapters (trained in the training language) are fused, e.g. "
                   "sib200,afrisenti (default: every other benchmark with training data in that language).")
FUSE_LANGS_HELP = "fusion: also fuse this task's adapters trained in these languages, e.g. en,yo."


def split_names(text: str | None) -> list[str] | None:
    """`a, b,c` -> ["a", "b", "c"]; None stays None."""
    return [part for part in text.replace(" ", "").split(",") if part] if text is not None else None


def typed(ctx: typer.Context, name: str) -> bool:
    """Whether option `name` was given on the command line (or by an environment variable), not left at its default.

    Compared by name: typer 0.29 bundles its own click, whose `ParameterSource` is not `click.core`'s."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")


@contextmanager
def status(message: str) -> Iterator[Callable[[str], None]]:
    """A spinner showing `message` on a terminal, plain lines in a log or pipe; yields the function that updates it."""
    if console.is_terminal:
        with console.status(message) as spinner:
            yield spinner.update
    else:
        console.print(message)
        yield console.print


BUG_EXIT_CODE = 3  # an unexpected failure; 1 is an expected one (bad input, a missing file), 2 a usage error


def user_errors(fn: F) -> F:
    """Turn an `XadaptError` into a red message on stderr and exit code 1, without a traceback; any other
    exception (a bug) into a one-line summary naming the file that holds its traceback, and exit code 3."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except XadaptError as err:
            err_console.print(f"[bold red]error:[/] {escape(str(err))}", highlight=False, soft_wrap=True)  # not markup: '.[demo]' stays
            raise typer.Exit(code=1) from None
        except (typer.Exit, typer.Abort):  # a command's own exit code, or Ctrl-C at a prompt: not failures
            raise
        except Exception as err:  # noqa: BLE001 - the last resort of every command: a line, and the traceback kept
            full, path = no_space_left(err)
            if full:  # the machine's state, not a bug: every save is atomic, so nothing finished is lost
                place = f" writing {path}" if path else ""
                err_console.print(f"[bold red]error:[/] no space left on the disk{escape(place)}; free some space (or point --out "
                                  "and XADAPT_HOME at a larger disk), then run the same command again to resume",
                                  highlight=False, soft_wrap=True)
                raise typer.Exit(code=1) from None
            where = write_traceback(fn.__name__, err)
            summary = (str(err).strip().splitlines() or [""])[0]
            err_console.print(f"[bold red]error:[/] unexpected {type(err).__name__}: {escape(summary)} (a bug in xadapt; "
                              f"the full traceback is in {where})", highlight=False, soft_wrap=True)
            raise typer.Exit(code=BUG_EXIT_CODE) from None

    return wrapper  # type: ignore[return-value]


def write_traceback(command: str, err: BaseException) -> Path:
    """Write `err`'s traceback to `$XADAPT_HOME/crashes/` (the temporary folder if that is not writable); its path."""
    text = "".join(traceback.format_exception(err))
    name = f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{command}.txt"
    for folder in (home_path() / "crashes", Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(text, encoding="utf-8")
            return folder / name
        except OSError:
            continue
    raise err
