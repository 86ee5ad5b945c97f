"""What the demo can offer: saved task runs, language adapters and studies, found on disk.

- Runs: every directory holding `run.json` (written by `xadapt train`, a sweep's `OUT/artifacts/`
  or the quickstart) at most `MAX_DEPTH` levels below each runs path. Hidden directories (the
  staging folders of atomic writes) and the inside of a run are not searched.
- Language adapters: the cache layout `<adapters dir>/<model fingerprint>/<lang>-<hash>/` (see
  `xadapt.train.language`), plus every adapter a `run.json` names.
- Studies: directories holding a sweep's `results.jsonl`.

Every entry gets an id made of readable facts and a hash of its path. The page and the API pass
ids, and an id is only ever looked up in this catalog: a string from a request never becomes a
path, so no request can reach a file outside what was discovered. Entries that cannot be used
(unreadable `run.json`, missing parts, trained on another model, weights that fail to load) stay
in the catalog with the reason, so the page can say why they are not offered.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from xadapt.data import get_task
from xadapt.demo.kinds import Kind, kind_for
from xadapt.errors import XadaptError
from xadapt.languages import language_name
from xadapt.methods import get_method
from xadapt.study.results import RESULTS_FILE
from xadapt.train.language import DONE
from xadapt.train.saved import RUN_FILE, read_run_facts

MAX_DEPTH = 4  # runs/<sweep>/artifacts/<run id>/run.json is three levels below runs/
ADAPTER_DIR = "adapter"  # inside a language adapter's cache folder
_FINGERPRINT = re.compile(r"[0-9a-f]{16}")


def _path_hash(path: Path) -> str:
    return hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:6]


def _walk(root: Path, marker: str, depth: int) -> Iterator[Path]:
    """Directories holding the file `marker`, at most `depth` levels below `root`, in name order."""
    if (root / marker).is_file():
        yield root
        return
    if depth == 0:
        return
    try:
        children = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        return
    for child in children:
        yield from _walk(child, marker, depth - 1)


@dataclass
class Entry:
    """Something found on disk: its id, its folder, what its JSON file says and, if unusable, why."""

    id: str
    path: Path
    facts: dict
    problem: str | None = None


@dataclass
class RunEntry(Entry):
    """A saved task run: a task adapter with its head, or a fine-tuned model with its head."""

    @property
    def method(self) -> str:
        return self.facts["method"]

    @property
    def task(self) -> str:
        return self.facts["task"]

    @property
    def train_lang(self) -> str:
        return self.facts["train_lang"]

    @property
    def kind(self) -> Kind:
        return kind_for(get_task(self.task))

    @property
    def training(self):
        """The run's entry in the training-method registry (`xadapt.methods`): how it is served."""
        return get_method(self.method)

    @property
    def label(self) -> str:
        title = self.training.describe(self.facts)
        lang = self.train_lang
        return (f"{title} · trained on {language_name(lang)} ({lang}) · {self.facts.get('samples', '?')} examples · "
                f"seed {self.facts.get('seed', '?')} · {self.id}")


@dataclass
class LanguageAdapterEntry(Entry):
    """A MAD-X language adapter: `path` is its adapter folder, `facts` its `language_adapter.json`."""

    @property
    def lang(self) -> str:
        return self.facts["lang"]

    @property
    def label(self) -> str:
        parts = [f"{language_name(self.lang)} ({self.lang})"]
        if "settings" in self.facts:
            parts.append(f"{self.facts['settings']['steps']} masked-LM steps")
        if "perplexity_after" in self.facts:
            parts.append(f"held-out perplexity {self.facts['perplexity_before']:,.0f} → {self.facts['perplexity_after']:,.0f}")
        return " · ".join([*parts, self.id])


@dataclass(frozen=True)
class StudyEntry:
    id: str
    path: Path


