"""The results of a study: every finished run recorded durably, and read back as a table.

A sweep can be killed at any moment (a pre-empted GPU job, Ctrl-C, the OOM killer) and is then
restarted on the same output directory. Two files make that safe:

- `results.jsonl` holds one JSON record per evaluated run, appended with a single write, flushed
  and fsynced. A kill mid-write can only leave a torn last line: readers skip it with a warning and
  the next append cuts it off, so the file stays valid JSON Lines and half a record is never read
  back as a result.
- `study.json` holds the study's configuration and its `study_id`, written atomically. It stops a
  restarted sweep from mixing its runs into a directory that holds a different study. It also
  names every environment (versions, threads, device, base-model fingerprint:
  `xadapt.environment.describe`) that appended records, keyed by an id that each record carries
  in its `environment` field (an environment is named when its first record is written); environments are not part of the study's identity, so a study
  resumed after an upgrade keeps its id and says which records came from where.

The tabular view (`results_frame`, `best_lr_runs`, `summarize`) lives here as well because the
report and the plots both build on it.
"""

import hashlib
import json
import logging
import math
import numbers
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from xadapt.atomic import atomic_file
from xadapt.errors import XadaptError

RESULTS_FILE = "results.jsonl"
MANIFEST_FILE = "study.json"

RunKey = tuple[str, str]
"""(run_id, eval_lang): one training run evaluated on one language."""

log = logging.getLogger(__name__)


def _canonical(obj: Any) -> str:
    """JSON text that is equal for equal configurations whatever their key order."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


_NOT_THE_GRID = ("study_id", "environments")  # manifest keys that describe a study without defining it


def study_id(study: dict) -> str:
    """8 hex digits identifying a study's grid. The manifest's own `study_id` and `environments` are
    left out of the hash, so a manifest hashes to the id it holds."""
    grid = {key: value for key, value in study.items() if key not in _NOT_THE_GRID}
    return hashlib.sha256(_canonical(grid).encode()).hexdigest()[:8]


def environment_id(environment: dict) -> str:
    """8 hex digits naming an environment (`xadapt.environment.describe()`), for the records computed in it."""
    return hashlib.sha256(_canonical(environment).encode()).hexdigest()[:8]


def run_id(run: dict) -> str:
    """12 hex digits identifying one training run by everything that determines it (method, task,
    train language, size, learning rate, seed, epochs, model ...).

    The evaluation languages (`eval_lang`, `eval_langs`) are left out: all records of a zero-shot
    run share its id, and adding a target language to a sweep does not orphan finished runs."""
    identity = {key: value for key, value in run.items() if key not in ("eval_lang", "eval_langs")}
    return hashlib.sha256(_canonical(identity).encode()).hexdigest()[:12]


def _plain(value: Any) -> Any:
    """`value` with numpy scalars made Python numbers and NaN/inf made null.

    Strict JSON has no NaN, and a NaN loss, the usual cause of a failed run, must not stop that
    run's record from being written."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    value = float(value)
    return value if math.isfinite(value) else None


def _scan(data: bytes, path: Path) -> tuple[list[dict], int]:
    """Parse JSON Lines; return the records and the length in bytes of the part that is valid.

    Only the last line may be torn: the start of a record without its newline (what a kill during an
    append leaves), or with NUL bytes before a newline (what a lost write-back can leave). A bad line
    anywhere else, or a last line that is no start of a record, is damage no append causes, so it is
    an error rather than a result silently dropped (and cut by the next append)."""
    lines = data.split(b"\n")  # the last item is what follows the last newline: b"" or a torn tail
    records: list[dict] = []
    valid = 0
    for number, line in enumerate(lines[:-1], start=1):
        if line.strip():
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            if not isinstance(record, dict):
                if number == len(lines) - 1 and not lines[-1] and (line.startswith(b"{") or b"\x00" in line):
                    break
                raise XadaptError(
                    f"line {number} of {path} is not a JSON record; the file was changed outside xadapt. "
                    "Fix or delete that line (a sweep re-runs the missing run) and try again."
                )
            records.append(record)
        valid += len(line) + 1
    return records, valid


