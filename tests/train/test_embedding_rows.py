"""Full fine-tuning that trains only the used word-embedding rows must end where dense AdamW ends."""

import pytest
import torch
from datasets import Dataset
from transformers import BertConfig, BertModel

from xadapt.adapters import AdapterModel
from xadapt.errors import XadaptError
from xadapt.train import task
from xadapt.train.embedding_rows import CompactWordEmbedding, token_ids_of, trainable_state, used_rows_only
from xadapt.train.task import ComposedModel, TrainSettings, train

PAD = 0
VOCAB = 100


def _tiny_model(seed: int = 0) -> ComposedModel:
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
                        max_position_embeddings=64, pad_token_id=PAD, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    model = AdapterModel(BertModel(config, add_pooling_layer=False))
    model.add_head("task", "token_classification", num_labels=3)
    model.train_all()
    return ComposedModel(model, None)


def _rows(count: int = 24, seed: int = 5) -> list[dict]:
    """Sentences over token ids 3..39 only, of varied lengths, with a label per token."""
    generator = torch.Generator().manual_seed(seed)
    rows = []
    for _ in range(count):
        length = int(torch.randint(4, 12, (1,), generator=generator))
        ids = torch.randint(3, 40, (length,), generator=generator).tolist()
        rows.append({"input_ids": ids, "attention_mask": [1] * length, "labels": torch.randint(0, 3, (length,), generator=generator).tolist()})
    return rows


def _collate(features: list[dict]) -> dict[str, torch.Tensor]:
    width = max(len(f["input_ids"]) for f in features)
    pad = {"input_ids": PAD, "attention_mask": 0, "labels": -100}
    return {key: torch.tensor([f[key] + [value] * (width - len(f[key])) for f in features]) for key, value in pad.items()}


def _trained(monkeypatch, dense: bool) -> ComposedModel:
    composed = _tiny_model()
    if dense:
        monkeypatch.setattr(task, "_used_embedding_rows", lambda composed, train_set: None)
    settings = TrainSettings(lr=1e-2, epochs=3, batch_size=4, seed=0, weight_decay=0.1)
    train(composed, _rows(), _collate, settings)
    monkeypatch.undo()
    return composed


def test_training_only_the_used_rows_ends_where_dense_adamw_ends(monkeypatch):
    initial = _tiny_model().model.encoder.get_input_embeddings().weight.detach().clone()
    dense = _trained(monkeypatch, dense=True)
    compact = _trained(monkeypatch, dense=False)
    assert isinstance(compact.model.encoder.get_input_embeddings(), torch.nn.Embedding)  # the original module is back
    dense_state, compact_state = dict(dense.named_parameters()), dict(compact.named_parameters())
    assert dense_state.keys() == compact_state.keys()
    for name, value in dense_state.items():
        torch.testing.assert_close(compact_state[name], value, rtol=1e-4, atol=1e-6, msg=name)
    embeddings = compact.model.encoder.get_input_embeddings().weight
    assert embeddings.requires_grad
    unused = torch.tensor([1, 2, *range(40, VOCAB)])
    # rows no sentence uses moved by weight decay alone (36 steps of x (1 - lr_t * 0.1)), the used ones by AdamW
    decay = embeddings[unused] / initial[unused]
    assert torch.allclose(decay, decay.flatten()[0]) and 0.97 < float(decay.flatten()[0]) < 0.999
    assert (embeddings[3:40] - initial[3:40]).abs().amax() > 1e-3


def test_the_compact_embedding_reads_like_the_original_for_every_token():
    embedding = torch.nn.Embedding(VOCAB, 8, padding_idx=PAD)
    compact = CompactWordEmbedding(embedding, torch.tensor([PAD, 5, 7, 7, 9]))
    assert compact.weight.shape == (4, 8) and compact.padding_idx == 0
    ids = torch.tensor([[5, 9, 0], [7, 42, 99]])
    compact.outside_scale = 0.5
    expected = embedding(ids).detach()
    expected[1, 1:] *= 0.5  # tokens 42 and 99 are outside the trained rows: scaled by the decay so far
    with torch.no_grad():
        torch.testing.assert_close(compact(ids), expected)
    full = compact.full_weight()
    torch.testing.assert_close(full[[0, 5, 7, 9]], embedding.weight[[0, 5, 7, 9]].detach())
    torch.testing.assert_close(full[42], embedding.weight[42].detach() * 0.5)


def test_a_training_batch_outside_the_rows_is_refused_not_silently_wrong():
    compact = CompactWordEmbedding(torch.nn.Embedding(VOCAB, 8), torch.tensor([5, 7])).train()
    with pytest.raises(XadaptError, match="not in the training set's embedding rows"):
        compact(torch.tensor([[5, 8]]))
    with pytest.raises(XadaptError, match="between 0 and 99"):
        CompactWordEmbedding(torch.nn.Embedding(VOCAB, 8), torch.tensor([5, 100]))


def test_only_adamw_is_followed():
    compact = CompactWordEmbedding(torch.nn.Embedding(VOCAB, 8), torch.tensor([5, 7]))
    with pytest.raises(XadaptError, match="exact for AdamW, not SGD"):
        compact.follow(torch.optim.SGD([compact.weight], lr=0.1))
    with pytest.raises(XadaptError, match="no amsgrad"):
        compact.follow(torch.optim.AdamW([compact.weight], lr=0.1, amsgrad=True))


def test_a_snapshot_holds_the_whole_matrix_and_leaving_writes_the_rows_back():
    composed = _tiny_model()
    encoder = composed.model.encoder
    before = encoder.get_input_embeddings().weight.detach().clone()
    with used_rows_only(encoder, torch.tensor([PAD, 3, 4])) as compact:
        assert encoder.get_input_embeddings() is compact and not compact._full[0].weight.requires_grad
        with torch.no_grad():
            compact.weight.add_(1.0)
        compact.outside_scale = 0.9
        state = trainable_state(composed)
        name = "model.encoder.embeddings.word_embeddings.weight"
        assert state[name].shape == before.shape
        torch.testing.assert_close(state[name], compact.full_weight())
    after = encoder.get_input_embeddings().weight.detach()
    torch.testing.assert_close(after[[0, 3, 4]], before[[0, 3, 4]] + 1.0)
    torch.testing.assert_close(after[5:], before[5:] * 0.9)


def test_token_ids_come_from_lists_datasets_and_multiple_choice_rows():
    assert token_ids_of([{"input_ids": [4, 2]}, {"input_ids": [2, 9]}], extra=[1]).tolist() == [1, 2, 4, 9]
    dataset = Dataset.from_list([{"input_ids": [[5, 6], [7]]}, {"input_ids": [[8], [5, 3, 2]]}])
    assert token_ids_of(dataset).tolist() == [2, 3, 5, 6, 7, 8]


def test_adapter_training_and_masked_lm_heads_keep_the_whole_matrix():
    composed = _tiny_model()
    assert task._used_embedding_rows(composed, _rows()).tolist()[:2] == [PAD, 3]
    composed.model.requires_grad_(False)
    assert task._used_embedding_rows(composed, _rows()) is None
    composed.model.add_head("mlm", "masked_lm")
    composed.model.train_all()
    assert task._used_embedding_rows(ComposedModel(composed.model, None, head="mlm"), _rows()) is None