@dataclass
class Catalog:
    fingerprint: str  # of the model the demo runs; parts trained on another model are unusable
    runs: dict[str, RunEntry] = field(default_factory=dict)
    language_adapters: dict[str, LanguageAdapterEntry] = field(default_factory=dict)
    studies: dict[str, StudyEntry] = field(default_factory=dict)
    searched: list[Path] = field(default_factory=list)

    def run(self, run_id: str) -> RunEntry:
        """The usable run `run_id`; anything else is a user error naming what exists."""
        return _lookup(self.runs, run_id, "task adapter or model", self.usable_runs())

    def usable_run(self, run_id: str) -> RunEntry | None:
        """The usable run `run_id`, or None (for choices on the page, where a wrong value changes nothing)."""
        entry = self.runs.get(run_id)
        return entry if entry is not None and not entry.problem else None

    def language_adapter(self, adapter_id: str) -> LanguageAdapterEntry:
        """The usable language adapter `adapter_id`; anything else is a user error naming what exists."""
        return _lookup(self.language_adapters, adapter_id, "language adapter", self.usable_language_adapters())

    def study(self, study_id: str) -> StudyEntry:
        if study_id not in self.studies:
            known = ", ".join(self.studies) or "none"
            raise XadaptError(f"there is no study {study_id!r}; the demo offers: {known}")
        return self.studies[study_id]

    def usable_runs(self, task: str | None = None, whole_encoder: bool | None = None) -> list[RunEntry]:
        """Usable runs (of `task`; with `whole_encoder`, only fine-tuned models or only the others), by task,
        method, training language and size."""
        found = [r for r in self.runs.values() if not r.problem and (task is None or r.task == task)
                 and (whole_encoder is None or r.training.whole_encoder == whole_encoder)]
        return sorted(found, key=lambda r: (r.task, r.method, r.train_lang, r.facts.get("samples", 0), r.id))

    def usable_language_adapters(self) -> list[LanguageAdapterEntry]:
        return sorted((a for a in self.language_adapters.values() if not a.problem), key=lambda a: (a.lang, a.id))

    def tasks(self) -> list[str]:
        return sorted({r.task for r in self.usable_runs()})

    def unusable(self) -> list[Entry]:
        return [e for e in (*self.runs.values(), *self.language_adapters.values()) if e.problem]

    def run_language_adapter(self, run: RunEntry, lang: str) -> LanguageAdapterEntry | None:
        """The usable adapter for `lang` that `run` was trained or evaluated with, else any usable one for `lang`."""
        own = run.facts.get("language_adapters", {}).get(lang)
        candidates = [a for a in self.usable_language_adapters() if a.lang == lang]
        chosen = [a for a in candidates if own is not None and a.id == _adapter_id(Path(own), lang)]
        return (chosen or candidates or [None])[0]

    def finetuned_for(self, run: RunEntry) -> RunEntry | None:
        """A fine-tuned model of `run`'s task to compare with, trained on the same language if there is one."""
        models = self.usable_runs(run.task, whole_encoder=True)
        same = [m for m in models if m.train_lang == run.train_lang]
        return (same or models or [None])[-1]  # the largest training set


def _lookup(entries: dict, key: str, what: str, usable: list):
    entry = entries.get(key)
    if entry is None:
        known = ", ".join(e.id for e in usable) or "none"
        raise XadaptError(f"there is no {what} {key!r}; the demo offers: {known}")
    if entry.problem:
        raise XadaptError(f"{what} {entry.id} ({entry.path}) cannot be used: {entry.problem}")
    return entry


def _read_json(path: Path) -> dict:
    try:
        facts = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise XadaptError(f"{path.name} is not readable JSON ({err})") from None
    if not isinstance(facts, dict):
        raise XadaptError(f"{path.name} does not hold a JSON object")
    return facts


