"""The command line end to end, on the real default model and the shared benchmark data.

A quick sweep (20 Swahili NER sentences, 1 epoch, 1 seed, 3-step language adapters, 50 evaluation
examples) goes through `xadapt sweep` exactly as a user runs it; then the resume guarantees: the
same command again does nothing, and a sweep killed while appending its last record is finished by
the same command without losing or duplicating a record. `xadapt train`, `eval` and `train-lang`
run once each. Everything runs in-process through Typer's CliRunner (one import of torch and
transformers for the whole file) with a temporary XADAPT_HOME, so language adapters are trained
here and not taken from a user's cache; only the converted model is reused, resolved before
XADAPT_HOME moves.
"""

import json
import os
import re
import shutil
import time
import traceback
import warnings
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import torch
from typer.testing import CliRunner

from xadapt.cli import app
from xadapt.models import resolve_model
from xadapt.precision import resolve_precision
from xadapt.study.local_executor import available_cores, default_workers
import xadapt.study.sweep as sweep_module
from xadapt.study.sweep import ARTIFACTS
from xadapt.study.table import write_records_table

QUICK_STUDY = """\
eval_limit: 50  # test examples: enough for a real score, quick on two cores
dev_limit: 50  # dev examples per epoch
zero_shot_sizes: all  # zero-shot runs at every size (one here)
max_length: 64  # WikiANN sentences are short; this only trims the longest
language_adapter: {steps: 3, head_steps: 3, batch_size: 4, max_length: 32, heldout_sentences: 16}
"""
METHODS = {"finetune", "adapter", "madx"}
PAIRS = {("sw", "sw"), ("en", "sw")}
REQUIRED = {
    "method", "task", "train_lang", "eval_lang", "samples", "lr", "seed", "metric", "score", "last_score",
    "curve", "trainable_params", "seconds", "model", "data", "drift", "stop_reason", "epochs_trained", "protocol", "eval_examples",
}
LAYERS = 12  # multilingual-e5-small


def _invoke(*args: str) -> tuple[str, float]:
    """Run `xadapt ARGS` in-process; fail with its output and traceback unless it exits 0."""
    start = time.perf_counter()
    result = CliRunner().invoke(app, [str(arg) for arg in args])
    seconds = time.perf_counter() - start
    if result.exit_code != 0:
        trace = "".join(traceback.format_exception(result.exception)) if result.exception else ""
        pytest.fail(f"xadapt {' '.join(map(str, args))} exited {result.exit_code}:\n{result.output}\n{trace}")
    return " ".join(result.output.split()), seconds  # the console wraps at 80 columns


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


@pytest.fixture(scope="module")
def env(tmp_path_factory, real_data):
    """The prepared default model (a local directory) and a fresh XADAPT_HOME for everything else."""
    model = str(resolve_model("multilingual-e5-small"))  # before XADAPT_HOME moves: no second conversion
    home = tmp_path_factory.mktemp("xadapt_home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XADAPT_HOME", str(home))
        work = tmp_path_factory.mktemp("e2e")
        yield SimpleNamespace(model=model, home=home, data=real_data, work=work)
    for folder in (home, work):  # gigabytes of fine-tuned models: gone before the next module, passed or not
        shutil.rmtree(folder)


def _sweep_args(env, out: Path) -> list:
    config = env.work / "quick.yaml"
    config.write_text(QUICK_STUDY, encoding="utf-8")
    return ["sweep", "--lang", "sw", "--sizes", "20", "--epochs", "1", "--seeds", "0", "--config", config,
            "--model", env.model, "--data-dir", env.data, "--out", out]


@pytest.fixture(scope="module")
def sweep(env):
    """The quick sweep, run once for the tests below; they work on copies of its output."""
    out = env.work / "sweep"
    output, seconds = _invoke(*_sweep_args(env, out))
    return SimpleNamespace(out=out, output=output, seconds=seconds)


