"""What restricting the MLM output vocabulary costs: held-out perplexity after equal language-adapter training.

Trains the Swahili language adapter twice through xadapt's own pipeline (`train_language_adapter`),
with the full vocabulary and with the corpus vocabulary, same steps, batches and seed, in an empty
`XADAPT_HOME` (the converted model linked in), and prints both perplexities (always measured over
the whole vocabulary, on the same held-out sentences and masks) into the JSON file the spec names.

Usage: python -m bench.perplexity SPEC.json   (run by bench.suite: {"out": path, "settings": {...}})
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, replace
from pathlib import Path

from transformers import AutoTokenizer

from bench.protocol import read_spec
from xadapt.models import DEFAULT_MODEL, resolve_model
from xadapt.train.language import DONE, LanguageAdapterSettings, train_language_adapter
from xadapt.train.task import seeded

LANG = "sw"


def main(argv: list[str]) -> None:
    spec = read_spec(argv)
    settings = LanguageAdapterSettings(**spec["settings"])
    model_dir = resolve_model(DEFAULT_MODEL)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    result = {"settings": asdict(settings)}
    for vocabulary in ("full", "corpus"):
        seeded(0)
        folder = train_language_adapter(model_dir, tokenizer, LANG, replace(settings, output_vocabulary=vocabulary))
        result[vocabulary] = json.loads((Path(folder) / DONE).read_text(encoding="utf-8"))
    Path(spec["out"]).write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv)
