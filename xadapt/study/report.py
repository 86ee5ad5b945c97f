"""`OUT/report.md`: what a study ran, how each method did, what failed, and where the plots are.

Everything is computed from `results.jsonl` alone (`study.json` only adds the configuration to the
summary), and a partial sweep yields a partial report: a missing cell is a missing row, not an error.
Tables are rendered by a tiny markdown helper rather than `DataFrame.to_markdown`, which would add
`tabulate` as a dependency for twenty lines of code.
"""

import json
from pathlib import Path

import pandas as pd

from xadapt.atomic import atomic_file
from xadapt.study.findings import VERDICTS, convergence, findings
from xadapt.study.plots import TITLES, write_plots
from xadapt.study.results import (
    CELL,
    best_lr_runs,
    language_pairs,
    load_frame,
    read_manifest,
    summarize,
    sweeps_rates,
    write_json_atomic,
)
from xadapt.study.table import write_table

REPORT_FILE = "report.md"
FINDINGS_FILE = "findings.json"
PLOTS_DIR = "plots"


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
    table = stats.pivot_table(index=_row_labels(stats), columns="pair", values="cell", aggfunc="first")
    return table.reindex(columns=order).reset_index()


def _row_labels(frame: pd.DataFrame) -> list[str]:
    """What names a table row: method and size, and the training rule where the runs have several."""
    return ["method", "samples", *(["training"] if frame["training"].nunique() > 1 else [])]


def _summary(frame: pd.DataFrame, manifests: list[dict | None]) -> str:
    ok = frame[frame["status"] == "ok"]
    run_status = frame.groupby("run_id")["status"].agg(lambda s: "ok" if (s == "ok").all() else "failed")
    seconds = frame.groupby("run_id")["seconds"].max().sum()
    ids = [m["study_id"] if m else "(no study.json; summarised from results.jsonl)" for m in manifests]
    stopped = convergence(frame)
    lines = [
        "## Summary",
        "",
        f"- **{'study' if len(ids) == 1 else 'studies'}**: {', '.join(ids)}",
        f"- **model**: {_values(frame, 'model')}",
        f"- **task**: {_values(frame, 'task')} (metric {_values(frame, 'metric')} on {_values(frame, 'eval_split')})",
        f"- **methods**: {_values(frame, 'method')}",
        f"- **training sizes**: {_values(frame, 'samples')}",
        f"- **learning rates**: {_values(frame, 'lr')}",
        f"- **seeds**: {_values(frame, 'seed')}",
        f"- **language pairs (train→eval)**: {', '.join(f'{t}→{e}' for t, e in language_pairs(frame))}",
        f"- **runs**: {(run_status == 'ok').sum()} ok, {(run_status == 'failed').sum()} failed "
        f"({len(ok)} successful evaluations of {len(frame)})",
        f"- **training rules**: {'; '.join(sorted(frame['training'].dropna().unique()))}",
        f"- **stopped by**: {', '.join(f'{STOP_LABELS.get(k, k)} {v}' for k, v in stopped['stopped_by'].items()) or '–'}; "
        f"{stopped['bounded_while_improving']} hit a bound while still improving",
        f"- **training time**: {seconds:,.1f} s ({seconds / 3600:.2f} h)",
    ]
    for manifest in (m for m in manifests if m):
        lines += ["", f"Study configuration (`study.json` of {manifest['study_id']}):", "", "```json", json.dumps(manifest, indent=2), "```"]
    return "\n".join(lines)


STOP_LABELS = {"patience": "patience", "max_epochs": "max epochs", "time_budget": "time budget", "unrecorded": "unrecorded (older records)"}


def _signed(value: float) -> str:
    return f"{value:+.3f}"


def _effect_cell(finding: dict) -> str:
    if finding["ci95"] is None:
        return f"{_signed(finding['effect'])} (no interval)"
    low, high = finding["ci95"]
    return f"{_signed(finding['effect'])} [{_signed(low)}, {_signed(high)}]"


