"""Execute one task run of a study and turn it into result records.

`RunContext` holds what every run of a sweep shares and is expensive to make: the resolved model,
its tokenizer, encoded evaluation splits, trained language adapters and the base model's layer
representations for the drift analysis. `execute_run` is the unit an executor schedules.
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch
from datasets import Dataset

from xadapt.adapters import AdapterModel
from xadapt.atomic import atomic_directory, exclusive
from xadapt.data import get_task, load_corpus, load_split, nested_subsets, resolve_eval_split
from xadapt.environment import describe
from xadapt.errors import XadaptError
from xadapt.integrity import file_list
from xadapt.methods import Prepared, build_run_model, get_method
from xadapt.methods.adapter import ADAPTER_DIR
from xadapt.methods.budget import budget_parameters, layer_parameters
from xadapt.models import model_identity, resolve_model
from xadapt.models.tokenizer_cache import load_tokenizer
from xadapt.precision import FP32, Precision, resolve_precision
from xadapt.study.config import StudyConfig
from xadapt.study import fusion_sources
from xadapt.study.drift import drift_per_layer, layer_representations
from xadapt.study.fusion_sources import FusionSource
from xadapt.study.plan import TaskRun
from xadapt.study.results import run_id
from xadapt.train.evaluate import evaluate
from xadapt.train.features import collator_for, encode
from xadapt.train.language import DONE, is_cached, shared_mlm_head, train_language_adapter
from xadapt.train.saved import RUN_FILE
from xadapt.train.task import TASK, ComposedModel, TrainingDiverged, TrainSettings, seeded, train
from xadapt.train.tracking import Tracking

DRIFT_SENTENCES = 64  # held-out sentences for the representation analysis


@dataclass
class RunContext:
    study: StudyConfig
    data_dir: Path | None
    model_dir: Path = field(init=False)
    tokenizer: object = field(init=False)
    identity: dict = field(init=False)
    precision: Precision = field(init=False)
    language_adapters: dict[str, Path] = field(default_factory=dict)
    fused_adapters: dict[str, Path] = field(default_factory=dict)  # fusion source key -> its cache folder
    on_epoch: Callable[[dict], None] = lambda point: None  # progress hook, called after each epoch's dev evaluation
    tracking: Tracking = field(default_factory=Tracking)  # where each run is reported (`--report-to`), under its run id
    _loaded: dict = field(default_factory=dict)
    _encoded: dict = field(default_factory=dict)
    _base_layers: dict = field(default_factory=dict)

    def __post_init__(self):
        self.precision = resolve_precision(self.study.precision)  # what this machine computes the study's runs in
        self.model_dir = resolve_model(self.study.model)
        self.tokenizer = load_tokenizer(self.model_dir)
        self.identity = model_identity(self.model_dir)
        self.spec = get_task(self.study.task)
        self.collator = collator_for(self.spec.head, self.tokenizer)

    def split(self, lang: str, split: str) -> Dataset:
        """A split read from disk once per sweep."""
        if (lang, split) not in self._loaded:
            self._loaded[lang, split] = load_split(self.spec.name, lang, split, self.data_dir)
        return self._loaded[lang, split]

    def encoded(self, lang: str, split: str, limit: int | None = None) -> Dataset:
        """A split tokenised once per sweep; evaluation splits capped at `limit` (a fixed random sample)."""
        key = (lang, split, limit)
        if key not in self._encoded:
            data = self.split(lang, split)
            if limit is not None and len(data) > limit:
                data = data.shuffle(seed=0).select(range(limit))
            self._encoded[key] = encode(data, self.spec.head, self.tokenizer, self.study.max_length)
        return self._encoded[key]

    def training_subset(self, lang: str, samples: int, seed: int) -> tuple[Dataset, str]:
        """The `samples`-example nested subset for `seed`, encoded, and a fingerprint of its content."""
        data = self.split(lang, "train")
        sizes = sorted({*self.study.training_sizes(), samples})
        stratify = "label" if self.spec.head != "token_classification" else None
        subset = nested_subsets(data, sizes, seed=seed, stratify_column=stratify)[samples]
        fingerprint = hashlib.sha256(json.dumps(subset.to_dict(), sort_keys=True).encode()).hexdigest()[:16]
        return encode(subset, self.spec.head, self.tokenizer, self.study.max_length), fingerprint

    def dev_split(self, train_lang: str, eval_langs: tuple[str, ...]) -> Dataset:
        """Model selection data: the training language's dev split, else the first target's."""
        for lang in (train_lang, *eval_langs):
            try:
                return self.encoded(lang, "dev", self.study.dev_limit)
            except XadaptError:
                continue
        raise XadaptError(f"{self.spec.title} has no dev split for {train_lang} or {', '.join(eval_langs)}")

    def language_adapter(self, lang: str) -> Path:
        if lang not in self.language_adapters:
            self.language_adapters[lang] = train_language_adapter(
                self.model_dir, self.tokenizer, lang, self.study.language_adapter, self.data_dir, self.precision.name,
                self.tracking,
            )
        return self.language_adapters[lang] / "adapter"

    def fused_adapter(self, key: str) -> Path:
        """The cache folder of the fusion source `key` (`xadapt.study.fusion_sources`), trained first if needed."""
        if key not in self.fused_adapters:
            source = FusionSource.parse(key)
            final = fusion_sources.cache_dir(self.study, self.identity["fingerprint"], source, self.precision.name)
            if not is_cached(final, fusion_sources.DONE):
                with exclusive(final):  # another sweep sharing this cache may be training it right now
                    if not is_cached(final, fusion_sources.DONE):
                        _train_fusion_source(self, source, final)
            self.fused_adapters[key] = final
        return self.fused_adapters[key]

    def mlm_head(self) -> Path | None:
        """The shared MLM head the language adapters train against (fitted first if needed); None for a
        model with an MLM head of its own."""
        return shared_mlm_head(self.model_dir, self.tokenizer, self.study.language_adapter, self.data_dir,
                               self.precision.name, self.tracking)

    def drift_texts(self, lang: str) -> list[str]:
        """Held-out raw text of `lang`; for languages without raw text, sentences of its evaluation split."""
        try:
            return load_corpus(lang, self.data_dir, heldout_lines=DRIFT_SENTENCES).heldout[:DRIFT_SENTENCES]
        except XadaptError:
            split, _ = resolve_eval_split(self.spec.name, lang, self.data_dir)
            data = self.split(lang, split)
            data = data.select(range(min(DRIFT_SENTENCES, len(data))))
            column = {"token_classification": "tokens", "multiple_choice": "premise"}.get(self.spec.head, "text")
            return [" ".join(v) if isinstance(v, list) else v for v in data[column]]

    def base_layers(self, lang: str):
        if lang not in self._base_layers:
            base = AdapterModel.from_pretrained(self.model_dir)
            self._base_layers[lang] = layer_representations(base, self.tokenizer, self.drift_texts(lang))
        return self._base_layers[lang]


def run_key(context: RunContext, run: TaskRun) -> str:
    """Everything that determines a run's training, hashed (evaluation languages excluded). fp32 is
    left out, so runs recorded before the precision was a choice keep their ids."""
    study = context.study
    facts = {**asdict(run), **protocol(context, run), "model": context.identity["fingerprint"]}
    if facts["precision"] == FP32:
        del facts["precision"]
    if not facts["fuse"]:
        del facts["fuse"]  # runs of other methods keep the ids they had before fusion was a method
    else:
        facts["fuse"] = [fusion_sources.training_facts(study, FusionSource.parse(key)) for key in run.fuse]
    if get_method(run.method).needs_language_adapters:
        facts["language_adapter"] = study.language_adapter.identity()
    return run_id(facts)


def execute_run(context: RunContext, run: TaskRun, study_id: str, artifacts: Path | None = None) -> list[dict]:
    """Train `run` once and return one record per evaluation language (failed records on divergence).

    With `artifacts`, the best epoch's trained parts are saved there (see `save_artifacts`).
    """
    spec = context.spec
    identity = {**run_identity(context, run, study_id), "threads": torch.get_num_threads()}
    train_set, data_fingerprint = context.training_subset(run.train_lang, run.samples, run.seed)
    identity["data"] = {"task": spec.name, "train_fingerprint": data_fingerprint}
    method = get_method(run.method)
    adapters = {lang: context.language_adapter(lang) for lang in run.needs_language_adapters()}
    if adapters:
        identity["language_adapters"] = {lang: language_adapter_facts(path) for lang, path in adapters.items()}
    fused = {key: context.fused_adapter(key) for key in run.fuse}
    if fused:
        identity["fused"] = [fused_adapter_facts(folder) for folder in fused.values()]
    prepared = Prepared(adapters, {key: folder / FUSED_RUN / ADAPTER_DIR for key, folder in fused.items()})
    seeded(run.seed)
    model, composition_for = build_run_model(method, context.model_dir, spec.head, len(spec.labels), prepared)
    composed = ComposedModel(model, composition_for(run.train_lang), precision=context.precision.name,
                             extra_loss=lambda: method.extra_loss(model, TASK))
    dev = context.dev_split(run.train_lang, run.eval_langs)

    def dev_score(m):
        return evaluate(m, dev, context.collator, head=spec.head, labels=spec.labels, batch_size=64)

    settings = TrainSettings(lr=run.lr, epochs=run.epochs, batch_size=context.study.batch_size, seed=run.seed,
                             weight_decay=method.weight_decay,
                             patience=run.patience, time_budget=run.time_budget)

    def on_epoch(point):
        context.on_epoch({**point, "run": run})

    try:
        tracker, seconds = train(composed, train_set, context.collator, settings, dev_score, spec.metric, on_epoch,
                                 tracking=context.tracking, run_name=identity["run_id"])
    except TrainingDiverged as err:
        return failed_records(identity, run, str(err))

    counts = model.parameter_counts()
    identity.update(trainable_params=model.trainable_parameter_count(), total_params=sum(c["total"] for c in counts.values()),
                    budget=_budget(model),
                    seconds=seconds, curve=tracker.curve, best_epoch=tracker.best_epoch,
                    epochs_trained=len(tracker.curve), stop_reason=tracker.stop_reason)

    last = {lang: _test(context, composed, composition_for(lang), lang) for lang in run.eval_langs}
    best = last
    if tracker.best_epoch != len(tracker.curve):  # go back to the best dev epoch's weights and test again
        restore_best_epoch(composed, tracker)
        best = {lang: _test(context, composed, composition_for(lang), lang) for lang in run.eval_langs}
    # drift is measured on the weights whose score is reported: the best dev epoch's
    drift = {lang: _drift(context, model, composition_for(lang), lang) for lang in run.eval_langs}
    if artifacts is not None:
        save_artifacts(model, run, context, adapters, artifacts, identity.get("fused", []))
    records = []
    for lang in run.eval_langs:
        split, scores = best[lang]
        records.append({
            **identity, "eval_lang": lang, "status": "ok", "error": None, "eval_split": split,
            "eval_examples": len(context.encoded(lang, split, context.study.eval_limit)),
            "score": scores[spec.metric], "last_score": last[lang][1][spec.metric],
            "extra": {k: v for k, v in scores.items() if k != spec.metric},
            "drift": {"measure": "rsa", "layers": list(range(len(drift[lang]))), "similarity": drift[lang]},
        })
    return records


def run_identity(context: RunContext, run: TaskRun, study_id: str) -> dict:
    """What every record of `run` says about it, whether it trained or failed."""
    spec = context.spec
    return {
        "run_id": run_key(context, run), "study_id": study_id, "method": run.method, "task": spec.name,
        "train_lang": run.train_lang, "samples": run.samples, "lr": run.lr, "seed": run.seed, "epochs": run.epochs,
        "metric": spec.metric, "model": {k: context.identity[k] for k in ("name", "fingerprint")},
        "protocol": protocol(context, run), "precision": context.precision.name,
    }


def failed_records(identity: dict, run: TaskRun, error: str) -> list[dict]:
    """One failed record per evaluation language of `run`, saying why."""
    return [{**identity, "eval_lang": lang, "status": "failed", "error": error, "score": None, "last_score": None, "curve": []}
            for lang in run.eval_langs]


def protocol(context: RunContext, run: TaskRun) -> dict:
    """How a run was trained and judged, beyond its cell: what two runs must share to be compared.
    `xadapt report` pairs runs of several studies only within one protocol."""
    study = context.study
    return {"epochs": run.epochs, "patience": run.patience, "time_budget": run.time_budget, "batch_size": study.batch_size,
            "max_length": study.max_length, "dev_limit": study.dev_limit, "eval_limit": study.eval_limit,
            "precision": context.precision.name}


def language_adapter_facts(adapter_dir: Path) -> dict:
    """What a record says about a language adapter it used: its training steps and held-out perplexity."""
    facts = json.loads((Path(adapter_dir).parent / DONE).read_text(encoding="utf-8"))
    return {"steps": facts["settings"]["steps"], "perplexity_before": facts["perplexity_before"],
            "perplexity_after": facts["perplexity_after"]}


def fused_adapter_facts(folder: Path) -> dict:
    """What a record says about an adapter it fused: its task, language, training size and own test score."""
    facts = fusion_sources.read_source_facts(folder)
    return {key: facts[key] for key in ("key", "task", "lang", "samples", "score", "metric")}


def _budget(model: AdapterModel) -> dict:
    """The parameters a run adds to the encoder at inference, and their share of its layers (`xadapt.methods.budget`):
    the trained adapters only (fine-tuning and the head-only probe add none; a fusion counts its fusion layers)."""
    trained = [m for m in (*model.adapters.values(), *model.fusions.values()) if any(p.requires_grad for p in m.parameters())]
    added = sum(budget_parameters(m) for m in trained)
    return {"parameters": added, "share": added / layer_parameters(model)}


FUSED_RUN = "run"  # inside a fusion source's cache folder: the saved run of its adapter


def _train_fusion_source(context: RunContext, source: FusionSource, final: Path) -> None:
    """Train the seq_bn task adapter `source` names as a study run would, and cache it in `final` with its record."""
    samples = min(context.study.fusion.samples, len(load_split(source.task, source.lang, "train", context.data_dir)))
    sub_study = replace(context.study, task=source.task, lang=source.lang, samples=samples, sizes=[samples],
                        methods=[fusion_sources.SOURCE_METHOD], lrs=None, source=None, targets=None, lr_sweep=None,
                        long_training=None, fusion=None, model=str(context.model_dir))
    sub = RunContext(sub_study, context.data_dir, tracking=context.tracking)
    facts = fusion_sources.training_facts(context.study, source)
    run = TaskRun(facts["method"], source.task, source.lang, (source.lang,), samples, facts["lr"], facts["seed"],
                  facts["epochs"], facts["patience"], facts["time_budget"])
    with atomic_directory(final) as staging:
        records = execute_run(sub, run, "fusion-source", artifacts=staging / FUSED_RUN)
        if records[0]["status"] != "ok":
            raise XadaptError(f"the {source.task} {source.lang} adapter to fuse failed to train: {records[0]['error']}")
        record = records[0]
        done = {"key": source.key, "task": sub.spec.name, "lang": source.lang, "samples": samples, "score": record["score"],
                "metric": record["metric"], "best_epoch": record["best_epoch"], "stop_reason": record["stop_reason"],
                "settings": facts, "precision": context.precision.name, "files": file_list(staging)}
        (staging / fusion_sources.DONE).write_text(json.dumps(done, indent=2) + "\n", encoding="utf-8")


def restore_best_epoch(composed: ComposedModel, tracker) -> None:
    """Load the trainable weights of the best dev epoch (kept in memory by the tracker) into `composed`."""
    for name, param in composed.named_parameters():
        if name in tracker.best_state:
            param.data.copy_(tracker.best_state[name])


def _test(context: RunContext, composed: ComposedModel, composition, lang: str) -> tuple[str, dict]:
    split, _ = resolve_eval_split(context.spec.name, lang, context.data_dir)
    composed.composition = composition
    result = evaluate(composed, context.encoded(lang, split, context.study.eval_limit), context.collator,
                      head=context.spec.head, labels=context.spec.labels)
    return split, result.scores


def _drift(context: RunContext, model: AdapterModel, composition, lang: str) -> list[float]:
    tuned = layer_representations(model, context.tokenizer, context.drift_texts(lang), composition=composition)
    return drift_per_layer(context.base_layers(lang), tuned)


def save_artifacts(model: AdapterModel, run: TaskRun, context: RunContext, language_adapters: dict, directory: Path,
                   fused: list[dict] = ()) -> None:
    """Write what a run trained, so `xadapt eval` and the demo can use it without retraining.

    `run.json` names the method, task, labels, base model, language adapters and fused adapters;
    beside it the parts the training method saves (`xadapt.methods`: a task adapter, a fine-tuned
    encoder, fused adapters and fusion layers) and the head. The directory appears complete or not at all.
    """
    with atomic_directory(Path(directory)) as staging:
        get_method(run.method).save(model, TASK, staging, context.tokenizer)
        facts = {
            "method": run.method, "task": context.spec.name, "head": context.spec.head, "labels": list(context.spec.labels),
            "train_lang": run.train_lang, "samples": run.samples, "lr": run.lr, "seed": run.seed,
            "max_length": context.study.max_length, "precision": context.precision.name,
            "base_model": str(context.model_dir), "model": context.identity,
            "language_adapters": {lang: str(path) for lang, path in language_adapters.items()},
            "fused": list(fused),
            "environment": describe(),
        }
        (staging / RUN_FILE).write_text(json.dumps(facts, indent=2) + "\n", encoding="utf-8")
