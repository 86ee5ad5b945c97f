"""Length-bucketed batches: every example once per epoch, little padding, random and reproducible order."""

import torch
from transformers.trainer_pt_utils import LengthGroupedSampler

from xadapt.train.sampling import LengthBucketSampler, example_length


def _lengths(n: int, seed: int = 0) -> list[int]:
    generator = torch.Generator().manual_seed(seed)
    return (torch.randint(4, 60, (n,), generator=generator)).tolist()


def _padded_tokens(indices: list[int], lengths: list[int], batch_size: int) -> int:
    batches = [indices[i : i + batch_size] for i in range(0, len(indices), batch_size)]
    return sum(len(batch) * max(lengths[i] for i in batch) for batch in batches)


def test_every_example_comes_once_per_epoch_and_only_the_last_batch_is_short():
    lengths = _lengths(203)
    sampler = LengthBucketSampler(lengths, batch_size=16, seed=0, batches_per_bucket=4)
    batches = sampler.batches()
    assert sorted(i for batch in batches for i in batch) == list(range(203))
    assert [len(b) for b in batches[:-1]] == [16] * 12 and len(batches[-1]) == 203 - 12 * 16
    assert list(sampler) == [i for batch in batches for i in batch] and len(sampler) == 203


def test_it_pads_far_less_than_transformers_length_grouping():
    lengths = _lengths(192)
    ours = _padded_tokens(list(LengthBucketSampler(lengths, 16, seed=0)), lengths, 16)
    torch.manual_seed(0)
    theirs = _padded_tokens(list(LengthGroupedSampler(16, lengths=lengths)), lengths, 16)
    real = sum(lengths)
    assert ours < theirs
    assert (ours - real) / ours < 0.1  # little padding when the whole set is one bucket


def test_batch_order_is_random_reproducible_and_new_each_epoch():
    lengths = _lengths(400)
    sampler = LengthBucketSampler(lengths, 8, seed=3)
    first = sampler.batches()
    assert first == LengthBucketSampler(lengths, 8, seed=3).batches()
    longest = [max(lengths[i] for i in batch) for batch in first]
    assert longest != sorted(longest) and longest != sorted(longest, reverse=True)  # not a length curriculum
    sampler.set_epoch(1)
    assert sampler.batches() != first
    assert LengthBucketSampler(lengths, 8, seed=4).batches() != first


def test_a_multiple_choice_example_counts_its_longest_choice():
    assert example_length({"input_ids": [[1, 2, 3], [1, 2, 3, 4, 5]]}) == 5
    assert example_length({"input_ids": [7, 8]}) == 2


def test_training_draws_its_batches_from_the_length_bucket_sampler():
    """`xadapt.train.task.train` feeds the model exactly the sampler's batches (epoch 0, then epoch 1)."""
    from transformers import BertConfig, BertModel

    from xadapt.adapters import AdapterModel
    from xadapt.train.task import TASK, ComposedModel, TrainSettings, train

    torch.manual_seed(0)
    config = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32)
    model = AdapterModel(BertModel(config, add_pooling_layer=False))
    model.add_head(TASK, "token_classification", num_labels=3)
    lengths = _lengths(40, seed=5)
    rows = [{"input_ids": [5] * n, "labels": [1] * n} for n in lengths]
    seen = []

    def collate(features):
        width = max(len(f["input_ids"]) for f in features)
        seen.append(sorted(len(f["input_ids"]) for f in features))
        pad = lambda values, fill: [v + [fill] * (width - len(v)) for v in values]  # noqa: E731
        return {
            "input_ids": torch.tensor(pad([f["input_ids"] for f in features], 0)),
            "attention_mask": torch.tensor(pad([[1] * len(f["input_ids"]) for f in features], 0)),
            "labels": torch.tensor(pad([f["labels"] for f in features], -100)),
        }

    train(ComposedModel(model, None), rows, collate, TrainSettings(lr=1e-3, epochs=2, batch_size=8, seed=7))
    sampler = LengthBucketSampler(lengths, 8, seed=7)
    expected = []
    for epoch in (0, 1):
        sampler.set_epoch(epoch)
        expected += [sorted(lengths[i] for i in batch) for batch in sampler.batches()]
    assert seen == expected
