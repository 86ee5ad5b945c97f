"""Train a MAD-X language adapter: masked-LM on a language's raw text with `seq_bn_inv`.

The encoder stays frozen; the language adapter (bottleneck per layer + invertible adapter on the
embeddings) and the MLM head's transform train, the tied decoder (the embedding matrix) does not.
Logits are computed only at masked positions. Held-out perplexity is measured with a fixed mask
before and after training, so the two numbers are comparable.

Adapters are cached under ``$XADAPT_HOME/language_adapters/<model fingerprint>/<lang>-<settings hash>``
and written atomically (staging folder renamed into place), so every later run reuses them and
an interrupted training never leaves a folder that looks finished.
"""

import hashlib
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from transformers import DataCollatorForLanguageModeling

from xadapt.adapters import AdapterModel
from xadapt.atomic import atomic_directory
from xadapt.data import load_corpus
from xadapt.models import model_identity
from xadapt.settings import xadapt_home
from xadapt.train.task import ComposedModel, TrainSettings, seeded, train

MLM_HEAD = "mlm"
DONE = "language_adapter.json"


@dataclass
class LanguageAdapterSettings:
    """Masked-LM training of a MAD-X language adapter (`seq_bn_inv`) on a language's raw text."""

    steps: int = 100  # optimiser steps (~2.3 s each on 2 CPU cores); MAD-X trained 250k on a GPU
    batch_size: int = 16  # sentences per step
    max_length: int = 64  # tokens per sentence (longer ones are cut)
    lr: float = 1e-3  # adapters tolerate large rates; Pfeiffer et al. use 1e-4 over far more steps
    mask_prob: float = 0.15  # BERT masking rate (80% <mask>, 10% random, 10% kept)
    heldout_sentences: int = 200  # held-out sentences for perplexity before/after


def cache_dir(model_dir: Path, lang: str, settings: LanguageAdapterSettings) -> Path:
    """Where the adapter for (model, language, settings) lives."""
    facts = json.dumps(asdict(settings), sort_keys=True).encode()
    key = f"{lang}-{hashlib.sha256(facts).hexdigest()[:10]}"
    return xadapt_home() / "language_adapters" / model_identity(model_dir)["fingerprint"] / key


def _masked(tokenizer, sentences: list[str], settings: LanguageAdapterSettings, seed: int) -> list[dict]:
    """Tokenise and mask once, with a fixed generator, so every evaluation sees the same masks."""
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=settings.mask_prob, seed=seed)
    rows = [{"input_ids": ids} for ids in tokenizer(sentences, truncation=True, max_length=settings.max_length)["input_ids"]]
    return [collator(rows[i : i + 32]) for i in range(0, len(rows), 32)]


@torch.inference_mode()
def perplexity(composed: ComposedModel, batches: list[dict]) -> float:
    """exp of the mean cross-entropy over all masked tokens."""
    composed.eval()
    total, count = 0.0, 0
    for batch in batches:
        n = int((batch["labels"] != -100).sum())
        total += composed(**batch).loss.item() * n
        count += n
    return math.exp(total / max(count, 1))


def train_language_adapter(model_dir: Path, tokenizer, lang: str, settings: LanguageAdapterSettings, data_dir=None) -> Path:
    """Return the cached language adapter for `lang`, training it first if needed."""
    final = cache_dir(model_dir, lang, settings)
    if (final / DONE).is_file():
        return final
    corpus = load_corpus(lang, data_dir, heldout_lines=settings.heldout_sentences)
    seeded(0)
    model = AdapterModel.from_pretrained(model_dir)
    model.add_adapter(lang, "seq_bn_inv")
    model.add_head(MLM_HEAD, "masked_lm", from_checkpoint=model_dir if _has_mlm_head(model_dir) else None)
    model.train_adapter(lang, heads=MLM_HEAD)
    composed = ComposedModel(model, lang, head=MLM_HEAD)

    heldout = _masked(tokenizer, corpus.heldout, settings, seed=1)
    before = perplexity(composed, heldout)
    n_train = settings.steps * settings.batch_size
    rng = torch.Generator().manual_seed(0)
    picked = torch.randperm(len(corpus.train), generator=rng)[:n_train].tolist()
    encoded = [{"input_ids": ids} for ids in tokenizer([corpus.train[i] for i in picked], truncation=True, max_length=settings.max_length)["input_ids"]]
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=settings.mask_prob)
    _, seconds = train(
        composed,
        _ListDataset(encoded),
        collator,
        TrainSettings(lr=settings.lr, epochs=1, batch_size=settings.batch_size, seed=0, weight_decay=0.0),
    )
    after = perplexity(composed, heldout)

    with atomic_directory(final) as staging:
        model.save_adapter(staging / "adapter", lang)
        model.save_head(staging / "head", MLM_HEAD)
        facts = {
            "lang": lang,
            "settings": asdict(settings),
            "perplexity_before": before,
            "perplexity_after": after,
            "train_sentences": len(encoded),
            "heldout_sentences": len(corpus.heldout),
            "seconds": seconds,
            "trainable_params": model.trainable_parameter_count(),
            "corpus": [str(p) for p in corpus.sources],
        }
        (staging / DONE).write_text(json.dumps(facts, indent=2) + "\n", encoding="utf-8")
    return final


def _has_mlm_head(model_dir: Path) -> bool:
    config = json.loads((Path(model_dir) / "config.json").read_text(encoding="utf-8"))
    return any(arch.endswith("ForMaskedLM") for arch in config.get("architectures") or [])


class _ListDataset(torch.utils.data.Dataset):
    def __init__(self, rows: list[dict]):
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict:
        return self.rows[i]