def _copy(sweep, name: str) -> Path:
    """A copy of the sweep's output to resume; its saved parts are hard links (a sweep replaces a run's parts
    as a whole folder and never writes into them), so the copy costs no disk for the fine-tuned models."""
    def link_saved_parts(source: str, target: str) -> None:
        if f"/{ARTIFACTS}/" in source:
            os.link(source, target)
        else:
            shutil.copy2(source, target)
    return Path(shutil.copytree(sweep.out, sweep.out.parent / name, copy_function=link_saved_parts))


def test_sweep_records_every_run_and_language_pair(sweep, env):
    assert "6 runs (6 to do)" in sweep.output
    assert "language adapters sw, en (sw, en to train)" in sweep.output
    records = [json.loads(line) for line in _lines(sweep.out / "results.jsonl")]
    assert len(records) == 6  # one per (run, eval_lang): 3 methods x (sw→sw, en→sw), one seed, one size
    assert {(r["method"], r["train_lang"], r["eval_lang"]) for r in records} == {(m, t, e) for m in METHODS for t, e in PAIRS}
    assert len({(r["run_id"], r["eval_lang"]) for r in records}) == 6
    for r in records:
        assert REQUIRED <= set(r), f"missing {REQUIRED - set(r)}"
        assert r["status"] == "ok" and r["error"] is None
        assert (r["task"], r["samples"], r["seed"], r["epochs"], r["metric"]) == ("wikiann", 20, 0, 1, "seqeval_f1")
        assert 0 <= r["score"] <= 1 and 0 <= r["last_score"] <= 1
        assert r["eval_split"] == "test"  # WikiANN sw has a labelled test split
        assert [point["epoch"] for point in r["curve"]] == [1]
        assert (r["epochs_trained"], r["stop_reason"], r["protocol"]["patience"]) == (1, "max_epochs", 3)
        for point in r["curve"]:
            assert point["dev_loss"] > 0 and 0 <= point["dev_score"] <= 1
        assert r["seconds"] > 0
        assert r["model"]["name"] == "multilingual-e5-small" and r["model"]["fingerprint"]
        assert r["data"]["task"] == "wikiann" and r["data"]["train_fingerprint"]
        assert r["drift"]["measure"] == "rsa"
        assert r["precision"] == r["protocol"]["precision"] == resolve_precision("auto").name  # auto: chosen by this machine
        assert r["threads"] == available_cores() // default_workers()  # the default workers share the cores evenly
        assert len(r["drift"]["similarity"]) == len(r["drift"]["layers"]) == LAYERS + 1
        assert all(-1 <= s <= 1.0001 for s in r["drift"]["similarity"])
    table = pd.read_csv(sweep.out / "results.csv")
    assert sorted(zip(table["run_id"], table["eval_lang"])) == sorted((r["run_id"], r["eval_lang"]) for r in records)
    assert set(table["precision"]) == {records[0]["precision"]} and set(table["threads"]) == {records[0]["threads"]}
    [environment] = json.loads((sweep.out / "study.json").read_text(encoding="utf-8"))["environments"].values()
    assert environment["precision"]["requested"] == "auto" and environment["precision"]["used"] == records[0]["precision"]
    findings = json.loads((sweep.out / "findings.json").read_text(encoding="utf-8"))
    assert findings["convergence"] == {"runs": 6, "stopped_by": {"max_epochs": 6}, "bounded_while_improving": 6}
    claims = {f["claim"] for f in findings["findings"]}
    assert {"he2021.low_resource", "he2021.zero_shot", "he2021.drift", "madx.zero_shot"} <= claims
    assert all(f["verdict"] == "inconclusive" and f["n"] == 1 for f in findings["findings"])  # one seed: no interval
    assert (sweep.out / "report.md").read_text(encoding="utf-8").startswith("# Study report\n\n## Findings")
    params = {(r["method"], r["train_lang"]): r["trainable_params"] for r in records}
    for train_lang in ("sw", "en"):
        assert params[("adapter", train_lang)] < params[("finetune", train_lang)] / 10
        assert params[("madx", train_lang)] < params[("finetune", train_lang)] / 10
    # the sweep's language adapters went to this test's XADAPT_HOME, not to a user's cache
    trained = sorted(p.parent.name.split("-")[0] for p in env.home.glob("language_adapters/*/*/language_adapter.json"))
    assert trained == ["en", "sw"]


