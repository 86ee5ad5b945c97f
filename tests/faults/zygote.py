"""Fork `xadapt` commands from a process that imported everything once, and kill them at chosen moments.

    python tests/faults/zygote.py MODEL_DIR

prints `ready` once xadapt, torch and transformers are imported and MODEL_DIR's tokenizer is read
(nothing has computed yet, so no thread pool exists to be lost in a fork). Then each line on stdin
is an order, `{"args", "env", "log", "kill", "marker"}`: a child is forked, takes `env`, writes its
output to `log` and runs `xadapt ARGS`; this process answers `{"exit": code}` once the child ends
(`-9` for SIGKILL). With `kill` = [phase, n], the child writes "phase n" to `marker` and SIGKILLs
itself at the n-th moment of that phase:

- `mlm_step`: an optimiser step of masked-LM training (the shared MLM head, a language adapter);
- `task_step`: an optimiser step of a run;
- `append`: a result record, half of whose line is written;
- `save`: a folder saved atomically (a cache, a run's parts), complete in its staging folder but not renamed;
- `report`: a plot of the report, about to be written.
"""

import json
import os
import signal
import sys
import traceback
from contextlib import contextmanager
from pathlib import Path

from torch.optim.optimizer import register_optimizer_step_post_hook

import xadapt.atomic
import xadapt.models.conversion
import xadapt.study.runner
import xadapt.train.export
import xadapt.train.language
from matplotlib.figure import Figure
from xadapt.cli import app
from xadapt.models.tokenizer_cache import load_tokenizer
from xadapt.study.results import ResultsStore

PHASES = ("mlm_step", "task_step", "append", "save", "report")


def arm(phase: str, at: int, marker: Path) -> None:
    """Make this process SIGKILL itself at the `at`-th moment of `phase`."""
    if phase not in PHASES:
        raise SystemExit(f"unknown phase {phase}: one of {', '.join(PHASES)}")
    seen = {name: 0 for name in PHASES}

    def moment(name: str) -> bool:
        seen[name] += 1
        return name == phase and seen[name] == at

    def die() -> None:
        marker.write_text(f"{phase} {at}")
        os.kill(os.getpid(), signal.SIGKILL)

    masked_lm = {"active": False}
    fit = xadapt.train.language._fit

    def fit_marked(*args, **kwargs):
        masked_lm["active"] = True
        try:
            return fit(*args, **kwargs)
        finally:
            masked_lm["active"] = False

    xadapt.train.language._fit = fit_marked

    def after_step(optimizer, args, kwargs):
        if moment("mlm_step" if masked_lm["active"] else "task_step"):
            die()

    register_optimizer_step_post_hook(after_step)

    append = ResultsStore.append

    def torn_append(store, record):
        if moment("append"):
            line = json.dumps(record, default=str).encode()
            with open(store.results_path, "ab") as file:
                file.write(line[: len(line) // 2])
                file.flush()
            die()
        return append(store, record)

    ResultsStore.append = torn_append

    original = xadapt.atomic.atomic_directory

    @contextmanager
    def unfinished(final):
        with original(final) as staging:
            yield staging
            if moment("save"):
                die()

    for module in (xadapt.models.conversion, xadapt.study.runner, xadapt.train.export, xadapt.train.language):
        module.atomic_directory = unfinished

    savefig = Figure.savefig

    def plot_then_die(figure, *args, **kwargs):
        if moment("report"):
            die()
        return savefig(figure, *args, **kwargs)

    Figure.savefig = plot_then_die


def child(order: dict) -> None:
    """Run one order in this (forked) process; never returns."""
    code = 1
    try:
        os.environ.update(order["env"])
        log = os.open(order["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(log, 1)
        os.dup2(log, 2)
        if order["kill"]:
            arm(order["kill"][0], int(order["kill"][1]), Path(order["marker"]))
        try:
            app(args=order["args"], prog_name="xadapt")
            code = 0
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
    except BaseException:  # the harness's own failure: into the log, for the test to show
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def main() -> None:
    load_tokenizer(Path(sys.argv[1]))  # read once here; every child finds it in the cache
    print("ready", flush=True)
    for line in sys.stdin:
        order = json.loads(line)
        pid = os.fork()
        if pid == 0:
            child(order)
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        print(json.dumps({"exit": code}), flush=True)


if __name__ == "__main__":
    main()
