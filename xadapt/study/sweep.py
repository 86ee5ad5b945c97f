"""`xadapt sweep`: check a study, print its plan, run what is not yet done, write the report.

Everything that can be wrong with the input (task, languages, methods, sizes larger than a
split, an output directory holding another study, storage the executor's workers cannot see) is
checked before anything is written, so a bad command leaves existing results untouched. The shared
MLM head and the language adapters are trained first, as jobs of the executor, each once; then the
runs. Records are appended by this process alone as each run finishes, in any order; a killed sweep
restarted with the same command skips the finished runs.
"""

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from xadapt.data import find_data_dir, get_task, list_tasks, load_split, resolve_eval_split
from xadapt.data.corpora import corpus_files
from xadapt.environment import describe
from xadapt.errors import XadaptError
from xadapt.languages import normalize_lang
from xadapt.precision import BF16, FP32
from xadapt.methods import get_method
from xadapt.study.config import StudyConfig
from xadapt.atomic import check_writable
from xadapt.settings import HOME_ENV, home_path, xadapt_home
from xadapt.study import fusion_sources
from xadapt.study.executor import DEFAULT_EXECUTOR, ExecutorOptions, JobLost, make_executor
from xadapt.study.fusion_sources import FusionSource
from xadapt.study.local_executor import report_progress
from xadapt.study.plan import TaskRun, make_plan
from xadapt.study.results import ResultsStore, study_id
from xadapt.study.runner import RunContext, execute_run, failed_records, run_identity, run_key
from xadapt.study.table import write_records_table
from xadapt.train.language import DONE, cache_dir, is_cached, needs_head_fit
from xadapt.train.tracking import NONE, TENSORBOARD_DIR, Tracking

# Measured on an AMD EPYC (Zen 4, AVX-512 and AVX512-BF16, no AMX) with 2 cores, fp32, torch 2.13,
# multilingual-e5-small, WikiANN sw sentences, batch 8, nothing else running (2026-12-01): seconds per
# training example-epoch (each training method's `seconds_per_example`), per evaluated example, per masked-LM step (16 x 64 tokens) and per run for
# loading, drift and bookkeeping. An AVX2-only host is about 2.5x slower. Only for the printed estimate.
SECONDS_PER_EVAL_EXAMPLE = 0.005
SECONDS_PER_MLM_STEP = 0.93
SECONDS_PER_HEAD_STEP = 0.95  # fitting the shared MLM head: the whole forward pass, gradients only in the head
SECONDS_PER_RUN = 14.0  # model loading, drift (RSA on 64 sentences), records: measured in that sweep
# When early stopping ends a run: in the default sweep of 2026-12-01 (WikiANN sw, batch 8, at most 20
# epochs, linear decay over them) the best dev epoch was 6-18, about 12 on average at every size
# (100: 11.4, 300: 10.7, 1000: 12.5); a run stops `patience` epochs later.
TYPICAL_BEST_EPOCH = 12
# Measured on the same machine (2026-12-01): bf16 autocast trains the task adapter 1.43x, full fine-tuning
# 1.52x and masked-LM 1.58x as fast as fp32 (`python -m bench --cases precision`; the estimate takes the
# smallest). Two worker processes of one thread each make 1.28x (fine-tuning) to 1.64x (task adapter) the
# training steps per second of one process on both threads (`bench/profile.py` timing, 40 steps of 16),
# and finished the `workers` case's 6 runs 1.14x sooner (start-up and the last run's idle partner included);
# the estimate takes 1.28. More than 2 workers are not measured and assumed to gain no more.
PRECISION_SPEEDUP = {FP32: 1.0, BF16: 1.43}
WORKERS_SPEEDUP = 1.28


def expected_epochs(run: TaskRun) -> int:
    """Epochs `run` is expected to train: all of them without early stopping, else the typical best
    epoch plus its patience (at most `run.epochs`)."""
    if run.patience is None:
        return run.epochs
    return min(run.epochs, TYPICAL_BEST_EPOCH + run.patience)


