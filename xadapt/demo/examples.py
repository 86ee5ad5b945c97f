"""Examples for the page, a few per task and language, read from the benchmark data on disk.

They come from the evaluation splits first (test, then dev, then train), are whole sentences
short enough to read at a glance (NER examples name at least one entity), and are picked with a
fixed seed, so the page shows the same ones every time.
"""

import random
import re
from collections.abc import Iterable
from dataclasses import dataclass

from xadapt.data import get_task, load_split
from xadapt.demo.kinds import kind_for
from xadapt.errors import XadaptError

PER_LANGUAGE = 3
MIN_WORDS, MAX_WORDS = 6, 30  # shorter (headline fragments) and longer examples are skipped
_CANDIDATES = 300  # rows looked at per split


@dataclass(frozen=True)
class Example:
    task: str
    lang: str
    values: dict[str, str]  # the kind's input fields


def _detokenize(tokens: list[str]) -> str:
    """NER tokens back to a sentence: no space before closing punctuation or after an opening bracket."""
    text = " ".join(tokens)
    return re.sub(r"([(\[]) ", r"\1", re.sub(r" ([.,;:!?%)\]])", r"\1", text))


def _split(task: str, lang: str, data_dir):
    for split in ("test", "dev", "train"):
        try:
            return load_split(task, lang, split, data_dir)
        except XadaptError:
            continue
    return None


def task_examples(task: str, langs: Iterable[str], data_dir=None, per_language: int = PER_LANGUAGE) -> list[Example]:
    """Up to `per_language` short examples of `task` in each of `langs` that has data on disk."""
    spec = get_task(task)
    kind = kind_for(spec)
    found = []
    for lang in langs:
        data = _split(task, lang, data_dir)
        if data is None:
            continue
        rows = random.Random(0).sample(range(len(data)), min(_CANDIDATES, len(data)))
        picked = 0
        for row in data.select(rows):
            if "tokens" in row:
                if all(spec.labels[tag] == "O" for tag in row["tags"]):  # no entity to show
                    continue
                row = {**row, "text": _detokenize(row["tokens"])}
            values = {f.name: row[f.name] for f in kind.fields}
            if not MIN_WORDS <= sum(len(v.split()) for v in values.values()) <= MAX_WORDS:
                continue
            if not all(v[:1].isalnum() for v in values.values()):  # stray quotes and markup of scraped text
                continue
            found.append(Example(task, lang, values))
            picked += 1
            if picked == per_language:
                break
    return found
