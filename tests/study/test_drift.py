"""Representation drift: RSA compares the geometry of two sets of sentence vectors, layer by layer."""

import torch
from transformers import BertConfig, BertModel

from xadapt.adapters import AdapterModel
from xadapt.study.drift import drift_per_layer, layer_representations, rsa

N, HIDDEN = 40, 24


def _structured(seed: int = 0) -> torch.Tensor:
    """N vectors in four tight clusters: a geometry with a lot of structure."""
    generator = torch.Generator().manual_seed(seed)
    centres = torch.randn(4, HIDDEN, generator=generator) * 3
    return centres.repeat_interleave(N // 4, dim=0) + 0.3 * torch.randn(N, HIDDEN, generator=generator)


def _rotation(seed: int = 1) -> torch.Tensor:
    q, _ = torch.linalg.qr(torch.randn(HIDDEN, HIDDEN, generator=torch.Generator().manual_seed(seed)))
    return q


def test_identical_sets_have_similarity_one():
    x = _structured()
    assert abs(rsa(x, x) - 1.0) < 1e-5
    assert abs(rsa(x, x.clone()) - 1.0) < 1e-5


def test_rotation_and_per_sentence_scaling_keep_the_cosine_geometry():
    x = _structured()
    rotated = x @ _rotation()
    assert not torch.allclose(rotated, x)
    assert abs(rsa(x, rotated) - 1.0) < 1e-4
    scales = torch.linspace(0.5, 4.0, N).unsqueeze(1)  # lengths change, angles do not
    assert abs(rsa(x, rotated * scales) - 1.0) < 1e-4


def test_random_vectors_share_little_geometry_with_structured_ones():
    x = _structured()
    noise = torch.randn(N, HIDDEN, generator=torch.Generator().manual_seed(7))
    assert abs(rsa(x, noise)) < 0.3
    assert rsa(x, x + 0.5 * noise) > rsa(x, x + 3 * noise)  # more drift, less similarity


def test_rsa_is_symmetric():
    x, y = _structured(0), _structured(1)
    assert abs(rsa(x, y) - rsa(y, x)) < 1e-6


def test_drift_per_layer_gives_one_value_per_layer():
    base = torch.stack([_structured(seed) for seed in range(5)])
    tuned = base.clone()
    tuned[3] = torch.randn(N, HIDDEN, generator=torch.Generator().manual_seed(9))
    drift = drift_per_layer(base, tuned)
    assert len(drift) == 5
    assert all(abs(value - 1.0) < 1e-5 for i, value in enumerate(drift) if i != 3)
    assert drift[3] < 0.5


class _WordTokenizer:
    """Enough of a tokenizer for `layer_representations`: one id per word, padded batches."""

    def __call__(self, texts, padding, truncation, max_length, return_tensors):
        rows = [[2] + [3 + sum(map(ord, word)) % 90 for word in text.split()][: max_length - 1] for text in texts]
        longest = max(map(len, rows))
        ids = torch.tensor([row + [0] * (longest - len(row)) for row in rows])
        return {"input_ids": ids, "attention_mask": (torch.arange(longest) < torch.tensor([len(r) for r in rows])[:, None]).long()}


def _tiny_model() -> AdapterModel:
    torch.manual_seed(0)
    config = BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64)
    return AdapterModel(BertModel(config, add_pooling_layer=False))


def test_layer_representations_pool_every_layer_and_ignore_padding():
    model, tokenizer = _tiny_model(), _WordTokenizer()
    texts = [f"sentence number {i} " + "word " * (i % 7) for i in range(40)]  # two batches of up to 32
    model.train()
    layers = layer_representations(model, tokenizer, texts)
    assert model.training  # the caller's mode is restored
    assert layers.shape == (3, 40, 32)  # embeddings + 2 layers, one vector per sentence
    alone = layer_representations(model, tokenizer, [texts[35]])  # no padding at all
    assert torch.allclose(layers[:, 35], alone[:, 0], atol=1e-5)
    again = layer_representations(model, tokenizer, texts)
    assert all(abs(value - 1.0) < 1e-5 for value in drift_per_layer(layers, again))  # an untrained model does not drift