ARTIFACTS = "artifacts"  # OUT/artifacts/<run_id>/: run.json, adapter/ or model/, head/


def _language(spec, code: str, data_dir) -> str:
    """The canonical code of `code`, or an error that also names the languages `spec` has on disk."""
    try:
        return normalize_lang(code)
    except XadaptError as err:
        try:
            on_disk = ", ".join(spec.languages(data_dir)) or "none"
        except XadaptError:  # no data directory either: the language error is the first problem
            raise err from None
        raise XadaptError(f"{err} {spec.title} has files here for: {on_disk}.") from None


def validate(study: StudyConfig, data_dir) -> StudyConfig:
    """Normalise names and check the study against the data on disk; raise `XadaptError` on the first problem."""
    spec = get_task(study.task)
    for method in study.all_methods():
        get_method(method)  # an unknown name: the error lists the registry
    for method in study.lrs or {}:
        if method not in study.all_methods():  # a misspelt key would silently leave that method at its default rate
            raise XadaptError(f"learning rates are given for {method!r} (--lrs / lrs:), which is not a method of this study; "
                              f"its methods: {', '.join(study.all_methods())}")
    study.task = spec.name
    study.lang = _language(spec, study.lang, data_dir)
    study.source = _language(spec, study.source, data_dir) if study.source else None
    study.targets = [_language(spec, t, data_dir) for t in study.target_languages()]
    largest = max([*study.training_sizes(), *(study.lr_sweep.sizes if study.lr_sweep else []),
                   *(study.long_training.sizes if study.long_training else [])])
    for lang in [study.lang] + ([study.source] if study.source and study.source != study.lang else []):
        size = len(load_split(spec.name, lang, "train", data_dir))
        if largest > size:
            raise XadaptError(
                f"training size {largest} is larger than {spec.title} {lang} train, which has {size} examples; "
                f"use --samples/--sizes up to {size}"
            )
    for lang in {study.lang, *study.targets}:
        resolve_eval_split(spec.name, lang, data_dir)
    for method in (m for m in study.all_methods() if get_method(m).needs_language_adapters):
        for lang in {study.lang, *([study.source] if study.source else []), *study.targets}:
            if not corpus_files(lang, data_dir):
                raise XadaptError(f"{method} needs raw text to train a {lang} language adapter and none was found; "
                                  f"drop {method} from --methods")
    if study.fusion is not None:
        _validate_fusion(study, data_dir)
    return study


def _trainable(task: str, lang: str, data_dir) -> bool:
    """Whether `task` has training and dev splits in `lang`: what a run (or a fused adapter) trains and stops on."""
    try:
        load_split(task, lang, "train", data_dir)
        load_split(task, lang, "dev", data_dir)
    except XadaptError:
        return False
    return True


def _other_benchmarks(spec, lang: str, data_dir) -> list[str]:
    """The benchmarks a fusion run trained in `lang` fuses by default: one per data set (MasakhaNER 2.0 and 1.0 share
    theirs) that can train in `lang`, the study's own data set left out."""
    chosen: dict[str, str] = {}
    for name in list_tasks():
        root = get_task(name).root
        if root != spec.root and root not in chosen and _trainable(name, lang, data_dir):
            chosen[root] = name
    return list(chosen.values())


