"""Writing adapters in the `adapters` library's and PEFT's layouts: xadapt reads its own exports back to
the same function, and what a format cannot express is refused by name. (Loading the exports into
the libraries themselves is tests/peer.)"""

from __future__ import annotations

import json

import pytest
import torch
from adapter_helpers import randomize, tiny_model
from safetensors.torch import save_file

from xadapt.adapters import Stack, make_config
from xadapt.adapters.peer_export import ADAPTER_CONFIG, HEAD_CONFIG, export_adapter, export_head, library_config
from xadapt.adapters.peft_lora import CONFIG_FILE, WEIGHTS_FILE, export_lora
from xadapt.errors import XadaptError

IDS = torch.tensor([[5, 6, 7, 8, 9], [10, 11, 12, 0, 0]])
MASK = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("XADAPT_HOME", str(tmp_path / "home"))


def _with(method: str, name: str = "a", **options):
    model = tiny_model()
    model.add_adapter(name, make_config(method, **options))
    randomize(model.adapters[name])
    return model


def _out(model, composition):
    with torch.no_grad():
        return model(input_ids=IDS, attention_mask=MASK, composition=composition).last_hidden_state


@pytest.mark.parametrize(("method", "options"), [
    ("seq_bn", {"reduction_factor": 4}), ("double_seq_bn", {"reduction_factor": 8}), ("par_bn", {"reduction_factor": 4}),
    ("scaled_par_bn", {"reduction_factor": 4}), ("seq_bn_inv", {"reduction_factor": 2}),
    ("lora", {"r": 4, "alpha": 16, "matrices": ("q", "k")}), ("seq_bn", {"bottleneck_size": 8, "leave_out": (0,)}),
])
def test_an_adapters_export_reads_back_to_the_same_function(tmp_path, method, options):
    model = _with(method, **options)
    folder = export_adapter(model.adapters["a"], model.adapters["a"].config, model.facts, "a", tmp_path / "x")
    document = json.loads((folder / ADAPTER_CONFIG).read_text())
    assert (document["model_class"], document["hidden_size"], document["name"]) == ("BertAdapterModel", 32, "a")
    again = tiny_model()
    assert again.import_peer_adapter(folder) == "a"
    if "bottleneck_size" in options:  # the library knows only reduction factors: 32 / 8 comes back as 4.0
        assert again.adapters["a"].config.reduction_factor == 4.0 and again.adapters["a"].config.width(32) == 8
    else:
        assert again.adapters["a"].config == model.adapters["a"].config
    assert torch.equal(_out(again, "a"), _out(model, "a"))


def test_a_peft_export_reads_back_and_names_only_what_peft_knows(tmp_path):
    model = _with("lora", r=4, alpha=8, matrices=("q", "v"), leave_out=(1,))
    folder = export_lora(model.adapters["a"], model.adapters["a"].config, model.facts, tmp_path / "p", "base")
    document = json.loads((folder / CONFIG_FILE).read_text())
    assert (document["peft_type"], document["r"], document["lora_alpha"]) == ("LORA", 4, 8)
    assert document["target_modules"] == ["query", "value"] and document["layers_to_transform"] == [0]
    again = tiny_model()
    again.import_peer_adapter(folder, "b")
    assert again.adapters["b"].config == model.adapters["a"].config
    assert torch.equal(_out(again, "b"), _out(model, "a"))


def test_a_head_goes_beside_its_adapter_under_the_librarys_module_numbers(tmp_path):
    model = _with("seq_bn", reduction_factor=4)
    model.add_head("a", "sequence_classification", num_labels=3)
    randomize(model.heads["a"], seed=3)
    head = model.heads["a"]
    folder = export_head(head, head.kind, head.options, model.facts, "a", tmp_path / "x", ["neg", "neu", "pos"])
    document = json.loads((folder / HEAD_CONFIG).read_text())
    assert document["config"]["head_type"] == "classification" and document["config"]["num_labels"] == 3
    assert document["config"]["label2id"] == {"neg": 0, "neu": 1, "pos": 2}
    from safetensors.torch import load_file
    tensors = load_file(str(folder / "model_head.safetensors"))
    assert torch.equal(tensors["heads.a.1.weight"], head.scorer.dense.weight)
    assert torch.equal(tensors["heads.a.4.bias"], head.scorer.out_proj.bias)
    model.add_head("c", "multiple_choice")
    with pytest.raises(XadaptError, match="no 'multiple_choice' head"):
        export_head(model.heads["c"], "multiple_choice", model.heads["c"].options, model.facts, "c", tmp_path / "y")


@pytest.mark.parametrize(("method", "options"), [("prefix", {"prefix_length": 4, "bottleneck_size": 8}), ("mam", {})])
def test_methods_the_format_cannot_express_are_refused_by_name(method, options):
    config = make_config(method, **options)
    with pytest.raises(XadaptError, match=f"cannot express a '{method}' adapter; it can: seq_bn"):
        library_config(config, tiny_model().facts)


@pytest.mark.parametrize(("change", "message"), [
    ({"use_dora": True}, "use_dora"), ({"bias": "all"}, "bias"), ({"modules_to_save": ["classifier"]}, "modules_to_save"),
    ({"target_modules": ["query", "dense"]}, "adapts \\['dense'\\]"), ({"target_modules": ".*query"}, "not a list"),
    ({"peft_type": "IA3"}, "'IA3' adapter"),
])
def test_peft_options_xadapt_does_not_implement_are_refused(tmp_path, change, message):
    model = _with("lora", r=2, alpha=2, matrices=("q",))
    folder = export_lora(model.adapters["a"], model.adapters["a"].config, model.facts, tmp_path / "p", "base")
    document = json.loads((folder / CONFIG_FILE).read_text())
    (folder / CONFIG_FILE).write_text(json.dumps({**document, **change}))
    with pytest.raises(XadaptError, match=message):
        tiny_model().import_peer_adapter(folder)


def test_a_peft_folder_with_weights_of_other_modules_is_refused(tmp_path):
    model = _with("lora", r=2, alpha=2, matrices=("q",))
    folder = export_lora(model.adapters["a"], model.adapters["a"].config, model.facts, tmp_path / "p", "base")
    save_file({"base_model.model.encoder.layer.0.output.dense.lora_A.weight": torch.zeros(2, 32)}, str(folder / WEIGHTS_FILE))
    with pytest.raises(XadaptError, match="not a LoRA update of an attention projection"):
        tiny_model().import_peer_adapter(folder)


def test_a_madx_stack_exports_as_two_folders_that_compose_again(tmp_path):
    model = _with("seq_bn_inv", "sw", reduction_factor=2)
    model.add_adapter("task", make_config("seq_bn", reduction_factor=4))
    randomize(model.adapters["task"], seed=5)
    for name in ("sw", "task"):
        export_adapter(model.adapters[name], model.adapters[name].config, model.facts, name, tmp_path / name)
    again = tiny_model()
    for name in ("sw", "task"):
        again.import_peer_adapter(tmp_path / name)
    assert torch.equal(_out(again, Stack("sw", "task")), _out(model, Stack("sw", "task")))
