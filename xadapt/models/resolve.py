"""Turn whatever the user passed as `--model` into a local transformers directory.

Three kinds of name are accepted, checked in this order:
1. a local directory holding a transformers `config.json`;
2. a packaged model (`multilingual-e5-small`), converted once into the xadapt cache;
3. a Hugging Face hub id such as `xlm-roberta-base`, downloaded (or taken from the hub cache)
   as is. Offline, this fails with a message naming the alternatives that work without the hub.
"""

import hashlib
import json
from pathlib import Path

from xadapt.errors import XadaptError
from xadapt.hub import looks_like_hub_id, snapshot
from xadapt.models.packaged_models import MANIFEST, PACKAGED_MODELS
from xadapt.models.check import check_model_folder

_HUB_FILES = ["config.json", "*.safetensors", "*.json", "*.model", "*.txt"]


def _is_model_dir(path: Path) -> bool:
    return (path / "config.json").is_file()


def _from_hub(repo_id: str) -> Path:
    return snapshot(repo_id, _HUB_FILES, "model",
                    f"a packaged model ({', '.join(PACKAGED_MODELS)}; `xadapt model list`) or a local transformers "
                    "directory (a folder with config.json, e.g. one saved by `save_pretrained`)")


def resolve_model(name: str) -> Path:
    """Return a local directory that `AutoModel` / `AutoTokenizer.from_pretrained` can load."""
    path = Path(name).expanduser()
    if path.is_dir():
        if not _is_model_dir(path):
            raise XadaptError(f"{path} is a directory but holds no config.json; it is not a transformers model")
        check_model_folder(path)
        return path
    if name in PACKAGED_MODELS:
        from xadapt.models.conversion import prepare  # torch/transformers: only when converting

        return prepare(name)
    if path.exists() and not path.is_dir():
        raise XadaptError(f"{path} is a file; --model takes a model directory (with config.json), a packaged model or a hub id")
    if not looks_like_hub_id(name):
        raise XadaptError(f"model directory {path} does not exist")
    folder = _from_hub(name)
    check_model_folder(folder)
    return folder


def model_identity(model_dir: Path) -> dict:
    """Facts that identify a model in result records: its name and a fingerprint of its files."""
    digest = hashlib.sha256((model_dir / "config.json").read_bytes())
    for weights in sorted(model_dir.glob("*.safetensors")):
        digest.update(f"{weights.name}:{weights.stat().st_size}".encode())
    manifest = model_dir / MANIFEST
    name = model_dir.name
    if manifest.is_file():
        facts = json.loads(manifest.read_text(encoding="utf-8"))
        digest.update(facts["source_sha256"].encode())
        name = facts["name"]
    return {"name": name, "path": str(model_dir), "fingerprint": digest.hexdigest()[:16]}
