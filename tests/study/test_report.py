"""report.md says what ran, with the right numbers, from results.jsonl alone; `xadapt report` wraps it."""

import pytest
import typer
from typer.testing import CliRunner

from xadapt.cli.report import register
from xadapt.errors import XadaptError
from xadapt.study.report import mean_cell, write_report
from xadapt.study.results import load_frame
from xadapt.study.results import RESULTS_FILE, ResultsStore, study_id

# adapter, 100 examples, sw→sw, best rate 1e-3: seeds score 0.56, 0.57, 0.58 (last score 0.02 lower);
# 95% CI half-width = t(0.975, 2) · 0.01 / √3 = 0.0248
ADAPTER_ROW = "| adapter | 100 | 0.001 | 3 | 0.570 ± 0.010 | [0.545, 0.595] | 0.550 ± 0.010 | [0.525, 0.575] |"
# fine-tuning prefers 1e-4 on dev, so its row is unaffected by the failed 1e-3 run
FINETUNE_ROW = "| finetune | 1000 | 0.0001 | 3 | 0.620 ± 0.010 | [0.595, 0.645] | 0.600 ± 0.010 | [0.575, 0.625] |"
# the learning-rate table shows the 1e-3 cell with only two seeds left: 0.56, 0.57
FINETUNE_LR_ROW = "| finetune | 1000 | 0.620 ± 0.010 | 0.565 ± 0.007 |"


def _section(text: str, heading: str) -> str:
    start = text.index(heading)
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


def test_summary_counts_and_grid(full_report):
    text = full_report.read_text()
    assert text.startswith("# Study report")
    for line in [
        "- **model**: multilingual-e5-small",
        "- **task**: wikiann (metric seqeval_f1 on test)",
        "- **methods**: adapter, finetune, madx",
        "- **training sizes**: 100, 300, 1000",
        "- **learning rates**: 0.0001, 0.001",
        "- **seeds**: 1, 2, 3",
        "- **language pairs (train→eval)**: sw→sw, en→sw, en→yo",
        "- **runs**: 107 ok, 1 failed (161 successful evaluations of 162)",
        "- **training time**: 1,080.0 s (0.30 h)",  # 108 runs × 10 s; zero-shot evaluations share a run
        "no study.json",
    ]:
        assert line in text


def test_score_tables_hold_mean_std_and_confidence_interval(full_report):
    scores = _section(full_report.read_text(), "## Scores")
    in_language = _section(scores, "### sw → sw (in-language)")
    assert ADAPTER_ROW in in_language and FINETUNE_ROW in in_language
    assert "| method | training size | lr | n | score | score 95% CI | last score | last score 95% CI |" in scores
    zero_shot = _section(scores, "### en → yo (zero-shot)")
    assert "| madx | 300 | 0.001 | 3 | 0.468 ± 0.010 |" in zero_shot
    assert scores.index("### sw → sw") < scores.index("### en → sw") < scores.index("### en → yo")
    assert scores.count("\n| ") == 3 * (1 + 9)  # three pairs: header + 3 methods × 3 sizes


def test_learning_rate_table_and_parameters(full_report):
    text = full_report.read_text()
    rates = _section(text, "## Learning rates")
    assert "| method | training size | lr 0.0001 | lr 0.001 |" in rates and FINETUNE_LR_ROW in rates
    params = _section(text, "## Trainable parameters")
    assert "| adapter | 894,000 | 117,894,000 | 0.76% |" in params
    assert "| finetune | 117,000,000 | 117,000,000 | 100.00% |" in params


def test_failed_run_is_listed_with_its_error(full_report):
    failures = _section(full_report.read_text(), "## Failed runs")
    (line,) = [line for line in failures.splitlines() if line.startswith("- ")]
    assert "finetune, 1000 examples, sw→sw, lr 0.001, seed 3" in line and "NaN loss at epoch 2" in line


