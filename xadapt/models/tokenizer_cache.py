"""One tokenizer per model folder and process: checking a folder and training on it read its files once.

Reading XLM-R's 17 MB `tokenizer.json` takes seconds; the model-folder check and the run context of
the same command used to read it twice. The cache is keyed by the folder and by the size and
modification time of every file in it, so a folder changed on disk is read again.
"""

import functools
from pathlib import Path


def load_tokenizer(folder: Path):
    """`AutoTokenizer.from_pretrained(folder)`, read once per state of the folder's files."""
    folder = Path(folder).resolve()
    stamp = tuple((path.name, path.stat().st_size, path.stat().st_mtime_ns) for path in sorted(folder.iterdir()) if path.is_file())
    return _load(str(folder), stamp)


@functools.lru_cache(maxsize=4)
def _load(folder: str, stamp: tuple):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(folder)
