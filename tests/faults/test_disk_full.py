"""A sweep whose disk fills up: one clear line, exit 1, nothing corrupt; with space again, the same command finishes.

`--out` and `XADAPT_HOME` lie on a 48 MB tmpfs, mounted in a mount namespace of this test's own
(unshare): the shared MLM head (32 MB for the tiny model's vocabulary) fits, a fine-tuned model's
saved parts do not. Then the tmpfs grows to 512 MB in the same namespace and the same command runs
again: it resumes and records every run exactly once.
"""

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

from xadapt.train.language import DONE, HEAD_DONE, is_cached

XADAPT = Path(sys.executable).with_name("xadapt")
SCRIPT = """
set -u
disk="$1"; shift; snapshots="$1"; shift
mount -t tmpfs -o size=48m xadapt-full "$disk" || exit 97
XADAPT_HOME="$disk/home" "$@" --out "$disk/out" > "$snapshots/full.log" 2>&1; echo $? > "$snapshots/full.rc"
cp -a "$disk" "$snapshots/after-full"
mount -o remount,size=512m "$disk" || exit 98
XADAPT_HOME="$disk/home" "$@" --out "$disk/out" > "$snapshots/again.log" 2>&1; echo $? > "$snapshots/again.rc"
cp -a "$disk" "$snapshots/after-again"
"""


def _namespace() -> tuple[str, ...]:
    unshare = shutil.which("unshare")
    assert unshare, "the disk-full test needs util-linux's unshare to mount a small tmpfs of its own"
    return (unshare, "--mount", "--propagation", "private") if os.geteuid() == 0 else (unshare, "--user", "--map-root-user", "--mount")


def _records(out: Path) -> list[dict]:
    data = (out / "results.jsonl").read_bytes() if (out / "results.jsonl").is_file() else b""
    assert data == b"" or data.endswith(b"\n"), "a torn record was left"
    return [json.loads(line) for line in data.splitlines()]


def _intact(home: Path) -> None:
    for done in (DONE, HEAD_DONE):
        for marker in home.rglob(done):
            assert is_cached(marker.parent, done), f"{marker.parent} is marked finished but broken"
    left = [p for p in home.parent.rglob("*") if ".staging-" in p.name or p.name.endswith(".tmp")]
    assert not left, left


def test_a_full_disk_stops_the_sweep_with_one_line_and_the_same_command_resumes(study, tmp_path):
    disk, snapshots = tmp_path / "disk", tmp_path / "snapshots"
    disk.mkdir()
    snapshots.mkdir()
    env = {**os.environ, "COLUMNS": "200", "TOKENIZERS_PARALLELISM": "false"}
    done = subprocess.run([*_namespace(), "sh", "-c", SCRIPT, "sh", str(disk), str(snapshots), str(XADAPT), *map(str, study.args)],
                          env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr

    full_log = (snapshots / "full.log").read_text()
    errors = [line for line in full_log.splitlines() if line.startswith("error:")]
    assert (snapshots / "full.rc").read_text().strip() == "1", full_log
    assert len(errors) == 1 and "Traceback" not in full_log, full_log
    assert errors[0].startswith("error: no space left on the disk") and "run the same command again to resume" in errors[0]
    full = snapshots / "after-full"
    _intact(full / "home")
    assert not (full / "home" / "crashes").exists()  # not reported as a bug
    before = _records(full / "out")
    print(f"disk full: {errors[0]} ({len(before)} records before)")
    assert len({(r["run_id"], r["eval_lang"]) for r in before}) == len(before)

    again_log = (snapshots / "again.log").read_text()
    assert (snapshots / "again.rc").read_text().strip() == "0", again_log
    after = snapshots / "after-again"
    _intact(after / "home")
    records = _records(after / "out")
    assert records[: len(before)] == before  # what was recorded before the disk filled stays as it was
    keys = Counter((r["run_id"], r["eval_lang"]) for r in records)
    assert len(keys) == 24 and set(keys.values()) == {1} and {r["status"] for r in records} == {"ok"}
    assert (after / "out" / "report.md").is_file()
