"""Load one split of one benchmark as a `datasets.Dataset` with xadapt's standard columns.

Local files come first; the hub is a fallback the user has to allow, so that nothing touches the
network unless asked to. Whatever the origin, the result has the same columns and features, so
training code never needs to know where the data came from.
"""

import datasets

from xadapt.data.hub import load_hub_columns
from xadapt.data.readers import Columns
from xadapt.data.registry import SPLITS, DataDir, TaskSpec, data_dir_or_none, get_task, missing_split_error
from xadapt.errors import XadaptError
from xadapt.languages import normalize_lang


def load_split(
    task: str, lang: str, split: str, data_dir: DataDir = None, allow_hub: bool = False
) -> datasets.Dataset:
    """One labelled split: ``train``, ``dev`` or ``test``.

    Columns: sequence classification → ``text`` (+ ``text_pair`` for NLI), ``label``;
    token classification → ``tokens``, ``tags``; multiple choice → ``premise``, ``choice1``,
    ``choice2``, ``question``, ``label``. Labels are `datasets.ClassLabel` indices into
    ``get_task(task).labels``.
    """
    spec = get_task(task)
    code = normalize_lang(lang)
    if split not in SPLITS:
        raise XadaptError(f"unknown split {split!r}; use one of {', '.join(SPLITS)}.")
    root = data_dir_or_none(data_dir, allow_hub)
    found = spec.local_files(root, code, split) if root is not None else None
    if found is not None:
        source, paths = found
        return build_dataset(spec, source.read(*paths))
    ref = spec.hub_ref(code, split) if allow_hub else None
    if ref is None:
        raise missing_split_error(spec, code, split, root)
    return build_dataset(spec, load_hub_columns(spec, ref))


def features_for(spec: TaskSpec) -> datasets.Features:
    """The task's standard columns as features; labels are `ClassLabel`, so their names travel along."""
    label = datasets.ClassLabel(names=list(spec.labels))
    kinds = {"tokens": datasets.List(datasets.Value("string")), "tags": datasets.List(label), "label": label}
    return datasets.Features({name: kinds.get(name, datasets.Value("string")) for name in spec.columns})


def build_dataset(spec: TaskSpec, columns: Columns) -> datasets.Dataset:
    """An in-memory Dataset (no cache files) from parsed columns, checked against the task's schema."""
    features = features_for(spec)
    if set(columns) != set(features):
        raise ValueError(f"{spec.name}: reader produced columns {sorted(columns)}, expected {sorted(features)}")
    return datasets.Dataset.from_dict({name: columns[name] for name in features}, features=features)
