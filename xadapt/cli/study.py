"""`xadapt sweep`: run a study grid and report it.

The options for the study's own settings are derived from `StudyConfig`'s fields (`--kebab-name`, the
field's type, default and help; a list as comma-separated text), as `_study_options` builds them onto the
command's signature; the options declared here are those of running a sweep. The flags and the study file
are merged by `xadapt.study.settings_merge.merge_study`.
"""

import inspect
import time
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from xadapt.cli.common import (
    FUSE_LANGS_HELP, FUSE_TASKS_HELP, OUTPUT_VOCABULARY_HELP, REPORT_TO_HELP, OutputVocabulary, ReportTo, console, split_names,
    typed, user_errors,
)
from xadapt.cli.methods import METHODS_HELP
from xadapt.errors import XadaptError
from xadapt.study.executor import DEFAULT_EXECUTOR, EXECUTORS, ExecutorOptions
from xadapt.study.settings_merge import default_of, flag_fields, flag_name, is_list, load_study_file, merge_study, nullable, value_type

ExecutorChoice = Enum("ExecutorChoice", {name: name for name in EXECUTORS}, type=str)  # the executor registry's entries

STUDY_PANEL = "Study settings (each also a study-file key)"
# The one study setting whose flag shows the CLI-wide text instead of its field's: --methods, like train's --method,
# names the registry's methods
HELP_OVERRIDES = {"methods": METHODS_HELP}


def _study_option(f) -> inspect.Parameter:
    """The option of study setting `f` (a `StudyConfig` field): its flag, type, default and help."""
    kind, default = value_type(f.name), default_of(f)
    if f.metadata.get("choices"):
        kind = Enum(f"{f.name.title().replace('_', '')}Choice", {c: c for c in f.metadata["choices"]}, type=str)
        default = kind(default)
    elif is_list(f.name):  # comma-separated text, split by split_names and typed by the library
        kind, default = str, ",".join(map(str, default)) if default else None
    elif kind not in (int, float, str):
        raise TypeError(f"StudyConfig.{f.name}: no option type for {kind!r}; give it one in xadapt/cli/study.py")
    if default is None or nullable(f.name):
        kind = kind | None
    option = typer.Option(flag_name(f.name), help=escape(HELP_OVERRIDES.get(f.name, f.metadata["help"])),  # text, not markup
                          metavar="LIST" if is_list(f.name) else None, rich_help_panel=STUDY_PANEL)
    return inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=Annotated[kind, option])


def _study_options(command):
    """`command`'s signature with an option per study setting (`flag_fields`) in place of its `**settings`."""
    signature = inspect.signature(command)
    first, rest = [], []
    for parameter in signature.parameters.values():
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            continue
        (rest if parameter.kind is inspect.Parameter.KEYWORD_ONLY else first).append(parameter)
    command.__signature__ = signature.replace(parameters=[*first, *map(_study_option, flag_fields()), *rest])
    return command


def _flag_value(name: str, value: Any) -> Any:
    """What a study setting's option gave, as `merge_study` takes it: a list's comma-separated parts, a choice's value."""
    if isinstance(value, Enum):
        return value.value
    return split_names(value) if is_list(name) else value


def _prepared(what: str, planned: list[str], to_train: list[str]) -> str:
    """`what` a study needs before its runs, and which of them still train: 'language adapters sw, en (en to train)'."""
    if not planned:
        return f"no {what}"
    return f"{what} {', '.join(planned)} ({', '.join(to_train) + ' to train' if to_train else 'all cached'})"


def _print_plan(facts: dict) -> None:
    minutes = facts["estimate_seconds"] / 60
    fused = facts["fused_adapters"]
    console.print(
        f"[bold]plan[/] study {facts['study_id']} → {facts['out']}: {facts['runs']} runs "
        f"({facts['pending']} to do), {_prepared('language adapters', facts['language_adapters'], facts['language_adapters_to_train'])}"
        f"{', ' + _prepared('adapters to fuse', fused, facts['fused_adapters_to_train']) if fused else ''}; {facts['precision']} "
        f"({facts['precision_reason']}), {facts['executor']}; estimate ≈ {minutes:.0f} min "
        f"(at most {facts['estimate_max_seconds'] / 60:.0f} if no run stops early), from costs measured on a 2-core AMD EPYC Zen 4"
    )