def test_plot_links_point_at_written_files(full_report):
    plots = _section(full_report.read_text(), "## Plots")
    links = [part.split(")")[0] for part in plots.split("](")[1:]]
    assert len(links) == 10
    for link in links:
        assert (full_report.parent / link).is_file()


def test_single_seed_single_rate_with_manifest(tmp_path, make_record):
    study = {"task": "wikiann", "methods": ["adapter", "finetune"], "seeds": [1]}
    store = ResultsStore.open(tmp_path, study)
    store.append(make_record(method="adapter", score=0.61, drift=False))
    store.append(make_record(method="finetune", score=0.42, drift=False))
    text = write_report(tmp_path).read_text()
    assert "| adapter | 100 | 1 | 0.610 (n=1) | – | 0.590 (n=1) | – |" in text
    assert "## Learning rates" not in text and "| lr |" not in text
    assert f"- **study**: {study_id(study)}" in text and '"methods": [' in text
    assert "## Failed runs\n\nNone." in text


def test_one_rate_per_method_is_no_learning_rate_sweep(tmp_path, make_record, write_sweep):
    records = [make_record(method="finetune", lr=1e-5), make_record(method="adapter", lr=1e-4)]
    text = write_report(write_sweep(tmp_path, records)).read_text()
    assert "| finetune | 100 | 1e-05 | 1 | 0.500 (n=1) |" in text  # which rate each row used
    assert "## Learning rates" not in text and "best mean dev score" not in text
    assert not (tmp_path / "plots" / "lr_sensitivity.png").exists()


def test_partial_sweep_reports_what_exists(tmp_path, sweep_records, write_sweep):
    records = sweep_records(lrs=(1e-4,), sizes=(100, 1000), zero_shot=False)
    records = [r for r in records if not (r["method"] == "madx" and r["samples"] == 1000)]
    text = write_report(write_sweep(tmp_path, records)).read_text()
    assert "| madx | 100 |" in text and "| madx | 1000 |" not in text
    assert "| adapter | 1000 | 3 |" in text


def test_a_sweep_with_only_failures_still_reports_them(tmp_path, make_record, write_sweep):
    failures = [make_record(seed=seed, score=None, status="failed", error=None) for seed in (1, 2)]
    text = write_report(write_sweep(tmp_path, failures)).read_text()
    assert "- **runs**: 0 ok, 2 failed" in text and "No successful run yet." in text
    assert text.count("no error recorded") == 2 and "None: no successful run yet." in text
    assert not list((tmp_path / "plots").iterdir())


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda d: d / "missing", "not a directory"),
        (lambda d: d, "no results.jsonl"),
        (lambda d: (d / RESULTS_FILE).write_bytes(b'{"run_id": "to') and d, "no complete record"),
    ],
)
def test_nothing_to_report_is_a_user_error(tmp_path, setup, message):
    with pytest.raises(XadaptError, match=message):
        load_frame(setup(tmp_path))


def test_mean_cell():
    assert mean_cell(3, 0.6, 0.1) == "0.600 ± 0.100"
    assert mean_cell(1, 0.6, float("nan")) == "0.600 (n=1)"
    assert mean_cell(0, float("nan"), float("nan")) == "–"


def _cli() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """A group, as in the real CLI (a one-command Typer app would swallow the command name)."""

    register(app)
    return app


def test_cli_writes_the_report_and_prints_the_overview(tmp_path, sweep_records, write_sweep):
    records = sweep_records(lrs=(1e-4,), sizes=(100, 1000), drift=False, zero_shot=False)
    out = write_sweep(tmp_path / "out", records)
    result = CliRunner().invoke(_cli(), ["report", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "report.md").is_file() and "report.md" in result.output
    for text in ("sw→sw", "madx", "1000", "0.620 ± 0.010"):
        assert text in result.output


def test_cli_explains_a_missing_directory(tmp_path):
    result = CliRunner().invoke(_cli(), ["report", str(tmp_path / "nope")])
    output = " ".join(result.output.split())  # rich wraps long lines
    assert result.exit_code == 1
    assert "error:" in output and "nope is not a directory" in output and "Traceback" not in output
