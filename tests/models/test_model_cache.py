"""The converted-model cache heals: a truncated file is told apart from a good cache by `xadapt model
list`, and `xadapt model prepare` (or any command that resolves the model) converts it again."""

import json

from typer.testing import CliRunner

from xadapt.cli import app
from xadapt.models import PACKAGED_MODELS, resolve_model
from xadapt.models.packaged_models import MANIFEST

NAME = "multilingual-e5-small"


def _list() -> str:
    result = CliRunner().invoke(app, ["model", "list"], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


def test_a_truncated_model_is_reported_broken_and_converted_again(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("XADAPT_HOME", str(tmp_path))
    folder = resolve_model(NAME)
    files = json.loads((folder / MANIFEST).read_text())["files"]
    assert set(files) == {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"}
    weights = folder / "model.safetensors"
    intact = weights.read_bytes()
    assert "prepared" in _list() and "broken" not in _list()

    weights.write_bytes(intact[: len(intact) // 2])
    assert PACKAGED_MODELS[NAME].broken() == f"model.safetensors has {len(intact) // 2:,} bytes, {len(intact):,} when it was written"
    assert "broken: model.safetensors has" in _list() and "`xadapt model prepare` converts it again" in _list()

    result = CliRunner().invoke(app, ["model", "prepare"])
    assert result.exit_code == 0 and "ready:" in result.output, result.output
    assert "is broken (model.safetensors has" in caplog.text
    assert weights.read_bytes() == intact and PACKAGED_MODELS[NAME].broken() is None

    (folder / "tokenizer.json").write_text("{}")  # same name, other content: caught by the hash
    assert PACKAGED_MODELS[NAME].broken() == "tokenizer.json has 2 bytes, " + f"{files['tokenizer.json']['size']:,} when it was written"
