"""Heads: shapes and losses, the tied masked-LM head (fresh or from a checkpoint), save/load."""

from __future__ import annotations

import pytest
import torch
from adapter_helpers import FAMILIES, TINY, make_inputs, randomize, tiny_model
from transformers import BertForMaskedLM, XLMRobertaForMaskedLM

from xadapt.adapters import HEAD_CLASSES, AdapterModel
from xadapt.adapters.invertible import NICEBlock
from xadapt.errors import XadaptError


def _labels(inputs, positions=(1, 4)):
    labels = torch.full_like(inputs["input_ids"], -100)
    for p in positions:
        labels[:, p] = inputs["input_ids"][:, p]
    return labels


@pytest.mark.parametrize("kind", sorted(HEAD_CLASSES))
def test_every_head_kind_predicts_and_round_trips(tmp_path, kind):
    model = tiny_model()
    inputs = make_inputs()
    batch, length = inputs["input_ids"].shape
    options = {"num_labels": 4} if "classification" in kind else {}
    model.add_head("h", kind, **options)
    randomize(model.heads["h"])
    if kind == "multiple_choice":
        inputs = {k: v.unsqueeze(0).expand(2, -1, -1) for k, v in inputs.items()}  # 2 questions x 3 choices
        labels, shape = torch.tensor([0, 2]), (2, batch)
    elif kind == "sequence_classification":
        labels, shape = torch.tensor([0, 1, 3]), (batch, 4)
    elif kind == "token_classification":
        labels, shape = torch.randint(0, 4, (batch, length)), (batch, length, 4)
    else:
        labels, shape = _labels(inputs), (2 * batch, TINY["vocab_size"])
    with torch.no_grad():
        out = model(**inputs, head="h", labels=labels)
    assert out.logits.shape == shape and out.loss.ndim == 0 and torch.isfinite(out.loss)

    model.save_head(tmp_path / "h", "h")
    fresh = tiny_model()
    assert fresh.load_head(tmp_path / "h") == "h"
    with torch.no_grad():
        again = fresh(**inputs, head="h", labels=labels)
    assert torch.equal(again.logits, out.logits)


def test_masked_lm_computes_logits_only_at_masked_positions():
    model = tiny_model()
    model.add_head("mlm", "masked_lm")
    randomize(model.heads["mlm"])
    inputs = make_inputs()
    labels = _labels(inputs, positions=(2,))
    with torch.no_grad():
        full = model(**inputs, head="mlm").logits
        masked = model(**inputs, head="mlm", labels=labels)
    assert full.shape == (*inputs["input_ids"].shape, TINY["vocab_size"])
    torch.testing.assert_close(masked.logits, full[:, 2], rtol=0, atol=1e-6)
    expected = torch.nn.functional.cross_entropy(full[:, 2], inputs["input_ids"][:, 2])
    torch.testing.assert_close(masked.loss, expected)


def test_tied_decoder_gives_the_embeddings_a_gradient_only_in_full_fine_tuning():
    model = tiny_model()
    model.add_adapter("sw", "seq_bn_inv")
    model.add_head("mlm", "masked_lm")
    inputs = make_inputs()
    embeddings = model.encoder.get_input_embeddings().weight
    assert not any(p is embeddings for p in model.heads.parameters())  # tied, not owned

    model.train_adapter("sw", heads="mlm")
    model(**inputs, head="mlm", labels=_labels(inputs), composition="sw").loss.backward()
    assert embeddings.grad is None
    assert model.heads["mlm"].bias.grad is not None

    model.zero_grad()
    model.train_all()
    model(**inputs, head="mlm", labels=_labels(inputs)).loss.backward()
    assert embeddings.grad is not None and embeddings.grad.abs().sum() > 0


@pytest.mark.parametrize(
    ("family", "lm_class"),
    [("bert", BertForMaskedLM), ("xlm-roberta", XLMRobertaForMaskedLM)],
    ids=["bert", "xlm-roberta"],
)
def test_masked_lm_head_loads_from_a_checkpoint(tmp_path, family, lm_class):
    config_class, _, extra = FAMILIES[family]
    torch.manual_seed(0)
    reference = lm_class(config_class(**TINY, **extra)).eval()
    randomize(reference.lm_head if family != "bert" else reference.cls, seed=4)
    reference.save_pretrained(tmp_path)

    model = AdapterModel.from_pretrained(tmp_path).eval()
    model.add_head("mlm", "masked_lm", from_checkpoint=tmp_path)
    inputs = make_inputs(model.encoder.config.pad_token_id)
    labels = _labels(inputs)
    with torch.no_grad():
        ours = model(**inputs, head="mlm", labels=labels)
        theirs = reference(**inputs, labels=labels)
    torch.testing.assert_close(ours.logits, theirs.logits[labels != -100], rtol=0, atol=1e-5)
    torch.testing.assert_close(ours.loss, theirs.loss, rtol=0, atol=1e-5)


