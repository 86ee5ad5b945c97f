"""Discovery of saved parts and the lookup of names from the page, on hand-made folders (no model needed)."""

import json
from pathlib import Path

import pytest

from xadapt.demo.catalog import discover
from xadapt.errors import XadaptError

FINGERPRINT = "0123456789abcdef"
OTHER = "fedcba9876543210"


def _run(path: Path, method: str = "madx", fingerprint: str = FINGERPRINT, task: str = "wikiann", **facts) -> Path:
    labels = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
    head = "token_classification"
    if task == "sib200":
        labels, head = ["a"] * 7, "sequence_classification"
    (path / ("model" if method == "finetune" else "adapter")).mkdir(parents=True)
    (path / "head").mkdir()
    run = {"method": method, "task": task, "head": head, "labels": labels, "train_lang": "en", "samples": 40,
           "seed": 0, "base_model": "/models/e5", "model": {"name": "e5", "fingerprint": fingerprint},
           "language_adapters": {}, **facts}
    (path / "run.json").write_text(json.dumps(run))
    return path


def _language_adapter(root: Path, fingerprint: str, name: str) -> Path:
    cache = root / fingerprint / name
    (cache / "adapter").mkdir(parents=True)
    facts = {"lang": name.split("-")[0], "settings": {"steps": 2}, "perplexity_before": 900.0, "perplexity_after": 700.0}
    (cache / "language_adapter.json").write_text(json.dumps(facts))
    return cache / "adapter"


def test_finds_runs_studies_and_language_adapters(tmp_path):
    runs = tmp_path / "runs"
    _run(runs / "train" / "wikiann-en-madx")
    _run(runs / "wikiann-sw" / "artifacts" / "a1b2c3", method="finetune")
    (runs / "wikiann-sw" / "results.jsonl").write_text("")
    adapters = tmp_path / "language_adapters"
    _language_adapter(adapters, FINGERPRINT, "sw-0011223344")
    _language_adapter(adapters, FINGERPRINT, "en-0011223344")

    catalog = discover([runs], adapters, FINGERPRINT)
    assert {(r.task, r.method, r.train_lang) for r in catalog.usable_runs()} == {("wikiann", "madx", "en"), ("wikiann", "finetune", "en")}
    assert [a.lang for a in catalog.usable_language_adapters()] == ["en", "sw"]
    assert [s.path for s in catalog.studies.values()] == [runs / "wikiann-sw"]
    assert catalog.tasks() == ["wikiann"]
    madx = next(r for r in catalog.usable_runs() if r.method == "madx")
    assert catalog.usable_runs(whole_encoder=True) == [catalog.finetuned_for(madx)]
    assert "MAD-X" in madx.label and "English (en)" in madx.label
    assert catalog.finetuned_for(madx).method == "finetune"
    assert "perplexity 900 → 700" in catalog.usable_language_adapters()[1].label


def test_ids_are_stable_and_differ_per_folder(tmp_path):
    _run(tmp_path / "a")
    _run(tmp_path / "b")
    first, again = discover([tmp_path], None, FINGERPRINT), discover([tmp_path], None, FINGERPRINT)
    assert list(first.runs) == list(again.runs)
    assert len(set(first.runs)) == 2


def test_names_from_the_page_are_only_looked_up(tmp_path):
    _run(tmp_path / "runs" / "r")
    secret = tmp_path / "secret"
    _run(secret)  # a real run folder, but outside what the demo searched
    catalog = discover([tmp_path / "runs"], None, FINGERPRINT)
    for name in ("../secret", str(secret), "../../etc/passwd", "/etc", "", "r"):
        with pytest.raises(XadaptError, match="there is no task adapter or model"):
            catalog.run(name)
        with pytest.raises(XadaptError, match="there is no language adapter"):
            catalog.language_adapter(name)
        with pytest.raises(XadaptError, match="there is no study"):
            catalog.study(name)


def test_unusable_parts_are_kept_with_the_reason(tmp_path):
    runs = tmp_path / "runs"
    _run(runs / "other-model", fingerprint=OTHER)
    _run(runs / "unknown-task", task="nosuchtask")
    bad = runs / "bad-json"
    bad.mkdir(parents=True)
    (bad / "run.json").write_text("{not json")
    incomplete = _run(runs / "incomplete")
    (incomplete / "head").rmdir()
    adapters = tmp_path / "language_adapters"
    _language_adapter(adapters, OTHER, "sw-0011223344")

    catalog = discover([runs], adapters, FINGERPRINT)
    assert catalog.usable_runs() == [] and catalog.usable_language_adapters() == []
    problems = {e.path.name: e.problem for e in catalog.unusable()}
    assert "another model" in problems["other-model"] and "--model /models/e5" in problems["other-model"]
    assert "unknown task" in problems["unknown-task"]
    assert "not readable JSON" in problems["bad-json"]
    assert "no head/" in problems["incomplete"]
    assert "another model" in problems["adapter"]  # the language adapter's folder
    entry = next(e for e in catalog.runs.values() if e.path.name == "other-model")
    with pytest.raises(XadaptError, match="cannot be used: it was trained on another model"):
        catalog.run(entry.id)


def test_search_is_bounded_and_skips_hidden_folders(tmp_path):
    _run(tmp_path / "a" / "b" / "c" / "d" / "deep")  # five levels down
    _run(tmp_path / ".staging-x1" / "run")  # an atomic write in progress
    _run(tmp_path / "ok")
    catalog = discover([tmp_path], None, FINGERPRINT)
    assert [r.path.name for r in catalog.runs.values()] == ["ok"]


def test_a_run_prefers_its_own_language_adapter(tmp_path):
    adapters = tmp_path / "language_adapters"
    _language_adapter(adapters, FINGERPRINT, "en-aaaaaaaaaa")
    own = _language_adapter(tmp_path / "elsewhere", FINGERPRINT, "en-bbbbbbbbbb")
    _run(tmp_path / "runs" / "r", language_adapters={"en": str(own)})
    catalog = discover([tmp_path / "runs"], adapters, FINGERPRINT)
    run = catalog.usable_runs()[0]
    assert len(catalog.usable_language_adapters()) == 2
    assert catalog.run_language_adapter(run, "en").path == own
    assert catalog.run_language_adapter(run, "sw") is None
