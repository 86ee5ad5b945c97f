"""Plain transformers: full fine-tuning with `Trainer`, or LoRA through PEFT (`get_peft_model`) with `Trainer`.

Full fine-tuning runs with xadapt's own virtual environment (same transformers and torch as xadapt,
so the ratio is xadapt's overhead alone); LoRA runs with the peer environment, where PEFT is
installed next to transformers 4.57 (tests/peer/setup_peer_env.sh).

Usage: python -m bench.sides.hf_side SPEC.json   (run by bench.harness; see bench.protocol)
"""

from __future__ import annotations

import sys

from transformers import AutoModelForTokenClassification, Trainer

from bench.protocol import model_facts, read_spec, run_peer_training


def training_model(spec: dict):
    """BERT with a token-classification head; for LoRA wrapped by PEFT like xadapt's default (r 8, alpha 8, query and value)."""
    model = AutoModelForTokenClassification.from_pretrained(spec["model_dir"], num_labels=spec["num_labels"])
    if spec["method"] != "lora":
        return model, ("transformers", "torch")
    from peft import LoraConfig, TaskType, get_peft_model

    config = LoraConfig(task_type=TaskType.TOKEN_CLS, r=8, lora_alpha=8, lora_dropout=0.0, target_modules=["query", "value"])
    return get_peft_model(model, config), ("peft", "transformers", "torch")


def main(argv: list[str]) -> None:
    spec = read_spec(argv)
    model, libraries = training_model(spec)
    run_peer_training(Trainer, model, spec, model_facts(model, libraries))


if __name__ == "__main__":
    main(sys.argv)
