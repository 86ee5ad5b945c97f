"""Training batches of similar length in random order, so dynamic padding pads little.

transformers' `LengthGroupedSampler` sorts by length only inside random mega-batches of at most a
quarter of the data, and keeps each mega-batch's batches in descending length order; on the small
training sets of a low-resource study (100-1,000 sentences, batches of 8-16) that leaves many
padding tokens (WikiANN sw, 192 sentences in batches of 16: 23% of the tokens a step computes are
padding). Here each epoch draws a random permutation, sorts it by length inside buckets of up to
`batches_per_bucket` batches (the whole set, for these sizes; ties keep their random order), cuts
the buckets into batches, and shuffles the order of the batches. Only the last batch of an epoch
can be short, so a `DataLoader` cutting the index stream into `batch_size` slices gets exactly
these batches.
"""

from collections.abc import Iterator, Sequence

import torch
from torch.utils.data import Sampler


class LengthBucketSampler(Sampler[int]):
    """Indices whose consecutive `batch_size` slices hold examples of similar length, batches in random order."""

    def __init__(self, lengths: Sequence[int], batch_size: int, seed: int, batches_per_bucket: int = 50):
        self.lengths = list(lengths)
        self.batch_size = batch_size
        self.seed = seed
        self.bucket_size = batches_per_bucket * batch_size
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Called by the `Trainer` before each epoch: a new, reproducible draw."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.lengths)

    def batches(self) -> list[list[int]]:
        """This epoch's batches, in the order they are served."""
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        order = torch.randperm(len(self.lengths), generator=generator).tolist()
        full, short = [], []
        for start in range(0, len(order), self.bucket_size):
            bucket = sorted(order[start : start + self.bucket_size], key=self.lengths.__getitem__)  # stable: random ties
            for first in range(0, len(bucket), self.batch_size):
                batch = bucket[first : first + self.batch_size]
                (full if len(batch) == self.batch_size else short).append(batch)
        shuffled = [full[i] for i in torch.randperm(len(full), generator=generator).tolist()]
        return shuffled + short

    def __iter__(self) -> Iterator[int]:
        return iter([i for batch in self.batches() for i in batch])


def example_length(example: dict) -> int:
    """Tokens an example brings to its batch: its `input_ids`, or its longest choice's for multiple choice."""
    ids = example["input_ids"]
    return max(len(choice) for choice in ids) if ids and isinstance(ids[0], list) else len(ids)
