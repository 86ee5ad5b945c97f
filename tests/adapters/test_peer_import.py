"""Importing `adapters`-library folders without the library: config translation, name mapping, safety.

The full comparison against the real library is in tests/peer; these tests use hand-written
folders in its format (`adapter_config.json` + `pytorch_adapter.bin` / `adapter.safetensors`).
"""

from __future__ import annotations

import json
import pickle

import pytest
import torch
from adapter_helpers import tiny_model
from safetensors.torch import save_file

from xadapt.adapters.peer import translate_config
from xadapt.errors import XadaptError

SEQ_BN = {
    "mh_adapter": False, "output_adapter": True, "reduction_factor": 16, "non_linearity": "relu",
    "original_ln_before": True, "original_ln_after": True, "residual_before_ln": True,
    "adapter_residual_before_ln": False, "ln_before": False, "ln_after": False, "is_parallel": False,
    "scaling": 1.0, "use_gating": False, "inv_adapter": None, "leave_out": [], "dropout": 0.0, "phm_layer": False,
}  # fmt: skip


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    """A cache of this test's own: imported pickles are converted into it."""
    monkeypatch.setenv("XADAPT_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _peer_folder(path, config, tensors, *, safetensors=False, name="x", hidden_size=32):
    path.mkdir(parents=True)
    document = {"config": config, "hidden_size": hidden_size, "model_type": "bert", "name": name, "model_name": ""}
    (path / "adapter_config.json").write_text(json.dumps(document))
    if safetensors:
        save_file(tensors, str(path / "adapter.safetensors"))
    else:
        torch.save(tensors, path / "pytorch_adapter.bin")
    return path


def _seq_bn_tensors(prefix="bert."):
    torch.manual_seed(0)
    tensors = {}
    for i in range(2):
        block = f"{prefix}encoder.layer.{i}.output.adapters.x."
        tensors[block + "adapter_down.0.weight"] = torch.randn(2, 32)
        tensors[block + "adapter_down.0.bias"] = torch.randn(2)
        tensors[block + "adapter_up.weight"] = torch.randn(32, 2)
        tensors[block + "adapter_up.bias"] = torch.randn(32)
    return tensors


@pytest.mark.parametrize("safetensors", [False, True], ids=["pickle", "safetensors"])
def test_bottleneck_weights_land_in_place(tmp_path, safetensors):
    tensors = _seq_bn_tensors()
    folder = _peer_folder(tmp_path / "x", SEQ_BN, tensors, safetensors=safetensors)
    model = tiny_model()
    assert model.import_peer_adapter(folder) == "x"
    assert model.adapters["x"].config.method == "seq_bn"
    block = model.adapters["x"].blocks["1"]["ffn"].mlp
    assert torch.equal(block.up.weight, tensors["bert.encoder.layer.1.output.adapters.x.adapter_up.weight"])
    assert torch.equal(block.down.bias, tensors["bert.encoder.layer.1.output.adapters.x.adapter_down.0.bias"])


def test_lora_and_invertible_names_map(tmp_path):
    lora = {"architecture": "lora", "r": 2, "alpha": 4, "attn_matrices": ["q", "v"], "selfattn_lora": True}
    tensors = {
        f"encoder.layer.{i}.attention.self.{m}.loras.l.lora_{ab}": torch.randn(*((2, 32) if ab == "A" else (32, 2)))
        for i in range(2)
        for m in ("query", "value")
        for ab in "AB"
    }
    model = tiny_model()
    model.import_peer_adapter(_peer_folder(tmp_path / "l", lora, tensors, name="l"), name="mine")
    assert torch.equal(
        model.adapters["mine"].deltas["0"]["v"].lora_B, tensors["encoder.layer.0.attention.self.value.loras.l.lora_B"]
    )
    assert model.adapters["mine"].deltas["0"]["q"].scaling == 2.0

    inv = {**SEQ_BN, "inv_adapter": "nice", "inv_adapter_reduction_factor": 2}
    tensors = _seq_bn_tensors(prefix="")
    for part in "FG":
        tensors |= {
            f"invertible_adapters.x.{part}.0.weight": torch.randn(8, 16),
            f"invertible_adapters.x.{part}.0.bias": torch.randn(8),
        }
        tensors |= {
            f"invertible_adapters.x.{part}.2.weight": torch.randn(16, 8),
            f"invertible_adapters.x.{part}.2.bias": torch.randn(16),
        }
    model.import_peer_adapter(_peer_folder(tmp_path / "inv", inv, tensors))
    assert model.adapters["x"].config.method == "seq_bn_inv"
    assert torch.equal(model.adapters["x"].invertible.g.up.bias, tensors["invertible_adapters.x.G.2.bias"])


def test_config_translation_picks_the_method():
    assert translate_config(SEQ_BN).method == "seq_bn"
    assert translate_config({**SEQ_BN, "mh_adapter": True, "original_ln_before": False}).method == "double_seq_bn"
    parallel = {**SEQ_BN, "is_parallel": True, "scaling": 4.0, "reduction_factor": 2}
    assert translate_config(parallel).method == "par_bn"
    assert translate_config({**parallel, "scaling": "learned"}).method == "scaled_par_bn"
    prefix = {
        "architecture": "prefix_tuning",
        "prefix_length": 30,
        "bottleneck_size": 800,
        "non_linearity": "tanh",
        "leave_out": [],
    }
    mam = translate_config({"architecture": "union", "configs": [prefix, parallel]})
    assert mam.method == "mam" and mam.prefix.bottleneck_size == 800 and mam.adapter.scaling == 4.0


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({**SEQ_BN, "use_gating": True}, "does not implement"),
        ({**SEQ_BN, "phm_layer": True}, "does not implement"),
        ({**SEQ_BN, "reduction_factor": {"default": 16}}, "per-layer reduction factors"),
        ({**SEQ_BN, "inv_adapter": "glow"}, "only 'nice'"),
        ({"architecture": "prompt_tuning"}, "cannot import"),
        ({"architecture": "lora", "r": 8, "alpha": 8, "use_dora": True}, "does not implement"),
    ],
)
def test_unsupported_peer_options_are_refused(config, message):
    with pytest.raises(XadaptError, match=message):
        translate_config(config)


