"""Load what a run saved (`run.json` + adapter or fine-tuned model + head) for evaluation or inference."""

import json
from dataclasses import dataclass, replace
from pathlib import Path

from xadapt.adapters import AdapterModel
from xadapt.adapters.io import DESCRIPTION_FILES
from xadapt.adapters.peer import CONFIG_FILE as PEER_CONFIG
from xadapt.adapters.peer import PICKLE_FILE, SAFETENSORS_FILES
from xadapt.errors import XadaptError
from xadapt.hub import looks_like_hub_id, snapshot
from xadapt.methods import Composer, get_method
from xadapt.precision import FP32
from xadapt.train.task import TASK, ComposedModel

RUN_FILE = "run.json"
PEER_FILES = [PEER_CONFIG, *SAFETENSORS_FILES, PICKLE_FILE]  # what a hub adapter in the `adapters` layout needs


@dataclass
class SavedRun:
    facts: dict
    model: AdapterModel
    composer: Composer  # the run's composition for the name of a language adapter (its training method's)

    def composed(self, lang: str) -> ComposedModel:
        """The run's model as it predicts for `lang` (MAD-X: with that language's adapter), in the precision
        its record's scores were computed in, so evaluating it again reproduces them."""
        method, precision = get_method(self.facts["method"]), self.facts.get("precision", FP32)
        if method.needs_language_adapters and lang not in self.model.adapters:
            known = ", ".join(sorted(self.facts["language_adapters"])) or "none"
            raise XadaptError(
                f"this {method.name} run has no {lang} language adapter (it has {known}); "
                f"train one with `xadapt train-lang --lang {lang}` and pass it with --lang-adapter"
            )
        return ComposedModel(self.model, self.composer(lang), precision=precision)


def attach_language_adapter(model: AdapterModel, lang: str, source: str | Path) -> None:
    """Add the language adapter at `source` to `model` as `lang`: a folder of xadapt's (`xadapt
    train-lang`) or of the `adapters` library's, or a hub id of an adapter in the library's layout
    (an AdapterHub language adapter), downloaded or taken from the hub cache."""
    path = Path(source).expanduser()
    if path.is_dir():
        if (path / DESCRIPTION_FILES["adapter"]).is_file():
            model.load_adapter(path, name=lang)
        elif (path / PEER_CONFIG).is_file():
            model.import_peer_adapter(path, lang)
        else:
            raise XadaptError(f"{path} holds neither an xadapt adapter ({DESCRIPTION_FILES['adapter']}) nor an "
                              f"`adapters`-library one ({PEER_CONFIG})")
        return
    if not looks_like_hub_id(str(source)):
        raise XadaptError(f"language adapter folder {path} does not exist")
    folder = snapshot(str(source), PEER_FILES, "language adapter",
                      f"a folder from `xadapt train-lang --lang {lang}` (cached under $XADAPT_HOME/language_adapters/) "
                      "or a local `adapters`-library adapter folder")
    model.import_peer_adapter(folder, lang)


# what every reader of run.json needs, and of what kind
RUN_KEYS = {"method": str, "task": str, "head": str, "labels": list, "train_lang": str, "model": dict, "base_model": str}


def read_run_facts(directory: Path) -> dict:
    """The facts of the run saved in `directory` (its run.json); `XadaptError` naming the damage if it is
    missing, torn (a save cut off), not an object, or lacks a key every reader needs."""
    path = Path(directory) / RUN_FILE
    if not path.is_file():
        what = "holds no " + RUN_FILE if Path(directory).is_dir() else "is a file" if Path(directory).exists() else "does not exist"
        raise XadaptError(f"{directory} {what}; pass a directory written by `xadapt train` or a sweep")
    try:
        facts = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise XadaptError(f"{path} is damaged, not readable JSON ({err}): it was cut off or edited; train the run again") from None
    if not isinstance(facts, dict):
        raise XadaptError(f"{path} is damaged: it holds no JSON object; train the run again")
    missing = [key for key in RUN_KEYS if key not in facts]
    if missing:
        raise XadaptError(f"{path} is damaged: it lacks {', '.join(missing)}; train the run again")
    wrong = [key for key, kind in RUN_KEYS.items() if not isinstance(facts[key], kind)]
    if wrong:
        kind = RUN_KEYS[wrong[0]]
        raise XadaptError(f"{path} is damaged: {wrong[0]} must be {'text' if kind is str else f'a {kind.__name__}'}, "
                          f"got {facts[wrong[0]]!r}; train the run again")
    return facts


def load_run(directory: Path, extra_language_adapters: dict[str, str | Path] | None = None) -> SavedRun:
    """The run saved in `directory`; a MAD-X run also takes `extra_language_adapters` (language -> a
    source `attach_language_adapter` reads), for zero-shot transfer to languages it was not given."""
    directory = Path(directory)
    facts = read_run_facts(directory)
    method = get_method(facts["method"])
    if extra_language_adapters and not method.needs_language_adapters:
        raise XadaptError(f"a language adapter applies to MAD-X runs only; {directory} is a {facts['method']} run, "
                          "which uses none: drop --lang-adapter")
    model = AdapterModel.from_pretrained(method.encoder_dir(directory, facts))
    # parts were saved beside the base model the encoder comes from (a fine-tuned one: the same lineage, no warning)
    model.facts = replace(model.facts, name=facts["base_model"])
    composer = method.attach(model, directory, TASK)
    if method.needs_language_adapters:
        for lang, source in {**facts["language_adapters"], **(extra_language_adapters or {})}.items():
            attach_language_adapter(model, lang, source)
    model.eval()
    return SavedRun(facts, model, composer)