def write_json_atomic(path: Path, obj: dict) -> None:
    """Write JSON so that `path` always holds either the old or the complete new content."""
    with atomic_file(path) as staging, open(staging, "w", encoding="utf-8") as file:
        json.dump(_plain(obj), file, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False)
        file.write("\n")
        file.flush()
        os.fsync(file.fileno())


def read_manifest(out_dir: Path) -> dict | None:
    """The study manifest of `out_dir`, or None when there is none (a report needs only results)."""
    path = Path(out_dir) / MANIFEST_FILE
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:
        manifest = err
    if not isinstance(manifest, dict):
        raise XadaptError(
            f"{path} is not a JSON object ({manifest}); it was changed outside xadapt. "
            f"Restore it, or delete {path.parent} (or pass another --out) to start the study afresh."
        )
    return manifest


def _different_study(out_dir: Path, found: str, ours: str, differing: list[str]) -> XadaptError:
    detail = f" (they differ in: {', '.join(differing)})" if differing else ""
    return XadaptError(
        f"{out_dir} holds results of a different study: study {found} is recorded there, but this "
        f"sweep is study {ours}{detail}. Results of two studies must not mix: pass another --out "
        f"directory, or delete {out_dir} to start over."
    )


class ResultsStore:
    """The append-only record of a study's runs in `out_dir/results.jsonl`.

    One process appends to a directory at a time (the sweep); any number may read it meanwhile."""

    def __init__(self, out_dir: Path, environment_id: str | None = None) -> None:
        self.out_dir = Path(out_dir)
        self.results_path = self.out_dir / RESULTS_FILE
        self.environment_id = environment_id  # stamped on every appended record
        self._environment: dict | None = None  # described, not yet named in the manifest
        self._tail_clean = False  # True once this store has checked or written the file's end

    @classmethod
    def open(cls, out_dir: Path, study: dict) -> "ResultsStore":
        """The store for `study` in `out_dir`: create its manifest, or check that the manifest (or,
        without one, the results) belongs to this study. On a mismatch nothing is written."""
        out_dir = Path(out_dir)
        if out_dir.exists() and not out_dir.is_dir():
            raise XadaptError(f"{out_dir} is a file; pass a directory (new or from the same study) as --out")
        ours = study_id(study)
        store = cls(out_dir)
        manifest = read_manifest(out_dir)
        if manifest is not None:
            found = manifest.get("study_id")
            if found != ours:
                keys = (set(manifest) | set(study)) - set(_NOT_THE_GRID)
                differing = sorted(key for key in keys if manifest.get(key) != study.get(key))
                raise _different_study(out_dir, str(found), ours, differing)
            return store
        others = sorted({str(r["study_id"]) for r in store.records() if r.get("study_id") not in (None, ours)})
        if others:
            raise _different_study(out_dir, ", ".join(others), ours, [])
        out_dir.mkdir(parents=True, exist_ok=True)
        write_json_atomic(out_dir / MANIFEST_FILE, {**study, "study_id": ours, "environments": {}})
        return store

    def add_environment(self, environment: dict) -> str:
        """Stamp the id of `environment` (`xadapt.environment.describe()`) on every record this store
        appends from now on; the manifest names it when the first such record is written."""
        self.environment_id = environment_id(environment)
        self._environment = environment
        return self.environment_id

    def _name_environment(self) -> None:
        manifest = read_manifest(self.out_dir) or {}
        environments = manifest.get("environments", {})
        if self.environment_id not in environments:
            named = {**manifest, "environments": {**environments, self.environment_id: self._environment}}
            write_json_atomic(self.out_dir / MANIFEST_FILE, named)
        self._environment = None  # named once per store

    def _read(self) -> bytes:
        return self.results_path.read_bytes() if self.results_path.is_file() else b""

    def records(self) -> list[dict]:
        """All complete records in the order they were appended; a torn last line is skipped."""
        data = self._read()
        records, valid = _scan(data, self.results_path)
        if valid < len(data):
            log.warning(
                "%s ends with an incomplete record (%d bytes, left by an interrupted run); ignoring it. "
                "The next append removes it.",
                self.results_path,
                len(data) - valid,
            )
        return records

    def _cut_torn_tail(self) -> None:
        if self._tail_clean:
            return
        data = self._read()
        _, valid = _scan(data, self.results_path)
        if valid < len(data):
            log.warning("removing an incomplete last record (%d bytes) from %s", len(data) - valid, self.results_path)
            with open(self.results_path, "r+b") as file:
                file.truncate(valid)
                os.fsync(file.fileno())
        self._tail_clean = True

    def append(self, record: dict) -> None:
        """Add one record as one line, durably: after this returns the record survives a crash."""
        missing = [key for key in ("run_id", "eval_lang") if key not in record]
        if missing:
            raise ValueError(f"a result record needs {', '.join(missing)} to be resumable: {record!r}")
        if self.environment_id is not None:
            if self._environment is not None:
                self._name_environment()
            record = {**record, "environment": self.environment_id}
        line = (json.dumps(_plain(record), ensure_ascii=False, allow_nan=False) + "\n").encode()
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._cut_torn_tail()
        self._tail_clean = False  # until the write is on disk, the end of the file is unknown
        with open(self.results_path, "ab") as file:
            file.write(line)
            file.flush()
            os.fsync(file.fileno())
        self._tail_clean = True

    def done_keys(self, retry_failed: bool = False) -> set[RunKey]:
        """Keys of the runs a restarted sweep skips. Failed runs count as done (their failure is a
        result) unless `retry_failed`."""
        return {
            (r.get("run_id"), r.get("eval_lang"))
            for r in self.records()
            if not retry_failed or r.get("status", "ok") == "ok"
        }