def _validate_fusion(study: StudyConfig, data_dir) -> None:
    """Name the benchmarks and languages of `study.fusion` canonically (the default: every other benchmark with
    training and dev data in each training language) and check each fused adapter has them, before any work."""
    fusion = study.fusion
    spec = get_task(study.task)
    training_langs = [study.lang, *([study.source] if study.source and study.source != study.lang else [])]
    if fusion.tasks is None:
        fusion.tasks = {lang: _other_benchmarks(spec, lang, data_dir) for lang in training_langs}
    elif isinstance(fusion.tasks, dict):
        fusion.tasks = {_language(spec, lang, data_dir): [get_task(name).name for name in names]
                        for lang, names in fusion.tasks.items()}
    else:
        fusion.tasks = [get_task(name).name for name in fusion.tasks]
    fusion.languages = [_language(spec, lang, data_dir) for lang in fusion.languages]
    for lang in training_langs:
        keys = fusion_sources.sources_for(study, lang)
        for source in map(FusionSource.parse, keys):
            if source.lang == lang and get_task(source.task).root == spec.root:
                raise XadaptError(f"fusion would fuse a {source.task} adapter trained in {lang}, the study's own data "
                                  f"({spec.title}) with more examples than the run's subset; drop {source.task} from fusion.tasks")
            if not _trainable(source.task, source.lang, data_dir):
                raise XadaptError(f"fusion fuses a {source.task} adapter trained in {source.lang}, and {get_task(source.task).title} "
                                  f"has no {source.lang} training and dev splits here; drop it from fusion.tasks / fusion.languages")
        if len(keys) < 2:
            found = ", ".join(keys) or "none"
            raise XadaptError(f"fusion needs at least two adapters to fuse for runs trained in {lang}, and the study names {found}; "
                              "add benchmarks (fusion: {tasks: [sib200, xnli]}) or languages (fusion: {languages: [en, yo]}) "
                              "in the study file, or --fuse-tasks / --fuse-langs")


@dataclass(frozen=True)
class RunJob:
    """Plain data a worker needs to execute one run: picklable for any executor, paths absolute."""

    study: dict  # the study, its model given as the converted model's folder
    data_dir: str
    run: TaskRun
    study_id: str
    artifacts: str | None = None  # where to save the trained parts, if this run keeps them
    tracking: Tracking = Tracking()  # where the run is reported


@dataclass(frozen=True)
class LanguageAdapterJob:
    """Plain data a worker needs to train (or find cached) one language adapter, or with `lang` None the shared MLM head."""

    study: dict
    data_dir: str
    study_id: str
    lang: str | None
    tracking: Tracking = Tracking()


@dataclass(frozen=True)
class FusedAdapterJob:
    """Plain data a worker needs to train (or find cached) one task adapter that fusion runs fuse."""

    study: dict
    data_dir: str
    study_id: str
    key: str  # `FusionSource` key: task-lang
    tracking: Tracking = Tracking()


_CONTEXTS: dict[tuple, RunContext] = {}  # one per study, cache root and tracking, per process: model, tokenizer, encoded splits


def _context_key(study_id: str, data_dir: str, tracking: Tracking) -> tuple:
    """What a worker's context depends on: a Ray worker outlives the sweep and may serve the next one."""
    return study_id, data_dir, str(home_path()), tracking


def _context(job: RunJob | LanguageAdapterJob | FusedAdapterJob) -> RunContext:
    key = _context_key(job.study_id, job.data_dir, job.tracking)
    if key not in _CONTEXTS:  # in a worker process: its own context, progress sent to the sweep
        _CONTEXTS[key] = RunContext(StudyConfig.from_dict(job.study), Path(job.data_dir), on_epoch=report_progress,
                                    tracking=job.tracking)
    return _CONTEXTS[key]


def run_job(job: RunJob) -> list[dict]:
    return execute_run(_context(job), job.run, job.study_id, Path(job.artifacts) if job.artifacts else None)


def language_adapter_job(job: LanguageAdapterJob) -> str | None:
    """The trained adapter's folder (the head's, for the head job; None for a model with its own MLM head)."""
    context = _context(job)
    path = context.mlm_head() if job.lang is None else context.language_adapter(job.lang)
    return str(path) if path else None


def fused_adapter_job(job: FusedAdapterJob) -> str:
    """The cache folder of the trained adapter to fuse."""
    return str(_context(job).fused_adapter(job.key))


def keeps_artifacts(study: StudyConfig, run: TaskRun) -> bool:
    """Runs whose trained parts a sweep saves for `xadapt eval` and the demo: the first seed of each
    configuration; fine-tuned encoders (hundreds of MB each) only at the largest training size."""
    if run.seed != study.seeds[0]:
        return False
    return not get_method(run.method).whole_encoder or run.samples == max(study.training_sizes())


