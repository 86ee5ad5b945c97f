"""Train a MAD-X language adapter: masked-LM on a language's raw text with `seq_bn_inv`.

The encoder and the MLM head stay frozen; only the language adapter (bottleneck per layer +
invertible adapter on the embeddings) trains, as in MAD-X. Logits are computed only at masked
positions. Held-out perplexity is measured with a fixed mask before and after training, so the
two numbers are comparable.

A model without a pretrained MLM head (multilingual-e5-small) first gets one shared head, fitted
once on the raw text of every language on disk with the encoder frozen. Every language adapter
is then trained against that same frozen head, so all of them map into one space and a task
adapter trained over one language's adapter still works over another's (zero-shot swapping). A
head fitted per language would let each adapter drift into a space of its own.

Heads are cached under ``$XADAPT_HOME/mlm_heads/<model fingerprint>/<settings hash>`` and adapters
under ``$XADAPT_HOME/language_adapters/<model fingerprint>/<lang>-<settings hash>``, both written
atomically (staging folder renamed into place), so every later run reuses them and an
interrupted training never leaves a folder that looks finished.
"""

import hashlib
import json
import logging
import math
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch
from transformers import DataCollatorForLanguageModeling

from xadapt.adapters import AdapterModel
from xadapt.atomic import atomic_directory, exclusive
from xadapt.data import load_corpus
from xadapt.data.corpora import corpus_languages
from xadapt.errors import XadaptError
from xadapt.integrity import check_files, file_list
from xadapt.models import model_identity
from xadapt.precision import FP32
from xadapt.settings import xadapt_home
from xadapt.train.task import ComposedModel, TrainSettings, seeded, train
from xadapt.train.tracking import Tracking

log = logging.getLogger(__name__)

MLM_HEAD = "mlm"
DONE = "language_adapter.json"
HEAD_DONE = "mlm_head.json"


@dataclass
class LanguageAdapterSettings:
    """Masked-LM training of a MAD-X language adapter (`seq_bn_inv`) on a language's raw text."""

    steps: int = 200  # optimiser steps (~0.9 s each on 2 Zen 4 cores); MAD-X trained 250k on a GPU
    batch_size: int = 16  # sentences per step
    max_length: int = 64  # tokens per sentence (longer ones are cut)
    lr: float = 1e-4  # MAD-X's rate; at 1e-3 a 100-step adapter moves layer-8 states to cosine 0.18 of the base's
    mask_prob: float = 0.15  # BERT masking rate (80% <mask>, 10% random, 10% kept)
    heldout_sentences: int = 200  # held-out sentences for perplexity before/after
    head_steps: int = 300  # steps fitting the shared MLM head, once per model, when the model has none
    head_lr: float = 1e-3  # learning rate fitting that head (a fresh head needs a larger rate than an adapter)
    # what the MLM head scores while the adapter trains: "full" (the whole vocabulary) or "corpus"
    # (only the tokens of the language's training text: 1.5x faster steps on multilingual-e5-small,
    # higher held-out perplexity; `python -m bench --cases perplexity` measures both)
    output_vocabulary: str = "full"

    def __post_init__(self):
        if self.output_vocabulary not in OUTPUT_VOCABULARIES:
            raise XadaptError(
                f"output_vocabulary must be one of {', '.join(OUTPUT_VOCABULARIES)}, got {self.output_vocabulary!r}"
            )

    def identity(self) -> dict:
        """The settings as study manifests and run ids record them: the output vocabulary only when it is
        not the full one, so studies, runs and adapters recorded before the setting existed keep their ids."""
        values = asdict(self)
        if values["output_vocabulary"] == "full":
            del values["output_vocabulary"]
        return values


OUTPUT_VOCABULARIES = ("full", "corpus")


HEAD_FIELDS = ("batch_size", "max_length", "mask_prob", "heldout_sentences", "head_steps", "head_lr")  # what the shared head depends on