def test_sweep_writes_the_report_and_plots(sweep):
    assert (sweep.out / "study.json").is_file()
    report = (sweep.out / "report.md").read_text(encoding="utf-8")
    for method in METHODS:
        assert method in report
    plots = sweep.out / "plots"
    png, svg = {p.stem for p in plots.glob("*.png")}, {p.stem for p in plots.glob("*.svg")}
    assert png and png == svg
    assert all(p.stat().st_size > 1000 for p in plots.iterdir())
    assert "report:" in sweep.output


def test_the_same_command_again_skips_everything(sweep, env):
    out = _copy(sweep, "rerun")
    before = (out / "results.jsonl").read_bytes()
    output, seconds = _invoke(*_sweep_args(env, out))
    assert "6 runs (0 to do)" in output and "language adapters sw, en (all cached)" in output
    assert (out / "results.jsonl").read_bytes() == before  # no new lines
    assert seconds < sweep.seconds / 2, f"a no-op rerun took {seconds:.0f} s, the sweep {sweep.seconds:.0f} s"


def test_a_sweep_killed_while_appending_is_finished_by_the_same_command(sweep, env, caplog):
    """The kill left the last record half-written: the rerun redoes that run only, and the torn half goes."""
    out = _copy(sweep, "killed")
    lines = _lines(out / "results.jsonl")
    torn = lines[-1][: len(lines[-1]) // 2]
    (out / "results.jsonl").write_bytes(b"".join(lines[:-1]) + torn)
    lost = json.loads(lines[-1])

    output, _ = _invoke(*_sweep_args(env, out))
    assert "6 runs (1 to do)" in output
    after = _lines(out / "results.jsonl")
    assert after[:-1] == lines[:-1]  # finished records untouched
    assert after[-1].endswith(b"\n") and torn not in after[-1]
    records = [json.loads(line) for line in after]  # every line is a whole record again
    assert len(records) == 6
    redone = records[-1]
    assert (redone["run_id"], redone["eval_lang"], redone["status"]) == (lost["run_id"], lost["eval_lang"], "ok")
    # seeds make the redone run reproduce the lost one exactly on the same machine
    assert (redone["score"], redone["last_score"], redone["curve"]) == (lost["score"], lost["last_score"], lost["curve"])
    assert redone["drift"] == lost["drift"]
    assert "incomplete" in caplog.text  # the torn record was reported, not silently dropped


def test_one_worker_resumes_a_study_of_two_and_each_missing_record_is_appended_once(sweep, env, monkeypatch):
    """The sweep ran with the default workers; resumed in this process, it redoes exactly the missing runs,
    and `results.csv` follows `results.jsonl` after every run, before the report."""
    out = _copy(sweep, "workers")
    lines = _lines(out / "results.jsonl")
    (out / "results.jsonl").write_bytes(b"".join(lines[:-2]))  # the last two runs were never recorded
    lost = {(r["run_id"], r["eval_lang"]): r for r in map(json.loads, lines[-2:])}
    table_rows = []

    def write_and_count(out_dir, records):
        path = write_records_table(out_dir, records)
        table_rows.append(len(pd.read_csv(path)))
        return path
    monkeypatch.setattr(sweep_module, "write_records_table", write_and_count)
    output, _ = _invoke(*_sweep_args(env, out), "--workers", "1")
    assert "6 runs (2 to do)" in output
    assert table_rows == [5, 6]
    after = _lines(out / "results.jsonl")
    assert after[:-2] == lines[:-2]  # finished records untouched
    redone = {(r["run_id"], r["eval_lang"]): r for r in map(json.loads, after[-2:])}
    assert redone.keys() == lost.keys()
    assert {r["threads"] for r in redone.values()} == {torch.get_num_threads()}  # in this process, on all its threads
    assert all(r["status"] == "ok" for r in redone.values())


@pytest.mark.skipif(available_cores() < 2, reason="two workers need two cores")
def test_a_run_in_a_worker_gives_the_record_it_gives_in_process_on_as_many_threads(env):
    """Records agree field for field (times and the environment aside) for the same seed and thread count."""
    args = [*_sweep_args(env, env.work / "unused")[:-2], "--methods", "adapter,madx", "--source", "none"]  # no --out yet
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        _invoke(*args, "--out", env.work / "in-process")
    finally:
        torch.set_num_threads(threads)
    _invoke(*args, "--out", env.work / "in-workers", "--workers", "2")

    def records(out):
        return {(r["run_id"], r["eval_lang"]): {k: v for k, v in r.items() if k not in ("seconds", "environment")}
                for r in map(json.loads, _lines(out / "results.jsonl"))}

    in_process, in_workers = records(env.work / "in-process"), records(env.work / "in-workers")
    assert len(in_process) == 2 and in_process == in_workers


def test_sweep_saves_each_runs_parts_and_eval_reproduces_its_score(sweep, env):
    """One seed, one size: every run keeps its parts; evaluating a saved zero-shot MAD-X run gives the record's score."""
    saved = {json.loads(p.read_text())["method"] + "-" + json.loads(p.read_text())["train_lang"]: p.parent
             for p in (sweep.out / "artifacts").glob("*/run.json")}
    assert set(saved) == {f"{m}-{lang}" for m in METHODS for lang in ("sw", "en")}
    assert all((d / "head").is_dir() for d in saved.values())
    assert (saved["finetune-sw"] / "model").is_dir() and (saved["adapter-sw"] / "adapter").is_dir()
    record = next(json.loads(line) for line in _lines(sweep.out / "results.jsonl")
                  if json.loads(line)["method"] == "madx" and json.loads(line)["train_lang"] == "en")
    assert saved["madx-en"].name == record["run_id"]
    output, _ = _invoke("eval", saved["madx-en"], "--lang", "sw", "--limit", "50", "--data-dir", env.data)
    score = re.search(r"seqeval_f1: ([0-9.]+)", output)
    assert score and float(score.group(1)) == pytest.approx(record["score"], abs=1e-4)


def test_eval_of_a_saved_finetuned_model_matches_its_record_and_does_not_warn(sweep, env):
    """The fine-tuned model's head was saved against the base model it came from: loading it is no mismatch."""
    record = next(json.loads(line) for line in _lines(sweep.out / "results.jsonl")
                  if json.loads(line)["method"] == "finetune" and json.loads(line)["train_lang"] == "sw")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        output, _ = _invoke("eval", sweep.out / "artifacts" / record["run_id"], "--lang", "sw", "--limit", "50",
                            "--data-dir", env.data)
    assert not [w for w in caught if "was saved for base model" in str(w.message)]
    score = re.search(r"seqeval_f1: ([0-9.]+)", output)
    assert score and float(score.group(1)) == pytest.approx(record["score"], abs=1e-4)


def _saved_runs(sweep) -> dict[str, Path]:
    return {json.loads(p.read_text())["method"] + "-" + json.loads(p.read_text())["train_lang"]: p.parent
            for p in (sweep.out / "artifacts").glob("*/run.json")}


def test_export_writes_a_madx_runs_adapters_and_head_in_the_adapters_layout(sweep, env):
    """The export of the zero-shot MAD-X run reads back (through xadapt's importer) to the run's own function."""
    from xadapt.adapters import AdapterModel, Stack
    from xadapt.train.saved import load_run

    run_dir, out = _saved_runs(sweep)["madx-en"], env.work / "export-madx"
    output, _ = _invoke("export", run_dir, "--format", "adapters", "--out", out)
    assert sorted(p.name for p in out.iterdir()) == ["en", "sw", "wikiann"] and "Stack('sw', 'wikiann')" in output
    assert {p.name for p in (out / "wikiann").iterdir()} == {"adapter_config.json", "adapter.safetensors", "head_config.json",
                                                             "model_head.safetensors"}
    head = json.loads((out / "wikiann" / "head_config.json").read_text())
    assert head["config"]["head_type"] == "tagging" and head["config"]["label2id"]["O"] == 0
    saved = load_run(run_dir).model
    again = AdapterModel.from_pretrained(env.model)
    for name in ("sw", "wikiann"):
        again.import_peer_adapter(out / name)
    ids = torch.tensor([[0, 4000, 5000, 6000, 2]])
    with torch.no_grad():
        theirs = again(input_ids=ids, composition=Stack("sw", "wikiann")).last_hidden_state
        ours = saved(input_ids=ids, composition=Stack("sw", "task")).last_hidden_state
    assert torch.equal(theirs, ours)


def test_export_refuses_what_a_format_cannot_hold_before_writing_anything(sweep, env):
    saved = _saved_runs(sweep)
    cases = [
        (saved["finetune-sw"], "adapters", env.work / "x1", "is a fine-tuned model (the whole encoder and the head)"),
        (saved["adapter-sw"], "peft", env.work / "x2", "cannot express a 'seq_bn' adapter; export it with --format adapters"),
        (saved["adapter-sw"], "adapters", sweep.out, "exists and is not an empty folder"),
        (env.work, "adapters", env.work / "x3", "holds no run.json"),
    ]
    for run_dir, export_format, out, message in cases:
        result = CliRunner().invoke(app, ["export", str(run_dir), "--format", export_format, "--out", str(out)])
        assert result.exit_code == 1 and message in " ".join(result.output.split()), result.output
        assert out == sweep.out or not out.exists()


def test_a_lora_run_exports_for_peft(env):
    """Trained from the CLI, exported for PEFT, imported again: the same LoRA."""
    from xadapt.adapters import AdapterModel
    from xadapt.train.saved import load_run

    run_dir, out = env.work / "lora-run", env.work / "lora-peft"
    _invoke("train", "--task", "wikiann", "--lang", "sw", "--samples", "20", "--epochs", "1", "--method", "lora",
            "--model", env.model, "--data-dir", env.data, "--out", run_dir)
    output, _ = _invoke("export", run_dir, "--format", "peft", "--out", out)
    assert {p.name for p in out.iterdir()} == {"adapter_config.json", "adapter_model.safetensors"}
    assert "not part of PEFT's LoRA layout" in output
    again = AdapterModel.from_pretrained(env.model)
    again.import_peer_adapter(out, "lora")
    saved = load_run(run_dir).model
    assert again.adapters["lora"].config == saved.adapters["task"].config
    ids = torch.tensor([[0, 4000, 5000, 6000, 2]])
    with torch.no_grad():
        assert torch.equal(again(input_ids=ids, composition="lora").last_hidden_state,
                           saved(input_ids=ids, composition="task").last_hidden_state)


def test_eval_takes_a_language_adapter_by_hub_id_from_the_hub_cache(sweep, env):
    """An AdapterHub-style language adapter (the `adapters` layout) named by hub id, found in a folder laid
    out as the hub's cache by the real download code, scores what the run's own adapter scores."""
    import os
    import subprocess
    import sys

    from xadapt.adapters import AdapterModel
    from xadapt.adapters.peer_export import export_adapter

    run_dir = _saved_runs(sweep)["madx-en"]
    own = json.loads((run_dir / "run.json").read_text())["language_adapters"]["sw"]
    model = AdapterModel.from_pretrained(env.model)
    model.load_adapter(own, name="sw")
    repo = env.work / "hub" / "models--someone--sw-adapter"
    export_adapter(model.adapters["sw"], model.adapters["sw"].config, model.facts, "sw", repo / "snapshots" / ("1" * 40))
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("1" * 40)
    hub_env = {**os.environ, "XADAPT_HOME": str(env.home), "HF_HUB_CACHE": str(env.work / "hub"), "HF_HUB_OFFLINE": "1"}
    xadapt = str(Path(sys.executable).with_name("xadapt"))
    args = [xadapt, "eval", str(run_dir), "--lang", "sw", "--limit", "50", "--data-dir", str(env.data)]
    with_hub = subprocess.run([*args, "--lang-adapter", "someone/sw-adapter"], env=hub_env, capture_output=True, text=True)
    assert with_hub.returncode == 0, with_hub.stderr
    mine, _ = _invoke("eval", run_dir, "--lang", "sw", "--limit", "50", "--data-dir", env.data)
    assert re.search(r"seqeval_f1: ([0-9.]+)", " ".join(with_hub.stdout.split()))[1] == re.search(r"seqeval_f1: ([0-9.]+)", mine)[1]
    absent = subprocess.run([*args, "--lang-adapter", "someone/absent"], env=hub_env, capture_output=True, text=True)
    assert absent.returncode == 1 and "xadapt train-lang --lang sw" in " ".join(absent.stderr.split())


def test_eval_refuses_a_language_adapter_for_a_run_that_uses_none(sweep, env):
    result = CliRunner().invoke(app, ["eval", str(_saved_runs(sweep)["adapter-sw"]), "--lang", "sw", "--lang-adapter", str(env.work)])
    assert result.exit_code == 1 and "applies to MAD-X runs only" in " ".join(result.output.split())


def test_train_refuses_an_out_directory_that_is_not_a_run(env):
    out = env.work / "notes"
    out.mkdir()
    (out / "thesis.tex").write_text("keep me", encoding="utf-8")
    result = CliRunner().invoke(app, ["train", "--samples", "20", "--model", env.model, "--data-dir", str(env.data), "--out", str(out)])
    assert result.exit_code == 1 and "not a run directory" in " ".join(result.output.split())
    assert (out / "thesis.tex").read_text(encoding="utf-8") == "keep me"


def test_train_then_eval_a_saved_adapter(env):
    run_dir = env.work / "trained"
    output, _ = _invoke("train", "--method", "adapter", "--samples", "20", "--epochs", "1", "--model", env.model,
                        "--data-dir", env.data, "--out", run_dir)
    assert "seqeval_f1" in output and "saved:" in output
    assert (run_dir / "run.json").is_file() and (run_dir / "adapter").is_dir() and (run_dir / "head").is_dir()
    assert json.loads((run_dir / "metrics.json").read_text())[0]["status"] == "ok"

    output, _ = _invoke("eval", run_dir, "--lang", "sw", "--limit", "30", "--data-dir", env.data)
    assert "(30 examples)" in output
    score = re.search(r"seqeval_f1: ([0-9.]+)", output)
    assert score and 0 <= float(score.group(1)) <= 1


def test_train_lang_prints_perplexity_before_and_after(env):
    output, _ = _invoke("train-lang", "--lang", "sw", "--steps", "2", "--head-steps", "2", "--model", env.model, "--data-dir", env.data)
    found = re.search(r"held-out perplexity ([0-9.,]+) → ([0-9.,]+)", output)
    assert found, output
    before, after = (float(value.replace(",", "")) for value in found.groups())
    assert before > 1 and after > 1
    done = list(env.home.glob("language_adapters/*/sw-*/language_adapter.json"))
    facts = next(json.loads(p.read_text()) for p in done if json.loads(p.read_text())["settings"]["steps"] == 2)
    assert facts["settings"]["head_steps"] == 2 and Path(facts["mlm_head"]).is_dir()


def test_train_lang_with_the_corpus_vocabulary_caches_a_second_adapter(env):
    output, _ = _invoke("train-lang", "--lang", "sw", "--steps", "2", "--head-steps", "2", "--output-vocabulary", "corpus",
                        "--model", env.model, "--data-dir", env.data)
    scored = re.search(r"trained scoring the ([0-9,]+) tokens of the sw corpus", output)
    assert scored, output
    precision = resolve_precision("auto").name  # train-lang's default; a bf16 adapter's folder says so
    suffix = "" if precision == "fp32" else f"-{precision}"
    folder = next(p.parent for p in env.home.glob(f"language_adapters/*/sw-*-corpus-vocabulary{suffix}/language_adapter.json"))
    facts = json.loads((folder / "language_adapter.json").read_text())
    assert facts["settings"]["output_vocabulary"] == "corpus" and facts["precision"] == precision
    assert facts["output_vocabulary"] == int(scored.group(1).replace(",", "")) < 250_002


def test_a_language_outside_the_table_with_files_on_disk_trains_and_evaluates(env):
    """Kinyarwanda (rw / kin / kin_Latn) is in no benchmark of the shared data: given SIB-200 files and raw
    text in the standard layout, it is discovered, trained and evaluated from the CLI."""
    data = env.work / "kinyarwanda-data"
    folder = data / "sib200" / "data" / "annotated" / "kin_Latn"
    folder.mkdir(parents=True)
    for split, rows in (("train", 41), ("dev", 21), ("test", 31)):  # header + rows, the Swahili sentences standing in
        lines = (env.data / "sib200" / "data" / "annotated" / "swh_Latn" / f"{split}.tsv").read_text(encoding="utf-8").splitlines()
        (folder / f"{split}.tsv").write_text("\n".join(lines[:rows]) + "\n", encoding="utf-8")
    corpus = data / "raw_text" / "kin" / "fixture"
    corpus.mkdir(parents=True)
    text = (env.data / "sib200" / "data" / "annotated" / "swh_Latn" / "train.tsv").read_text(encoding="utf-8").splitlines()[1:]
    (corpus / "text.txt").write_text("\n".join(line.split("\t")[-1] for line in text) + "\n", encoding="utf-8")

    listing, _ = _invoke("data", "languages", "--data-dir", data)
    assert "rw" in listing and "Kinyarwanda" in listing and "kin_Latn" in listing
    run = env.work / "kinyarwanda-run"
    _invoke("train", "--task", "sib200", "--lang", "kin", "--samples", "20", "--epochs", "1", "--model", env.model,
            "--data-dir", data, "--out", run)
    assert json.loads((run / "run.json").read_text())["train_lang"] == "rw"
    output, _ = _invoke("eval", run, "--lang", "kin_Latn", "--limit", "30", "--data-dir", data)
    assert re.search(r"on sib200 rw test \(30 examples\)", output) and re.search(r"accuracy: [0-9.]+", output)
    trained, _ = _invoke("train-lang", "--lang", "rw", "--steps", "2", "--head-steps", "2", "--model", env.model, "--data-dir", data)
    assert re.search(r"rw language adapter", trained)


def test_train_reports_to_tensorboard_the_curve_its_record_holds(env):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out = env.work / "tracked-run"
    _invoke("train", "--task", "wikiann", "--lang", "sw", "--samples", "20", "--epochs", "2", "--patience", "0",
            "--report-to", "tensorboard", "--model", env.model, "--data-dir", env.data, "--out", out)
    [record] = json.loads((out / "metrics.json").read_text())
    events = EventAccumulator(str(out.parent / "tensorboard" / record["run_id"]))
    events.Reload()
    dev = [event.value for event in events.Scalars("train/dev_seqeval_f1")]
    assert dev == pytest.approx([point["dev_score"] for point in record["curve"]]) and len(dev) == 2


def test_an_adapter_sweep_over_data_without_raw_text_needs_none(env, tmp_path):
    """Only MAD-X needs raw text (and the MLM head fitted on it): an adapter-only study over a data folder
    holding just WikiANN trains, measures drift on test sentences, and reports."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "wikiann").symlink_to(Path(env.data).absolute() / "wikiann")
    out = tmp_path / "out"
    output, _ = _invoke(*_sweep_args(env, out)[:-4], "--data-dir", data, "--out", out, "--methods", "adapter", "--source", "none",
                        "--workers", "1")
    assert "1 runs (1 to do), no language adapters" in output
    [record] = [json.loads(line) for line in _lines(out / "results.jsonl")]
    assert record["status"] == "ok" and len(record["drift"]["similarity"]) == LAYERS + 1