def test_checkpoint_without_mlm_head_is_reported(tmp_path):
    tiny_model().encoder.save_pretrained(tmp_path)
    model = AdapterModel.from_pretrained(tmp_path)
    with pytest.raises(XadaptError, match="has no pretrained MLM head"):
        model.add_head("mlm", "masked_lm", from_checkpoint=tmp_path)
    model.add_head("mlm", "masked_lm")  # a fresh head works
    with pytest.raises(XadaptError, match="only for masked_lm"):
        model.add_head("cls", "sequence_classification", num_labels=2, from_checkpoint=tmp_path)


def test_head_options_are_checked():
    model = tiny_model()
    with pytest.raises(XadaptError, match="num_labels must be an integer >= 2"):
        model.add_head("h", "token_classification")
    with pytest.raises(XadaptError, match="unknown head kind"):
        model.add_head("h", "question_answering")
    with pytest.raises(XadaptError, match="no head 'missing'"):
        model(**make_inputs(), head="missing")


def test_invertible_block_inverts_exactly():
    block = NICEBlock(32, "relu", 2)
    randomize(block, std=0.3)
    x = torch.randn(2, 5, 32)
    torch.testing.assert_close(block(block(x), rev=True), x, rtol=0, atol=1e-6)
    assert (block(x) - x).abs().max() > 1e-2


def test_masked_lm_head_can_score_a_restricted_vocabulary(tmp_path):
    model = tiny_model()
    model.add_head("mlm", "masked_lm")
    randomize(model.heads["mlm"])
    inputs = make_inputs()
    labels = _labels(inputs, positions=(2,))
    head = model.heads["mlm"]
    with torch.no_grad():
        full = model(**inputs, head="mlm", labels=labels).logits
        ids = torch.cat([inputs["input_ids"][:, 2], torch.tensor([0, 7, 7])])
        head.restrict_vocabulary(ids)
        restricted = model(**inputs, head="mlm", labels=labels)
    kept = ids.unique()
    assert torch.equal(head.output_ids, kept)
    torch.testing.assert_close(restricted.logits, full[:, kept], rtol=0, atol=1e-6)
    targets = (kept.unsqueeze(0) == inputs["input_ids"][:, 2:3]).int().argmax(-1)
    torch.testing.assert_close(restricted.loss, torch.nn.functional.cross_entropy(full[:, kept], targets))

    model.save_head(tmp_path / "mlm", "mlm")  # the restriction is a training-time setting, never saved
    fresh = tiny_model()
    fresh.load_head(tmp_path / "mlm")
    assert fresh.heads["mlm"].output_ids is None

    head.restrict_vocabulary(torch.tensor([0, 1]))
    with pytest.raises(XadaptError, match="outside the restricted output vocabulary"):
        model(**inputs, head="mlm", labels=labels)
    with pytest.raises(XadaptError, match="token ids between"):
        head.restrict_vocabulary(torch.tensor([TINY["vocab_size"]]))
    head.restrict_vocabulary(None)
    with torch.no_grad():
        assert torch.equal(model(**inputs, head="mlm", labels=labels).logits, full)


def test_a_mean_pooled_head_reads_the_mean_of_the_real_tokens_and_round_trips(tmp_path):
    model = tiny_model()
    model.add_head("mean", "sequence_classification", num_labels=3, pooling="mean")
    model.add_head("first", "sequence_classification", num_labels=3)
    randomize(model.heads["mean"])
    model.eval()
    ids = torch.randint(5, TINY["vocab_size"], (2, 6))
    mask = torch.tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0]])
    with torch.no_grad():
        hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state
        logits = model(input_ids=ids, attention_mask=mask, head="mean").logits
        scorer = model.heads["mean"].scorer
        by_hand = scorer.out_proj(torch.tanh(scorer.dense((hidden * mask[..., None]).sum(1) / mask.sum(1, keepdim=True))))
        # padding positions do not count: the second row equals the same 3 tokens unpadded
        alone = model(input_ids=ids[1:, :3], attention_mask=mask[1:, :3], head="mean").logits
    assert torch.allclose(logits, by_hand, atol=1e-6)
    assert torch.allclose(logits[1], alone[0], atol=1e-5)
    assert "pooling" not in model.heads["first"].options  # heads saved before pooling existed read the same
    model.save_head(tmp_path / "mean", "mean")
    other = tiny_model()
    other.load_head(tmp_path / "mean")
    assert other.heads["mean"].scorer.pooling == "mean"
    with pytest.raises(XadaptError, match="pooling must be one of"):
        model.add_head("bad", "sequence_classification", num_labels=3, pooling="max")