@user_errors
@_study_options
def sweep_command(
    ctx: typer.Context,
    *,
    protocol: Annotated[str | None, typer.Option(help="A paper's whole protocol, planned from the study: he2021 (sizes, zero-shot, learning-rate sweep, long runs for overfitting).")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Benchmark data directory (default: $XADAPT_DATA).")] = None,
    out: Annotated[Path | None, typer.Option(help="Output directory (default: runs/<task>-<lang>).")] = None,
    config: Annotated[Path | None, typer.Option(help="A study YAML (configs/studies/*.yaml); flags given explicitly override it.")] = None,
    paper: Annotated[bool, typer.Option("--paper", help="Full protocol for GPU machines: 20 epochs, all eval data, long language-adapter training; flags given explicitly override it.")] = False,
    lang_adapter_steps: Annotated[int | None, typer.Option(min=1, help="MLM steps per MAD-X language adapter (default: the profile's; few steps make a quick trial run).")] = None,
    lang_adapter_vocabulary: Annotated[OutputVocabulary | None, typer.Option(help=OUTPUT_VOCABULARY_HELP + " Default: the study's (full).")] = None,
    fuse_tasks: Annotated[str | None, typer.Option(help=FUSE_TASKS_HELP)] = None,
    fuse_langs: Annotated[str | None, typer.Option(help=FUSE_LANGS_HELP)] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="--executor local: runs computed at once, in worker processes sharing the cores evenly (language adapters train first). Default: 2 on a CPU with 2 or more cores, else 1.")] = None,
    executor: Annotated[ExecutorChoice, typer.Option(help=escape("Where runs compute: " + "; ".join(f"{k.name}: {k.summary}" for k in EXECUTORS.values()) + "."))] = ExecutorChoice(DEFAULT_EXECUTOR),
    address: Annotated[str | None, typer.Option(help="--executor ray: the cluster, auto or HOST:6379 or ray://HOST:10001 (default: $RAY_ADDRESS, else a cluster started on this machine).")] = None,
    cpus_per_run: Annotated[int | None, typer.Option(min=1, help="--executor ray: CPUs (and torch threads) each run asks for (default 1).")] = None,
    gpus_per_run: Annotated[float | None, typer.Option(min=0, help="--executor ray: GPUs each run asks for (default 0).")] = None,
    retries: Annotated[int | None, typer.Option(min=0, help="--executor ray: attempts again at a run whose worker or node died, before it is recorded as failed (default 2).")] = None,
    report_to: Annotated[ReportTo, typer.Option("--report-to", help=escape(REPORT_TO_HELP + " Grouped by study id; TensorBoard: OUT/tensorboard/."))] = ReportTo.none,
    **settings: Any,
) -> None:
    """Run a study: sizes x methods x learning rates x seeds, in-language and zero-shot, then write the report."""
    from xadapt.study.report import write_report
    from xadapt.study.sweep import run_sweep

    study = merge_study(
        load_study_file(config) if config else {},
        {name: _flag_value(name, value) for name, value in settings.items() if typed(ctx, name)},  # typed flags beat the file
        study_file=config, paper=paper, protocol=protocol, lang_adapter_steps=lang_adapter_steps,
        lang_adapter_vocabulary=lang_adapter_vocabulary.value if lang_adapter_vocabulary else None,
        fuse_tasks=split_names(fuse_tasks), fuse_langs=split_names(fuse_langs),
    )
    out = out or Path("runs") / f"{study.task}-{study.lang}"

    start = time.perf_counter()
    bar = Progress(  # shown once the plan is announced: a study refused before that shows no bar beside its error
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TextColumn("ETA"), TimeRemainingColumn(), console=console,
    )
    handle = bar.add_task("runs", total=None)

    def progress(done, total, run, records):
        scores = ", ".join(f"{r['eval_lang']} {r['score']:.3f}" if r["status"] == "ok" else f"{r['eval_lang']} FAILED" for r in records)
        bar.update(handle, completed=done, total=total)
        stop = next((f"; best epoch {r['best_epoch']} of {r['epochs_trained']}, stopped by {r['stop_reason'].replace('_', ' ')}"
                     for r in records if r["status"] == "ok"), "")
        console.print(f"  {run.method:<9} {run.train_lang}→{','.join(run.eval_langs)} n={run.samples:<5} lr={run.lr:<7g} seed={run.seed}: {scores}{stop}")

    def on_epoch(point):
        run = point["run"]
        bar.update(handle, description=f"{run.method} {run.train_lang} n={run.samples} seed={run.seed}: "
                                       f"epoch {point['epoch']} (≤{point['epochs']:g}), dev {point['dev_score']:.3f}")

    def announce(facts):
        _print_plan(facts)
        bar.update(handle, total=facts["pending"], completed=0)
        bar.start()

    options = ExecutorOptions(workers=workers, address=address, cpus_per_run=cpus_per_run, gpus_per_run=gpus_per_run,
                              retries=retries)
    try:
        run_sweep(study, out, data_dir, executor.value, options, announce=announce, progress=progress, on_epoch=on_epoch,
                  report_to=report_to.value)
    except KeyboardInterrupt:
        raise XadaptError(f"interrupted; the finished runs are in {out}: run the same command again to resume") from None
    finally:
        bar.stop()
    report = write_report(out)
    console.print(f"[green]done[/] in {(time.perf_counter() - start) / 60:.1f} min; report: {report}")
    from xadapt.cli.report import print_findings, print_overview

    print_overview(out)
    print_findings(out)


def register(app: typer.Typer) -> None:
    app.command("sweep")(sweep_command)
