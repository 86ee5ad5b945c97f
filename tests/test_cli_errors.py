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
                         (whole, "is damaged: it lacks model, base_model"),
                         (whole[:-1] + ', "model": {}, "base_model": {}}', "is damaged: base_model must be text, got {}")]:
        (run / "run.json").write_text(text)
        for command in (["eval", str(run), "--lang", "sw"], ["export", str(run), "--format", "adapters", "--out", str(tmp_path / "x")]):
            result = CliRunner().invoke(app, command)
            assert result.exit_code == 1 and f"{run / 'run.json'} {damage}" in result.output, result.output
            assert not (tmp_path / "x").exists()


def _first_error(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(app, args)
    assert "Traceback" not in result.output and "a bug in xadapt" not in result.output, result.output
    assert "━" not in result.output  # no progress bar for work that never started
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    return result.exit_code, " ".join(" ".join(lines[:1] + result.output.split("\n")[1:]).split()) if lines else result.output


@pytest.mark.parametrize("name, args, message", [
    ("binary study file", ["sweep", "--config", "{garbage}"], "is not text (UTF-8)"),
    ("empty study file", ["sweep", "--config", "{empty}"], "is empty; write in it the settings that differ"),
    ("a folder as the study file", ["sweep", "--config", "{folder}"], "is a directory; pass a YAML file"),
    ("text seeds", ["sweep", "--seeds", "abc"], "--seeds takes comma-separated ints, e.g. --seeds 0,1,2"),
    ("targets without a source", ["sweep", "--source", "none", "--targets", "yo"], "there is no --source to transfer from"),
    ("a file as the model", ["train", "--model", "{garbage}"], "is a file; --model takes a model directory"),
    ("a file as the data folder", ["data", "languages", "--data-dir", "{garbage}"], "is a file, not a folder"),
    ("a record without keys", ["report", "{empty_record}"], "was not written by a sweep (it lacks run_id"),
    ("a score that is no number", ["report", "{text_score}"], "score must be a number, got 'high'"),
    ("a whole line that is no record", ["report", "{garbage_line}"], "line 1 of"),
    ("no raw text", ["train-lang", "--lang", "xh"], "no raw text for 'xh'"),
    ("a run folder that does not exist", ["eval", "{folder}/missing", "--lang", "sw"], "missing does not exist; pass a directory"),
    ("a file as the run", ["export", "{garbage}", "--format", "adapters", "--out", "{folder}/x"], "garbage is a file; pass a directory"),
])
def test_bad_input_is_one_line_and_exit_1_before_any_work(tmp_path, monkeypatch, real_data, name, args, message):
    monkeypatch.setenv("XADAPT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XADAPT_DATA", str(real_data.resolve()))
    monkeypatch.chdir(tmp_path)  # a sweep's default --out (runs/...) is relative
    (tmp_path / "garbage").write_bytes(bytes(range(128, 256)) * 2)
    (tmp_path / "empty").write_text("# nothing yet\n")
    (tmp_path / "folder").mkdir()
    for study, line in (("empty_record", "{}"), ("text_score", '{"run_id": "r", "eval_lang": "sw", "method": "adapter", '
                                                              '"train_lang": "sw", "samples": 10, "score": "high"}'),
                        ("garbage_line", "garbage")):
        (tmp_path / study).mkdir()
        (tmp_path / study / "results.jsonl").write_text(line + "\n")
    paths = {name: tmp_path / name for name in ("garbage", "empty", "folder", "empty_record", "text_score", "garbage_line")}
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    code, error = _first_error([arg.format(**paths) for arg in args])
    assert code == 1 and message in error, error
    assert "training the" not in error  # refused before any work was announced
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if "home" not in p.parts) == before  # nothing written