def _run_problem(path: Path, facts: dict, fingerprint: str) -> str | None:
    """Why the run in `path` cannot be used by a demo on the model with `fingerprint`, or None."""
    try:
        spec = get_task(facts["task"])
    except XadaptError as err:
        return str(err)
    if facts["head"] != spec.head or len(facts["labels"]) != len(spec.labels):
        return f"{RUN_FILE} describes a {facts['head']} head with {len(facts['labels'])} labels, not {spec.title}'s"
    trained_on = facts["model"].get("fingerprint") if isinstance(facts["model"], dict) else None
    if trained_on != fingerprint:
        name = facts["model"].get("name", "?") if isinstance(facts["model"], dict) else "?"
        return (f"it was trained on another model ({name}, fingerprint {trained_on}) than the one this demo runs "
                f"(fingerprint {fingerprint}); start the demo with --model {facts.get('base_model', name)}")
    try:
        parts = get_method(facts["method"]).parts
    except XadaptError as err:
        return str(err)
    absent = [p for p in parts if not (path / p).is_dir()]
    return f"the run is incomplete: no {', '.join(p + '/' for p in absent)}" if absent else None


def _read_run(path: Path, fingerprint: str) -> RunEntry:
    try:
        facts = read_run_facts(path)
    except XadaptError as err:
        return RunEntry(f"{path.name}-{_path_hash(path)}", path, {}, str(err))
    problem = _run_problem(path, facts, fingerprint)
    name = path.name if problem else f"{facts['task']}-{facts['train_lang']}-{facts['method']}-{facts.get('samples', 'x')}"
    return RunEntry(f"{name}-{_path_hash(path)}", path, facts, problem)


def _adapter_id(folder: Path, lang: str) -> str:
    return f"{lang}-{_path_hash(folder)}"


def _language_adapter(folder: Path, lang: str, fingerprint: str) -> LanguageAdapterEntry:
    """The `lang` adapter in `folder` (an adapter folder; its cache folder, if any, is the parent)."""
    entry = LanguageAdapterEntry(_adapter_id(folder, lang), folder, {"lang": lang})
    cache = folder.parent
    if not folder.is_dir():
        entry.problem = f"{folder} does not exist"
        return entry
    if (cache / DONE).is_file():
        try:
            facts = _read_json(cache / DONE)
        except XadaptError as err:
            entry.problem = str(err)
        else:
            if facts.get("lang", lang) != lang:
                entry.problem = f"{DONE} says it is for {facts['lang']}, not {lang}"
            entry.facts = {**facts, "lang": lang}
    if _FINGERPRINT.fullmatch(cache.parent.name) and cache.parent.name != fingerprint:
        entry.problem = (f"it was trained on another model (fingerprint {cache.parent.name}) than the one this demo "
                         f"runs ({fingerprint})")
    return entry


def discover(runs_paths: Iterable[Path], adapters_dir: Path | None, fingerprint: str) -> Catalog:
    """Find every run, language adapter and study below `runs_paths` and in `adapters_dir`."""
    catalog = Catalog(fingerprint)
    for root in runs_paths:
        root = Path(root)
        catalog.searched.append(root)
        for path in _walk(root, RUN_FILE, MAX_DEPTH):
            entry = _read_run(path, fingerprint)
            catalog.runs.setdefault(entry.id, entry)
        for path in _walk(root, RESULTS_FILE, MAX_DEPTH):
            study = StudyEntry(f"{path.name}-{_path_hash(path)}", path)
            catalog.studies.setdefault(study.id, study)
    folders: dict[Path, str] = {}
    if adapters_dir is not None:
        catalog.searched.append(Path(adapters_dir))
        for cache in _walk(Path(adapters_dir), DONE, 2):
            folders[cache / ADAPTER_DIR] = cache.name.split("-")[0]  # <lang>-<settings hash>[-...]
    for run in catalog.runs.values():
        for lang, folder in run.facts.get("language_adapters", {}).items():
            folders.setdefault(Path(folder), lang)
    for folder, lang in folders.items():
        entry = _language_adapter(folder, lang, fingerprint)
        catalog.language_adapters.setdefault(entry.id, entry)
    return catalog
