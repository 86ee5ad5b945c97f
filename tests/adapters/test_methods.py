"""Every registered method on tiny BERT / RoBERTa / XLM-R: identity at init, freezing, save/load, safety."""

from __future__ import annotations

import json
import pickle

import pytest
import torch
from adapter_helpers import hidden, make_inputs, randomize, tiny_model

from xadapt.adapters import METHODS, AdapterModel, Stack
from xadapt.adapters.io import WEIGHTS_FILE
from xadapt.errors import XadaptError

IDENTITY = [m for m, spec in METHODS.items() if spec.identity_at_init]


@pytest.mark.parametrize("method", IDENTITY)
def test_fresh_adapter_is_identity(family, method):
    model = tiny_model(family)
    inputs = make_inputs(model.encoder.config.pad_token_id)
    base = hidden(model, inputs)
    model.add_adapter("a", method)
    assert torch.equal(hidden(model, inputs, composition="a"), base)


def test_only_prefix_methods_start_away_from_identity():
    """Softmax always gives prefix positions weight, so prefix tuning cannot start as the identity."""
    assert sorted(set(METHODS) - set(IDENTITY)) == ["mam", "prefix"]
    model = tiny_model()
    inputs = make_inputs()
    model.add_adapter("p", "prefix")
    assert not torch.allclose(hidden(model, inputs, composition="p"), hidden(model, inputs))


@pytest.mark.parametrize("method", sorted(METHODS))
def test_adapter_changes_output_once_trained(method):
    model = tiny_model()
    inputs = make_inputs()
    model.add_adapter("a", method)
    randomize(model.adapters["a"])
    assert (hidden(model, inputs, composition="a") - hidden(model, inputs)).abs().max() > 1e-3


@pytest.mark.parametrize("method", sorted(METHODS))
def test_only_the_trained_adapter_and_its_head_get_gradients(method):
    model = tiny_model()
    model.add_adapter("other", "seq_bn")
    model.add_adapter("a", method)
    model.add_head("a", "masked_lm")
    model.train_adapter("a")
    randomize(model.adapters["a"])  # non-zero up-projections so every adapter weight gets a gradient
    randomize(model.adapters["other"])
    inputs = make_inputs()
    labels = torch.full_like(inputs["input_ids"], -100)
    labels[:, 2] = 5
    # "a" first so that its invertible part (seq_bn_inv) runs too; "other" runs but stays frozen.
    out = model(**inputs, labels=labels, head="a", composition=Stack("a", "other"))
    out.loss.backward()
    for name, param in model.named_parameters():
        should_train = name.startswith(("adapters.a.", "heads.a."))
        assert param.requires_grad == should_train, name
        assert (param.grad is not None) == should_train, name
    assert model.encoder.get_input_embeddings().weight.grad is None
    counts = model.parameter_counts()
    assert counts["encoder"]["trainable"] == counts["fusions"]["trainable"] == 0
    expected = sum(p.numel() for p in model.adapters["a"].parameters()) + sum(
        p.numel() for p in model.heads["a"].parameters()
    )
    assert model.trainable_parameter_count() == expected


def test_trainable_count_matches_hand_count():
    model = tiny_model()
    model.add_adapter("a", "seq_bn")  # hidden 32 / 16 = 2: per layer (32*2 + 2) + (2*32 + 32)
    model.train_adapter("a")
    assert model.trainable_parameter_count() == 2 * (66 + 96)


@pytest.mark.parametrize("method", sorted(METHODS))
def test_save_load_round_trip(tmp_path, family, method):
    model = tiny_model(family)
    inputs = make_inputs(model.encoder.config.pad_token_id)
    model.add_adapter("a", method)
    randomize(model.adapters["a"])
    expected = hidden(model, inputs, composition="a")
    model.save_adapter(tmp_path / "a", "a")
    assert json.loads((tmp_path / "a" / "xadapt_adapter.json").read_text())["base_model"]["model_type"] == family

    fresh = tiny_model(family)
    assert fresh.load_adapter(tmp_path / "a", name="b") == "b"
    assert fresh.adapters["b"].config == model.adapters["a"].config
    assert torch.equal(hidden(fresh, inputs, composition="b"), expected)


