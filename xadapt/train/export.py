"""`xadapt export`: a trained run's adapters in the formats other libraries load, one registry entry per format.

- `adapters` (AdapterHub's `save_adapter` layout, `xadapt.adapters.peer_export`): the task adapter
  with its head in `OUT/<task>/`, and for a MAD-X run each language adapter in `OUT/<lang>/`;
  `model.load_adapter(OUT/<lang>, use_safetensors=True)`, the same for `OUT/<task>`, and
  `Stack(<lang>, <task>)` rebuild the run's model.
- `peft` (`xadapt.adapters.peft_lora`): a LoRA run's update in `OUT/`, for
  `PeftModel.from_pretrained(AutoModel.from_pretrained(base), OUT)`. PEFT's LoRA layout has no
  place for xadapt's head, which stays in the run's `head/`.

A method a format cannot express is refused with the formats that can; nothing is written then.
The export is built in a staging folder and appears whole or not at all.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from xadapt.adapters.peer_export import EXPORTABLE, EXPORTABLE_HEADS, export_adapter, export_head
from xadapt.adapters.io import DESCRIPTION_FILES
from xadapt.adapters.peft_lora import export_lora
from xadapt.atomic import atomic_directory
from xadapt.errors import XadaptError
from xadapt.methods import get_method
from xadapt.methods.adapter import ADAPTER_DIR
from xadapt.methods.finetune import MODEL_DIR
from xadapt.train.saved import SavedRun, load_run, read_run_facts
from xadapt.train.task import TASK


@dataclass(frozen=True)
class ExportFormat:
    name: str
    summary: str
    methods: tuple[str, ...]  # the adapter methods (of the run's task adapter) it can express
    heads: tuple[str, ...] | None  # the head kinds it can express; None: the format has no heads (the run's stays)
    # writes into an empty folder; returns what a user reads: (the part of the export it is about, or None; the note)
    write: Callable[[SavedRun, Path], list[tuple[str | None, str]]]


def _adapters(run: SavedRun, out: Path) -> list[tuple[str | None, str]]:
    model, facts = run.model, run.facts
    task = facts["task"]
    folder = out / task
    export_adapter(model.adapters[TASK], model.adapters[TASK].config, model.facts, task, folder)
    head = model.heads[TASK]
    export_head(head, head.kind, head.options, model.facts, task, folder, facts.get("labels"))
    notes = [(task, f"adapter and {head.kind} head {task!r} (model.load_adapter(folder, use_safetensors=True))")]
    for lang in sorted(facts.get("language_adapters") or {}):
        export_adapter(model.adapters[lang], model.adapters[lang].config, model.facts, lang, out / lang)
        notes.append((lang, f"language adapter {lang!r}; compose with Stack({lang!r}, {task!r})"))
    return notes


def _peft(run: SavedRun, out: Path) -> list[tuple[str | None, str]]:
    module = run.model.adapters[TASK]
    export_lora(module, module.config, run.model.facts, out, str(run.facts["base_model"]))
    return [("", "LoRA (PeftModel.from_pretrained on the bare encoder)"),
            (None, f"the {run.model.heads[TASK].kind} head is not part of PEFT's LoRA layout; it stays in the run's head/ folder")]


FORMATS: dict[str, ExportFormat] = {}


def register(export_format: ExportFormat) -> ExportFormat:
    if export_format.name in FORMATS:
        raise ValueError(f"export format {export_format.name!r} is registered twice")
    FORMATS[export_format.name] = export_format
    return export_format


register(ExportFormat("adapters", "the `adapters` library's save_adapter layout (AdapterHub), with heads", EXPORTABLE,
                     EXPORTABLE_HEADS, _adapters))
register(ExportFormat("peft", "PEFT's LoRA layout (adapter_config.json + adapter_model.safetensors)", ("lora",), None, _peft))


def _method_and_head(run_dir: Path) -> tuple[str, str]:
    """The adapter method of the run's task adapter and its head kind, read before any weights load."""
    facts = read_run_facts(run_dir)
    method = get_method(facts["method"])
    if method.whole_encoder:
        raise XadaptError(f"{run_dir} is a {method.demo_title} ({method.trains}), a transformers model already: "
                          f"load {run_dir / MODEL_DIR} with AutoModel.from_pretrained; `xadapt export` is for adapters")
    if ADAPTER_DIR not in method.parts:
        raise XadaptError(f"{run_dir} is a {method.name} run ({method.trains}), and the export formats carry one task adapter; "
                          "it stays in xadapt's own format")
    try:
        adapter = run_dir / ADAPTER_DIR / DESCRIPTION_FILES["adapter"]
        return json.loads(adapter.read_text(encoding="utf-8"))["config"]["method"], facts["head"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise XadaptError(f"{run_dir} is not a complete run ({type(err).__name__}: {err}); export a run that "
                          "`xadapt train` or a sweep finished") from None


def check_export(run_dir: Path, format_name: str, out: Path) -> ExportFormat:
    """The format to write, after checking the run, the method and the output folder (nothing is loaded)."""
    if format_name not in FORMATS:
        raise XadaptError(f"unknown export format {format_name!r}; choose from {', '.join(FORMATS)}")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise XadaptError(f"--out {out} exists and is not an empty folder; name a new one (an export never overwrites)")
    export_format, (method, head) = FORMATS[format_name], _method_and_head(run_dir)
    if method not in export_format.methods:
        able = [f.name for f in FORMATS.values() if method in f.methods]
        raise XadaptError(f"the {format_name} format cannot express a {method!r} adapter; "
                          + (f"export it with --format {' or '.join(able)}" if able else "no export format can; it stays in xadapt's own format"))
    if export_format.heads is not None and head not in export_format.heads:
        raise XadaptError(f"the {format_name} format cannot express this run's {head} head (it can: {', '.join(export_format.heads)}); "
                          "the run stays in xadapt's own format")
    return export_format


def export_run(run_dir: Path, format_name: str, out: Path) -> list[str]:
    """Write the run in `run_dir` in format `format_name` into the new folder `out`; what was written, line by line."""
    run_dir, out = Path(run_dir), Path(out)
    export_format = check_export(run_dir, format_name, out)
    run = load_run(run_dir)
    with atomic_directory(out) as staging:
        notes = export_format.write(run, staging)
    return [note if part is None else f"{out / part}: {note}" for part, note in notes]
