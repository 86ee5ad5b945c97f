"""Load what a run saved (`run.json` + adapter or fine-tuned model + head) for evaluation or inference."""

import json
from dataclasses import dataclass, replace
from pathlib import Path

from xadapt.adapters import AdapterModel, Stack
from xadapt.errors import XadaptError
from xadapt.precision import FP32
from xadapt.train.task import TASK, ComposedModel

RUN_FILE = "run.json"


@dataclass
class SavedRun:
    facts: dict
    model: AdapterModel

    def composed(self, lang: str) -> ComposedModel:
        """The run's model as it predicts for `lang` (MAD-X: with that language's adapter), in the precision
        its record's scores were computed in, so evaluating it again reproduces them."""
        method, precision = self.facts["method"], self.facts.get("precision", FP32)
        if method == "finetune":
            return ComposedModel(self.model, None, precision=precision)
        if method == "madx":
            if lang not in self.model.adapters:
                known = ", ".join(sorted(self.facts["language_adapters"])) or "none"
                raise XadaptError(
                    f"this MAD-X run has no {lang} language adapter (it has {known}); "
                    f"train one with `xadapt train-lang --lang {lang}` and pass it with --lang-adapter"
                )
            return ComposedModel(self.model, Stack(lang, TASK), precision=precision)
        return ComposedModel(self.model, TASK, precision=precision)


def load_run(directory: Path, extra_language_adapters: dict[str, Path] | None = None) -> SavedRun:
    directory = Path(directory)
    if not (directory / RUN_FILE).is_file():
        raise XadaptError(f"{directory} holds no {RUN_FILE}; pass a directory written by `xadapt train` or a sweep")
    facts = json.loads((directory / RUN_FILE).read_text(encoding="utf-8"))
    if facts["method"] == "finetune":
        model = AdapterModel.from_pretrained(directory / "model")
        # the head was saved beside the base model this one was fine-tuned from: the same lineage, no warning
        model.facts = replace(model.facts, name=facts["base_model"])
    else:
        model = AdapterModel.from_pretrained(facts["base_model"])
        model.load_adapter(directory / "adapter", name=TASK)
    model.load_head(directory / "head", name=TASK)
    if facts["method"] == "madx":
        for lang, path in {**facts["language_adapters"], **(extra_language_adapters or {})}.items():
            model.load_adapter(Path(path), name=lang)
    model.eval()
    return SavedRun(facts, model)
