"""The CPU dropout: the same distribution as torch's, and an attention path that equals the encoder's own."""

import pytest
import torch
from adapter_helpers import make_inputs, randomize, tiny_model

from xadapt.adapters import attention
from xadapt.adapters.dropout import Dropout, dropout
from xadapt.adapters.attention import attention_with_dropout


def test_elements_are_kept_with_probability_one_minus_p_and_scaled():
    torch.manual_seed(0)
    x = torch.ones(1_000_000)
    y = dropout(x, 0.1, training=True)
    dropped = (y == 0).float().mean().item()
    assert dropped == pytest.approx(0.1, abs=0.002)
    assert torch.allclose(y[y != 0], torch.full_like(y[y != 0], 1 / 0.9))
    assert y.mean().item() == pytest.approx(1.0, abs=0.003)  # unbiased, as dropout must be


def test_the_gradient_passes_exactly_where_the_mask_kept():
    torch.manual_seed(1)
    x = torch.randn(64, 32, requires_grad=True)
    y = dropout(x, 0.3, training=True)
    y.sum().backward()
    kept = y.detach() != 0
    assert torch.equal(x.grad, kept.float() / 0.7)


def test_eval_mode_and_zero_rate_leave_the_input_alone_and_seeds_repeat_masks():
    x = torch.randn(10, 10)
    assert dropout(x, 0.5, training=False) is x and dropout(x, 0.0, training=True) is x
    torch.manual_seed(2)
    first = dropout(x, 0.5, training=True)
    torch.manual_seed(2)
    assert torch.equal(first, dropout(x, 0.5, training=True))


@pytest.mark.parametrize("boolean_mask", [True, False])
def test_attention_with_dropout_at_rate_zero_equals_sdpa(boolean_mask):
    torch.manual_seed(3)
    query, key, value = (torch.randn(2, 4, 6, 8) for _ in range(3))
    keep = torch.ones(2, 1, 1, 6, dtype=torch.bool)
    keep[1, ..., 4:] = False  # the second sequence is padded after 4 tokens
    mask = keep if boolean_mask else torch.zeros(keep.shape).masked_fill(~keep, torch.finfo(torch.float32).min)
    out, _ = attention_with_dropout(query, key, value, mask, 8**-0.5, 0.0)
    expected = torch.nn.functional.scaled_dot_product_attention(query, key, value, attn_mask=mask, scale=8**-0.5)
    torch.testing.assert_close(out, expected.transpose(1, 2), rtol=1e-5, atol=1e-6)


def test_the_encoders_dropouts_are_replaced_and_training_with_nothing_dropped_equals_eval(family, monkeypatch):
    calls = []
    monkeypatch.setattr(attention, "attention_with_dropout", lambda *args: calls.append(1) or attention_with_dropout(*args))
    model = tiny_model(family)
    randomize(model.encoder)
    assert not [m for m in model.encoder.modules() if type(m) is torch.nn.Dropout]
    assert any(isinstance(m, Dropout) for m in model.encoder.modules())
    inputs = make_inputs(pad_token_id=model.encoder.config.pad_token_id or 0)
    with torch.no_grad():
        expected = model(**inputs).last_hidden_state  # eval: the encoder's own (SDPA) attention
        for module in model.encoder.modules():
            if isinstance(module, torch.nn.Dropout):
                module.p = 1e-12  # "training" with dropout on, but nothing dropped in practice
        model.train()
        trained = model(**inputs).last_hidden_state  # xadapt's attention path with its dropout
    assert len(calls) == model.encoder.config.num_hidden_layers  # only the training pass took xadapt's path
    real = inputs["attention_mask"].bool()
    torch.testing.assert_close(trained[real], expected[real], rtol=1e-5, atol=1e-5)