def run_seconds(study: StudyConfig, run: TaskRun, no_early_stop: bool = False) -> float:
    """Seconds of training and evaluation `run` should take in fp32 on one worker (without loading and bookkeeping)."""
    epochs = run.epochs if no_early_stop else expected_epochs(run)
    training = run.samples * epochs * get_method(run.method).seconds_per_example
    evaluations = epochs * (study.dev_limit or 1000) + 2 * len(run.eval_langs) * (study.eval_limit or 1000)
    return training + evaluations * SECONDS_PER_EVAL_EXAMPLE


def schedule(study: StudyConfig, pending: list[TaskRun], slots: int) -> list[TaskRun]:
    """The order runs start in: on one worker the plan's (smallest training size first, so early results cover
    every method); with several at once the longest expected first, so that the last runs to finish are short
    and few workers stand idle at the end (longest-processing-time-first)."""
    if slots < 2:
        return pending
    return sorted(pending, key=lambda run: run_seconds(study, run), reverse=True)


def estimate_seconds(study: StudyConfig, pending: list[TaskRun], adapters_to_train: list[str], fit_head: bool = False,
                     no_early_stop: bool = False, precision: str = FP32, workers: int = 1, sources_to_train: int = 0) -> float:
    """Seconds the pending runs, language adapters, `sources_to_train` adapters to fuse and (if `fit_head`) the
    shared MLM head should take in `precision` with `workers` runs at once; with `no_early_stop`, if every run
    trained all its epochs (the upper bound)."""
    if sources_to_train:  # each a seq_bn run of at most fusion.samples examples under the study's stopping rule
        source = TaskRun("adapter", study.task, study.lang, (study.lang,), study.fusion.samples, 0.0, 0,
                         study.epochs, study.patience, study.time_budget)
        pending = [*pending, *[source] * sources_to_train]
    mlm = len(adapters_to_train) * study.language_adapter.steps * SECONDS_PER_MLM_STEP
    head = study.language_adapter.head_steps * SECONDS_PER_HEAD_STEP if fit_head and adapters_to_train else 0.0
    speedup = PRECISION_SPEEDUP[precision]
    runs = sum(run_seconds(study, run, no_early_stop) for run in pending) / speedup + len(pending) * SECONDS_PER_RUN
    return runs / (WORKERS_SPEEDUP if workers > 1 else 1.0) + (mlm + head) / speedup


