"""Predictions for the demo: one base model with every discovered adapter, compositions chosen per call.

At start the base model is loaded once, and every usable language adapter and every run's parts
(as its training method attaches them: a task adapter, fused adapters with their fusion layers, a
head) from the catalog are loaded into it under the run's catalog id; a part that fails to load is
marked unusable in the catalog with the reason. A request names a run and a language adapter; the
composition (`Stack(language, task)`, the task adapter alone, a `Fuse`, or nothing for a head on
the base encoder) is passed to that request's forward call only, so concurrent requests never see
each other's choice and no choice reloads weights. Fine-tuned encoders are whole models: they are
loaded on first use and the most recently used few are kept. A fused model's answer comes with its
fusion attention per fused adapter, recorded during the same forward call.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import SafetensorError

from xadapt.adapters import AdapterModel, Stack
from xadapt.adapters.composition import Fuse, as_stack
from xadapt.adapters.fusion import recording_attention
from xadapt.demo.catalog import Catalog, LanguageAdapterEntry, RunEntry
from xadapt.demo.kinds import CHOICE, NLI, Kind
from xadapt.demo.spans import Word, entity_spans, split_words
from xadapt.errors import XadaptError
from xadapt.methods import Composer
from xadapt.models.tokenizer_cache import load_tokenizer
from xadapt.train.features import COPA_QUESTIONS
from xadapt.train.saved import load_run
from xadapt.train.task import ComposedModel

MAX_FINETUNED = 2  # fine-tuned encoders kept in memory (about 470 MB each for the default model)
MAX_CHARS = 5000  # characters read per input box; the model reads at most `max_length` tokens anyway
DEFAULT_MAX_LENGTH = 128  # tokens, for runs saved before run.json recorded their max_length
# Reading a saved part can fail in many ways (bad JSON, bad tensors, a config this version cannot
# build); each only makes that part unusable.
LOAD_ERRORS = (XadaptError, SafetensorError, OSError, ValueError, KeyError, TypeError, RuntimeError)


@dataclass(frozen=True)
class Prediction:
    composition: str  # what answered, e.g. "Stack(sw, task)"
    spans: list[tuple[str, str | None]] | None = None  # NER: the text in pieces, entity type or None
    probabilities: dict[str, float] | None = None  # classification: label (or alternative) -> probability
    notes: tuple[str, ...] = ()  # what the reader should know: truncation, unknown characters, defaults used
    fusion_attention: dict[str, float] | None = None  # a fused model: mean attention per fused adapter


@dataclass(frozen=True)
class Column:
    """One side of the comparison: a prediction, or why there is none."""

    title: str
    prediction: Prediction | None = None
    error: str | None = None


@dataclass
class _Route:
    model: ComposedModel
    description: str
    notes: list[str] = field(default_factory=list)


def _task_name(run: RunEntry) -> str:
    return f"task:{run.id}"


def _language_name(adapter: LanguageAdapterEntry) -> str:
    return f"lang:{adapter.id}"


class Predictor:
    def __init__(self, catalog: Catalog, model_dir: Path):
        self.catalog = catalog
        self.tokenizer = load_tokenizer(model_dir)
        self.model = AdapterModel.from_pretrained(model_dir)
        self._blank_ids = {self.tokenizer.unk_token_id, self.tokenizer.convert_tokens_to_ids("▁")}
        self._tokenizer_lock = threading.Lock()  # a fast tokenizer's truncation settings are shared state
        self._finetuned: OrderedDict[str, ComposedModel] = OrderedDict()
        self._finetuned_lock = threading.Lock()
        self._composers: dict[str, Composer] = {}  # run id -> its composition in the shared model
        self._load_adapters()
        self.model.eval()

    def _load_adapters(self) -> None:
        for adapter in self.catalog.usable_language_adapters():
            try:
                self.model.load_adapter(adapter.path, name=_language_name(adapter))
            except LOAD_ERRORS as err:
                adapter.problem = f"it does not load: {err}"
        for run in self.catalog.usable_runs(whole_encoder=False):
            name = _task_name(run)
            try:
                self._composers[run.id] = run.training.attach(self.model, run.path, name)
            except LOAD_ERRORS as err:
                run.problem = f"it does not load: {err}"
                self._forget(name)

    def _forget(self, name: str) -> None:
        """Remove what a run that failed to load left in the shared model (its parts are all named after `name`)."""
        for adapter in [a for a in self.model.adapters if a == name or a.startswith(f"{name}:")]:
            self.model.delete_adapter(adapter)
        if name in self.model.heads:
            del self.model.heads[name]

    # ----- choosing what answers --------------------------------------------------------------

    def _finetuned_model(self, run: RunEntry) -> ComposedModel:
        with self._finetuned_lock:
            if run.id not in self._finetuned:
                try:
                    self._finetuned[run.id] = load_run(run.path).composed(run.train_lang)
                except LOAD_ERRORS as err:
                    run.problem = f"its model does not load: {err}"
                    raise XadaptError(f"{run.id} ({run.path}) cannot be used: {run.problem}") from None
                while len(self._finetuned) > MAX_FINETUNED:
                    self._finetuned.popitem(last=False)
            self._finetuned.move_to_end(run.id)
            return self._finetuned[run.id]

    def _route(self, run: RunEntry, adapter_id: str | None) -> _Route:
        adapter = self.catalog.language_adapter(adapter_id) if adapter_id else None
        if run.training.whole_encoder:
            notes = ["a fine-tuned model runs without adapters, so the language adapter was not used"] if adapter else []
            return _Route(self._finetuned_model(run), f"fine-tuned model {run.id}", notes)
        task = _task_name(run)
        compose = self._composers[run.id]
        notes = []
        if run.training.needs_language_adapters and adapter is None:
            adapter = self.catalog.run_language_adapter(run, run.train_lang)
            if adapter is None:
                raise XadaptError(
                    f"{run.id} is a {run.training.demo_title} and needs a language adapter; none for its training language "
                    f"{run.train_lang} is available, so choose one (or train it: `xadapt train-lang --lang {run.train_lang}`)"
                )
            notes.append(f"no language adapter was chosen, so the training language's ({adapter.id}) was used")
        if adapter is None:
            composition = compose(None)
            return _Route(ComposedModel(self.model, composition, head=task), _title(composition, run, None), notes)
        if run.training.needs_language_adapters:
            composition = compose(_language_name(adapter))
        else:
            notes.append(f"this {run.method} run was trained without a language adapter; stacking one under it is an experiment")
            alone = compose(None)
            composition = Stack(_language_name(adapter), *(as_stack(alone) if alone is not None else ()))
        return _Route(ComposedModel(self.model, composition, head=task), _title(composition, run, adapter.lang), notes)

    # ----- predicting -------------------------------------------------------------------------

    def predict(self, kind: Kind, run_id: str, adapter_id: str | None, inputs: dict[str, str]) -> Prediction:
        """The answer of run `run_id` (with language adapter `adapter_id`, if any) to `inputs` (the kind's fields)."""
        run = self._run_of_kind(kind, run_id)
        inputs, notes = _checked(kind, inputs)
        route = self._route(run, adapter_id)
        notes += route.notes + self._unknown_script_notes(kind, inputs)
        max_length = int(run.facts.get("max_length", DEFAULT_MAX_LENGTH))
        with recording_attention() as attention:
            if kind.output == "spans":
                spans, more = self._entities(route.model, run.facts["labels"], inputs["text"], max_length)
                answer = {"spans": spans}
            else:
                probabilities, more = self._probabilities(route.model, kind, run.facts["labels"], inputs, max_length)
                answer = {"probabilities": probabilities}
        return Prediction(route.description, **answer, notes=tuple(notes + more),
                          fusion_attention=_fusion_attention(route.model.composition, attention))

    def compare(self, kind: Kind, run_id: str, target_id: str | None, finetuned_id: str | None,
                inputs: dict[str, str]) -> list[Column]:
        """The same input under Stack(source language, task), Stack(target language, task) and a fine-tuned model."""
        run = self._run_of_kind(kind, run_id)
        _checked(kind, inputs)
        if not run.training.needs_language_adapters:
            raise XadaptError(f"{run.id} is not a MAD-X task adapter; the comparison swaps the language adapter under "
                              "one, so choose a task adapter of method madx")
        if not target_id:
            raise XadaptError("choose the target language's adapter to compare with the source language's")
        target = self.catalog.language_adapter(target_id)
        source = self.catalog.run_language_adapter(run, run.train_lang)
        finetuned = self.catalog.run(finetuned_id) if finetuned_id else self.catalog.finetuned_for(run)
        source_title = f"Stack({run.train_lang}, task): source language"
        if source is None:
            columns = [Column(source_title, error=f"no {run.train_lang} language adapter is available: "
                                                  f"`xadapt train-lang --lang {run.train_lang}`")]
        else:
            columns = [self._column(source_title, kind, run.id, source.id, inputs)]
        columns.append(self._column(f"Stack({target.lang}, task): target language", kind, run.id, target.id, inputs))
        if finetuned is None:
            columns.append(Column("fine-tuned model", error=(
                f"no fine-tuned {run.task} model was found: `xadapt train --task {run.task} --lang {run.train_lang} "
                "--method finetune`, then restart the demo")))
        else:
            title = f"fine-tuned on {finetuned.train_lang} ({finetuned.facts.get('samples', '?')} examples)"
            columns.append(self._column(title, kind, finetuned.id, None, inputs))
        return columns

    def _column(self, title: str, kind: Kind, run_id: str, adapter_id: str | None, inputs: dict[str, str]) -> Column:
        try:
            return Column(title, prediction=self.predict(kind, run_id, adapter_id, inputs))
        except XadaptError as err:
            return Column(title, error=str(err))

    def _run_of_kind(self, kind: Kind, run_id: str) -> RunEntry:
        run = self.catalog.run(run_id)
        if run.kind != kind:
            raise XadaptError(f"{run.id} answers {run.kind.title.lower()}, not {kind.title.lower()}: "
                              f"use its own inputs (endpoint /{run.kind.name})")
        return run

    def _tokenize(self, *args, **kwargs):
        with self._tokenizer_lock:
            return self.tokenizer(*args, **kwargs)

    def _unknown_script_notes(self, kind: Kind, inputs: dict[str, str]) -> list[str]:
        """Words made only of characters the tokenizer does not know (a script the model never saw)."""
        words = [w for f in kind.fields if not f.choices for w in split_words(inputs[f.name])]
        encoded = self._tokenize([w.text for w in words], is_split_into_words=True, add_special_tokens=False)
        known = {word for word, token in zip(encoded.word_ids(), encoded["input_ids"]) if token not in self._blank_ids}
        unknown = [w.text for i, w in enumerate(words) if i not in known]
        if len(unknown) == len(words):
            raise XadaptError("none of these characters are in the model's vocabulary: the text is in a script the model "
                              "never saw in pre-training, so any answer would be noise. Try a language in a script it knows.")
        if not unknown:
            return []
        return [f"{len(unknown)} of {len(words)} words are in characters the model has never seen and were read as "
                f"unknown: {' '.join(unknown[:5])}{' ...' if len(unknown) > 5 else ''}"]

    def _entities(self, model: ComposedModel, labels: list[str], text: str, max_length: int):
        """Entity spans of `text`: each word's tag is read at its first sub-word, as in training."""
        words: list[Word] = split_words(text)
        encoded = self._tokenize([w.text for w in words], is_split_into_words=True, truncation=True,
                                 max_length=max_length, return_tensors="pt")
        with torch.inference_mode():
            best = model(**encoded).logits[0].argmax(-1).tolist()
        tags: list[str | None] = [None] * len(words)
        for position, word in enumerate(encoded.word_ids(0)):
            if word is not None and tags[word] is None:
                tags[word] = labels[best[position]]
        read = sum(tag is not None for tag in tags)
        notes = [] if read == len(words) else [
            f"the input is too long for the model ({max_length} tokens at most): only the first {read} of {len(words)} "
            "words were read and tagged"]
        return entity_spans(text, words, tags), notes

    def _probabilities(self, model: ComposedModel, kind: Kind, labels: list[str], inputs: dict[str, str], max_length: int):
        """Label probabilities (or, for a choice of alternatives, one probability per alternative)."""
        if kind is CHOICE:
            context = f"{inputs['premise']} {COPA_QUESTIONS[inputs['question']]}"
            first, second = [context, context], [inputs["choice1"], inputs["choice2"]]
            names = [f"1: {inputs['choice1']}", f"2: {inputs['choice2']}"]
        else:
            first = [inputs["text"]]
            second = [inputs["text_pair"]] if kind is NLI else None
            names = labels
        longest = max(len(ids) for ids in self._tokenize(first, second, verbose=False)["input_ids"])
        encoded = self._tokenize(first, second, truncation=True, max_length=max_length, padding=True, return_tensors="pt")
        if kind is CHOICE:  # one example with two alternatives: [1, choices, length]
            encoded = {key: value.unsqueeze(0) for key, value in encoded.items()}
        with torch.inference_mode():
            probabilities = model(**encoded).logits[0].softmax(-1).tolist()
        notes = [] if longest <= max_length else [
            f"the input is {longest} tokens long; the model read only the first {max_length}"]
        return dict(zip(names, probabilities)), notes


def _title(composition, run: RunEntry, lang: str | None) -> str:
    """What answered, in the words of the composition: Stack(sw, task), Fuse(sib200-sw, ...), the task adapter alone."""
    def word(element) -> str:
        if isinstance(element, Fuse):
            return f"Fuse({', '.join(name.rsplit(':', 1)[-1] for name in element.children)})"
        return lang if element.startswith("lang:") else "task"
    if composition is None:
        return f"{run.id}: head on the base encoder"
    if isinstance(composition, Stack):
        return f"Stack({', '.join(word(e) for e in composition.children)})"
    return word(composition) if isinstance(composition, Fuse) else f"{run.id} alone"


def _fusion_attention(composition, recorded: list[torch.Tensor]) -> dict[str, float] | None:
    """Mean attention per fused adapter over every fusion layer of the call (None: no fusion ran)."""
    fuse = next((e for e in (as_stack(composition) if composition is not None else ()) if isinstance(e, Fuse)), None)
    if fuse is None or not recorded:
        return None
    mean = torch.stack(recorded).mean(0).tolist()
    return {name.rsplit(":", 1)[-1]: weight for name, weight in zip(fuse.children, mean)}


def _checked(kind: Kind, inputs: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """The kind's fields, stripped and cut to `MAX_CHARS`; a user error for a missing or empty one."""
    checked, notes = {}, []
    for f in kind.fields:
        value = inputs.get(f.name)
        value = value.strip() if isinstance(value, str) else ""
        if f.choices and value not in f.choices:
            raise XadaptError(f"{f.label} must be one of {', '.join(f.choices)}, not {value!r}")
        if not value:
            raise XadaptError(f"{f.label} is empty: type some text first")
        if len(value) > MAX_CHARS:
            notes.append(f"{f.label} has {len(value):,} characters; only the first {MAX_CHARS:,} were read")
            value = value[:MAX_CHARS]
        checked[f.name] = value
    return checked, notes
