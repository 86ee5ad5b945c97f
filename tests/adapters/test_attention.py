"""Attention runs through transformers' AttentionInterface as "xadapt", with a correct padding mask.

These are the tests that catch an upstream change in how attention is dispatched: they count the
calls the registered function receives during a forward with prefixes and during a CPU training
step, and compare padded with unpadded inputs (an attention name without a registered mask
function silently gets no mask, which changes the outputs of padded rows).
"""

from contextlib import contextmanager

import pytest
import torch
from adapter_helpers import make_inputs, randomize, tiny_encoder, tiny_model
from transformers import AttentionInterface, AttentionMaskInterface

from xadapt import upstream
from xadapt.adapters import AdapterModel, attention
from xadapt.adapters.forward_plan import ForwardPlan, running
from xadapt.errors import XadaptError

PREFIX = {"prefix_length": 3, "bottleneck_size": 8}


@contextmanager
def counted_attention():
    """Count the calls that reach the function registered as "xadapt" (and restore it afterwards)."""
    registered = AttentionInterface()[attention.NAME]
    calls = []

    def counting(*args, **kwargs):
        calls.append(args[0])  # the attention module transformers passes
        return registered(*args, **kwargs)

    AttentionInterface.register(attention.NAME, counting)
    try:
        yield calls
    finally:
        AttentionInterface.register(attention.NAME, registered)


def spy(monkeypatch, name: str) -> list:
    """Count calls to `xadapt.adapters.attention.<name>`, which the registered function looks up per call."""
    calls, real = [], getattr(attention, name)
    monkeypatch.setattr(attention, name, lambda *args: calls.append(1) or real(*args))
    return calls


def test_the_model_selects_the_registered_function_and_its_mask(family):
    model = tiny_model(family)
    assert upstream.attention_implementation(model.encoder.config) == attention.NAME
    assert AttentionInterface()[attention.NAME] is attention.xadapt_attention
    assert AttentionMaskInterface()[attention.NAME] is AttentionMaskInterface()["sdpa"]


def test_a_forward_with_prefixes_calls_it_once_per_layer_and_extends_the_mask(family, monkeypatch):
    model = tiny_model(family)
    model.add_adapter("p", "prefix", **PREFIX)
    randomize(model.adapters["p"])
    extended = spy(monkeypatch, "_attend_to_prefix")
    layers = model.encoder.config.num_hidden_layers
    with counted_attention() as calls, torch.no_grad():
        model(**make_inputs(pad_token_id=model.encoder.config.pad_token_id or 0), composition="p")
    attention_modules = [upstream.self_attention(layer) for layer in upstream.layers(model.encoder)]
    assert calls == attention_modules  # each layer's own attention module, once, in order
    assert len(extended) == layers


def test_a_cpu_training_step_calls_it_and_its_own_dropout_once_per_layer(family, monkeypatch):
    model = tiny_model(family)
    model.add_adapter("a", "seq_bn", reduction_factor=4)
    model.add_head("a", "token_classification", num_labels=3)
    model.train_adapter("a")
    model.train()
    dropped = spy(monkeypatch, "attention_with_dropout")
    inputs = make_inputs(pad_token_id=model.encoder.config.pad_token_id or 0)
    labels = torch.zeros_like(inputs["input_ids"])
    with counted_attention() as calls:
        loss = model(**inputs, labels=labels, head="a", composition="a").loss
        loss.backward()
    layers = model.encoder.config.num_hidden_layers
    assert len(calls) == layers and len(dropped) == layers
    assert model.adapters["a"].blocks["0"]["ffn"].mlp.up.weight.grad is not None


@pytest.mark.parametrize("method", ["seq_bn", "prefix", "lora"])
def test_padding_is_masked_a_padded_row_equals_the_same_row_alone(family, method):
    model = tiny_model(family)
    options = PREFIX if method == "prefix" else {}
    model.add_adapter("x", method, **options)
    randomize(model.adapters["x"])
    pad = model.encoder.config.pad_token_id or 0
    inputs = make_inputs(pad_token_id=pad)  # the last row is padded after 4 of 8 tokens
    with torch.no_grad():
        padded = model(**inputs, composition="x").last_hidden_state[-1, :4]
        alone = model(
            input_ids=inputs["input_ids"][-1:, :4], attention_mask=inputs["attention_mask"][-1:, :4], composition="x"
        ).last_hidden_state[0]
    torch.testing.assert_close(padded, alone, rtol=1e-5, atol=1e-5)


def test_switching_the_encoder_to_another_attention_is_refused():
    model = tiny_model()
    model.encoder.set_attn_implementation("sdpa")
    with pytest.raises(XadaptError, match="attn_implementation was changed to 'sdpa'"):
        model(**make_inputs())


def test_wrapped_modules_take_their_arguments_by_position_or_by_name():
    model = tiny_model()
    model.add_adapter("a", "seq_bn", reduction_factor=4)
    model.add_adapter("l", "lora", r=2)
    randomize(model.adapters["a"])
    randomize(model.adapters["l"])
    layer = upstream.layers(model.encoder)[0]
    block, query = upstream.output_block(layer, "ffn"), upstream.projection(upstream.self_attention(layer), "q")
    hidden, residual = torch.randn(2, 5, 64), torch.randn(2, 5, 32)
    states = torch.randn(2, 5, 32)
    with torch.no_grad(), running(ForwardPlan(model._owner, "a", model.adapters, model.fusions)):
        by_position = block(hidden, residual)
        by_name = block(input_tensor=residual, hidden_states=hidden)
    with torch.no_grad(), running(ForwardPlan(model._owner, "l", model.adapters, model.fusions)):
        projected = query(states), query(input=states)
    assert torch.equal(by_position, by_name) and torch.equal(*projected)
    with torch.no_grad():  # outside a running plan the upstream forward runs, with the same arguments
        assert not torch.equal(by_position, block(hidden, residual))
        assert torch.equal(block(input_tensor=residual, hidden_states=hidden), block(hidden, residual))
        assert not torch.equal(projected[0], query(input=states))


def test_an_encoder_missing_a_part_adapters_need_is_refused_with_its_name_and_left_unchanged():
    encoder = tiny_encoder()
    del upstream.layers(encoder)[1].output.LayerNorm
    before = upstream.attention_implementation(encoder.config)
    with pytest.raises(XadaptError, match=r"has no BertOutput\.LayerNorm, which xadapt's adapters need"):
        AdapterModel(encoder)
    assert upstream.attention_implementation(encoder.config) == before  # nothing was switched ...
    assert type(upstream.layers(encoder)[0].output).__name__ == "BertOutput"  # ... or swapped before the check