def findings_section(found: list[dict], frame: pd.DataFrame) -> str:
    """`## Findings`: one table per claim, a row per condition, with effect, interval, n, verdict and caveats."""
    stopped = convergence(frame)
    lines = [
        "## Findings",
        "",
        "Each claim of the papers that this study's runs can speak to, judged per cell (size, language pair, training "
        "rule). Runs are paired by seed (the same training subset and initial seed for both methods; each method at its "
        "best mean dev learning rate, except for the learning-rate spread, which uses every rate); the effect is the mean "
        "paired difference with its 95% Student-t interval. **Supported**: the whole interval lies on the side the "
        "claim predicts; **contradicted**: on the other side; **inconclusive**: it contains zero, or n < 2. The papers' "
        "own numbers play no part in a verdict. Each interval stands alone: there is no correction for the number of "
        "verdicts, so among many a few can fall on one side of zero by chance.",
        "",
        f"Of {stopped['runs']} runs, {stopped['bounded_while_improving']} hit a bound (max epochs or time budget) while "
        f"their dev score was still improving; stopped by {', '.join(f'{STOP_LABELS.get(k, k)}: {v}' for k, v in stopped['stopped_by'].items())}.",
    ]
    if not found:
        return "\n".join([*lines, "", "No claim can be judged yet: the study needs runs of two compared methods on the same seeds."])
    counts = pd.Series([f["verdict"] for f in found]).value_counts()
    lines += ["", "Verdicts: " + ", ".join(f"{counts.get(v, 0)} {v}" for v in VERDICTS) + "."]
    claims = list(dict.fromkeys((f["claim"], f["source"], f["statement"]) for f in found))
    for key, source, statement in claims:
        rows = [f for f in found if (f["claim"], f["statement"]) == (key, statement)]
        a, _, b = rows[0]["comparison"].partition(" − ")
        table = pd.DataFrame({
            "size": [f["samples"] for f in rows],
            "pair": [f"{f['train_lang']}→{f['eval_lang']}" for f in rows],
            a: [f"{f['a_mean']:.3f}" for f in rows],
            b: [f"{f['b_mean']:.3f}" for f in rows],
            f"effect ({a} − {b}) [95% CI]": [_effect_cell(f) for f in rows],
            "n": [f["n"] for f in rows],
            "verdict": [f"**{f['verdict']}**" for f in rows],
            "caveats": ["; ".join(f["caveats"]) or "–" for f in rows],
        })
        conditions = list(dict.fromkeys(f["conditions"] for f in rows))
        lines += ["", f"### {source}: {statement}", "", f"Measure: {rows[0]['measure']} (`{key}`).", "", _markdown_table(table),
                  "", "Measured under: " + " | ".join(conditions)]
    return "\n".join(lines)


def findings_document(found: list[dict], frame: pd.DataFrame, sources: list[Path]) -> dict:
    """What `findings.json` holds: the verdict rule, how runs stopped, and every finding."""
    return {
        "studies": [str(Path(source)) for source in sources],
        "rule": {"interval": "95% Student-t over seed-paired differences", "supported": "interval above zero",
                 "contradicted": "interval below zero", "inconclusive": "interval contains zero, or n < 2"},
        "convergence": convergence(frame),
        "findings": found,
    }


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
        rows = rows.sort_values(["method", "samples", "training"]).fillna({"n": 0, "n_last": 0})
        kind = "in-language" if train == target else "zero-shot"
        display = pd.DataFrame(
            {
                "method": rows["method"],
                "training size": rows["samples"],
                **({"training": rows["training"]} if frame["training"].nunique() > 1 else {}),
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
        table = cell.pivot_table(index=_row_labels(cell), columns="lr", values="cell", aggfunc="first")
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
                "budget: added at inference": _count_cell(runs["budget_params"]),
                "budget: share of the encoder layers": _share_cell(runs["budget_share"]),
            }
        )
    return ("## Trainable parameters\n\nThe budget counts the adapter or fusion parameters a run trained, as the model holds "
            "them at inference (a prefix: the vectors it generates), as a share of the encoder's transformer layers without "
            "the embeddings, as Junxian He et al. (2022) compare methods; frozen adapters a method stacks or fuses are not "
            "counted, and fine-tuning and the head-only probe add none.\n\n" + _markdown_table(pd.DataFrame(rows)))


def _share_cell(values: pd.Series) -> str:
    values = values.dropna()
    if values.empty:
        return "–"
    low, high = values.min(), values.max()
    return f"{low:.2%}" if f"{low:.2%}" == f"{high:.2%}" else f"{low:.2%}–{high:.2%}"


def _fused(frame: pd.DataFrame) -> str:
    """What the AdapterFusion runs fused, per method and training language ("" when the study has none)."""
    fused = frame[frame["fused"].notna()]
    if fused.empty:
        return ""
    lines = ["## Fused adapters", "", "Each trained once before the runs, on its own data; its own test score in brackets.", ""]
    for (method, lang), runs in fused.groupby(["method", "train_lang"]):
        lines.append(f"- {method}, trained in {lang}: {runs['fused'].iloc[0]}")
    return "\n".join(lines)


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


def read_findings(out_dir: Path) -> dict:
    """`out_dir/findings.json` as `write_report` wrote it."""
    return json.loads((Path(out_dir) / FINDINGS_FILE).read_text(encoding="utf-8"))


def write_report(out_dir: Path, sources: list[Path] | None = None) -> Path:
    """Write `out_dir/report.md`, `out_dir/findings.json`, `out_dir/results.csv` and the plots the
    report links to, over the results of `sources` (default: `out_dir` alone); return the report's path."""
    out_dir = Path(out_dir)
    sources = [Path(source) for source in sources or [out_dir]]
    frame = load_frame(*sources)
    found = findings(frame)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out_dir / FINDINGS_FILE, findings_document(found, frame, sources))
    write_table(out_dir, frame)
    plot_files = write_plots(frame, out_dir / PLOTS_DIR)
    sections = [
        "# Study report",
        findings_section(found, frame),
        _summary(frame, [read_manifest(source) for source in sources]),
        _score_tables(frame),
        _lr_tables(frame),
        _parameters(frame),
        _fused(frame),
        _failures(frame),
        _plots(plot_files, out_dir),
    ]
    path = out_dir / REPORT_FILE
    with atomic_file(path) as staging:  # a killed report leaves the old report or the new one, never half
        staging.write_text("\n\n".join(s for s in sections if s) + "\n", encoding="utf-8")
    return path