def run_sweep(
    study: StudyConfig,
    out: Path,
    data_dir=None,
    executor: str = DEFAULT_EXECUTOR,
    options: ExecutorOptions = ExecutorOptions(),
    announce: Callable[[dict], None] = lambda facts: None,
    progress: Callable[[int, int, TaskRun, list[dict]], None] = lambda done, total, run, records: None,
    on_epoch: Callable[[dict], None] = lambda point: None,
    report_to: str = NONE,
) -> ResultsStore:
    """Run every unfinished run of `study` on `executor` (`EXECUTORS`, set up with `options`), appending
    records to `out/results.jsonl`. With `report_to`, each run is reported to that tracker under its
    run id, grouped by the study id (TensorBoard: `out/tensorboard/`)."""
    Tracking(report_to).check()
    if study.targets and not study.source:  # they would be recorded and silently never evaluated
        raise XadaptError(f"--targets {','.join(map(str, study.targets))} are zero-shot target languages, and there is "
                          "no --source to transfer from; set --source (e.g. en) or drop --targets")
    study = validate(study, data_dir)
    data_dir = str(find_data_dir(data_dir))
    pool = make_executor(executor, options, on_epoch)
    out = Path(out).absolute()
    check_writable(out, "--out")  # before a model is converted into the cache or anything trains
    check_writable(home_path(), HOME_ENV)
    manifest = study.to_dict()
    sid = study_id(manifest)
    tracking = Tracking(report_to, str(out / TENSORBOARD_DIR), group=f"study-{sid}")
    context = RunContext(study, Path(data_dir), on_epoch=on_epoch, tracking=tracking)
    plan = make_plan(study)
    to_train = [
        lang for lang in plan.language_adapters
        if not is_cached(cache_dir(context.model_dir, lang, study.language_adapter, context.precision.name), DONE)
    ]
    fit_head = bool(to_train) and needs_head_fit(context.model_dir, study.language_adapter, data_dir, context.precision.name)
    _check_storage(pool, out, [Path(data_dir), context.model_dir.absolute()])
    store = ResultsStore.open(out, manifest)
    store.add_environment({**describe(), "precision": {"requested": study.precision, "used": context.precision.name,
                                                       "reason": context.precision.reason}})
    _CONTEXTS[_context_key(sid, data_dir, tracking)] = context
    done = store.done_keys()
    pending = [run for run in plan.runs if any((run_key(context, run), lang) not in done for lang in run.eval_langs)]
    to_fuse = [key for key in dict.fromkeys(key for run in pending for key in run.fuse) if not is_cached(
        fusion_sources.cache_dir(study, context.identity["fingerprint"], FusionSource.parse(key), context.precision.name),
        fusion_sources.DONE)]
    estimate = {bound: estimate_seconds(study, pending, to_train, fit_head, no_early_stop=bound == "estimate_max_seconds",
                                        precision=context.precision.name, workers=pool.slots, sources_to_train=len(to_fuse))
                for bound in ("estimate_seconds", "estimate_max_seconds")}
    announce({
        "runs": len(plan.runs), "pending": len(pending), "language_adapters": list(plan.language_adapters),
        "language_adapters_to_train": to_train, "fused_adapters": list(plan.fused_adapters), "fused_adapters_to_train": to_fuse,
        **estimate,
        "precision": context.precision.name, "precision_reason": context.precision.reason, "workers": pool.slots,
        "executor": pool.describe(), "out": str(out), "study_id": sid,
    })
    job_study = {**manifest, "model": str(context.model_dir.absolute())}  # workers load the converted model, never convert
    if fit_head:  # first, alone: every language adapter trains against it
        _prepare(pool, language_adapter_job, [LanguageAdapterJob(job_study, data_dir, sid, None, tracking)])
    if to_train:
        _prepare(pool, language_adapter_job, [LanguageAdapterJob(job_study, data_dir, sid, lang, tracking) for lang in to_train])
    if to_fuse:
        _prepare(pool, fused_adapter_job, [FusedAdapterJob(job_study, data_dir, sid, key, tracking) for key in to_fuse])
    jobs = [
        RunJob(job_study, data_dir, run, sid,
               str(out / ARTIFACTS / run_key(context, run)) if keeps_artifacts(study, run) else None, tracking)
        for run in schedule(study, pending, pool.slots)
    ]
    for finished, (job, result) in enumerate(pool.map(run_job, jobs), start=1):
        records = failed_records(run_identity(context, job.run, sid), job.run, result.reason) if isinstance(result, JobLost) else result
        for record in records:
            if (record["run_id"], record["eval_lang"]) not in done:
                store.append(record)
        write_records_table(out, store.records())
        progress(finished, len(jobs), job.run, records)
    return store


def _check_storage(pool, out: Path, readable: list[Path]) -> None:
    """Let the executor prove its workers see `out`, the cache root and `readable`; a folder made only for the check goes again."""
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
        pool.check_storage([out, xadapt_home().absolute()], readable)
    except OSError as err:
        raise XadaptError(f"cannot use {out} as the output folder: {err.strerror or err}; choose another --out") from None
    except XadaptError:
        if created:
            shutil.rmtree(out, ignore_errors=True)
        raise


def _prepare(pool, function, jobs: list[LanguageAdapterJob | FusedAdapterJob]) -> None:
    """Train the language adapters (or the head), or the adapters to fuse, of `jobs` on the executor, each once;
    a lost one stops the sweep."""
    for job, result in pool.map(function, jobs):
        if isinstance(result, JobLost):
            if isinstance(job, FusedAdapterJob):
                what = f"the {job.key} task adapter to fuse"
            else:
                what = f"the {job.lang} language adapter" if job.lang else "the shared MLM head"
            raise XadaptError(f"{what} could not be trained: {result.reason}; run the same command again to resume")
