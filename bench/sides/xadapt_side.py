"""xadapt's side of every case, through xadapt's own API and training loop (`xadapt.train.task.train`).

Usage: python -m bench.sides.xadapt_side SPEC.json   (run by bench.harness; see bench.protocol)
"""

from __future__ import annotations

import sys

from transformers import AutoTokenizer

from bench.protocol import (
    Channel,
    CountingCollator,
    Pacer,
    PacingCallback,
    Tally,
    load_rows,
    model_facts,
    read_spec,
    run_inference,
    steps_per_epoch,
    trainer_epochs,
)
from xadapt.adapters import AdapterModel, Stack
from xadapt.train.features import collator_for
from xadapt.data import load_corpus
from xadapt.precision import FP32
from xadapt.train.language import MLM_HEAD, LanguageAdapterSettings, corpus_token_ids, language_adapter_model
from xadapt.methods import build_run_model
from xadapt.train.task import TASK, ComposedModel, TrainSettings, seeded, train

HEAD = "token_classification"


def composed_model(spec: dict) -> ComposedModel:
    """The model a training case trains: a language adapter with its MLM head, or a tagging run of `spec["method"]`."""
    precision = spec.get("precision", FP32)
    if spec["method"] == "language_adapter":
        composed = language_adapter_model(spec["model_dir"], spec["lang"], precision=precision)
        if spec.get("vocabulary") == "corpus":
            corpus = load_corpus(spec["lang"], heldout_lines=LanguageAdapterSettings().heldout_sentences)
            tokens = corpus_token_ids(AutoTokenizer.from_pretrained(spec["model_dir"]), corpus.train, LanguageAdapterSettings().max_length)
            composed.model.heads[MLM_HEAD].restrict_vocabulary(tokens)
        return composed
    model, composition_for = build_run_model(spec["method"], spec["model_dir"], HEAD, spec["num_labels"])
    return ComposedModel(model, composition_for(spec["lang"]), precision=precision)


def inference_model(spec: dict) -> ComposedModel:
    """MAD-X at inference: a language adapter stacked under a task adapter with its tagging head."""
    model = AdapterModel.from_pretrained(spec["model_dir"])
    model.add_adapter(spec["lang"], "seq_bn_inv")
    model.add_adapter(TASK, "seq_bn")
    model.add_head(TASK, HEAD, num_labels=spec["num_labels"])
    return ComposedModel(model, Stack(spec["lang"], TASK)).eval()


def facts(composed: ComposedModel) -> dict:
    mlm = composed.model.heads[MLM_HEAD] if MLM_HEAD in composed.model.heads else None
    restricted = mlm is not None and mlm.output_ids is not None
    return {
        **model_facts(composed.model.encoder, ("xadapt", "transformers", "torch")),
        "trainable_params": composed.model.trainable_parameter_count(),
        "output_vocabulary": mlm.output_ids.numel() if restricted else None,
    }


def main(argv: list[str]) -> None:
    spec = read_spec(argv)
    seeded(0)
    if spec["kind"] == "inference":
        composed = inference_model(spec)
        run_inference(spec, lambda batch: composed(**batch).logits.argmax(-1), facts(composed))
        return
    composed = composed_model(spec)
    tokenizer = AutoTokenizer.from_pretrained(spec["model_dir"])
    rows = load_rows(spec["workload"], padded=spec["padding"] == "fixed")
    settings = TrainSettings(
        lr=spec["lr"], epochs=trainer_epochs(spec, len(rows)), batch_size=spec["batch_size"], seed=0, weight_decay=spec["weight_decay"]
    )
    tally = Tally()
    pacer = Pacer(Channel(), tally, facts(composed))
    collator = CountingCollator(collator_for(HEAD, tokenizer), tally)
    train(composed, rows, collator, settings, callbacks=[PacingCallback(pacer, steps_per_epoch(spec, len(rows)))])


if __name__ == "__main__":
    main(sys.argv)