_LABELS = ["method", "train_lang", "eval_lang"]
_TEXT = ["run_id", "study_id", "status", "error", "method", "task", "train_lang", "eval_lang", "metric", "eval_split",
         "stop_reason", "training", "precision", "environment"]
_INTS = ["samples", "seed", "epochs", "best_epoch", "epochs_trained", "patience", "trainable_params", "total_params", "eval_examples",
         "threads", "budget_params"]
_FLOATS = ["lr", "score", "last_score", "seconds", "dev_best", "dev_last", "language_adapter_perplexity_before",
           "language_adapter_perplexity_after", "language_adapter_steps", "budget_share"]
IMPROVING_WINDOW = 3
"""Epochs without a better dev score after which a run that trained every epoch (no patience) counts as
converged; a run whose best epoch lies within its last `patience` (or this many) epochs was still improving."""


def _dev_scores(curve: list[dict] | None) -> list[float]:
    return [point["dev_score"] for point in curve or [] if point.get("dev_score") is not None]


def training_label(protocol: dict | None, epochs=None) -> str:
    """A short, unique description of how a run was trained and judged (its `protocol`), e.g.
    "≤20 epochs, patience 3, batch 8, 128 tokens, dev 200, test 500"; runs compare only within one."""
    if not protocol:
        return f"{epochs} epochs (older record)" if epochs is not None else "?"
    stop = f"≤{protocol['epochs']} epochs, patience {protocol['patience']}" if protocol.get("patience") else f"{protocol['epochs']} epochs"
    budget = f", ≤{protocol['time_budget']:g} s" if protocol.get("time_budget") else ""

    def limit(value):
        return "all" if value is None else str(value)

    precision = f", {protocol['precision']}" if protocol.get("precision", "fp32") != "fp32" else ""
    return (f"{stop}{budget}, batch {protocol.get('batch_size')}, {protocol.get('max_length')} tokens, "
            f"dev {limit(protocol.get('dev_limit'))}, test {limit(protocol.get('eval_limit'))}{precision}")


