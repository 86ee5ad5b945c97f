"""Config dataclasses: shipped presets, help text, validation and dict round trips."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from xadapt.adapters import METHODS, load_config_file, make_config
from xadapt.adapters.config import AdapterConfig, field_help
from xadapt.adapters.fusion import FusionConfig
from xadapt.adapters.registry import config_from_dict
from xadapt.errors import XadaptError

PRESETS = Path(__file__).resolve().parents[2] / "configs" / "adapters"


def test_every_method_has_a_preset_and_every_preset_a_method():
    assert sorted(p.stem for p in PRESETS.glob("*.yaml")) == sorted(METHODS)


@pytest.mark.parametrize("preset", sorted(PRESETS.glob("*.yaml")), ids=lambda p: p.stem)
def test_presets_load_into_their_dataclass(preset):
    config = load_config_file(preset)
    assert isinstance(config, METHODS[preset.stem].config_class)
    assert config == make_config(preset.stem)  # presets mirror the dataclass defaults


def _configs(config: AdapterConfig):
    yield config
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if isinstance(value, AdapterConfig):
            yield from _configs(value)


@pytest.mark.parametrize("method", sorted(METHODS))
def test_every_field_has_help_and_round_trips(method):
    config = make_config(method)
    for part in [*_configs(config), FusionConfig()]:
        for f in dataclasses.fields(part):
            assert field_help(type(part), f.name)
    assert config_from_dict(config.to_dict()) == config


@pytest.mark.parametrize(
    ("method", "options", "message"),
    [
        ("seq_bn", {"reduction_factor": 0}, "reduction_factor must be > 0"),
        ("seq_bn", {"non_linearity": "cosine"}, "unknown non_linearity"),
        ("seq_bn", {"after_ffn": False}, "needs after_attention or after_ffn"),
        ("seq_bn", {"leave_out": (-1,)}, "leave_out must list layer indices"),
        ("par_bn", {"scaling": "channel"}, "scaling must be a positive number or 'learned'"),
        ("par_bn", {"original_ln_before": True}, "no meaning for a parallel adapter"),
        ("seq_bn_inv", {"inv_reduction_factor": 0}, "inv_reduction_factor"),
        ("lora", {"matrices": ("q", "o")}, "matrices must be a non-empty subset"),
        ("lora", {"r": 0}, "rank r must be >= 1"),
        ("prefix", {"prefix_length": 0}, "prefix_length and bottleneck_size must be >= 1"),
        ("mam", {"adapter": {"parallel": False, "original_ln_before": False}}, "must be parallel"),
        ("seq_bn", {"reduction": 4}, "unknown option"),
    ],
)
def test_invalid_options_are_explained(method, options, message):
    with pytest.raises(XadaptError, match=message):
        make_config(method, **options)


def test_bad_preset_files_are_explained(tmp_path):
    (tmp_path / "x.yaml").write_text("- just a list\n")
    with pytest.raises(XadaptError, match="'method' key"):
        load_config_file(tmp_path / "x.yaml")
    (tmp_path / "y.yaml").write_text("method: seq_bn\nreduction_factor: [\n")
    with pytest.raises(XadaptError, match="cannot read adapter config"):
        load_config_file(tmp_path / "y.yaml")


def test_bottleneck_width():
    assert make_config("seq_bn").width(768) == 48
    assert make_config("seq_bn", bottleneck_size=10).width(768) == 10
    assert make_config("seq_bn", reduction_factor=64).width(32) == 1
    assert make_config("seq_bn_inv").width(384) == 192  # MAD-X language adapter: reduction factor 2


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"reduction_factor": "16"}, "'reduction_factor' of 'seq_bn' must be float, got '16'"),
        ({"after_ffn": "yes"}, "must be bool"),
        ({"leave_out": [0, "1"]}, "must be a list of int"),
        ({"bottleneck_size": 2.5}, "must be int or None"),
    ],
)
def test_wrong_types_are_explained(options, message):
    with pytest.raises(XadaptError, match=message):
        make_config("seq_bn", **options)


def test_lists_and_nested_dicts_are_normalised():
    assert make_config("seq_bn", leave_out=[1]).leave_out == (1,)
    mam = make_config("mam").replace(adapter={"scaling": "learned"})
    assert mam.adapter.scaling == "learned" and mam.adapter.parallel
