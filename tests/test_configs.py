"""Every YAML shipped under configs/ loads into the dataclass it mirrors, with no key the code does not know.

configs/studies/*.yaml -> StudyConfig.from_dict; configs/adapters/*.yaml -> xadapt.adapters.load_config_file.
A YAML in any other folder fails here until it is given a loader below.
"""

import copy
from pathlib import Path

import pytest
import yaml

from xadapt.adapters import load_config_file
from xadapt.adapters.config import AdapterConfig
from xadapt.errors import XadaptError
from xadapt.study.config import StudyConfig
from xadapt.study.protocols import apply_protocol
from xadapt.study.sweep import validate

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
ALL_YAML = sorted(CONFIGS.rglob("*.yaml")) + sorted(CONFIGS.rglob("*.yml"))
STUDIES = sorted((CONFIGS / "studies").glob("*.yaml"))


def _id(path: Path) -> str:
    return str(path.relative_to(CONFIGS))


def _load(path: Path, kind: str | None = None):
    """`path` loaded as a shipped file of folder `kind` (default: the folder it lies in under configs/)."""
    kind = kind or path.relative_to(CONFIGS).parts[0]
    if kind == "studies":
        return StudyConfig.from_dict(yaml.safe_load(path.read_text(encoding="utf-8")))
    if kind == "adapters":
        return load_config_file(path)
    pytest.fail(f"{_id(path)}: no loader for configs/{kind}/; add one to tests/test_configs.py")


def _strings_that_are_numbers(value, where=""):
    """Values YAML 1.1 read as text although they spell numbers (`1e-4` without a dot)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _strings_that_are_numbers(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings_that_are_numbers(item, f"{where}[{i}]")
    elif isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return
        yield f"{where} = {value!r}"


def test_configs_are_shipped():
    assert len(ALL_YAML) >= 13
    assert {p.stem for p in STUDIES} >= {"default", "lr_sweep", "overfitting", "topic_sib200", "paper", "he2021"}


@pytest.mark.parametrize("path", ALL_YAML, ids=_id)
def test_every_yaml_loads_into_its_dataclass(path):
    config = _load(path)
    assert isinstance(config, StudyConfig if path.parent.name == "studies" else AdapterConfig)


@pytest.mark.parametrize("path", ALL_YAML, ids=_id)
def test_numbers_are_written_so_yaml_reads_numbers(path):
    found = list(_strings_that_are_numbers(yaml.safe_load(path.read_text(encoding="utf-8"))))
    assert not found, f"{_id(path)}: write these with a dot (1.0e-4), YAML reads them as text: {found}"


@pytest.mark.parametrize("path", ALL_YAML, ids=_id)
def test_an_unknown_key_is_refused(path, tmp_path):
    """The loaders fail on keys the dataclass lacks, so a typo in a shipped file cannot be silently ignored."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for broken in ({**data, "no_such_setting": 1}, _nested_typo(data)):
        if broken is None:
            continue
        copy_path = tmp_path / path.name
        copy_path.write_text(yaml.safe_dump(broken), encoding="utf-8")
        with pytest.raises(XadaptError, match="no_such_setting"):
            _load(copy_path, kind=path.relative_to(CONFIGS).parts[0])


def _nested_typo(data: dict) -> dict | None:
    """`data` with an unknown key inside its first nested settings mapping (language_adapter, mam's parts), if any.

    A study's `lrs` is keyed by method names, not settings; `validate` refuses unknown ones."""
    for key, value in data.items():
        if isinstance(value, dict) and key != "lrs":
            broken = copy.deepcopy(data)
            broken[key]["no_such_setting"] = 1
            return broken
    return None


@pytest.mark.parametrize("path", STUDIES, ids=_id)
def test_study_files_say_what_they_study_and_how_to_run_them(path):
    text = path.read_text(encoding="utf-8")
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert len(header) >= 3, "a comment header saying what the study is for"
    assert f"xadapt sweep --config configs/studies/{path.name}" in text


@pytest.mark.parametrize("path", STUDIES, ids=_id)
def test_shipped_studies_fit_the_shared_data(path, real_data):
    """Sizes within the splits, languages and raw text present: a shipped study starts."""
    study = validate(_load(path), real_data)
    assert study.training_sizes()


def test_default_study_is_the_dataclass_default():
    assert _load(CONFIGS / "studies" / "default.yaml") == StudyConfig()


def test_paper_study_is_the_paper_profile():
    assert _load(CONFIGS / "studies" / "paper.yaml") == StudyConfig().paper_profile()


def test_he2021_study_is_the_protocol():
    assert _load(CONFIGS / "studies" / "he2021.yaml") == apply_protocol("he2021", StudyConfig())


def test_study_files_vary_what_their_name_says():
    lr_sweep = _load(CONFIGS / "studies" / "lr_sweep.yaml")
    assert all(len(rates) >= 3 for rates in lr_sweep.learning_rates().values())
    assert lr_sweep.training_sizes() == [1000] and lr_sweep.source is None
    overfitting = _load(CONFIGS / "studies" / "overfitting.yaml")
    assert overfitting.epochs >= 10 and overfitting.patience is None and overfitting.training_sizes() == [100, 300]
    assert len(overfitting.seeds) >= 3  # paired by seed in the findings
    topic = _load(CONFIGS / "studies" / "topic_sib200.yaml")
    assert (topic.task, topic.lang, topic.source) == ("sib200", "sw", "en")
