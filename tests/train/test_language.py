"""MAD-X language adapters on the default model: one shared, frozen MLM head for every language.

multilingual-e5-small has no MLM head. xadapt fits one once per model on every language's raw
text, then trains each language adapter against that same frozen head, so adapters of different
languages map into one space and can be swapped under a task adapter.
"""

import json
import shutil
from dataclasses import replace

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoTokenizer

from xadapt.models import resolve_model
from xadapt.train.language import (
    DONE,
    HEAD_DONE,
    MLM_HEAD,
    LanguageAdapterSettings,
    language_adapter_model,
    mlm_head_dir,
    shared_mlm_head,
    train_language_adapter,
)

TINY = LanguageAdapterSettings(steps=2, head_steps=2, batch_size=4, max_length=32, heldout_sentences=16)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, real_data):
    model_dir = resolve_model("multilingual-e5-small")  # before XADAPT_HOME moves
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XADAPT_HOME", str(home))
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
        adapters = {lang: train_language_adapter(model_dir, tokenizer, lang, TINY, real_data) for lang in ("sw", "en")}
        head = shared_mlm_head(model_dir, tokenizer, TINY, real_data)
        yield model_dir, adapters, head
    shutil.rmtree(home)


def _weights(folder) -> dict[str, torch.Tensor]:
    return load_file(str(next(folder.glob("*.safetensors"))))


def test_every_language_adapter_uses_the_one_shared_head(trained):
    _, adapters, head = trained
    summary = json.loads((head.parent / HEAD_DONE).read_text())
    assert set(summary["languages"]) >= {"sw", "en"} and summary["train_sentences"] == TINY.head_steps * TINY.batch_size
    shared = _weights(head)
    for lang, folder in adapters.items():
        facts = json.loads((folder / DONE).read_text())
        assert facts["mlm_head"] == str(head)
        saved = _weights(folder / "head")  # the adapter folder carries the head it was trained against, unchanged
        assert saved.keys() == shared.keys() and all(torch.equal(saved[k], shared[k]) for k in shared)


def test_only_the_language_adapter_trains_against_a_fitted_head(trained):
    model_dir, _, head = trained
    composed = language_adapter_model(model_dir, "sw", head)
    model = composed.model
    counts = model.parameter_counts()
    assert counts["heads"]["trainable"] == 0 and counts["encoder"]["trainable"] == 0
    assert model.trainable_parameter_count() == counts["adapters"]["trainable"] > 0
    fresh = language_adapter_model(model_dir, "sw").model  # no fitted head: a fresh head has to learn
    assert fresh.parameter_counts()["heads"]["trainable"] > 0
    assert MLM_HEAD in model.heads


def test_the_shared_head_is_fitted_once_and_reused(trained, real_data):
    model_dir, _, head = trained
    stamp = (head.parent / HEAD_DONE).stat().st_mtime_ns
    again = shared_mlm_head(model_dir, AutoTokenizer.from_pretrained(model_dir), TINY, real_data)
    assert again == head and (head.parent / HEAD_DONE).stat().st_mtime_ns == stamp


def test_the_head_depends_only_on_its_own_settings(real_data):
    """Another adapter learning rate or step count reuses the fitted head; a head setting fits a new one."""
    model_dir = resolve_model("multilingual-e5-small")
    head = mlm_head_dir(model_dir, TINY, real_data)
    assert mlm_head_dir(model_dir, replace(TINY, lr=3e-4, steps=7), real_data) == head
    for change in ({"head_lr": 1e-2}, {"head_steps": 3}, {"mask_prob": 0.2}):
        assert mlm_head_dir(model_dir, replace(TINY, **change), real_data) != head, change


def test_two_sweeps_asking_at_once_train_a_language_adapter_once(tmp_path, monkeypatch, real_data):
    """Two callers sharing a cache (each its own lock file handle, as two processes have) race for the same
    adapter: one trains it, the other waits on the lock and finds it done."""
    import threading

    import xadapt.train.language as language

    model_dir = resolve_model("multilingual-e5-small")  # before XADAPT_HOME moves
    monkeypatch.setenv("XADAPT_HOME", str(tmp_path))
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    trained, real = [], language._train_language_adapter

    def counted(*args):
        trained.append(args[3])
        real(*args)

    monkeypatch.setattr(language, "_train_language_adapter", counted)
    found = []
    callers = [threading.Thread(target=lambda: found.append(train_language_adapter(model_dir, tokenizer, "sw", TINY, real_data)))
               for _ in range(2)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join(timeout=600)
    assert trained == ["sw"] and len(found) == 2 and found[0] == found[1] and (found[0] / DONE).is_file()


def test_a_language_adapter_cache_with_a_truncated_file_is_trained_again(tmp_path, monkeypatch, real_data, caplog):
    import xadapt.train.language as language

    model_dir = resolve_model("multilingual-e5-small")  # before XADAPT_HOME moves
    monkeypatch.setenv("XADAPT_HOME", str(tmp_path))
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    final = train_language_adapter(model_dir, tokenizer, "sw", TINY, real_data)
    listed = json.loads((final / DONE).read_text())["files"]
    assert "adapter/weights.safetensors" in listed and DONE not in listed
    weights = final / "adapter" / "weights.safetensors"
    intact = {name: tensor.clone() for name, tensor in load_file(str(weights)).items()}  # not a view of the mapped file
    weights.write_bytes(weights.read_bytes()[:100])

    trained, real = [], language._train_language_adapter
    monkeypatch.setattr(language, "_train_language_adapter", lambda *args: (trained.append(args[3]), real(*args)))
    assert train_language_adapter(model_dir, tokenizer, "sw", TINY, real_data) == final
    assert trained == ["sw"] and "is broken (adapter/weights.safetensors has 100 bytes" in caplog.text
    again = load_file(str(weights))  # the same seed, the same adapter (the header's metadata order may differ)
    assert again.keys() == intact.keys() and all(torch.equal(again[name], intact[name]) for name in intact)
