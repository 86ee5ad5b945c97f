"""A sweep over the new kinds of methods, through the CLI on the tiny model: the linear probe, AdapterFusion
(its fused adapters trained once, before the runs) and single adapter methods at matched parameter budgets.
Records, the report's budgets and the findings' pairs are checked; the same command then resumes to nothing."""

import json

from typer.testing import CliRunner

from xadapt.cli import app
from xadapt.study.results import study_records

STUDY = """\
task: sib200
sizes: [8]
seeds: [0, 1]
epochs: 2
patience: null
methods: [head, adapter, fusion, lora@2%, seq_bn@2%]
fusion: {tasks: {sw: [afrisenti, masakhaner], en: [wikiann, xcopa]}, samples: 12}
eval_limit: 16
dev_limit: 16
max_length: 32
batch_size: 4
precision: fp32
"""


def _sweep(config, out, tiny_model, real_data):
    result = CliRunner().invoke(app, ["sweep", "--lang", "sw", "--config", str(config), "--model", str(tiny_model),
                                      "--data-dir", str(real_data), "--out", str(out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_sweep_of_probe_fusion_and_budgets_records_reports_and_resumes(tiny_model, real_data, tmp_path, monkeypatch):
    monkeypatch.setenv("XADAPT_HOME", str(tmp_path / "home"))
    config, out = tmp_path / "study.yaml", tmp_path / "out"
    config.write_text(STUDY)
    output = _sweep(config, out, tiny_model, real_data)
    plan = " ".join(output.split())
    assert "20 runs" in plan and "no language adapters" in plan
    assert "adapters to fuse afrisenti-sw, masakhaner-sw, wikiann-en, xcopa-en (afrisenti-sw, masakhaner-sw, wikiann-en, xcopa-en to train)" in plan
    records = study_records(out)
    assert len(records) == 20 and all(r["status"] == "ok" for r in records)
    assert {r["method"] for r in records} == {"head", "adapter", "fusion", "lora@2%", "seq_bn@2%"}
    fused = {r["train_lang"]: sorted(f["key"] for f in r["fused"]) for r in records if r["method"] == "fusion"}
    assert fused == {"sw": ["afrisenti-sw", "masakhaner-sw"], "en": ["wikiann-en", "xcopa-en"]}
    # each fused adapter was trained once, and every fusion run of a language fused the same ones
    sources = sorted(p.name.rsplit("-", 1)[0] for p in (tmp_path / "home" / "task_adapters").glob("*/*") if p.is_dir())
    assert sources == ["afrisenti-sw", "masakhaner-sw", "wikiann-en", "xcopa-en"]
    for method in ("lora@2%", "seq_bn@2%"):
        shares = {r["budget"]["share"] for r in records if r["method"] == method}
        assert all(0.01 < share < 0.03 for share in shares), (method, shares)  # the nearest rank or width on a 32-wide model
    assert {r["budget"]["parameters"] for r in records if r["method"] == "head"} == {0}

    report = (out / "report.md").read_text()
    assert "share of the encoder layers" in report and "lora@2%" in report
    assert "## Fused adapters" in report and "afrisenti-sw (12 examples" in report
    findings = json.loads((out / "findings.json").read_text())["findings"]
    compared = {(f["claim"], f["comparison"]) for f in findings}
    assert {("baseline.in_language", "fusion − head"), ("baseline.zero_shot", "lora@2% − head")} <= compared
    assert any(claim == "fusion.best_single" for claim, _ in compared)

    again = _sweep(config, out, tiny_model, real_data)
    assert "(0 to do)" in " ".join(again.split()) and "xcopa-en (all cached)" in " ".join(again.split())
    assert len(study_records(out)) == 20
