"""The study tab's content: a sweep's report (summary and tables), its plots with their titles, and
the points of the page's own interactive plots, computed from the records."""

from pathlib import Path

import pandas as pd

from xadapt.study.plots import TITLES
from xadapt.study.report import PLOTS_DIR, REPORT_FILE
from xadapt.study.results import CELL, best_lr_runs, load_frame, summarize

PLOTS_HEADING = "\n## Plots"  # the report's last section; the page shows the images themselves instead
SCORE_COLUMNS = ["series", "samples", "score", "ci95", "n", "method", "pair", "task", "training"]
CURVE_COLUMNS = ["series", "epoch", "dev_score", "n", "method", "samples", "task"]


def report_view(out_dir: Path) -> tuple[str, list[tuple[Path, str]]]:
    """The report's markdown without its plot links, and each PNG plot with its title."""
    report = out_dir / REPORT_FILE
    if not report.is_file():
        return (f"`{out_dir}` holds results but no report yet. Write it with `xadapt report {out_dir}` "
                "(a running sweep writes it when it finishes).", [])
    text = report.read_text(encoding="utf-8").split(PLOTS_HEADING, 1)[0]
    plots = [(png, TITLES.get(png.stem, png.stem)) for png in sorted((out_dir / PLOTS_DIR).glob("*.png"))]
    return text, plots


def _pair(frame: pd.DataFrame) -> pd.Series:
    return frame["train_lang"].astype(str) + "→" + frame["eval_lang"].astype(str)


def _series(table: pd.DataFrame, parts: list[str]) -> pd.Series:
    """A label per row from `parts`, plus task, training rule and model wherever the study has several."""
    several = [column for column in ("task", "training", "model") if table[column].nunique(dropna=False) > 1]
    return table[parts + several].astype(str).agg(", ".join, axis=1)


def score_points(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean test score per cell (method, size, language pair, task, training rule, model) over its seeds,
    at each cell's best dev learning rate, as the report's tables: the learning curves, one series each."""
    runs = best_lr_runs(frame)
    runs = runs[runs["samples"].notna()]
    if runs.empty:
        return pd.DataFrame(columns=SCORE_COLUMNS)
    table = summarize(runs, CELL)
    table["pair"] = _pair(table)
    table["series"] = _series(table, ["method", "pair"])
    return (table.rename(columns={"mean": "score"}).sort_values(["series", "samples"])[SCORE_COLUMNS]
            .astype({"samples": int, "n": int}).reset_index(drop=True))


def curve_points(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean dev score per epoch of the in-language runs of each cell over its seeds: how each method
    trains and where it overfits. Runs of different cells (sizes, training rules, models) never mix."""
    runs = best_lr_runs(frame)
    runs = runs[(runs["train_lang"] == runs["eval_lang"]) & runs["samples"].notna()]
    points = [{**{column: getattr(run, column) for column in CELL}, "epoch": point["epoch"], "dev_score": point["dev_score"]}
              for run in runs.itertuples() for point in run.curve if point.get("dev_score") is not None]
    if not points:
        return pd.DataFrame(columns=CURVE_COLUMNS)
    table = pd.DataFrame(points).groupby([*CELL, "epoch"], dropna=False)["dev_score"].agg(dev_score="mean", n="count")
    table = table.reset_index().astype({"samples": int})
    table["series"] = _series(table.assign(size=table["samples"].astype(str) + " examples"), ["method", "size"])
    return table.sort_values(["series", "epoch"])[CURVE_COLUMNS].reset_index(drop=True)


def interactive_points(out_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The learning curves and the dev curves of the study in `out_dir`, for the page's native plots."""
    frame = load_frame(out_dir)
    return score_points(frame), curve_points(frame)
