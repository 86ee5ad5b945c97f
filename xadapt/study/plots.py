"""The study's figures, each written as PNG (for the report) and SVG (for papers and slides).

Figures are drawn on bare `matplotlib.figure.Figure` objects, never through pyplot: pyplot keeps
global state and may pick an interactive backend, while a bare Figure renders PNG with Agg and is
freed with its last reference, which suits a headless sweep and a notebook alike.
A figure whose data the sweep did not produce (one learning rate, no zero-shot pair, no drift
measurement) is skipped, and a stale file of that name is removed so the folder matches the report.
"""

import math
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, NullLocator

from xadapt.atomic import atomic_file
from xadapt.study.results import best_lr_runs, language_pairs, summarize, sweeps_rates

TITLES = {
    "score_vs_size": "Score vs training size",
    "curves": "Overfitting: dev loss and dev score per epoch",
    "lr_sensitivity": "Learning-rate sensitivity",
    "zero_shot": "Zero-shot transfer per target language",
    "drift": "Representation drift per layer",
}
FORMATS = ("png", "svg")


# Margins in inches around fixed-size panels. A fixed layout costs a third of what matplotlib's
# constrained layout does (it measures every tick label on every draw), and the labels here are short.
_LEFT, _RIGHT, _TOP, _BOTTOM, _GAP_X, _GAP_Y = 0.9, 0.25, 0.9, 0.65, 0.95, 1.0


def _figure(rows: int, columns: int, title: str, width: float = 4.6, height: float = 3.2) -> tuple[Figure, np.ndarray]:
    """A figure of rows × columns panels of `width` × `height` inches, with room for labels and `title`."""
    size = (
        _LEFT + _RIGHT + columns * width + (columns - 1) * _GAP_X,
        _TOP + _BOTTOM + rows * height + (rows - 1) * _GAP_Y,
    )
    figure = Figure(figsize=size)
    spacing = {
        "left": _LEFT / size[0],
        "right": 1 - _RIGHT / size[0],
        "bottom": _BOTTOM / size[1],
        "top": 1 - _TOP / size[1],
        "wspace": _GAP_X / width,
        "hspace": _GAP_Y / height,
    }
    axes = figure.subplots(rows, columns, squeeze=False, gridspec_kw=spacing)
    figure.suptitle(title, y=1 - 0.2 / size[1], va="top")
    return figure, axes


def _grid(panels: int, title: str, width: float = 4.6, columns: int = 3) -> tuple[Figure, list[Axes]]:
    """`panels` panels, `columns` to a row."""
    columns = min(panels, columns)
    figure, grid = _figure(math.ceil(panels / columns), columns, title, width)
    axes = list(grid.flat)
    for unused in axes[panels:]:
        unused.set_visible(False)
    return figure, axes[:panels]


def _colors(methods: Iterable[str]) -> dict[str, tuple]:
    """One colour per method, the same in every figure."""
    palette = colormaps["tab10"]
    return {method: palette(i % 10) for i, method in enumerate(sorted(set(methods)))}


def _metric(frame: pd.DataFrame) -> str:
    return ", ".join(sorted(frame["metric"].dropna().unique())) or "score"


def _line_with_band(ax: Axes, x: pd.Series, stats: pd.DataFrame, label: str, color: tuple) -> None:
    """Mean line with a shaded 95% CI band (no band where a point has a single run)."""
    mean = stats["mean"].to_numpy(dtype=float)
    half = stats["ci95"].fillna(0).to_numpy(dtype=float)
    x = x.to_numpy(dtype=float)
    ax.plot(x, mean, marker="o", label=label, color=color)
    ax.fill_between(x, mean - half, mean + half, color=color, alpha=0.2, linewidth=0)


def _log_x(ax: Axes, values: pd.Series, label: str) -> None:
    """Log x axis ticked at the swept values only: readable, and far cheaper to draw than minor ticks."""
    ticks = sorted(values.dropna().unique())
    ax.set_xscale("log")
    ax.set_xticks(ticks, [f"{tick:g}" for tick in ticks])
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlabel(f"{label} (log scale)")


