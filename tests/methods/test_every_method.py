"""Every entry of the training-method registry, end to end through the CLI on a tiny model and real data:
`xadapt train` trains and saves it, `xadapt eval` reloads it and scores exactly what training recorded,
and the demo's predictor serves it from the catalog."""

import json

import pytest
from typer.testing import CliRunner

from xadapt.cli import app
from xadapt.demo.catalog import discover
from xadapt.demo.kinds import kind_for
from xadapt.demo.predictor import Predictor
from xadapt.data import get_task
from xadapt.methods import TRAINING_METHODS, get_method
from xadapt.models import model_identity

BUDGETED = "lora@2%"  # a single adapter method sized to a parameter budget
TEXT = "Timu ya taifa ilishinda mechi ya mpira jana jioni."


@pytest.fixture()
def home(tmp_path, monkeypatch):
    folder = tmp_path / "home"
    monkeypatch.setenv("XADAPT_HOME", str(folder))
    return folder


def _invoke(args):
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("method", [*TRAINING_METHODS, BUDGETED])
def test_every_method_trains_evaluates_reloads_and_serves(method, tiny_model, real_data, tmp_path, home):
    out = tmp_path / "runs" / "run"
    fusion = ["--fuse-tasks", "afrisenti,masakhaner", "--fuse-samples", 16] if get_method(method).fuses_adapters else []
    languages = ["--lang-adapter-steps", 4] if get_method(method).needs_language_adapters else []
    _invoke(["train", "--task", "sib200", "--lang", "sw", "--method", method, "--samples", 16, "--epochs", 2, "--patience", 0,
             "--model", tiny_model, "--data-dir", real_data, "--out", out, "--precision", "fp32", *fusion, *languages])
    facts = json.loads((out / "run.json").read_text())
    assert facts["method"] == method
    for part in get_method(method).parts:
        assert (out / part).is_dir(), part
    (record,) = json.loads((out / "metrics.json").read_text())
    assert record["status"] == "ok" and record["method"] == method
    if get_method(method).fuses_adapters:
        assert sorted(f["key"] for f in record["fused"]) == ["afrisenti-sw", "masakhaner-sw"] == sorted(f["key"] for f in facts["fused"])
        assert all(f["samples"] == 16 for f in record["fused"])

    # reloaded by `xadapt eval`: the same test sentences give exactly the recorded score
    output = _invoke(["eval", out, "--lang", "sw", "--data-dir", real_data])
    assert f"accuracy: {record['score']:.4f}" in output

    # served by the demo, composed in its shared model
    catalog = discover([out.parent], home / "language_adapters", model_identity(tiny_model)["fingerprint"])
    (run,) = catalog.usable_runs()
    prediction = Predictor(catalog, tiny_model).predict(kind_for(get_task("sib200")), run.id, None, {"text": TEXT})
    assert set(prediction.probabilities) == set(facts["labels"])
    assert sum(prediction.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
    if get_method(method).fuses_adapters:
        assert set(prediction.fusion_attention) == {"afrisenti-sw", "masakhaner-sw"}
        assert sum(prediction.fusion_attention.values()) == pytest.approx(1.0, abs=1e-5)
    else:
        assert prediction.fusion_attention is None


def test_a_budget_sizes_the_adapter_to_its_share_of_the_encoder_layers(tiny_model, real_data, tmp_path, home):
    out = tmp_path / "run"
    _invoke(["train", "--task", "sib200", "--lang", "sw", "--method", "seq_bn@5%", "--samples", 8, "--epochs", 1,
             "--model", tiny_model, "--data-dir", real_data, "--out", out, "--precision", "fp32"])
    (record,) = json.loads((out / "metrics.json").read_text())
    assert record["budget"]["share"] == pytest.approx(0.05, rel=0.25)
