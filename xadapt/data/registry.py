"""The task registry: one `TaskSpec` per benchmark, and the rules for finding its splits on disk.

Each benchmark module describes itself once — splits, labels, metric, head, hub id and configs, and
its local file layout as `LocalSource` templates — and calls `register`. Everything else (which
languages a task has, split sizes, which split to evaluate on) is derived from that description and
the files actually present, so adding a benchmark never means editing this file.
"""

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from xadapt.data.readers import Columns
from xadapt.errors import XadaptError
from xadapt.languages import get_language, language_name, language_of_spelling, normalize_lang
from xadapt.settings import DATA_ENV, data_dir_candidates

SPLITS = ("train", "dev", "test")
TASK_HEADS = ("sequence_classification", "token_classification", "multiple_choice")
METRICS = ("accuracy", "seqeval_f1")
CORPUS_ROOT = "raw_text"
_HUB_SPLITS = {"train": "train", "dev": "validation", "test": "test"}
DataDir = str | os.PathLike | None


@dataclass(frozen=True)
class LocalSource:
    """One labelled file that can supply a split, as a template relative to the data directory.

    ``{lang}`` in ``template`` is filled with the language spelled in ``style`` (see
    `xadapt.languages.Language.spelled`). ``only``/``exclude`` say which canonical languages the
    source serves: XNLI's English dev file is the English *training* set, so it must not also be
    English dev. ``requires`` lists further files the reader needs (the XNLI test-label CSV); they
    are passed to ``read`` after the main path.
    """

    template: str
    read: Callable[..., Columns]
    count: Callable[[Path], int]
    style: str = "code"
    only: frozenset[str] | None = None
    exclude: frozenset[str] = frozenset()
    requires: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if "{lang}" not in self.template:
            raise ValueError(f"a local source's template names its language as {{lang}}: {self.template!r}")

    def serves(self, lang: str) -> bool:
        """Whether this source is meant for ``lang`` at all (independent of what is on disk)."""
        return (self.only is None or lang in self.only) and lang not in self.exclude

    def find(self, data_dir: Path, lang: str) -> list[Path] | None:
        """The main file and its required files, if all exist for ``lang``; else None."""
        spelled = get_language(lang).spelled(self.style)
        if spelled is None or not self.serves(lang):
            return None
        paths = [data_dir / self.template.format(lang=spelled)]
        paths += [data_dir / extra for extra in self.requires]
        return paths if all(path.is_file() for path in paths) else None

    def languages_on_disk(self, data_dir: Path) -> set[str]:
        """Canonical codes of the languages whose file for this source lies in `data_dir`: the files
        matching the template, each read back to the language it spells (any language, not a list)."""
        first, second, *rest = (re.escape(part) for part in self.template.split("{lang}"))  # the first {lang} names it,
        pattern = re.compile(first + "(?P<lang>[^/]+)" + second + "".join("(?P=lang)" + part for part in rest))  # the rest repeat it
        found = set()
        for path in data_dir.glob(self.template.replace("{lang}", "*")):
            match = pattern.fullmatch(path.relative_to(data_dir).as_posix())
            code = language_of_spelling(match["lang"], self.style) if match else None
            if code is not None and self.find(data_dir, code) is not None:
                found.add(code)
        return found


@dataclass(frozen=True)
class HubRef:
    """Where a split lives on the Hugging Face hub: ``load_dataset(id, config, split=split)``."""

    id: str
    config: str
    split: str


