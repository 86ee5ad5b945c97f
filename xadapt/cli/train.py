"""`xadapt train`, `xadapt train-lang`, `xadapt eval`: single runs outside a sweep."""

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from xadapt.cli.common import (
    FUSE_LANGS_HELP, FUSE_TASKS_HELP, OUTPUT_VOCABULARY_HELP, PATIENCE_HELP, REPORT_TO_HELP, TIME_BUDGET_HELP, OutputVocabulary,
    PrecisionChoice, ReportTo, console, split_names, status, user_errors,
)
from xadapt.cli.methods import METHODS_HELP
from xadapt.atomic import check_writable
from xadapt.errors import XadaptError
from xadapt.models import DEFAULT_MODEL
from xadapt.precision import PRECISION_HELP
from xadapt.settings import HOME_ENV, home_path
from xadapt.train.tracking import TENSORBOARD_DIR, Tracking

ModelOption = Annotated[str, typer.Option(help="Packaged model, local directory or hub id.")]
DataOption = Annotated[Path | None, typer.Option(help="Benchmark data directory (default: $XADAPT_DATA).")]


@user_errors
def train_command(
    task: Annotated[str, typer.Option(help="Benchmark name or alias (ner, topic, nli, sentiment, copa).")] = "wikiann",
    lang: Annotated[str, typer.Option(help="Training language.")] = "sw",
    method: Annotated[str, typer.Option(help=METHODS_HELP)] = "adapter",
    samples: Annotated[int, typer.Option(help="Training examples (a seeded, nested subset).")] = 1000,
    lr: Annotated[float | None, typer.Option(help="Learning rate (default: the method's usual rate).")] = None,
    epochs: Annotated[int, typer.Option(min=1, help="The most training epochs.")] = 20,
    patience: Annotated[int, typer.Option(min=0, help=PATIENCE_HELP)] = 3,
    time_budget: Annotated[float | None, typer.Option(min=1, help=TIME_BUDGET_HELP)] = None,
    seed: Annotated[int, typer.Option(help="Seed for the subset, initialisation and batches.")] = 0,
    eval_langs: Annotated[str | None, typer.Option("--eval", help="Languages to evaluate on (default: --lang), e.g. sw,yo.")] = None,
    model: ModelOption = DEFAULT_MODEL,
    data_dir: DataOption = None,
    fuse_tasks: Annotated[str | None, typer.Option(help=FUSE_TASKS_HELP)] = None,
    fuse_langs: Annotated[str | None, typer.Option(help=FUSE_LANGS_HELP)] = None,
    fuse_samples: Annotated[int, typer.Option(min=1, help="fusion: training examples per fused adapter (at most its split).")] = 1000,
    lang_adapter_steps: Annotated[int | None, typer.Option(min=1, help="madx: MLM steps per language adapter (default: the CPU profile's; few steps make a quick trial run).")] = None,
    out: Annotated[Path | None, typer.Option(help="Where to save the trained parts and metrics (default: runs/train/<task>-<lang>-<method>).")] = None,
    precision: Annotated[PrecisionChoice, typer.Option(help=PRECISION_HELP)] = PrecisionChoice.auto,
    report_to: Annotated[ReportTo, typer.Option("--report-to", help=REPORT_TO_HELP + " TensorBoard: beside OUT, in tensorboard/<run id>.")] = ReportTo.none,
) -> None:
    """Train one task run, save its adapter (or fine-tuned model) with its head, and print its scores."""
    from xadapt.methods import get_method
    from xadapt.study.config import FusionSettings, StudyConfig
    from xadapt.study.fusion_sources import sources_for
    from xadapt.study.plan import TaskRun
    from xadapt.study.runner import RunContext, execute_run
    from xadapt.train.language import LanguageAdapterSettings
    from xadapt.study.sweep import validate
    from xadapt.train.saved import RUN_FILE
    from xadapt.train.task import StopReason

    Tracking(report_to.value).check()
    targets = [t for t in (eval_langs or lang).split(",") if t]
    training = get_method(method)
    if not training.fuses_adapters and (fuse_tasks or fuse_langs):
        raise XadaptError(f"--fuse-tasks and --fuse-langs say what a fusion run fuses, and --method {method} fuses nothing; "
                          "drop them or use --method fusion")
    rate = lr if lr is not None else training.lr
    fusion = (FusionSettings(tasks=split_names(fuse_tasks), languages=split_names(fuse_langs) or [], samples=fuse_samples)
              if training.fuses_adapters else None)
    study = validate(
        StudyConfig(task=task, lang=lang, samples=samples, sizes=[samples], methods=[method], lrs={method: [rate]},
                    seeds=[seed], epochs=epochs, patience=patience or None, time_budget=time_budget, source=None,
                    targets=targets, model=model, precision=precision.value, fusion=fusion,
                    language_adapter=LanguageAdapterSettings(**({"steps": lang_adapter_steps} if lang_adapter_steps else {}))),
        data_dir,
    )
    out = out or Path("runs") / "train" / f"{study.task}-{study.lang}-{method}"
    if out.is_file() or (out.is_dir() and any(out.iterdir()) and not (out / RUN_FILE).is_file()):
        raise XadaptError(f"--out {out} exists and is not a run directory; its contents would be replaced. Choose a new --out")
    check_writable(out, "--out")
    check_writable(home_path(), HOME_ENV)
    run = TaskRun(method, study.task, study.lang, tuple(study.targets), samples, rate, seed, epochs, study.patience, study.time_budget,
                  fuse=sources_for(study, study.lang) if training.fuses_adapters else ())
    # beside the run, not in it: saving the run replaces its folder whole
    context = RunContext(study, data_dir, tracking=Tracking(report_to.value, str(out.parent / TENSORBOARD_DIR)))
    with status(f"training {method} on {study.task} {study.lang} ({samples} examples, {context.precision.name}: "
                f"{context.precision.reason}) ..."):
        records = execute_run(context, run, study_id="single", artifacts=out)
    (out / "metrics.json").write_text(json.dumps(records, indent=2) + "\n", encoding="utf-8")
    table = Table(title=f"{method} on {study.task}, trained on {study.lang} ({samples} examples)")
    for column in ("eval lang", "split", "metric", "best-dev-epoch score", "last-epoch score"):
        table.add_column(column)
    for r in records:
        if r["status"] == "ok":
            table.add_row(r["eval_lang"], r["eval_split"], r["metric"], f"{r['score']:.4f}", f"{r['last_score']:.4f}")
        else:
            table.add_row(r["eval_lang"], "-", r["metric"], f"[red]failed: {r['error']}[/]", "")
    console.print(table)
    trained = next((r for r in records if r["status"] == "ok"), None)
    if trained:
        console.print(f"trained {trained['epochs_trained']} of at most {epochs} epochs, stopped by {StopReason.DESCRIPTIONS[trained['stop_reason']]}; "
                      f"best dev epoch {trained['best_epoch']}")
    console.print(f"[green]saved:[/] {out}")


