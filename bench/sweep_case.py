"""Studies through the real CLI (`xadapt sweep`): cold and warm caches, 1 and 2 workers, the default study.

The full default sweep (`xadapt sweep --lang sw --samples 1000`) takes more than an hour here, so
the `sweep` and `workers` cases run a reduced grid of the same study (`bench.suite.FULL`: one
size, one seed, few epochs, the three default methods, in-language and zero-shot from English, the
default evaluation caps and shorter language-adapter training; `--quick` shrinks it to one tiny
MAD-X run):

- cold: an empty `XADAPT_HOME` (only the converted model, linked in), so the MAD-X language
  adapters are trained and every split is tokenised;
- warm: the same `XADAPT_HOME` again with a fresh output directory, so the runs are redone but
  cached language adapters and tokenised splits are reused;
- workers: warm sweeps at `--workers 1` and `--workers 2`, alternating.

`default_study` (asked for by name: it takes an hour or more) runs the default study itself, cold
and warm; `default_study_warm` only warm, its caches filled by a one-epoch sweep of its MAD-X runs.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import yaml

from xadapt.study.results import ResultsStore, read_manifest
from xadapt.study.local_executor import default_workers

from bench.harness import BenchError, thread_environment


BASE_STUDY = {"task": "wikiann", "lang": "sw", "seeds": [0], "epochs": 1}
DEFAULT_STUDY = {"lang": "sw", "samples": 1000}  # `xadapt sweep --lang sw --samples 1000`


def study(overrides: dict) -> dict:
    """The reduced study (a `configs/studies` style mapping): the default study on a smaller grid."""
    return {**BASE_STUDY, **overrides}


def fresh_home(home: Path, model_dir: Path) -> None:
    """An empty xadapt cache at `home` but for the converted model, linked in."""
    shutil.rmtree(home, ignore_errors=True)
    (home / "models").mkdir(parents=True)
    (home / "models" / model_dir.name).symlink_to(model_dir, target_is_directory=True)


def sweep(config: Path, home: Path, out: Path, *args: str) -> float:
    """`xadapt sweep --config CONFIG --out OUT ARGS` with `home` as XADAPT_HOME; its wall time (log: OUT.log)."""
    command = [str(Path(sys.executable).with_name("xadapt")), "sweep", "--config", str(config), "--out", str(out), *args]
    log = out.with_suffix(".log")
    start = time.perf_counter()
    with log.open("w", encoding="utf-8") as sink:
        done = subprocess.run(command, stdout=sink, stderr=subprocess.STDOUT, env={**thread_environment(), "XADAPT_HOME": str(home)})
    seconds = time.perf_counter() - start
    if done.returncode:
        raise BenchError(f"xadapt sweep failed ({done.returncode}); log {log}")
    return seconds


def write_study(path: Path, values: dict) -> Path:
    path.write_text(yaml.safe_dump(values), encoding="utf-8")
    return path


def cold_and_warm(model_dir: Path, scratch: Path, reps: int, values: dict, name: str = "sweep") -> dict:
    """Alternate cold and warm sweeps of the study `values` `reps` times; wall times, medians, warm / cold."""
    config = write_study(scratch / f"{name}-study.yaml", values)
    home = scratch / f"{name}-home"
    times: dict[str, list[float]] = {"cold": [], "warm": []}
    for rep in range(reps):
        fresh_home(home, Path(model_dir))
        for state in ("cold", "warm"):
            times[state].append(sweep(config, home, scratch / f"{name}-{state}-{rep}"))
    cold, warm = statistics.median(times["cold"]), statistics.median(times["warm"])
    return {"study": values, "seconds": times, "cold_s": cold, "warm_s": warm, "ratio": warm / cold}


def run(model_dir: Path, scratch: Path, reps: int, overrides: dict) -> dict:
    """The reduced study, cold and warm."""
    return cold_and_warm(model_dir, scratch, reps, study(overrides))


def _study_facts(out: Path) -> dict:
    """How many runs the sweep written to `out` planned, the workers it had and the precision it used."""
    manifest = read_manifest(out)
    records = ResultsStore(out).records()
    [environment, *_] = manifest["environments"].values()
    return {"runs": len({r["run_id"] for r in records}), "workers": default_workers(), "precision": environment["precision"]["used"]}


def default_study(model_dir: Path, scratch: Path, values: dict) -> dict:
    """The default study (`values`: its settings, none for the real one), once cold and once warm, with
    the number of runs, the workers and the precision it used."""
    result = cold_and_warm(model_dir, scratch, 1, {**DEFAULT_STUDY, **values}, name="default-study")
    return {**result, **_study_facts(scratch / "default-study-cold-0")}


def default_study_warm(model_dir: Path, scratch: Path, values: dict) -> dict:
    """The default study warm only, for when its cold hour has been measured: an untimed one-epoch sweep of its
    MAD-X runs at the smallest size fills the caches a cold sweep would (the shared MLM head, both language
    adapters, the tokenised splits), then the study itself is timed with them."""
    home, settings = scratch / "default-study-warm-home", {**DEFAULT_STUDY, **values}
    fresh_home(home, Path(model_dir))
    fill = {**settings, "sizes": [min(settings.get("sizes", [16]))], "methods": ["madx"],
            "seeds": [0], "epochs": 1}
    sweep(write_study(scratch / "default-study-fill.yaml", fill), home, scratch / "default-study-fill")
    out = scratch / "default-study-warm"
    seconds = sweep(write_study(scratch / "default-study-warm.yaml", settings), home, out)
    return {"study": settings, "warm_s": seconds, **_study_facts(out)}


def workers(model_dir: Path, scratch: Path, reps: int, overrides: dict) -> dict:
    """The reduced study with warm caches at 1 and 2 workers, alternating, `reps` times each; the speed-up of 2.

    A first, untimed sweep fills the caches (language adapters, MLM head), so the comparison is of
    the runs themselves, which is what `--workers` parallelises."""
    config = write_study(scratch / "workers-study.yaml", study(overrides))
    home = scratch / "workers-home"
    fresh_home(home, Path(model_dir))
    sweep(config, home, scratch / "workers-fill")
    times: dict[str, list[float]] = {"1": [], "2": []}
    for rep in range(reps):
        for count in ("1", "2") if rep % 2 == 0 else ("2", "1"):
            times[count].append(sweep(config, home, scratch / f"workers-{count}-{rep}", "--workers", count))
    medians = {count: statistics.median(values) for count, values in times.items()}
    return {"study": study(overrides), "seconds": times, "seconds_by_workers": medians, "speedup": medians["1"] / medians["2"]}
