"""Kill -9 a tiny sweep again and again, resume it each time, and check that nothing is lost, doubled or half-used.

A chain of at least 20 kills, each at a random moment (seeded; XADAPT_FAULT_SEED picks others) of a phase chosen in the sweep's own
order: masked-LM training of the shared head and the language adapters, a run's training steps, a
record half-appended, a folder saved but not yet renamed (caches, a run's parts), and the report's
plots. After every kill the same command runs again, armed with the next kill. On the way: every
complete line of `results.jsonl` is a record, none twice; every cache marked finished is intact.
At the end: every planned run is recorded exactly once, with the scores, curves and drift of the
same sweep run without interruption, and no staging folder or half-written file is left.
"""

import json
import os
import random
from collections import Counter
from pathlib import Path

from xadapt.train.language import DONE, HEAD_DONE, is_cached
from xadapt.train.saved import read_run_facts

SEED = int(os.environ.get("XADAPT_FAULT_SEED", "18"))  # another seed, other moments: the suite must pass for any
# (phase, the range its moment is drawn from), in the order the sweep reaches them
PLAN = [
    ("mlm_step", (1, 4)), ("mlm_step", (1, 4)), ("save", (1, 1)),  # the shared MLM head
    ("mlm_step", (1, 8)), ("save", (1, 2)), ("mlm_step", (1, 8)), ("save", (1, 2)),  # the language adapters
    ("task_step", (1, 12)), ("append", (1, 3)), ("save", (1, 2)), ("task_step", (1, 12)), ("append", (1, 3)),
    ("task_step", (1, 12)), ("save", (1, 2)), ("append", (1, 3)), ("task_step", (1, 12)), ("append", (1, 3)),
    ("save", (1, 2)), ("task_step", (1, 12)), ("append", (1, 3)),  # runs: training, records, saved parts
    ("report", (1, 8)), ("report", (1, 8)), ("report", (1, 8)),  # the report's plots
]
SAME = ("status", "score", "last_score", "curve", "drift", "epochs_trained", "stop_reason", "trainable_params")


def _lines(out: Path) -> tuple[list[dict], bytes]:
    """The complete records of `out/results.jsonl`, and what follows the last complete line (a torn record)."""
    path = out / "results.jsonl"
    data = path.read_bytes() if path.is_file() else b""
    *complete, torn = data.split(b"\n")
    return [json.loads(line) for line in complete], torn


def _check_consistent(out: Path, home: Path, after: str) -> None:
    records, _ = _lines(out)
    keys = Counter((r["run_id"], r["eval_lang"]) for r in records)
    assert all(n == 1 for n in keys.values()), f"after {after}: a record appended twice: {keys.most_common(1)}"
    for done in (DONE, HEAD_DONE):
        for marker in home.rglob(done):
            assert is_cached(marker.parent, done), f"after {after}: {marker.parent} is marked finished but broken"
    for run in (out / "artifacts").glob("*") if (out / "artifacts").is_dir() else []:
        if not run.name.startswith("."):
            read_run_facts(run)  # a run's saved parts appear whole or not at all


def _leftovers(*folders: Path) -> list[Path]:
    return [p for folder in folders for p in folder.rglob("*") if ".staging-" in p.name or p.name.endswith(".tmp")]


def _by_key(out: Path) -> dict:
    records, torn = _lines(out)
    assert torn == b""
    return {(r["run_id"], r["eval_lang"]): r for r in records}


def test_a_sweep_killed_twenty_times_resumes_to_the_uninterrupted_result(zygote, study, tmp_path):
    reference_out, reference_home = tmp_path / "reference", tmp_path / "reference-home"
    answer = zygote.run([*study.args, "--out", reference_out], {"XADAPT_HOME": str(reference_home)}, tmp_path / "reference.log")
    assert answer["exit"] == 0, (tmp_path / "reference.log").read_text()
    expected = _by_key(reference_out)

    out, home = tmp_path / "out", tmp_path / "home"
    rng = random.Random(SEED)
    kills = []
    for attempt, (phase, (low, high)) in enumerate(PLAN):
        log = tmp_path / f"attempt-{attempt:02d}.log"
        answer = zygote.run([*study.args, "--out", out], {"XADAPT_HOME": str(home)}, log, (phase, rng.randint(low, high)))
        if answer["killed"]:
            assert answer["exit"] == -9, log.read_text()
            kills.append(answer["killed"])
        else:  # that phase had no such moment left: the sweep finished
            assert answer["exit"] == 0, log.read_text()
        _check_consistent(out, home, f"attempt {attempt} ({answer['killed'] or 'not killed'})")

    answer = zygote.run([*study.args, "--out", out], {"XADAPT_HOME": str(home)}, tmp_path / "final.log")
    final = (tmp_path / "final.log").read_text()
    assert answer["exit"] == 0 and answer["killed"] is None, final
    phases = Counter(kill.split()[0] for kill in kills)
    assert len(kills) >= 20 and set(phases) == {"mlm_step", "task_step", "append", "save", "report"}, kills
    assert all(n >= 2 for n in phases.values()), phases

    print(f"kill -9: {len(kills)} kills survived (seed {SEED}): {dict(phases)}")
    got = _by_key(out)
    assert got.keys() == expected.keys()  # every planned run recorded, exactly once (`_check_consistent`)
    for key, record in expected.items():
        assert {f: got[key].get(f) for f in SAME} == {f: record.get(f) for f in SAME}, key
    assert not _leftovers(out, home), _leftovers(out, home)
    assert (out / "report.md").read_text(encoding="utf-8").startswith("# Study report")
    assert sorted(p.name for p in (out / "plots").iterdir()) == sorted(p.name for p in (reference_out / "plots").iterdir())
