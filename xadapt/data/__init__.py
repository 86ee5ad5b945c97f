"""Benchmark data: the task registry, split loading, nested training subsets and raw-text corpora.

Importing this package registers every benchmark (one module each); code elsewhere uses only the
names re-exported here.
"""

from xadapt.data.registry import (
    SPLITS,
    HubRef,
    InventoryRow,
    LocalSource,
    TaskSpec,
    find_data_dir,
    get_task,
    inventory,
    list_tasks,
    register,
    resolve_eval_split,
)

# one module per benchmark; importing it registers its TaskSpec (registration order = listing order)
from xadapt.data import sib200, wikiann, masakhaner, xnli, afrisenti, xcopa  # noqa: E402,F401,I001
from xadapt.data.corpora import Corpus, corpus_languages, load_corpus
from xadapt.data.load import load_split
from xadapt.data.subsets import nested_subsets

__all__ = [
    "SPLITS",
    "Corpus",
    "HubRef",
    "InventoryRow",
    "LocalSource",
    "TaskSpec",
    "corpus_languages",
    "find_data_dir",
    "get_task",
    "inventory",
    "list_tasks",
    "load_corpus",
    "load_split",
    "nested_subsets",
    "register",
    "resolve_eval_split",
]