class _Payload:
    def __reduce__(self):
        return (exec, ("import pathlib; pathlib.Path('PWNED').write_text('ran')",))


def test_peer_pickles_that_carry_code_are_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = _peer_folder(tmp_path / "x", SEQ_BN, _seq_bn_tensors())
    (folder / "pytorch_adapter.bin").write_bytes(pickle.dumps({"w": _Payload()}, protocol=2))
    with pytest.raises(XadaptError, match="weights_only=True"):
        tiny_model().import_peer_adapter(folder)
    assert not (tmp_path / "PWNED").exists()


def test_peer_folder_for_another_model_is_refused(tmp_path):
    folder = _peer_folder(tmp_path / "x", SEQ_BN, _seq_bn_tensors(), hidden_size=768)
    with pytest.raises(XadaptError, match="hidden_size: saved for 768"):
        tiny_model().import_peer_adapter(folder)
    with pytest.raises(XadaptError, match="use import_peer_adapter"):
        tiny_model().load_adapter(folder)


def test_unknown_peer_weights_are_refused(tmp_path):
    tensors = _seq_bn_tensors() | {"bert.encoder.layer.0.output.adapters.x.gate.weight": torch.randn(1, 32)}
    with pytest.raises(XadaptError, match="does not implement"):
        tiny_model().import_peer_adapter(_peer_folder(tmp_path / "x", SEQ_BN, tensors))


def test_a_peer_pickle_is_unpickled_once_then_read_as_safetensors(tmp_path, monkeypatch, home):
    from safetensors.torch import load_file

    from xadapt.adapters.peer import converted_pickle

    tensors = _seq_bn_tensors()
    folder = _peer_folder(tmp_path / "x", SEQ_BN, tensors)
    first = tiny_model()
    first.import_peer_adapter(folder)
    converted = converted_pickle(folder / "pytorch_adapter.bin")
    assert converted.parent == home / "peer_weights"
    assert {k: v.tolist() for k, v in load_file(str(converted)).items()} == {k: v.tolist() for k, v in tensors.items()}

    def no_unpickling(*args, **kwargs):
        raise AssertionError("the pickle was unpickled a second time")
    monkeypatch.setattr(torch, "load", no_unpickling)
    second = tiny_model()
    second.import_peer_adapter(folder)
    for (name, a), (_, b) in zip(first.adapters["x"].state_dict().items(), second.adapters["x"].state_dict().items()):
        assert torch.equal(a, b), name


def test_a_refused_pickle_leaves_no_conversion(tmp_path, monkeypatch):
    from xadapt.adapters.peer import converted_pickle

    folder = _peer_folder(tmp_path / "x", SEQ_BN, _seq_bn_tensors())
    (folder / "pytorch_adapter.bin").write_bytes(pickle.dumps({"w": _Payload()}, protocol=2))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(XadaptError, match="weights_only=True"):
        tiny_model().import_peer_adapter(folder)
    assert not converted_pickle(folder / "pytorch_adapter.bin").exists() and not (tmp_path / "PWNED").exists()


def test_a_cache_that_cannot_be_written_costs_only_the_conversion(tmp_path, monkeypatch, caplog):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XADAPT_HOME", str(blocker / "home"))  # below a regular file: nothing can be created there
    tensors = _seq_bn_tensors()
    model = tiny_model()
    model.import_peer_adapter(_peer_folder(tmp_path / "x", SEQ_BN, tensors))
    assert torch.equal(model.adapters["x"].blocks["0"]["ffn"].mlp.up.weight, tensors["bert.encoder.layer.0.output.adapters.x.adapter_up.weight"])
    assert "could not cache the safetensors conversion" in caplog.text
