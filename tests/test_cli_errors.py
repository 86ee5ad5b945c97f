"""Every command's last resort: an expected failure is one line and exit 1; an unexpected one (a bug)
is one line naming the file that keeps its traceback, and exit 3 — never a traceback on the terminal."""

import errno
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import xadapt.cli.model as model_cli
from xadapt.cli import app
from xadapt.cli.common import BUG_EXIT_CODE


def test_a_bug_prints_one_line_and_keeps_the_traceback_in_a_file(tmp_path, monkeypatch):
    monkeypatch.setenv("XADAPT_HOME", str(tmp_path))

    def broken(name):
        raise ValueError(f"cannot convert {name}\nsecond line")

    monkeypatch.setattr(model_cli, "resolve_model", broken)
    result = CliRunner().invoke(app, ["model", "prepare", "some-model"])
    output = result.output
    assert result.exit_code == BUG_EXIT_CODE and "Traceback" not in result.output
    found = re.search(r"error: unexpected ValueError: cannot convert some-model \(a bug in xadapt; the full traceback is in (\S+)\)", output)
    assert found, output
    kept = Path(found.group(1)).read_text(encoding="utf-8")
    assert kept.startswith("Traceback") and "in broken" in kept and "second line" in kept
    assert Path(found.group(1)).parent == tmp_path / "crashes"


@pytest.mark.parametrize("error", [
    OSError(errno.ENOSPC, "No space left on device", "/full/out/results.jsonl"),
    RuntimeError("a run failed in a worker process:\nSafetensorError: Error while serializing: I/O error: No space left on device (os error 28)"),
])
def test_a_full_disk_is_an_expected_failure_that_says_how_to_resume(tmp_path, monkeypatch, error):
    monkeypatch.setenv("XADAPT_HOME", str(tmp_path))

    def full(name):
        try:
            raise error
        except Exception as err:
            raise ValueError("saving failed") from err  # found through the chain of causes

    monkeypatch.setattr(model_cli, "resolve_model", full)
    result = CliRunner().invoke(app, ["model", "prepare", "some-model"])
    [line] = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert result.exit_code == 1 and "Traceback" not in result.output and not (tmp_path / "crashes").exists()
    assert line.startswith("error: no space left on the disk") and line.endswith("then run the same command again to resume")
    assert ("writing /full/out/results.jsonl" in line) == isinstance(error, OSError)


def test_an_expected_failure_is_one_line_and_exit_1(tmp_path, monkeypatch):
    monkeypatch.setenv("XADAPT_HOME", str(tmp_path))
    result = CliRunner().invoke(app, ["model", "prepare", str(tmp_path / "missing")])
    [line] = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert line == f"error: model directory {tmp_path / 'missing'} does not exist"


def test_a_torn_or_incomplete_run_json_is_named_as_damaged(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    whole = '{"method": "adapter", "task": "wikiann", "head": "token_classification", "labels": ["O"], "train_lang": "sw"}'
    for text, damage in [(whole[:40], "is damaged, not readable JSON"), ("[1, 2]", "is damaged: it holds no JSON object"),
                         (whole, "is damaged: it lacks model, base_model")]:
        (run / "run.json").write_text(text)
        for command in (["eval", str(run), "--lang", "sw"], ["export", str(run), "--format", "adapters", "--out", str(tmp_path / "x")]):
            result = CliRunner().invoke(app, command)
            assert result.exit_code == 1 and f"{run / 'run.json'} {damage}" in result.output, result.output
            assert not (tmp_path / "x").exists()