def last_layer_similarity(drift: dict | None) -> float:
    """A record's drift at the last layer (RSA similarity to the base model), NaN when it was not measured."""
    values = drift.get("similarity") if isinstance(drift, dict) else None
    return float(values[-1]) if values else math.nan


def _language_adapters(record: dict) -> dict:
    """The weakest language adapter a record used: the highest perplexity ratio after/before, fewest steps."""
    adapters = [a for a in (record.get("language_adapters") or {}).values()
                if all(isinstance(a.get(k), (int, float)) and 0 < a[k] < math.inf for k in ("perplexity_before", "perplexity_after"))]
    if not adapters:
        return {}
    worst = max(adapters, key=lambda a: a["perplexity_after"] / a["perplexity_before"])
    return {"language_adapter_perplexity_before": worst["perplexity_before"],
            "language_adapter_perplexity_after": worst["perplexity_after"],
            "language_adapter_steps": min(a["steps"] for a in adapters)}


def results_frame(records: list[dict]) -> pd.DataFrame:
    """One row per evaluation, with `curve` and `drift` kept as objects for the plots, and "?" for
    a missing method or language.

    When a key was recorded twice (a failed run retried, a run redone after a manual edit, a run two
    merged studies share), a successful record wins over a failed one and then the later record, so
    no run is counted twice."""
    rows = [
        {
            **{key: r.get(key) for key in _TEXT + _INTS + _FLOATS},
            "status": r.get("status", "ok"),
            "model": (r.get("model") or {}).get("name"),
            "dev_best": max(_dev_scores(r.get("curve")), default=math.nan),
            "dev_last": (_dev_scores(r.get("curve")) or [math.nan])[-1],
            "epochs_trained": r.get("epochs_trained", len(r.get("curve") or []) or None),
            "patience": (r.get("protocol") or {}).get("patience"),
            "training": training_label(r.get("protocol"), r.get("epochs")),
            "train_fingerprint": (r.get("data") or {}).get("train_fingerprint"),
            "curve": r.get("curve") or [],
            "drift": r.get("drift"),
            # what the method adds at inference, and its share of the encoder's layers (`xadapt.methods.budget`)
            "budget_params": (r.get("budget") or {}).get("parameters"),
            "budget_share": (r.get("budget") or {}).get("share"),
            "fused": ", ".join(f"{f['key']} ({f['samples']} examples, test {f['metric']} {f['score']:.3f})"
                               for f in r.get("fused") or []) or None,
            **_language_adapters(r),
        }
        for r in records
    ]
    frame = pd.DataFrame(rows, columns=[*_TEXT, *_INTS, *_FLOATS, "model", "train_fingerprint", "curve", "drift", "fused"])
    frame[_LABELS] = frame[_LABELS].fillna("?")  # a record that lacks them still shows, flagged
    for column in _INTS:
        frame[column] = pd.to_numeric(frame[column]).astype("Int64")
    for column in _FLOATS:
        frame[column] = pd.to_numeric(frame[column]).astype(float)
    window = frame["patience"].fillna(IMPROVING_WINDOW)
    improving = (frame["best_epoch"] > frame["epochs_trained"] - window).fillna(False).astype(bool)
    frame["still_improving"] = improving & (frame["stop_reason"] != "patience") & (frame["status"] == "ok")
    # a success outranks a failure of the same run (a failed retry, or a merged study that saw it fail), then the later record wins
    frame = frame.iloc[np.argsort((frame["status"] == "ok").to_numpy(), kind="stable")]
    repeated = frame.duplicated(["run_id", "eval_lang"], keep="last") & frame["run_id"].notna()
    return frame[~repeated].sort_index().reset_index(drop=True)


