"""A model folder's tokenizer is read once per process, and again once its files change."""

import os

from xadapt.models import resolve_model
from xadapt.models.tokenizer_cache import load_tokenizer


def test_the_same_folder_gives_the_same_tokenizer_until_a_file_changes(tmp_path):
    source = resolve_model("multilingual-e5-small")
    folder = tmp_path / "model"
    folder.mkdir()
    for name in ("tokenizer.json", "tokenizer_config.json", "config.json"):
        os.link(source / name, folder / name) if (source / name).is_file() else None
    first = load_tokenizer(folder)
    assert load_tokenizer(folder) is first and load_tokenizer(folder / ".." / "model") is first
    (folder / "special_tokens_map.json").write_text("{}")  # the folder changed: read again
    again = load_tokenizer(folder)
    assert again is not first and again("Habari ya asubuhi")["input_ids"] == first("Habari ya asubuhi")["input_ids"]
