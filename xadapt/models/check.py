"""Whether a model folder a user names can be trained on: caught before any work, never trained into garbage.

A folder needs a readable `config.json`, safetensors weights (xadapt never unpickles a file it is
handed, so `pytorch_model.bin` alone is refused), tokenizer files, and a vocabulary that fits the
embedding matrix: a tokenizer with more tokens than the embedding has rows, or a config that
disagrees with the weights, would train on wrong ids. A folder xadapt converted itself (its
manifest lists every file) is checked against that list instead.
"""

import json
from pathlib import Path

from xadapt.errors import XadaptError
from xadapt.integrity import check_files
from xadapt.models.packaged_models import MANIFEST
from xadapt.models.tokenizer_cache import load_tokenizer

TOKENIZER_FILES = ("tokenizer.json", "sentencepiece.bpe.model", "spiece.model", "tokenizer.model", "vocab.txt", "vocab.json")
PICKLED_WEIGHTS = ("*.bin", "*.pt", "*.pth", "*.ckpt")
EMBEDDING_SUFFIXES = ("word_embeddings.weight", "embed_tokens.weight", "shared.weight")


def check_model_folder(folder: Path) -> None:
    """Raise `XadaptError` naming what is missing or inconsistent in the model folder `folder`."""
    folder = Path(folder)
    manifest = _json(folder / MANIFEST) if (folder / MANIFEST).is_file() else None
    if isinstance(manifest, dict) and isinstance(manifest.get("files"), dict):
        problem = check_files(folder, manifest["files"])
        if problem:
            raise XadaptError(f"the converted model {folder} is broken: {problem}; prepare it again with `xadapt model prepare`")
        return
    config = _json(folder / "config.json")
    if not isinstance(config, dict):
        raise XadaptError(f"{folder / 'config.json'} is not a JSON object; it is not a transformers model config")
    weights = sorted(folder.glob("*.safetensors"))
    if not weights:
        pickled = sorted(p.name for pattern in PICKLED_WEIGHTS for p in folder.glob(pattern))
        if pickled:
            raise XadaptError(f"{folder} holds only pickled weights ({', '.join(pickled)}), which xadapt never loads; save them "
                              "as safetensors: model.save_pretrained(folder, safe_serialization=True)")
        raise XadaptError(f"{folder} holds no model weights (*.safetensors)")
    if not any((folder / name).is_file() for name in TOKENIZER_FILES):
        raise XadaptError(f"{folder} holds no tokenizer files ({', '.join(TOKENIZER_FILES)}); training on it would see only "
                          "unknown tokens: save the tokenizer beside the model, tokenizer.save_pretrained(folder)")
    rows = _embedding_rows(weights)
    vocab_size = config.get("vocab_size")
    if rows is not None and isinstance(vocab_size, int) and vocab_size != rows:
        raise XadaptError(f"{folder}: config.json says vocab_size {vocab_size} but the embedding matrix has {rows} rows; "
                          "the config does not belong to these weights")
    if rows is not None:
        try:
            tokens = len(load_tokenizer(folder))
        except Exception as err:  # noqa: BLE001 - any failure to read a user's tokenizer is theirs to fix
            raise XadaptError(f"{folder}: its tokenizer files cannot be read ({type(err).__name__}: {err})") from None
        if tokens > rows:
            raise XadaptError(f"{folder}: the tokenizer has {tokens} tokens but the embedding matrix only {rows} rows; "
                              "the tokenizer does not belong to these weights")


def _json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise XadaptError(f"{path} cannot be read as JSON ({err}); the model folder is incomplete or damaged") from None


def _embedding_rows(weights: list[Path]) -> int | None:
    """Rows of the word-embedding matrix, read from the safetensors headers (nothing is loaded)."""
    from safetensors import safe_open

    for path in weights:
        try:
            with safe_open(str(path), "pt") as handle:
                for name in handle.keys():
                    if name.endswith(EMBEDDING_SUFFIXES):
                        return handle.get_slice(name).get_shape()[0]
        except Exception as err:  # noqa: BLE001 - safetensors raises its own error types for damaged files
            raise XadaptError(f"{path} is not a readable safetensors file ({err}); the weights are truncated or damaged") from None
    return None