def study_records(out_dir: Path) -> list[dict]:
    """The records of the sweep in `out_dir`, or a user error saying why there are none yet."""
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise XadaptError(f"{out_dir} is not a directory; pass the --out directory of an `xadapt sweep`")
    store = ResultsStore(out_dir)
    if not store.results_path.is_file():
        raise XadaptError(
            f"{out_dir} has no {RESULTS_FILE}, so no sweep has finished a run there. Pass the --out "
            "directory of an `xadapt sweep`, or wait until the sweep has finished its first run."
        )
    records = store.records()
    if not records:
        raise XadaptError(f"{store.results_path} holds no complete record yet; wait until the sweep finishes a run")
    for number, record in enumerate(records, start=1):
        _check_record(record, number, store.results_path)
    return records


RECORD_KEYS = ("run_id", "eval_lang", "method", "train_lang", "samples")  # what every record a sweep writes has


def _check_record(record: dict, number: int, path: Path) -> None:
    """Raise `XadaptError` when record `number` of `path` cannot be a sweep's: a key missing, a number that is none."""
    missing = [key for key in RECORD_KEYS if key not in record]
    wrong = [key for key in _INTS + _FLOATS
             if record.get(key) is not None and (isinstance(record[key], bool) or not isinstance(record[key], (int, float)))]
    if missing or wrong:
        problem = f"it lacks {', '.join(missing)}" if missing else f"{wrong[0]} must be a number, got {record[wrong[0]]!r}"
        raise XadaptError(f"record {number} of {path} was not written by a sweep ({problem}); the file was changed "
                          "outside xadapt. Fix or delete that line (a sweep re-runs the missing run) and try again.")


def load_frame(*out_dirs: Path) -> pd.DataFrame:
    """The results of the sweeps in `out_dirs` as one frame (see `results_frame`), or a user error
    saying why there is nothing to report. Runs are matched by configuration: a run that two studies
    share (the same run id) counts once."""
    return results_frame([record for out_dir in out_dirs for record in study_records(out_dir)])


CELL = ["method", "samples", "train_lang", "eval_lang", "training", "task", "model"]
"""The columns that make one cell of a study: what a table row or a plotted point summarises. Runs
trained under different rules (`training`: early-stopped or long runs, other batch sizes), on other
tasks or other models never share one."""


def language_pairs(frame: pd.DataFrame) -> list[tuple[str, str]]:
    """The (train, eval) language pairs in `frame`, in-language first: the order a reader compares them in."""
    pairs = frame[["train_lang", "eval_lang"]].drop_duplicates().itertuples(index=False)
    return sorted(((train, target) for train, target in pairs), key=lambda p: (p[0] != p[1], str(p[0]), str(p[1])))


def sweeps_rates(frame: pd.DataFrame) -> bool:
    """Whether some method ran at several learning rates (methods may each have their own grid)."""
    return bool((frame.groupby("method")["lr"].nunique() > 1).any())


def best_lr_runs(frame: pd.DataFrame) -> pd.DataFrame:
    """The successful runs at, per cell, the learning rate with the best mean dev score.

    Averaging over rates would blend a good rate with a bad one, and choosing on the test score
    would flatter every method. Runs without a dev curve are judged by their `score`."""
    ok = frame[frame["status"] == "ok"]
    if ok["lr"].nunique() <= 1:
        return ok
    judged = ok.assign(judge=ok["dev_best"].fillna(ok["score"]))
    means = judged.groupby([*CELL, "lr"], dropna=False)["judge"].mean().reset_index()
    best = means.sort_values("judge", ascending=False, na_position="last").drop_duplicates(CELL)
    return ok.merge(best[[*CELL, "lr"]], on=[*CELL, "lr"])


def summarize(frame: pd.DataFrame, by: list[str], value: str = "score") -> pd.DataFrame:
    """Per group of `by`: n, mean, sample std and the half-width of the 95% Student-t confidence
    interval of `value` (over seeds, usually). With n=1, std and ci95 are NaN: one run has no spread."""
    present = frame[frame[value].notna()]
    table = present.groupby(by, dropna=False)[value].agg(n="count", mean="mean", std="std").reset_index()
    n = table["n"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        table["ci95"] = stats.t.ppf(0.975, n - 1) * table["std"].to_numpy(dtype=float) / np.sqrt(n)
    return table
