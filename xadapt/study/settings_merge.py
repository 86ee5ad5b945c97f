"""A study from its two sources: a study file (YAML, `configs/studies/`) and the flags of `xadapt sweep`.

Each `StudyConfig` field that holds a plain value (text, a number, a list of them; and `lrs`) is also a
flag, `--kebab-name`, with the field's default and help (`flag_fields`; the CLI derives its options from
them). `merge_study` is the one merge: the study file's values, then the flags typed on the command
line over them, then the `--protocol` and `--paper` profiles and the language-adapter and fusion
flags; a wrong setting is reported with the study-file line it came from.
"""

import dataclasses
import types
from dataclasses import Field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints

import yaml

from xadapt.errors import XadaptError
from xadapt.study.config import SettingError, StudyConfig
from xadapt.study.protocols import apply_protocol

NONE_WORDS = ("none", "null", "")  # what a flag of a setting that may be null (--source) says for null


def flag_name(name: str) -> str:
    """The flag of study setting `name`: `time_budget` -> `--time-budget`."""
    return "--" + name.replace("_", "-")


def value_type(name: str) -> Any:
    """The type of study setting `name` without its `None` (`int | None` -> `int`)."""
    hint = get_type_hints(StudyConfig)[name]
    if get_origin(hint) in (Union, types.UnionType):
        args = [arg for arg in get_args(hint) if arg is not type(None)]
        hint = args[0] if len(args) == 1 else hint
    return hint


def nullable(name: str) -> bool:
    hint = get_type_hints(StudyConfig)[name]
    return get_origin(hint) in (Union, types.UnionType) and type(None) in get_args(hint)


def is_list(name: str) -> bool:
    """Whether setting `name` is a list or mapping, written on the command line as comma-separated parts."""
    return get_origin(value_type(name)) in (list, dict)


def flag_fields() -> list[Field]:
    """The study settings that are also `xadapt sweep` flags: all but the nested parts (language_adapter,
    lr_sweep, long_training, fusion), which only a study file (or their own flags) sets."""
    return [f for f in fields(StudyConfig) if not is_dataclass(value_type(f.name))]


def default_of(f: Field) -> Any:
    return f.default_factory() if f.default is dataclasses.MISSING else f.default


def _items(parts: list[str], kind: type, name: str) -> list:
    try:
        return [kind(part) for part in parts]
    except ValueError:
        flag = flag_name(name)
        example = _field(name).metadata["example"]
        raise XadaptError(f"{flag} takes comma-separated {kind.__name__}s, e.g. {flag} {example}; got {','.join(parts)!r}") from None


def _field(name: str) -> Field:
    return next(f for f in fields(StudyConfig) if f.name == name)


def parse_learning_rates(parts: list[str], methods: list[str]) -> dict[str, list[float]]:
    """`--lrs 1e-4,3e-4` (parts ["1e-4", "3e-4"]) applies to every method of `methods`;
    `--lrs finetune=2e-5,adapter=1e-4:3e-4` names the rates per method."""
    if not any("=" in part for part in parts):
        rates = _items(parts, float, "lrs")
        return {m: rates for m in methods}
    per_method = {}
    for part in parts:
        method, _, values = part.partition("=")
        per_method[method] = _items([value for value in values.split(":") if value], float, "lrs")
    return per_method


def parse_flag(name: str, value: Any) -> Any:
    """The value of setting `name` that its flag gives: a list or mapping setting as the list of the flag's
    comma-separated parts (`xadapt.cli.common.split_names` splits them), typed here; text that says null
    (none) for a setting that may be null. (`lrs` is parsed by `parse_learning_rates`: it needs the methods.)"""
    kind = value_type(name)
    if isinstance(value, str) and nullable(name) and not is_list(name) and value.lower() in NONE_WORDS:
        return None
    if get_origin(kind) is list and isinstance(value, (list, tuple)):
        return _items(list(value), get_args(kind)[0], name)
    return value


