"""The `adapters` library's side (1.3.0, transformers 4.57): bottleneck and MAD-X training, `Stack` inference.

Built as its documentation does it: a flexible-head `BertAdapterModel`, `add_adapter` with the
method's config, `add_masked_lm_head` / `add_tagging_head`, `train_adapter`, and
`AdapterTrainer`. Runs with the peer virtual environment's python (tests/peer/setup_peer_env.sh).

Usage: python -m bench.sides.adapters_side SPEC.json   (run by bench.harness; see bench.protocol)
"""

from __future__ import annotations

import sys

from adapters import AdapterTrainer, BertAdapterModel, SeqBnInvConfig, Stack

from bench.protocol import model_facts, read_spec, run_inference, run_peer_training

HEAD = "task"
# MAD-X's language adapter: the library's `seq_bn_inv` with the paper's reduction factor 2 (its default
# is 16), the shape xadapt's `seq_bn_inv` has by default
LANGUAGE_ADAPTER = SeqBnInvConfig(reduction_factor=2)


def training_model(spec: dict) -> BertAdapterModel:
    """MAD-X language adapter with a masked-LM head, or a `seq_bn` task adapter with a tagging head."""
    model = BertAdapterModel.from_pretrained(spec["model_dir"])
    if spec["method"] == "language_adapter":
        model.add_adapter(spec["lang"], config=LANGUAGE_ADAPTER)
        model.add_masked_lm_head(HEAD)
        model.train_adapter(spec["lang"])
    else:
        model.add_adapter(HEAD, config="seq_bn")
        model.add_tagging_head(HEAD, num_labels=spec["num_labels"])
        model.train_adapter(HEAD)
    model.active_head = HEAD
    return model


def inference_model(spec: dict) -> BertAdapterModel:
    model = BertAdapterModel.from_pretrained(spec["model_dir"])
    model.add_adapter(spec["lang"], config=LANGUAGE_ADAPTER)
    model.add_adapter(HEAD, config="seq_bn")
    model.add_tagging_head(HEAD, num_labels=spec["num_labels"])
    model.set_active_adapters(Stack(spec["lang"], HEAD))
    model.active_head = HEAD
    return model.eval()


LIBRARIES = ("adapters", "transformers", "torch")


def main(argv: list[str]) -> None:
    spec = read_spec(argv)
    if spec["kind"] == "inference":
        model = inference_model(spec)
        run_inference(spec, lambda batch: model(**batch).logits.argmax(-1), model_facts(model, LIBRARIES))
        return
    model = training_model(spec)
    run_peer_training(AdapterTrainer, model, spec, model_facts(model, LIBRARIES))


if __name__ == "__main__":
    main(sys.argv)
