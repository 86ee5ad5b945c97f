"""Case 6: a study through the real CLI (`xadapt sweep`), cold and with warm caches.

The full default sweep (`xadapt sweep --lang sw --samples 1000`) takes about an hour here, so the
suite runs a reduced grid of the same study (`bench.suite.FULL`: one size, one seed, one epoch,
the three default methods, in-language and zero-shot from English, the default evaluation caps
and shorter language-adapter training; `--quick` shrinks it to one tiny MAD-X run):

- cold: an empty `XADAPT_HOME` (only the converted model, linked in), so the MAD-X language
  adapters are trained and every split is tokenised;
- warm: the same `XADAPT_HOME` again with a fresh output directory, so the runs are redone but
  cached language adapters and tokenised splits are reused.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import yaml

from bench.harness import BenchError, thread_environment


BASE_STUDY = {"task": "wikiann", "lang": "sw", "seeds": [0], "epochs": 1}


def study(overrides: dict) -> dict:
    """The reduced study (a `configs/studies` style mapping): the default study on a smaller grid."""
    return {**BASE_STUDY, **overrides}


def fresh_home(home: Path, model_dir: Path) -> None:
    """An empty xadapt cache at `home` but for the converted model, linked in."""
    shutil.rmtree(home, ignore_errors=True)
    (home / "models").mkdir(parents=True)
    (home / "models" / model_dir.name).symlink_to(model_dir, target_is_directory=True)


def _sweep(config: Path, home: Path, out: Path) -> float:
    command = [str(Path(sys.executable).with_name("xadapt")), "sweep", "--config", str(config), "--out", str(out)]
    log = out.with_suffix(".log")
    start = time.perf_counter()
    with log.open("w", encoding="utf-8") as sink:
        done = subprocess.run(command, stdout=sink, stderr=subprocess.STDOUT, env={**thread_environment(), "XADAPT_HOME": str(home)})
    seconds = time.perf_counter() - start
    if done.returncode:
        raise BenchError(f"xadapt sweep failed ({done.returncode}); log {log}")
    return seconds


def run(model_dir: Path, scratch: Path, reps: int, overrides: dict) -> dict:
    """Alternate cold and warm sweeps `reps` times; their wall times, medians and warm / cold ratio."""
    config = scratch / "sweep-study.yaml"
    config.write_text(yaml.safe_dump(study(overrides)), encoding="utf-8")
    home = scratch / "sweep-home"
    times: dict[str, list[float]] = {"cold": [], "warm": []}
    for rep in range(reps):
        fresh_home(home, Path(model_dir))
        for state in ("cold", "warm"):
            times[state].append(_sweep(config, home, scratch / f"sweep-{state}-{rep}"))
    cold, warm = statistics.median(times["cold"]), statistics.median(times["warm"])
    return {"study": study(overrides), "seconds": times, "cold_s": cold, "warm_s": warm, "ratio": warm / cold}
