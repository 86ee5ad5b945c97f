"""`OUT/report.md`: what a study ran, how each method did, what failed, and where the plots are.

Everything is computed from `results.jsonl` alone (`study.json` only adds the configuration to the
summary), and a partial sweep yields a partial report: a missing cell is a missing row, not an error.
Tables are rendered by a tiny markdown helper rather than `DataFrame.to_markdown`, which would add
`tabulate` as a dependency for twenty lines of code.
"""

import json
from pathlib import Path

import pandas as pd

from xadapt.errors import XadaptError
from xadapt.study.plots import TITLES, write_plots
from xadapt.study.results import (
    CELL,
    RESULTS_FILE,
    ResultsStore,
    best_lr_runs,
    language_pairs,
    read_manifest,
    results_frame,
    summarize,
    sweeps_rates,
)

REPORT_FILE = "report.md"
PLOTS_DIR = "plots"


def load_frame(out_dir: Path) -> pd.DataFrame:
    """The results of the sweep in `out_dir` as a frame (see `results_frame`), or a user error
    saying why there is nothing to report."""
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise XadaptError(f"{out_dir} is not a directory; pass the --out directory of an `xadapt sweep`")
    store = ResultsStore(out_dir)
    if not store.results_path.is_file():
        raise XadaptError(
            f"{out_dir} has no {RESULTS_FILE}, so no sweep has finished a run there. Pass the --out "
            "directory of an `xadapt sweep`, or wait until the sweep has finished its first run."
        )
    frame = results_frame(store.records())
    if frame.empty:
        raise XadaptError(f"{store.results_path} holds no complete record yet; wait until the sweep finishes a run")
    return frame


def mean_cell(n: int, mean: float, std: float) -> str:
    """'mean ± std', or the single value marked n=1 (one seed has no spread)."""
    if n == 0 or pd.isna(mean):
        return "–"
    return f"{mean:.3f} (n=1)" if n == 1 else f"{mean:.3f} ± {std:.3f}"


def _ci_cell(n: int, mean: float, ci95: float) -> str:
    return "–" if n < 2 or pd.isna(ci95) else f"[{mean - ci95:.3f}, {mean + ci95:.3f}]"


