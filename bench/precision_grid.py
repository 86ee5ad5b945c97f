"""Does bf16 change conclusions? The same small grid trained in fp32 and in bf16, paired by seed.

Both sweeps run through the real CLI (`xadapt sweep --precision fp32|bf16`) with one cache, so they
share training subsets and evaluation samples; the language adapters and the shared MLM head are
trained in each precision (their cache folders differ). For every cell (method, size, language
pair) the paired differences bf16 - fp32 over seeds give a mean and a 95% t-interval; the cell is
within seed noise when the mean difference is no larger than the standard deviation of the fp32
scores across seeds. The findings verdicts of the two studies are compared claim by claim.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

from bench.sweep_case import fresh_home, study, sweep, write_study
from xadapt.study.findings import paired_effect
from xadapt.study.report import read_findings
from xadapt.study.results import ResultsStore

PRECISIONS = ("fp32", "bf16")
CELL = ("method", "samples", "train_lang", "eval_lang")


def _scores(out: Path) -> dict[tuple, float]:
    """(method, samples, train_lang, eval_lang, seed) -> score of each finished run."""
    return {(*(r[k] for k in CELL), r["seed"]): r["score"] for r in ResultsStore(out).records() if r["status"] == "ok"}


def _verdicts(out: Path) -> dict[tuple, str]:
    document = read_findings(out)
    return {(f["claim"], f["comparison"], f["samples"], f["train_lang"], f["eval_lang"]): f["verdict"] for f in document["findings"]}


def _ratio(difference: float, noise: float) -> float:
    """How many seed standard deviations `difference` is (no difference: 0, even without noise)."""
    if difference == 0:
        return 0.0
    return difference / noise if noise > 0 else float("inf")


def compare(outs: dict[str, Path]) -> dict:
    """Cells of paired bf16 - fp32 differences and the agreement of verdicts, from the two studies' outputs."""
    scores = {precision: _scores(out) for precision, out in outs.items()}
    by_cell: dict[tuple, list[tuple[float, float]]] = defaultdict(list)
    for key, fp32 in scores["fp32"].items():
        if key in scores["bf16"]:
            by_cell[key[:-1]].append((fp32, scores["bf16"][key]))
    cells = []
    for cell, pairs in sorted(by_cell.items()):
        fp32, bf16 = np.array(pairs).T
        difference, interval = paired_effect(bf16 - fp32)
        seed_sd = float(np.std(fp32, ddof=1)) if len(fp32) > 1 else float("nan")
        cells.append({
            **dict(zip(CELL, cell)), "n": len(pairs), "fp32_mean": float(fp32.mean()), "bf16_mean": float(bf16.mean()),
            "difference": difference, "interval": interval, "seed_sd": seed_sd,
            "within_noise": bool(abs(difference) <= seed_sd), "noise_ratio": _ratio(abs(difference), seed_sd),
        })
    verdicts = {precision: _verdicts(out) for precision, out in outs.items()}
    shared = set(verdicts["fp32"]) & set(verdicts["bf16"])
    return {
        "cells": cells, "largest_noise_ratio": max(cell["noise_ratio"] for cell in cells),
        "verdicts": len(shared), "verdicts_agree": sum(verdicts["fp32"][k] == verdicts["bf16"][k] for k in shared),
        "verdicts_by_claim": {" ".join(map(str, k)): {p: verdicts[p][k] for p in PRECISIONS} for k in sorted(shared, key=str)},
    }


def run(model_dir: Path, scratch: Path, overrides: dict) -> dict:
    """Sweep the grid `overrides` in fp32, then in bf16; the comparison (scores, not times: this case is
    not timed against anything)."""
    values = study(overrides)
    config = write_study(scratch / "precision-grid.yaml", values)
    home = scratch / "precision-grid-home"
    fresh_home(home, Path(model_dir))
    outs = {precision: scratch / f"precision-grid-{precision}" for precision in PRECISIONS}
    for precision, out in outs.items():
        sweep(config, home, out, "--precision", precision)
    result = compare(outs)
    return {"study": values, "cells_within_noise": sum(cell["within_noise"] for cell in result["cells"]), **result}
