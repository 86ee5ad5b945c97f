"""The data both sides of a case train or infer on: tokenised once, here, with xadapt, and written as safetensors.

Every file holds int64 tensors `input_ids`, `attention_mask`, `labels` (one row per example,
padded to the file's widest row) and `lengths` (each example's real length); the sides read it
with `bench.protocol.load_rows` / `load_batches`, so both tools see the same token ids, the same
masked positions and the same labels. Nothing is pickled.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import save_file
from transformers import DataCollatorForLanguageModeling

from xadapt.data import get_task, load_corpus, load_split
from xadapt.train.features import encode
from xadapt.train.language import LanguageAdapterSettings

TASK, LANG = "wikiann", "sw"


@dataclass(frozen=True)
class Workloads:
    """Paths of the written workload files."""

    mlm: Path  # masked Swahili raw text, every row max_length real tokens
    tagging: Path  # WikiANN sw training examples
    # a study-sized WikiANN sw training set (sweeps train on 100, 300 and 1000 sentences): what a
    # batch sampler saves depends on how many sentences it can sort, so the pipelines get more
    pipeline: Path
    evaluation: Path  # WikiANN sw test examples, shortest first (as xadapt's evaluate orders them)


def _write(path: Path, input_ids: list[list[int]], labels: list[list[int]], pad_id: int) -> Path:
    width = max(len(ids) for ids in input_ids)
    ids = torch.full((len(input_ids), width), pad_id, dtype=torch.int64)
    mask = torch.zeros_like(ids)
    gold = torch.full_like(ids, -100)
    for row, (tokens, tags) in enumerate(zip(input_ids, labels, strict=True)):
        ids[row, : len(tokens)] = torch.tensor(tokens)
        mask[row, : len(tokens)] = 1
        gold[row, : len(tags)] = torch.tensor(tags)
    lengths = mask.sum(-1)
    save_file({"input_ids": ids, "attention_mask": mask, "labels": gold, "lengths": lengths}, str(path))
    return path


def masked_text(path: Path, tokenizer, examples: int, settings: LanguageAdapterSettings, data_dir=None) -> Path:
    """`examples` Swahili sentences of at least `max_length` tokens (cut there), masked once with a fixed seed.

    Masking is BERT's (15%: 80% <mask>, 10% random, 10% kept), by the collator xadapt's language
    adapters use, but drawn here once so that both tools predict the same positions.
    """
    corpus = load_corpus(LANG, data_dir, heldout_lines=settings.heldout_sentences)
    order = torch.randperm(len(corpus.train), generator=torch.Generator().manual_seed(0)).tolist()
    rows: list[list[int]] = []
    for start in range(0, len(order), 4 * examples):
        if len(rows) >= examples:
            break
        chunk = [corpus.train[i] for i in order[start : start + 4 * examples]]
        encoded = tokenizer(chunk, truncation=True, max_length=settings.max_length)["input_ids"]
        rows += [ids for ids in encoded if len(ids) == settings.max_length]
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=settings.mask_prob, seed=0)
    batch = collator([{"input_ids": ids} for ids in rows[:examples]])
    return _write(path, batch["input_ids"].tolist(), batch["labels"].tolist(), tokenizer.pad_token_id)


def tagged(path: Path, tokenizer, split: str, examples: int, max_length: int, data_dir=None, sort: bool = False) -> Path:
    """The first `examples` of a WikiANN sw split, tokenised by xadapt's `encode` (labels on first sub-words)."""
    data = load_split(TASK, LANG, split, data_dir)
    data = data.select(range(min(examples, len(data))))
    encoded = encode(data, get_task(TASK).head, tokenizer, max_length)
    rows = sorted(encoded, key=lambda row: len(row["input_ids"])) if sort else list(encoded)
    return _write(path, [r["input_ids"] for r in rows], [r["labels"] for r in rows], tokenizer.pad_token_id)


def build(directory: Path, tokenizer, sizes: dict[str, int], max_length: int, data_dir=None) -> Workloads:
    """Write the workloads into `directory`; `sizes` gives each one's number of examples."""
    directory.mkdir(parents=True, exist_ok=True)
    return Workloads(
        mlm=masked_text(directory / "mlm.safetensors", tokenizer, sizes["mlm"], LanguageAdapterSettings(), data_dir),
        tagging=tagged(directory / "tagging.safetensors", tokenizer, "train", sizes["tagging"], max_length, data_dir),
        pipeline=tagged(directory / "pipeline.safetensors", tokenizer, "train", sizes["pipeline"], max_length, data_dir),
        evaluation=tagged(
            directory / "evaluation.safetensors", tokenizer, "test", sizes["evaluation"], max_length, data_dir, sort=True
        ),
    )


def num_labels() -> int:
    return len(get_task(TASK).labels)
