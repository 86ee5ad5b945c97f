"""`xadapt sweep`: run a study grid and report it."""

import time
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from xadapt.cli.common import (
    OUTPUT_VOCABULARY_HELP, PATIENCE_HELP, REPORT_TO_HELP, TIME_BUDGET_HELP, OutputVocabulary, PrecisionChoice, ReportTo, console,
    typed, user_errors,
)
from xadapt.errors import XadaptError
from xadapt.precision import PRECISION_HELP
from xadapt.study.config import SettingError, StudyConfig
from xadapt.study.executor import DEFAULT_EXECUTOR, EXECUTORS, ExecutorOptions

ExecutorChoice = Enum("ExecutorChoice", {name: name for name in EXECUTORS}, type=str)  # the executor registry's entries


NUMBER_EXAMPLES = {"--lrs": "1e-4,3e-4", "--sizes": "100,300", "--seeds": "0,1,2"}


def _numbers(text: str | None, kind: type, flag: str) -> list | None:
    if text is None:
        return None
    try:
        return [kind(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        raise XadaptError(f"{flag} takes comma-separated {kind.__name__}s, e.g. {flag} {NUMBER_EXAMPLES[flag]}; got {text!r}") from None


def _names(text: str | None) -> list[str] | None:
    return [part for part in text.replace(" ", "").split(",") if part] if text is not None else None


def _learning_rates(text: str | None, methods: list[str]) -> dict[str, list[float]] | None:
    """`--lrs 1e-4,3e-4` applies to every method; `--lrs finetune=2e-5,adapter=1e-4:3e-4` per method."""
    if text is None:
        return None
    if "=" not in text:
        rates = _numbers(text, float, "--lrs")
        return {m: rates for m in methods}
    per_method = {}
    for part in _names(text):
        method, _, values = part.partition("=")
        per_method[method] = _numbers(values.replace(":", ","), float, "--lrs")
    return per_method


def load_study_file(path: Path) -> dict:
    if path.is_dir():
        raise XadaptError(f"study file {path} is a directory; pass a YAML file (see configs/studies/ for examples)")
    if not path.is_file():
        raise XadaptError(f"study file {path} does not exist; see configs/studies/ for examples")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise XadaptError(f"study file {path} is not text (UTF-8); pass a YAML file (see configs/studies/ for examples)") from None
    try:
        values = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        problem = getattr(err, "problem", None) or "not valid YAML"
        raise XadaptError(f"{path}{where}: {problem}; fix the YAML syntax (see configs/studies/ for examples)") from None
    if values is None:  # nothing but comments: running the default study instead would be a surprise of an hour
        raise XadaptError(f"study file {path} is empty; write in it the settings that differ from the default study "
                          "(task:, lang:, sizes: ...; configs/studies/default.yaml lists them all)")
    if not isinstance(values, dict):
        raise XadaptError(f"{path} must hold a mapping of study settings (task:, lang:, sizes: ...)")
    return values


def key_line(path: Path, key: str) -> int | None:
    """The line of top-level `key` in the YAML file at `path` (1-based), if it is there."""
    node = yaml.compose(path.read_text(encoding="utf-8"))
    for name, _ in getattr(node, "value", []):
        if getattr(name, "value", None) == key:
            return name.start_mark.line + 1
    return None


def study_from(values: dict, config: Path | None) -> StudyConfig:
    """The study of `values`; a wrong setting that came from the study file is reported with its line."""
    try:
        return StudyConfig.from_dict(values)
    except SettingError as err:
        line = key_line(config, err.key) if config else None
        if line is None:
            raise
        raise XadaptError(f"{config}:{line}: {err}") from None


def _print_plan(facts: dict) -> None:
    minutes = facts["estimate_seconds"] / 60
    console.print(
        f"[bold]plan[/] study {facts['study_id']} → {facts['out']}: {facts['runs']} runs "
        f"({facts['pending']} to do), language adapters {', '.join(facts['language_adapters']) or 'none'} "
        f"({', '.join(facts['language_adapters_to_train']) or 'all cached'} to train); {facts['precision']} "
        f"({facts['precision_reason']}), {facts['executor']}; estimate ≈ {minutes:.0f} min "
        f"(at most {facts['estimate_max_seconds'] / 60:.0f} if no run stops early), from costs measured on a 2-core AMD EPYC Zen 4"
    )


@user_errors
def sweep_command(
    ctx: typer.Context,
    lang: Annotated[str, typer.Option(help="Target (low-resource) language, e.g. sw.")] = "sw",
    samples: Annotated[int, typer.Option(help="Largest training size; sizes are log-spaced up to it.")] = 1000,
    task: Annotated[str, typer.Option(help="Benchmark: wikiann (ner), sib200 (topic), xnli (nli), afrisenti (sentiment), masakhaner, xcopa.")] = "wikiann",
    sizes: Annotated[str | None, typer.Option(help="Explicit training sizes, e.g. 100,300,1000.")] = None,
    methods: Annotated[str | None, typer.Option(help="Methods: finetune, adapter, madx, or any adapter method (lora, par_bn, ...).")] = None,
    lrs: Annotated[str | None, typer.Option(help="Learning rates: 1e-4,3e-4 for all methods, or finetune=2e-5,adapter=1e-4:1e-3.")] = None,
    seeds: Annotated[str | None, typer.Option(help="Seeds, e.g. 0,1,2.")] = None,
    epochs: Annotated[int | None, typer.Option(min=1, help="The most epochs a run trains (default 20).")] = None,
    patience: Annotated[int | None, typer.Option(min=0, help=PATIENCE_HELP + " Default 3.")] = None,
    time_budget: Annotated[float | None, typer.Option(min=1, help=TIME_BUDGET_HELP)] = None,
    protocol: Annotated[str | None, typer.Option(help="A paper's whole protocol, planned from the study: he2021 (sizes, zero-shot, learning-rate sweep, long runs for overfitting).")] = None,
    source: Annotated[str | None, typer.Option(help="Zero-shot source language ('none' for in-language only).")] = "en",
    targets: Annotated[str | None, typer.Option(help="Zero-shot target languages (default: --lang).")] = None,
    model: Annotated[str, typer.Option(help="Packaged model, local directory or hub id.")] = "multilingual-e5-small",
    data_dir: Annotated[Path | None, typer.Option(help="Benchmark data directory (default: $XADAPT_DATA).")] = None,
    out: Annotated[Path | None, typer.Option(help="Output directory (default: runs/<task>-<lang>).")] = None,
    config: Annotated[Path | None, typer.Option(help="A study YAML (configs/studies/*.yaml); flags given explicitly override it.")] = None,
    paper: Annotated[bool, typer.Option("--paper", help="Full protocol for GPU machines: 20 epochs, all eval data, long language-adapter training.")] = False,
    lang_adapter_steps: Annotated[int | None, typer.Option(min=1, help="MLM steps per MAD-X language adapter (default: the profile's; few steps make a quick trial run).")] = None,
    lang_adapter_vocabulary: Annotated[OutputVocabulary | None, typer.Option(help=OUTPUT_VOCABULARY_HELP + " Default: the study's (full).")] = None,
    precision: Annotated[PrecisionChoice | None, typer.Option(help=PRECISION_HELP + " Default: the study's (auto).")] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="--executor local: runs computed at once, in worker processes sharing the cores evenly (language adapters train first). Default: 2 on a CPU with 2 or more cores, else 1.")] = None,
    executor: Annotated[ExecutorChoice, typer.Option(help="Where runs compute: " + "; ".join(f"{k.name}: {k.summary}" for k in EXECUTORS.values()) + ".")] = ExecutorChoice(DEFAULT_EXECUTOR),
    address: Annotated[str | None, typer.Option(help="--executor ray: the cluster, auto or HOST:6379 or ray://HOST:10001 (default: $RAY_ADDRESS, else a cluster started on this machine).")] = None,
    cpus_per_run: Annotated[int | None, typer.Option(min=1, help="--executor ray: CPUs (and torch threads) each run asks for (default 1).")] = None,
    gpus_per_run: Annotated[float | None, typer.Option(min=0, help="--executor ray: GPUs each run asks for (default 0).")] = None,
    retries: Annotated[int | None, typer.Option(min=0, help="--executor ray: attempts again at a run whose worker or node died, before it is recorded as failed (default 2).")] = None,
    report_to: Annotated[ReportTo, typer.Option("--report-to", help=REPORT_TO_HELP + " Grouped by study id; TensorBoard: OUT/tensorboard/.")] = ReportTo.none,
) -> None:
    """Run a study: sizes x methods x learning rates x seeds, in-language and zero-shot, then write the report."""
    from dataclasses import replace

    from xadapt.study.protocols import apply_protocol
    from xadapt.study.report import write_report
    from xadapt.study.sweep import run_sweep

    values = load_study_file(config) if config else {}
    for key, given in {"task": task, "lang": lang, "samples": samples, "model": model,
                       "source": None if source in (None, "none", "") else source}.items():
        if key not in values or typed(ctx, key):
            values[key] = given  # a flag typed on the command line beats the study file
    for key, given in {
        "sizes": _numbers(sizes, int, "--sizes"), "methods": _names(methods), "seeds": _numbers(seeds, int, "--seeds"),
        "targets": _names(targets),
    }.items():
        if given is not None:
            values[key] = given
    stopping = {key: given for key, given in {"epochs": epochs, "patience": patience, "time_budget": time_budget,
                                              "precision": precision.value if precision else None}.items()
                if given is not None}  # typed flags: they beat the study file and the --paper profile
    study = study_from({**values, **stopping}, config)
    rates = _learning_rates(lrs, study.methods)
    if rates is not None:
        study.lrs = {**(study.lrs or {}), **rates}
    if protocol:
        if study.lr_sweep or study.long_training:
            raise XadaptError(f"--protocol {protocol} plans lr_sweep and long_training itself, and {config} defines them too; "
                              "remove them from the study file or drop --protocol")
        study = apply_protocol(protocol, study)
    if paper:
        study = replace(study.paper_profile(), **stopping)
    if lang_adapter_steps is not None:
        study.language_adapter = replace(study.language_adapter, steps=lang_adapter_steps)
    if lang_adapter_vocabulary is not None:
        study.language_adapter = replace(study.language_adapter, output_vocabulary=lang_adapter_vocabulary.value)
    StudyConfig.__post_init__(study)
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