def _markdown_table(frame: pd.DataFrame) -> str:
    def cell(value: object) -> str:
        missing = value is None or (not isinstance(value, str) and pd.isna(value))
        return "–" if missing else str(value).replace("|", "\\|")

    lines = ["| " + " | ".join(cell(c) for c in frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def _values(frame: pd.DataFrame, column: str) -> str:
    values = sorted(frame[column].dropna().unique())
    return ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values) or "–"


def score_overview(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean score per method × size (rows) and language pair (columns), as display strings."""
    stats = summarize(best_lr_runs(frame), [*CELL])
    stats["pair"] = stats["train_lang"].astype(str) + "→" + stats["eval_lang"].astype(str)
    stats["cell"] = [mean_cell(r.n, r.mean, r.std) for r in stats.itertuples()]
    order = [f"{t}→{e}" for t, e in language_pairs(stats)]
    table = stats.pivot_table(index=["method", "samples"], columns="pair", values="cell", aggfunc="first")
    return table.reindex(columns=order).reset_index()


def _summary(frame: pd.DataFrame, manifest: dict | None) -> str:
    ok = frame[frame["status"] == "ok"]
    run_status = frame.groupby("run_id")["status"].agg(lambda s: "ok" if (s == "ok").all() else "failed")
    seconds = frame.groupby("run_id")["seconds"].max().sum()
    study = manifest["study_id"] if manifest else "(no study.json; summarised from results.jsonl)"
    lines = [
        "# Study report",
        "",
        f"- **study**: {study}",
        f"- **model**: {_values(frame, 'model')}",
        f"- **task**: {_values(frame, 'task')} (metric {_values(frame, 'metric')} on {_values(frame, 'eval_split')})",
        f"- **methods**: {_values(frame, 'method')}",
        f"- **training sizes**: {_values(frame, 'samples')}",
        f"- **learning rates**: {_values(frame, 'lr')}",
        f"- **seeds**: {_values(frame, 'seed')}",
        f"- **language pairs (train→eval)**: {', '.join(f'{t}→{e}' for t, e in language_pairs(frame))}",
        f"- **runs**: {(run_status == 'ok').sum()} ok, {(run_status == 'failed').sum()} failed "
        f"({len(ok)} successful evaluations of {len(frame)})",
        f"- **training time**: {seconds:,.1f} s ({seconds / 3600:.2f} h)",
    ]
    if manifest:
        lines += ["", "Study configuration (`study.json`):", "", "```json", json.dumps(manifest, indent=2), "```"]
    return "\n".join(lines)


def _score_tables(frame: pd.DataFrame) -> str:
    runs = best_lr_runs(frame)
    lr_column = frame["lr"].nunique() > 1  # rates differ somewhere: say which one each row used
    score, last = summarize(runs, [*CELL, "lr"]), summarize(runs, [*CELL, "lr"], "last_score")
    table = score.merge(last, on=[*CELL, "lr"], how="outer", suffixes=("", "_last"))
    lines = [
        "## Scores",
        "",
        "`score` is the metric at the best epoch, `last score` after the final epoch; mean ± sample std "
        "over seeds, 95% confidence interval from Student's t. One seed shows its value and n=1.",
    ]
    if sweeps_rates(frame):
        lines.append("Each row uses the learning rate with the best mean dev score (column lr).")
    if table.empty:
        lines += ["", "No successful run yet."]
    for train, target in language_pairs(table):
        rows = table[(table["train_lang"] == train) & (table["eval_lang"] == target)]
        rows = rows.sort_values(["method", "samples"]).fillna({"n": 0, "n_last": 0})
        kind = "in-language" if train == target else "zero-shot"
        display = pd.DataFrame(
            {
                "method": rows["method"],
                "training size": rows["samples"],
                **({"lr": rows["lr"].map("{:g}".format)} if lr_column else {}),
                "n": rows["n"].astype(int),
                "score": [mean_cell(r.n, r.mean, r.std) for r in rows.itertuples()],
                "score 95% CI": [_ci_cell(r.n, r.mean, r.ci95) for r in rows.itertuples()],
                "last score": [mean_cell(r.n_last, r.mean_last, r.std_last) for r in rows.itertuples()],
                "last score 95% CI": [_ci_cell(r.n_last, r.mean_last, r.ci95_last) for r in rows.itertuples()],
            }
        )
        lines += ["", f"### {train} → {target} ({kind})", "", _markdown_table(display)]
    return "\n".join(lines)


def _lr_tables(frame: pd.DataFrame) -> str:
    """Score per learning rate, so a reader sees how sensitive each method is to it."""
    if not sweeps_rates(frame):
        return ""
    stats = summarize(frame[frame["status"] == "ok"], [*CELL, "lr"])
    stats["cell"] = [mean_cell(r.n, r.mean, r.std) for r in stats.itertuples()]
    lines = ["## Learning rates", "", "Mean score ± std over seeds for every learning rate of the sweep."]
    for train, target in language_pairs(stats):
        cell = stats[(stats["train_lang"] == train) & (stats["eval_lang"] == target)]
        table = cell.pivot_table(index=["method", "samples"], columns="lr", values="cell", aggfunc="first")
        table.columns = [f"lr {lr:g}" for lr in table.columns]
        table = table.reset_index().rename(columns={"samples": "training size"})
        lines += ["", f"### {train} → {target}", "", _markdown_table(table)]
    return "\n".join(lines)


def _count_cell(values: pd.Series) -> str:
    values = values.dropna()
    if values.empty:
        return "–"
    low, high = int(values.min()), int(values.max())
    return f"{low:,}" if low == high else f"{low:,}–{high:,}"


def _parameters(frame: pd.DataFrame) -> str:
    rows = []
    for method, runs in frame.groupby("method"):
        share = (runs["trainable_params"] / runs["total_params"]).dropna()
        rows.append(
            {
                "method": method,
                "trainable parameters": _count_cell(runs["trainable_params"]),
                "total parameters": _count_cell(runs["total_params"]),
                "trainable share": f"{share.max():.2%}" if len(share) else "–",
            }
        )
    return "## Trainable parameters\n\n" + _markdown_table(pd.DataFrame(rows))


def _failures(frame: pd.DataFrame) -> str:
    failed = frame[frame["status"] != "ok"]
    if failed.empty:
        return "## Failed runs\n\nNone."
    lines = ["## Failed runs", "", "Listed, never averaged.", ""]
    for r in failed.itertuples():
        what = f"{r.method}, {r.samples} examples, {r.train_lang}→{r.eval_lang}, lr {r.lr:g}, seed {r.seed}"
        error = " ".join(r.error.split()) if isinstance(r.error, str) and r.error.strip() else "no error recorded"
        lines.append(f"- `{r.run_id}` ({what}): {error}")
    return "\n".join(lines)


def _plots(files: list[Path], out_dir: Path) -> str:
    lines = ["## Plots"] if files else ["## Plots", "", "None: no successful run yet."]
    for png in (f for f in files if f.suffix == ".png"):
        title = TITLES[png.stem]
        svg = png.with_suffix(".svg").relative_to(out_dir).as_posix()
        lines += ["", f"### {title}", "", f"![{title}]({png.relative_to(out_dir).as_posix()})", "", f"[SVG]({svg})"]
    return "\n".join(lines)


def write_report(out_dir: Path) -> Path:
    """Write `out_dir/report.md` and the plots it links to; return the report's path."""
    out_dir = Path(out_dir)
    frame = load_frame(out_dir)
    plot_files = write_plots(frame, out_dir / PLOTS_DIR)
    sections = [
        _summary(frame, read_manifest(out_dir)),
        _score_tables(frame),
        _lr_tables(frame),
        _parameters(frame),
        _failures(frame),
        _plots(plot_files, out_dir),
    ]
    path = out_dir / REPORT_FILE
    path.write_text("\n\n".join(s for s in sections if s) + "\n", encoding="utf-8")
    return path