@dataclass(frozen=True)
class TaskSpec:
    """Everything xadapt needs to know about one benchmark.

    ``columns`` maps each standard column of a loaded split (``text``, ``label``, ``tokens``, ...)
    to the hub dataset's name for it, so it is both the task's schema and the hub translation.
    ``sources`` maps each split to its local files in order of preference (the first that exists
    wins). ``hub_splits`` maps xadapt's split names to the hub's; ``hub_ids`` overrides ``hub_id``
    for languages that live in another hub dataset (English COPA for XCOPA); ``hub_config_style``
    names every language's config by its code in that style instead of listing them.
    """

    name: str
    title: str
    head: str
    labels: list[str]
    metric: str
    root: str
    columns: dict[str, str]
    sources: dict[str, tuple[LocalSource, ...]]
    hub_id: str
    hub_configs: dict[str, str]
    hub_splits: dict[str, str] = field(default_factory=lambda: dict(_HUB_SPLITS))
    hub_ids: dict[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    hub_config_style: str | None = None  # the hub names a config per language, spelled in this style (SIB-200: flores)

    def __post_init__(self) -> None:
        if self.head not in TASK_HEADS:
            raise ValueError(f"{self.name}: head must be one of {TASK_HEADS}, not {self.head!r}")
        if self.metric not in METRICS:
            raise ValueError(f"{self.name}: metric must be one of {METRICS}, not {self.metric!r}")
        unknown = set(self.sources) - set(SPLITS)
        if unknown:
            raise ValueError(f"{self.name}: unknown split names {sorted(unknown)}; use {SPLITS}")

    @property
    def splits(self) -> tuple[str, ...]:
        """The splits this benchmark has for at least one language, in train/dev/test order."""
        return tuple(split for split in SPLITS if split in self.sources)

    def serves(self, lang: str, split: str) -> bool:
        """Whether the benchmark defines ``split`` for ``lang`` (XNLI has train only for English)."""
        return any(source.serves(lang) for source in self.sources.get(split, ()))

    def local_files(self, data_dir: Path, lang: str, split: str) -> tuple[LocalSource, list[Path]] | None:
        """The first source with all its files present for ``lang``/``split``, and those files."""
        for source in self.sources.get(split, ()):
            paths = source.find(data_dir, lang)
            if paths is not None:
                return source, paths
        return None

    def languages(self, data_dir: DataDir = None) -> list[str]:
        """Canonical codes of the languages with at least one labelled split on disk, found from the files."""
        root = find_data_dir(data_dir)
        return sorted({code for sources in self.sources.values() for source in sources for code in source.languages_on_disk(root)})

    def split_sizes(self, data_dir: Path, lang: str) -> dict[str, int | None]:
        """Examples per split on disk for ``lang`` (None where the split has no labelled file)."""
        sizes: dict[str, int | None] = {}
        for split in self.splits:
            found = self.local_files(data_dir, lang, split)
            sizes[split] = found[0].count(found[1][0]) if found else None
        return sizes

    def hub_ref(self, lang: str, split: str) -> HubRef | None:
        """Where ``lang``/``split`` lives on the hub, or None if the hub copy has no such split."""
        config = self.hub_configs.get(lang) or (get_language(lang).spelled(self.hub_config_style) if self.hub_config_style else None)
        if config is None or split not in self.hub_splits or not self.serves(lang, split):
            return None
        return HubRef(self.hub_ids.get(lang, self.hub_id), config, self.hub_splits[split])


_TASKS: dict[str, TaskSpec] = {}
_ALIASES: dict[str, str] = {}


def register(spec: TaskSpec) -> TaskSpec:
    """Add a benchmark to the registry (each benchmark module calls this once, at import)."""
    for key in (spec.name, *spec.aliases):
        if key in _TASKS or key in _ALIASES:
            raise ValueError(f"task name or alias {key!r} is registered twice")
    _TASKS[spec.name] = spec
    _ALIASES.update({alias: spec.name for alias in spec.aliases})
    return spec


def list_tasks() -> list[str]:
    """Canonical task names, in registration order."""
    return list(_TASKS)


def get_task(name: str) -> TaskSpec:
    """The spec for a task name or alias (``ner`` → ``wikiann``); lists what exists if unknown."""
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if key not in _TASKS:
        aliases = ", ".join(f"{alias}→{target}" for alias, target in _ALIASES.items())
        raise XadaptError(f"unknown task {name!r}. Known tasks: {', '.join(_TASKS)} (aliases: {aliases}).")
    return _TASKS[key]


def find_data_dir(explicit: DataDir = None) -> Path:
    """The benchmark data directory: ``--data-dir``, else ``XADAPT_DATA``, else ./data or ../shared/data.

    A candidate counts only if it holds at least one benchmark folder, so an unrelated ./data
    folder is skipped rather than silently yielding "no languages".
    """
    roots = sorted({spec.root for spec in _TASKS.values()} | {CORPUS_ROOT})
    looked = []
    for candidate in data_dir_candidates(explicit):
        if candidate.is_dir() and any((candidate / root).is_dir() for root in roots):
            return candidate.resolve()
        reason = ("holds none of the benchmark folders" if candidate.is_dir() else
                  "is a file, not a folder" if candidate.exists() else "does not exist")
        looked.append(f"{candidate.absolute()} ({reason})")
    raise XadaptError(
        f"no benchmark data found. Looked in: {'; '.join(looked)}. Point xadapt at a folder laid out like "
        f"shared/data (with {', '.join(root + '/' for root in roots)}) "
        f"with --data-dir PATH or {DATA_ENV}=PATH."
    )


def missing_split_error(spec: TaskSpec, lang: str, split: str, data_dir: Path | None) -> XadaptError:
    """Why ``lang``/``split`` cannot be loaded, with what does exist and how to get the rest."""
    name = f"{spec.title} {lang} ({language_name(lang)})"
    if not spec.serves(lang, split):
        sources = spec.sources.get(split, ())
        if any(source.only is None for source in sources):
            excluded = set.intersection(*(set(source.exclude) for source in sources if source.only is None))
            having = f"every language but {', '.join(sorted(excluded))}"
        else:
            having = ", ".join(sorted({code for source in sources for code in source.only or ()})) or "none"
        return XadaptError(f"{spec.title} has no {split} split for {lang}; languages with one: {having}.")
    if data_dir is None:
        where = "no local data directory was found"
    else:
        langs = spec.languages(data_dir)
        if lang not in langs:
            on_disk = ", ".join(langs) or "none"
            where = f"{data_dir} has no {spec.title} files for {lang}; languages on disk: {on_disk}"
        else:
            present = [s for s in spec.splits if spec.local_files(data_dir, lang, s)]
            where = f"{data_dir} has no labelled {split} file for it (labelled splits on disk: {', '.join(present)})"
    hint = ""
    ref = spec.hub_ref(lang, split)
    if ref is not None:
        hint = f" It is on the Hugging Face hub as {ref.id} (config {ref.config}); the Python API fetches it with allow_hub=True."
    return XadaptError(f"cannot load {name} {split}: {where}.{hint}")


def resolve_eval_split(
    task: str, lang: str, data_dir: DataDir = None, allow_hub: bool = False
) -> tuple[str, str | None]:
    """The split to evaluate on and a note for the user when it is not ``test``.

    A labelled local test split wins; else the labelled local dev split, with a note saying so.
    Only when neither exists locally (and the user allows it) is the hub's test split used.
    """
    spec = get_task(task)
    code = normalize_lang(lang)
    root = data_dir_or_none(data_dir, allow_hub)
    if root is not None:
        if spec.local_files(root, code, "test"):
            return "test", None
        if spec.local_files(root, code, "dev"):
            return "dev", f"{spec.title} {code} has no labelled test split; evaluating on dev"
    ref = spec.hub_ref(code, "test") if allow_hub else None
    if ref is not None:
        note = f"no local copy of {spec.title} {code}; evaluating on the hub's test split ({ref.id}, {ref.config})"
        return "test", note
    raise missing_split_error(spec, code, "test" if spec.serves(code, "test") else "dev", root)


def data_dir_or_none(data_dir: DataDir, allow_hub: bool) -> Path | None:
    """The data directory; None instead of an error when the hub may stand in for it."""
    try:
        return find_data_dir(data_dir)
    except XadaptError:
        if allow_hub:
            return None
        raise


@dataclass(frozen=True)
class InventoryRow:
    """One task × language as found on disk, for `xadapt data list`."""

    task: str
    lang: str
    sizes: dict[str, int | None]
    eval_split: str | None


def inventory(data_dir: DataDir = None, task: str | None = None, lang: str | None = None) -> list[InventoryRow]:
    """Split sizes of every (or one) task and language on disk, counted from the files each call."""
    root = find_data_dir(data_dir)
    specs = [get_task(task)] if task else [_TASKS[name] for name in _TASKS]
    wanted = normalize_lang(lang) if lang else None
    rows = []
    for spec in specs:
        for code in spec.languages(root):
            if wanted and code != wanted:
                continue
            sizes = spec.split_sizes(root, code)
            # the same rule as resolve_eval_split, read off the sizes already counted
            eval_split = next((split for split in ("test", "dev") if sizes.get(split) is not None), None)
            rows.append(InventoryRow(spec.name, code, sizes, eval_split))
    return rows