def cache_dir(model_dir: Path, lang: str, settings: LanguageAdapterSettings, precision: str = FP32) -> Path:
    """Where the adapter for (model, language, settings, training precision) lives.

    The output vocabulary and a precision other than fp32 are suffixes rather than part of the
    hash, so adapters cached before those choices existed (full vocabulary, fp32) keep their folders."""
    facts = json.dumps(replace(settings, output_vocabulary="full").identity(), sort_keys=True).encode()
    suffix = "" if settings.output_vocabulary == "full" else f"-{settings.output_vocabulary}-vocabulary"
    suffix += "" if precision == FP32 else f"-{precision}"
    key = f"{lang}-{hashlib.sha256(facts).hexdigest()[:10]}{suffix}"
    return xadapt_home() / "language_adapters" / model_identity(model_dir)["fingerprint"] / key


def corpus_token_ids(tokenizer, sentences: list[str], max_length: int) -> torch.Tensor:
    """The distinct token ids of `sentences` as training cuts them: an output vocabulary for the MLM head."""
    seen: set[int] = set()
    for start in range(0, len(sentences), 4096):
        for ids in tokenizer(sentences[start : start + 4096], truncation=True, max_length=max_length)["input_ids"]:
            seen.update(ids)
    return torch.tensor(sorted(seen))


def _masked(tokenizer, sentences: list[str], settings: LanguageAdapterSettings, seed: int) -> list[dict]:
    """Tokenise and mask once, from a fixed seed, so every evaluation sees the same masks.

    The seed goes to torch's generator for the block (restored after), not to the collator's `seed`,
    which refuses to work in a worker process that is not a DataLoader's (the sweep's worker pool)."""
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=settings.mask_prob)
    rows = [{"input_ids": ids} for ids in tokenizer(sentences, truncation=True, max_length=settings.max_length)["input_ids"]]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return [collator(rows[i : i + 32]) for i in range(0, len(rows), 32)]


@torch.inference_mode()
def perplexity(composed: ComposedModel, batches: list[dict]) -> float:
    """exp of the mean cross-entropy over all masked tokens, computed in fp32 whatever the training precision."""
    composed.eval()
    total, count = 0.0, 0
    with composed.computing_in(FP32):
        for batch in batches:
            n = int((batch["labels"] != -100).sum())
            total += composed(**batch).loss.item() * n
            count += n
    return math.exp(total / max(count, 1))


def is_cached(final: Path, done: str) -> bool:
    """Whether the cache folder `final` is finished (its `done` file, written last, exists) and intact: every file
    it lists has its size and hash. A broken one is trained again (caches written before files were listed are trusted)."""
    try:
        files = json.loads((final / done).read_text(encoding="utf-8")).get("files")
    except FileNotFoundError:
        return False
    except (OSError, ValueError, AttributeError):
        problem = f"{done} is unreadable"
    else:
        problem = check_files(final, files) if files is not None else None
    if problem:
        log.warning("the cache %s is broken (%s); training it again", final, problem)
    return problem is None


def train_language_adapter(model_dir: Path, tokenizer, lang: str, settings: LanguageAdapterSettings, data_dir=None,
                           precision: str = FP32, tracking: Tracking = Tracking()) -> Path:
    """Return the cached language adapter for `lang`, training it first (in `precision`, reported to
    `tracking` under its cache folder's name) if needed.

    With `settings.output_vocabulary == "corpus"` the MLM head scores only the tokens of the
    language's training text while the adapter trains (`MaskedLMHead.restrict_vocabulary`: a
    cheaper decoder and softmax); perplexities are always over the whole vocabulary.
    """
    final = cache_dir(model_dir, lang, settings, precision)
    if is_cached(final, DONE):
        return final
    with exclusive(final):  # another sweep sharing this cache may be training it right now
        if not is_cached(final, DONE):
            _train_language_adapter(final, model_dir, tokenizer, lang, settings, data_dir, precision, tracking)
    return final