def _score_vs_size(runs: pd.DataFrame) -> Figure | None:
    stats = summarize(runs, ["train_lang", "eval_lang", "method", "samples"]).dropna(subset=["samples"])
    if stats.empty:
        return None
    pairs = language_pairs(stats)
    figure, axes = _grid(len(pairs), "Score vs training size (mean over seeds, band: 95% CI)")
    colors = _colors(stats["method"])
    for ax, (train, target) in zip(axes, pairs):
        cell = stats[(stats["train_lang"] == train) & (stats["eval_lang"] == target)]
        for method, line in cell.groupby("method"):
            line = line.sort_values("samples")
            _line_with_band(ax, line["samples"], line, method, colors[method])
        _log_x(ax, cell["samples"], "training examples")
        ax.set(title=f"{train} → {target}", ylabel=_metric(runs))
        ax.legend(title="method")
    return figure


def _curve_points(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per epoch of each training run (a zero-shot run's records share one curve)."""
    rows = [
        {"train_lang": r.train_lang, "method": r.method, "samples": r.samples, **point}
        for r in runs.drop_duplicates("run_id").itertuples()
        for point in r.curve
    ]
    points = pd.DataFrame(rows, columns=["train_lang", "method", "samples", "epoch", "dev_loss", "dev_score"])
    return points.dropna(subset=["epoch", "samples"])


def _curves(runs: pd.DataFrame) -> Figure | None:
    points = _curve_points(runs)
    if points.empty:
        return None
    languages, methods = sorted(points["train_lang"].unique()), sorted(points["method"].unique())
    title = "Overfitting: dev loss and dev score per epoch (mean over seeds)"
    figure, grid = _figure(2 * len(languages), len(methods), title)
    sizes = sorted(points["samples"].unique())
    shade = colormaps["viridis"]  # dark to green: the top of the map, yellow, vanishes on white
    for row, language in enumerate(languages):
        for column, method in enumerate(methods):
            runs_here = points[(points["train_lang"] == language) & (points["method"] == method)]
            mean = runs_here.groupby(["samples", "epoch"])[["dev_loss", "dev_score"]].mean().reset_index()
            for quantity, ax in zip(("dev_loss", "dev_score"), grid[2 * row : 2 * row + 2, column]):
                for size, line in mean.groupby("samples"):
                    color = shade(0.85 * sizes.index(size) / max(len(sizes) - 1, 1))
                    ax.plot(line["epoch"], line[quantity], marker=".", color=color, label=f"{size} examples")
                label = quantity.replace("_", " ")
                ax.set(title=f"{method}, trained on {language}", xlabel="epoch", ylabel=label)
                ax.xaxis.set_major_locator(MaxNLocator(integer=True))
                if ax.lines:
                    ax.legend(title="training size", fontsize="small")
    return figure


def _lr_sensitivity(ok: pd.DataFrame) -> Figure | None:
    if not sweeps_rates(ok):
        return None
    stats = summarize(ok, ["train_lang", "eval_lang", "samples", "method", "lr"]).dropna(subset=["lr", "samples"])
    order = {pair: i for i, pair in enumerate(language_pairs(stats))}
    panels = sorted(stats.groupby(["train_lang", "eval_lang", "samples"]), key=lambda p: (order[p[0][:2]], p[0][2]))
    figure, axes = _grid(len(panels), "Learning-rate sensitivity (mean over seeds, band: 95% CI)")
    colors = _colors(stats["method"])
    for ax, ((train, target, size), cell) in zip(axes, panels):
        for method, line in cell.groupby("method"):
            line = line.sort_values("lr")
            _line_with_band(ax, line["lr"], line, method, colors[method])
        _log_x(ax, cell["lr"], "learning rate")
        ax.set(title=f"{train} → {target}, {size} examples", ylabel=_metric(ok))
        ax.legend(title="method")
    return figure


def _zero_shot(runs: pd.DataFrame) -> Figure | None:
    transfer = runs[runs["train_lang"] != runs["eval_lang"]]
    stats = summarize(transfer, ["train_lang", "samples", "eval_lang", "method"])
    if stats.empty:
        return None
    panels = list(stats.groupby(["train_lang", "samples"], dropna=False))
    title = "Zero-shot transfer per target language (mean over seeds, error bar: 95% CI)"
    figure, axes = _grid(len(panels), title, width=5.5)
    colors = _colors(stats["method"])
    for ax, ((train, size), cell) in zip(axes, panels):
        targets, methods = sorted(cell["eval_lang"].unique()), sorted(cell["method"].unique())
        width = 0.8 / len(methods)
        for i, method in enumerate(methods):
            bars = cell[cell["method"] == method].set_index("eval_lang").reindex(targets)
            x = np.arange(len(targets)) + (i - (len(methods) - 1) / 2) * width
            error = bars["ci95"].fillna(0).to_numpy(dtype=float)
            ax.bar(x, bars["mean"], width, yerr=error, capsize=3, label=method, color=colors[method])
        ax.set_xticks(np.arange(len(targets)), targets)
        ax.set(title=f"trained on {train}, {size} examples", xlabel="target language", ylabel=_metric(runs))
        ax.legend(title="method")
    return figure


def _drift_points(runs: pd.DataFrame) -> pd.DataFrame:
    rows = [
        {
            "train_lang": r.train_lang,
            "samples": r.samples,
            "method": r.method,
            "measure": r.drift.get("measure"),
            "layer": layer,
            "similarity": similarity,
        }
        for r in runs.drop_duplicates("run_id").itertuples()
        if isinstance(r.drift, dict)
        for layer, similarity in zip(r.drift.get("layers") or [], r.drift.get("similarity") or [])
    ]
    return pd.DataFrame(rows, columns=["train_lang", "samples", "method", "measure", "layer", "similarity"])


def _drift(runs: pd.DataFrame) -> Figure | None:
    points = _drift_points(runs)
    if points.empty:
        return None
    measure = ", ".join(sorted(points["measure"].dropna().unique())) or "similarity"
    panels = list(points.groupby(["train_lang", "samples"], dropna=False))
    figure, axes = _grid(len(panels), "Representation drift per layer (mean over seeds, band: 95% CI)")
    colors = _colors(points["method"])
    for ax, ((train, size), cell) in zip(axes, panels):
        stats = summarize(cell, ["method", "layer"], "similarity")
        for method, line in stats.groupby("method"):
            line = line.sort_values("layer")
            _line_with_band(ax, line["layer"], line, method, colors[method])
        ax.set(title=f"trained on {train}, {size} examples", xlabel="layer")
        ax.set_ylabel(f"{measure} similarity to base model")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(title="method")
    return figure


def _main_rule(runs: pd.DataFrame) -> pd.DataFrame:
    """The runs trained under the study's most common training rule: one figure never mixes two rules."""
    if runs.empty:
        return runs
    return runs[runs["training"] == runs["training"].value_counts().index[0]]


def write_plots(frame: pd.DataFrame, plots_dir: Path) -> list[Path]:
    """Draw every figure the results support into `plots_dir`; return the files written.

    `frame` is `results_frame(...)`: failed runs are left out, and where a sweep has several
    learning rates each cell uses its best one (see `best_lr_runs`), except in the learning-rate
    figure, which shows them all. Figures show the runs of the most common training rule, except the
    dev curves, which show the runs trained every epoch (no early stopping) where there are any."""
    best = best_lr_runs(frame)
    main, ok = _main_rule(best), frame[frame["status"] == "ok"]
    untimed = best[best["patience"].isna()]  # runs trained every epoch: the curves that show overfitting
    figures = {
        "score_vs_size": _score_vs_size(main),
        "curves": _curves(_main_rule(untimed) if not untimed.empty else main),
        "lr_sensitivity": _lr_sensitivity(ok[ok["training"].isin(main["training"])]),
        "zero_shot": _zero_shot(main),
        "drift": _drift(main),
    }
    plots_dir = Path(plots_dir)
    plots_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, figure in figures.items():
        for fmt in FORMATS:
            path = plots_dir / f"{name}.{fmt}"
            if figure is None:
                path.unlink(missing_ok=True)
                continue
            with atomic_file(path) as staging:  # a killed report leaves the old plot or the new one, never half
                figure.savefig(staging, dpi=150, format=fmt)
            written.append(path)
    return written
