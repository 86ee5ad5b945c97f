"""`xadapt data list` and `xadapt data languages` through Typer's test runner."""

import re

from typer.testing import CliRunner

from xadapt.cli.data import data_app

runner = CliRunner()


def _rows(output: str) -> set[tuple[str, str]]:
    """(task, lang) pairs of the rendered table's data rows."""
    return set(re.findall(r"│ (\w+)\s+│ (\w+)\s+│", output))


def test_list_shows_swahili_for_the_main_tasks(real_data):
    result = runner.invoke(data_app, ["list", "--data-dir", str(real_data)])
    assert result.exit_code == 0, result.output
    rows = _rows(result.output)
    for task in ("sib200", "wikiann", "masakhaner", "xnli", "afrisenti", "xcopa"):
        assert (task, "sw") in rows, task
    assert ("wikiann", "en") in rows and ("afrisenti", "en") not in rows
    assert "Raw text for masked-LM language adapters: am, en, ha, ig, sw, yo" in result.output


def test_list_filters_by_language_and_task(real_data):
    result = runner.invoke(data_app, ["list", "--data-dir", str(real_data), "--lang", "swa", "--task", "sentiment"])
    assert result.exit_code == 0, result.output
    assert _rows(result.output) == {("afrisenti", "sw")}
    assert re.search(r"1810\s+│\s+453\s+│\s+748", result.output)


def test_list_on_fixture_layout(tiny_data):
    result = runner.invoke(data_app, ["list", "--data-dir", str(tiny_data)])
    assert result.exit_code == 0, result.output
    expected = {("sib200", "sw"), ("wikiann", "en"), ("wikiann", "sw"), ("xnli", "en"), ("xnli", "sw")}
    assert _rows(result.output) == expected
    assert re.search(r"sib200\s+│ sw\s+│ Swahili\s+│\s+12\s+│\s+2\s+│\s+3", result.output)


def test_list_without_data_explains_how_to_point_at_it(tmp_path):
    result = runner.invoke(data_app, ["list", "--data-dir", str(tmp_path / "missing")])
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert "no benchmark data found" in text and "--data-dir" in text and "XADAPT_DATA" in text


def test_list_unknown_task_and_language(tiny_data):
    result = runner.invoke(data_app, ["list", "--data-dir", str(tiny_data), "--task", "sst2"])
    assert result.exit_code == 1 and "unknown task" in result.output and "sib200" in result.output
    result = runner.invoke(data_app, ["list", "--data-dir", str(tiny_data), "--lang", "zz"])
    assert result.exit_code == 1 and "unknown language" in result.output


def test_languages_table(tiny_data):
    result = runner.invoke(data_app, ["languages", "--data-dir", str(tiny_data)])
    assert result.exit_code == 0, result.output
    swahili = next(line for line in result.output.splitlines() if line.startswith("│ sw "))
    assert "swa" in swahili and "swh_Latn" in swahili and "sib200" in swahili and "yes" in swahili