def _train_language_adapter(final: Path, model_dir: Path, tokenizer, lang: str, settings: LanguageAdapterSettings,
                            data_dir, precision: str, tracking: Tracking) -> None:
    corpus = load_corpus(lang, data_dir, heldout_lines=settings.heldout_sentences)
    head = shared_mlm_head(model_dir, tokenizer, settings, data_dir, precision, tracking)
    seeded(0)
    composed = language_adapter_model(model_dir, lang, head, precision)
    model = composed.model

    heldout = _masked(tokenizer, corpus.heldout, settings, seed=1)
    before = perplexity(composed, heldout)
    rows = _sample_rows(tokenizer, corpus.train, settings.steps * settings.batch_size, settings, seed=0)
    mlm_head = model.heads[MLM_HEAD]
    if settings.output_vocabulary == "corpus":
        mlm_head.restrict_vocabulary(corpus_token_ids(tokenizer, corpus.train, settings.max_length))
    vocabulary = None if mlm_head.output_ids is None else mlm_head.output_ids.numel()
    seconds = _fit(composed, rows, tokenizer, settings, settings.lr, tracking, f"language-adapter-{final.name}")
    mlm_head.restrict_vocabulary(None)
    after = perplexity(composed, heldout)

    with atomic_directory(final) as staging:
        model.save_adapter(staging / "adapter", lang)
        model.save_head(staging / "head", MLM_HEAD)
        facts = {
            "lang": lang,
            "settings": asdict(settings),
            "precision": precision,
            "perplexity_before": before,
            "perplexity_after": after,
            "train_sentences": len(rows),
            "heldout_sentences": len(corpus.heldout),
            "seconds": seconds,
            "threads": torch.get_num_threads(),
            "output_vocabulary": vocabulary,  # tokens the MLM head scored while training; None: all
            "trainable_params": model.trainable_parameter_count(),
            "corpus": [str(p) for p in corpus.sources],
            "mlm_head": str(head) if head else "pretrained",
        }
        facts["files"] = file_list(staging)  # checked before each use (is_cached)
        (staging / DONE).write_text(json.dumps(facts, indent=2) + "\n", encoding="utf-8")


def shared_mlm_head(model_dir: Path, tokenizer, settings: LanguageAdapterSettings, data_dir=None, precision: str = FP32,
                    tracking: Tracking = Tracking()) -> Path | None:
    """The cached MLM head every language adapter of a head-less model trains against; None when
    the model has a pretrained MLM head of its own.

    Fitted on equal shares of every language's raw-text training lines (held-out lines excluded)
    with the encoder frozen, for `settings.head_steps` steps.
    """
    if _has_mlm_head(model_dir):
        return None
    final = mlm_head_dir(model_dir, settings, data_dir, precision)
    if is_cached(final, HEAD_DONE):
        return final / "head"
    with exclusive(final):  # fitted once, however many sweeps or workers ask at the same time
        if not is_cached(final, HEAD_DONE):
            _fit_shared_mlm_head(final, model_dir, tokenizer, settings, data_dir, precision, tracking)
    return final / "head"