@user_errors
def train_lang_command(
    lang: Annotated[str, typer.Option(help="Language of the raw text.")] = "sw",
    steps: Annotated[int | None, typer.Option(min=1, help="Optimiser steps (default: the CPU profile's).")] = None,
    head_steps: Annotated[int | None, typer.Option(min=1, help="Steps fitting the shared MLM head, once per model, for models without one (default: the CPU profile's).")] = None,
    output_vocabulary: Annotated[OutputVocabulary, typer.Option(help=OUTPUT_VOCABULARY_HELP)] = OutputVocabulary.full,
    model: ModelOption = DEFAULT_MODEL,
    data_dir: DataOption = None,
    precision: Annotated[PrecisionChoice, typer.Option(help=PRECISION_HELP)] = PrecisionChoice.auto,
    report_to: Annotated[ReportTo, typer.Option("--report-to", help=REPORT_TO_HELP + " TensorBoard: runs/tensorboard/.")] = ReportTo.none,
) -> None:
    """Train (or reuse from the cache) a MAD-X language adapter with masked-LM on a language's raw text."""
    from dataclasses import replace

    from xadapt.data.corpora import require_corpus
    from xadapt.languages import normalize_lang
    from xadapt.models import resolve_model
    from xadapt.models.tokenizer_cache import load_tokenizer
    from xadapt.precision import resolve_precision
    from xadapt.train.language import DONE, LanguageAdapterSettings, train_language_adapter

    tracking = Tracking(report_to.value)
    tracking.check()
    settings = LanguageAdapterSettings(output_vocabulary=output_vocabulary.value)
    given = {"steps": steps, "head_steps": head_steps}
    settings = replace(settings, **{name: value for name, value in given.items() if value is not None})
    code = normalize_lang(lang)
    require_corpus(code, data_dir)  # before the model loads or a lock is taken
    check_writable(home_path(), HOME_ENV)
    used = resolve_precision(precision.value)
    model_dir = resolve_model(model)
    with status(f"training the {code} language adapter ({settings.steps} steps, {used.name}: {used.reason}) ..."):
        path = train_language_adapter(model_dir, load_tokenizer(model_dir), code, settings, data_dir, used.name,
                                      tracking)
    facts = json.loads((path / DONE).read_text(encoding="utf-8"))
    console.print(
        f"[green]{code} language adapter:[/] {path}\n  held-out perplexity {facts['perplexity_before']:.1f} → "
        f"{facts['perplexity_after']:.1f} ({facts['train_sentences']} sentences, {facts['trainable_params']:,} trainable parameters)"
    )
    if facts.get("output_vocabulary"):
        console.print(f"  trained scoring the {facts['output_vocabulary']:,} tokens of the {code} corpus (perplexity: whole vocabulary)")