def merge_study(
    file_values: dict,
    flags: dict[str, Any],
    *,
    study_file: Path | None = None,
    paper: bool = False,
    protocol: str | None = None,
    lang_adapter_steps: int | None = None,
    lang_adapter_vocabulary: str | None = None,
    fuse_tasks: list[str] | None = None,
    fuse_langs: list[str] | None = None,
) -> StudyConfig:
    """The study that a study file's `file_values` and the flags typed on the command line describe.

    `flags` holds only flags typed on the command line, by setting name (`flag_fields`); each beats the
    study file, and the `--paper` profile. `study_file` is where `file_values` came from: a wrong setting of
    it is reported with its line. `protocol` plans a paper's whole study (it refuses a study file that plans
    lr_sweep or long_training itself); `paper` switches to the full protocol for GPU machines.
    `lang_adapter_*` set the language adapters' steps and output vocabulary; `fuse_tasks` and `fuse_langs`
    what fusion runs fuse (`FusionSettings.tasks` and `.languages`)."""
    known = {f.name for f in flag_fields()}
    unknown = set(flags) - known
    if unknown:
        raise ValueError(f"not flags of study settings: {sorted(unknown)}; known: {sorted(known)}")
    given = {name: parse_flag(name, value) for name, value in flags.items() if name != "lrs"}
    study = _study_from({**file_values, **given}, study_file, from_flags=set(given))
    if flags.get("lrs") is not None:
        rates = flags["lrs"]
        if isinstance(rates, (list, tuple)):
            rates = parse_learning_rates(list(rates), study.methods)
        study = replace(study, lrs={**(study.lrs or {}), **rates})  # the file's rates for the methods the flag leaves out
    if protocol:
        if study.lr_sweep or study.long_training:
            raise XadaptError(f"--protocol {protocol} plans lr_sweep and long_training itself, and {study_file or 'the study'} "
                              "defines them too; remove them from the study file or drop --protocol")
        study = apply_protocol(protocol, study)
    if paper:  # the profile replaces the study's settings, but not those typed on the command line
        study = replace(study.paper_profile(), **{name: getattr(study, name) for name in flags})
    adapter = {key: value for key, value in (("steps", lang_adapter_steps), ("output_vocabulary", lang_adapter_vocabulary))
               if value is not None}
    if adapter:
        study = replace(study, language_adapter=replace(study.language_adapter, **adapter))
    fusion = {key: value for key, value in (("tasks", fuse_tasks), ("languages", fuse_langs)) if value is not None}
    if fusion:
        if study.fusion is None:
            raise XadaptError("--fuse-tasks and --fuse-langs say what fusion runs fuse, and the study has no fusion runs; "
                              "add fusion to --methods")
        study = replace(study, fusion=replace(study.fusion, **fusion))
    return study


def _study_from(values: dict, study_file: Path | None, from_flags: set[str]) -> StudyConfig:
    """The study of `values`; a wrong setting that came from the study file is reported with its line."""
    try:
        return StudyConfig.from_dict(values)
    except SettingError as err:
        line = key_line(study_file, err.key) if study_file and err.key not in from_flags else None
        if line is None:
            raise
        raise XadaptError(f"{study_file}:{line}: {err}") from None


def load_study_file(path: Path) -> dict:
    """The settings of the study file (YAML) at `path`, a mapping; each way it can be wrong is named."""
    if path.is_dir():
        raise XadaptError(f"study file {path} is a directory; pass a YAML file (see configs/studies/ for examples)")
    if not path.is_file():
        raise XadaptError(f"study file {path} does not exist; see configs/studies/ for examples")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise XadaptError(f"study file {path} is not text (UTF-8); pass a YAML file (see configs/studies/ for examples)") from None
    try:
        values = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        problem = getattr(err, "problem", None) or "not valid YAML"
        raise XadaptError(f"{path}{where}: {problem}; fix the YAML syntax (see configs/studies/ for examples)") from None
    if values is None:  # nothing but comments: running the default study instead would be a surprise of an hour
        raise XadaptError(f"study file {path} is empty; write in it the settings that differ from the default study "
                          "(task:, lang:, sizes: ...; configs/studies/default.yaml lists them all)")
    if not isinstance(values, dict):
        raise XadaptError(f"{path} must hold a mapping of study settings (task:, lang:, sizes: ...)")
    return values


def key_line(path: Path, key: str) -> int | None:
    """The line of top-level `key` in the YAML file at `path` (1-based), if it is there."""
    node = yaml.compose(path.read_text(encoding="utf-8"))
    for name, _ in getattr(node, "value", []):
        if getattr(name, "value", None) == key:
            return name.start_mark.line + 1
    return None