def test_load_onto_a_model_of_another_shape_fails_clearly(tmp_path):
    model = tiny_model()
    model.add_adapter("a", "seq_bn")
    model.save_adapter(tmp_path / "a", "a")
    with pytest.raises(XadaptError, match="hidden_size: saved for 32, this model has 48"):
        tiny_model(hidden_size=48).load_adapter(tmp_path / "a")
    with pytest.raises(XadaptError, match="num_hidden_layers"):
        tiny_model(num_hidden_layers=3).load_adapter(tmp_path / "a")
    with pytest.raises(XadaptError, match="model_type: saved for 'bert'"):
        tiny_model("xlm-roberta").load_adapter(tmp_path / "a")


def test_load_refuses_tampered_weights(tmp_path):
    model = tiny_model()
    model.add_adapter("a", "seq_bn")
    folder = model.save_adapter(tmp_path / "a", "a")
    config = json.loads((folder / "xadapt_adapter.json").read_text())
    config["config"]["reduction_factor"] = 8  # the file's tensors no longer fit the config
    (folder / "xadapt_adapter.json").write_text(json.dumps(config))
    with pytest.raises(XadaptError, match="wrong shape"):
        tiny_model().load_adapter(folder)


class _Payload:
    """Unpickling this would run code; the loaders must never get that far."""

    def __reduce__(self):
        return (exec, ("import pathlib; pathlib.Path('PWNED').write_text('ran')",))


def test_pickled_weights_are_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = tiny_model()
    model.add_adapter("a", "seq_bn")
    folder = model.save_adapter(tmp_path / "a", "a")
    (folder / WEIGHTS_FILE).write_bytes(pickle.dumps(_Payload()))  # a pickle under the safetensors name
    with pytest.raises(XadaptError, match="not a readable safetensors file"):
        tiny_model().load_adapter(folder)
    (folder / WEIGHTS_FILE).unlink()
    (folder / "weights.bin").write_bytes(pickle.dumps(_Payload()))
    with pytest.raises(XadaptError, match="refuses to unpickle"):
        tiny_model().load_adapter(folder)
    assert not (tmp_path / "PWNED").exists()


def test_unknown_method_and_bad_names():
    model = tiny_model()
    with pytest.raises(XadaptError, match="unknown adapter method 'nope'"):
        model.add_adapter("a", "nope")
    with pytest.raises(XadaptError, match="without '.' or ','"):
        model.add_adapter("a.b", "seq_bn")
    model.add_adapter("a", "seq_bn")
    with pytest.raises(XadaptError, match="already has adapter 'a'"):
        model.add_adapter("a", "lora")
    with pytest.raises(XadaptError, match="leave_out \\[5\\]"):
        model.add_adapter("b", "seq_bn", leave_out=(5,))


def test_delete_adapter_removes_its_fusions():
    model = tiny_model()
    model.add_adapter("a", "seq_bn")
    model.add_adapter("b", "seq_bn")
    from xadapt.adapters import Fuse

    model.add_fusion(Fuse("a", "b"))
    model.delete_adapter("a")
    assert list(model.adapters) == ["b"] and len(model.fusions) == 0


def test_unsupported_model_type_is_refused():
    from transformers import GPT2Config, GPT2Model

    with pytest.raises(XadaptError, match="not supported"):
        AdapterModel(GPT2Model(GPT2Config(n_layer=1, n_embd=32, n_head=2, vocab_size=50)))


def test_new_parts_follow_the_model_mode():
    model = tiny_model()  # eval mode
    model.add_adapter("a", "seq_bn", dropout=0.5)
    assert not model.adapters["a"].training
    model.train()
    model.add_head("h", "sequence_classification", num_labels=2)
    assert model.heads["h"].training


def test_gradient_checkpointing_is_refused_while_training():
    model = tiny_model()
    # transformers 5.x renamed gradient_checkpointing_enable (still there, deprecated) to activation_checkpointing_enable
    enable = getattr(model.encoder, "activation_checkpointing_enable", None) or model.encoder.gradient_checkpointing_enable
    enable()
    model.train()
    with pytest.raises(XadaptError, match="checkpointing is not supported"):
        model(**make_inputs())