def _fit_shared_mlm_head(final: Path, model_dir: Path, tokenizer, settings: LanguageAdapterSettings, data_dir,
                         precision: str, tracking: Tracking) -> None:
    languages = corpus_languages(data_dir)
    corpora = [load_corpus(lang, data_dir, heldout_lines=settings.heldout_sentences) for lang in languages]
    share = math.ceil(settings.head_steps * settings.batch_size / len(languages))
    rows = [row for i, corpus in enumerate(corpora) for row in _sample_rows(tokenizer, corpus.train, share, settings, seed=i)]
    order = torch.randperm(len(rows), generator=torch.Generator().manual_seed(0)).tolist()
    rows = [rows[i] for i in order][: settings.head_steps * settings.batch_size]
    heldout_share = max(1, settings.heldout_sentences // len(languages))
    heldout = _masked(tokenizer, [line for corpus in corpora for line in corpus.heldout[:heldout_share]], settings, seed=1)

    seeded(0)
    model = AdapterModel.from_pretrained(model_dir)
    model.add_head(MLM_HEAD, "masked_lm")
    model.requires_grad_(False)
    model.heads[MLM_HEAD].requires_grad_(True)  # the transform and bias; the tied decoder is the frozen embedding matrix
    composed = ComposedModel(model, None, head=MLM_HEAD, precision=precision)
    before = perplexity(composed, heldout)
    seconds = _fit(composed, rows, tokenizer, settings, settings.head_lr, tracking, f"mlm-head-{final.name}")
    after = perplexity(composed, heldout)
    with atomic_directory(final) as staging:
        model.save_head(staging / "head", MLM_HEAD)
        summary = {"languages": languages, "settings": _head_settings(settings), "precision": precision, "perplexity_before": before,
                   "perplexity_after": after, "train_sentences": len(rows), "seconds": seconds}
        summary["files"] = file_list(staging)
        (staging / HEAD_DONE).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


def mlm_head_dir(model_dir: Path, settings: LanguageAdapterSettings, data_dir=None, precision: str = FP32) -> Path:
    """Where the shared MLM head for (model, settings, languages with raw text, training precision) lives;
    fp32 is left out of the hash, so heads cached before the choice existed keep their folders."""
    languages = corpus_languages(data_dir)
    if not languages:
        raise XadaptError("no raw text found to fit a masked-LM head; check --data-dir / $XADAPT_DATA")
    facts = {**_head_settings(settings), "languages": languages, **({} if precision == FP32 else {"precision": precision})}
    facts = json.dumps(facts, sort_keys=True).encode()
    return xadapt_home() / "mlm_heads" / model_identity(model_dir)["fingerprint"] / hashlib.sha256(facts).hexdigest()[:10]


def _head_settings(settings: LanguageAdapterSettings) -> dict:
    return {name: getattr(settings, name) for name in HEAD_FIELDS}


def needs_head_fit(model_dir: Path, settings: LanguageAdapterSettings, data_dir=None, precision: str = FP32) -> bool:
    """Whether training a language adapter would first have to fit the shared MLM head."""
    return not _has_mlm_head(model_dir) and not is_cached(mlm_head_dir(model_dir, settings, data_dir, precision), HEAD_DONE)


def _sample_rows(tokenizer, lines: list[str], count: int, settings: LanguageAdapterSettings, seed: int) -> list[dict]:
    """`count` lines drawn without replacement with a fixed generator, tokenised."""
    picked = torch.randperm(len(lines), generator=torch.Generator().manual_seed(seed))[:count].tolist()
    ids = tokenizer([lines[i] for i in picked], truncation=True, max_length=settings.max_length)["input_ids"]
    return [{"input_ids": row} for row in ids]


def _fit(composed: ComposedModel, rows: list[dict], tokenizer, settings: LanguageAdapterSettings, lr: float,
         tracking: Tracking, run_name: str) -> float:
    """One pass of masked-LM training over `rows` at `lr`, reported to `tracking` as `run_name`; the seconds it took."""
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=settings.mask_prob)
    train_settings = TrainSettings(lr=lr, epochs=1, batch_size=settings.batch_size, seed=0, weight_decay=0.0)
    _, seconds = train(composed, _ListDataset(rows), collator, train_settings, tracking=tracking, run_name=run_name)
    return seconds


def language_adapter_model(model_dir: Path, lang: str, head: Path | None = None, precision: str = FP32) -> ComposedModel:
    """A fresh `seq_bn_inv` adapter `lang` under an MLM head, set to train in `precision`.

    The head comes from `head` (a saved head folder) or the model's pretrained MLM head, and then
    stays frozen, as in MAD-X; only a model with neither gets a fresh head, which trains too.
    """
    model = AdapterModel.from_pretrained(model_dir)
    model.add_adapter(lang, "seq_bn_inv")
    pretrained = _has_mlm_head(model_dir)
    if head is not None:
        model.load_head(head, name=MLM_HEAD)
    else:
        model.add_head(MLM_HEAD, "masked_lm", from_checkpoint=model_dir if pretrained else None)
    model.train_adapter(lang, heads=[] if head is not None or pretrained else MLM_HEAD)
    return ComposedModel(model, lang, head=MLM_HEAD, precision=precision)


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