@user_errors
def eval_command(
    run_dir: Annotated[Path, typer.Argument(help="A directory written by `xadapt train` (holds run.json).")],
    lang: Annotated[str, typer.Option(help="Language to evaluate on.")] = "sw",
    lang_adapter: Annotated[str | None, typer.Option(help="MAD-X: the language adapter for --lang (swapped in for zero-shot): a folder of "
                                                         "xadapt's or of the `adapters` library's, or a hub id (an AdapterHub adapter).")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Evaluate on at most this many examples.")] = None,
    data_dir: DataOption = None,
) -> None:
    """Evaluate a saved adapter composition or fine-tuned model on a task's evaluation split."""
    from xadapt.data import load_split, resolve_eval_split
    from xadapt.languages import normalize_lang
    from xadapt.models.tokenizer_cache import load_tokenizer
    from xadapt.train.evaluate import evaluate
    from xadapt.train.features import collator_for, encode
    from xadapt.train.saved import load_run

    code = normalize_lang(lang)
    saved = load_run(run_dir, {code: lang_adapter} if lang_adapter else None)
    facts = saved.facts
    split, note = resolve_eval_split(facts["task"], code, data_dir)
    if note:
        console.print(f"[yellow]note:[/] {note}")
    data = load_split(facts["task"], code, split, data_dir)
    if limit is not None and len(data) > limit:
        data = data.shuffle(seed=0).select(range(limit))
    tokenizer = load_tokenizer(facts["base_model"])
    encoded = encode(data, facts["head"], tokenizer, facts.get("max_length", 128))
    result = evaluate(saved.composed(code), encoded, collator_for(facts["head"], tokenizer), head=facts["head"], labels=facts["labels"])
    console.print(f"{facts['method']} ({facts['train_lang']}-trained) on {facts['task']} {code} {split} ({len(data)} examples):")
    for name, value in {"loss": result.loss, **result.scores}.items():
        console.print(f"  {name}: {value:.4f}")


def register(app: typer.Typer) -> None:
    app.command("train")(train_command)
    app.command("train-lang")(train_lang_command)
    app.command("eval")(eval_command)
