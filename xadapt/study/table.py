"""A study's results as one flat table, `results.csv`, for spreadsheets, pandas and `datasets`.

`results.jsonl` stays the record of truth; the table is derived from it (one row per run and
evaluation language, after `results_frame`'s de-duplication) and rewritten whole after every
finished run and by `xadapt report`, always atomically, so a reader never sees half a table.
The per-epoch curves and the per-layer drift do not fit one row: the table keeps the best and last
dev scores and the last layer's similarity, and `results.jsonl` keeps the rest.

    import xadapt.study
    frame = xadapt.study.load("runs/wikiann-sw")   # the same table as a DataFrame
"""

from pathlib import Path

import pandas as pd

from xadapt.atomic import atomic_file
from xadapt.study.results import last_layer_similarity, load_frame, results_frame

TABLE_FILE = "results.csv"
NESTED = ["curve", "drift"]  # per-epoch and per-layer lists: in results.jsonl only


def flat_table(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` (`results_frame`) with its nested columns replaced by `drift_last_layer`."""
    return frame.assign(drift_last_layer=frame["drift"].map(last_layer_similarity)).drop(columns=NESTED)


def write_table(out_dir: Path, frame: pd.DataFrame) -> Path:
    """Write `out_dir/results.csv` from `frame` atomically; return its path."""
    path = Path(out_dir) / TABLE_FILE
    with atomic_file(path) as staging:
        flat_table(frame).to_csv(staging, index=False)
    return path


def write_records_table(out_dir: Path, records: list[dict]) -> Path:
    """`write_table` for a study's `records` (what the sweep holds after each run)."""
    return write_table(out_dir, results_frame(records))


def load(*out_dirs: Path | str) -> pd.DataFrame:
    """The results of the studies in `out_dirs`, merged by run, as the flat table of `results.csv`."""
    return flat_table(load_frame(*(Path(out_dir) for out_dir in out_dirs)))
