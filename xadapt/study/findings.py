"""Findings: every claim of the papers that a study's runs can speak to, with a paired effect and a verdict.

A claim compares two methods on one measure (test score, overfitting, learning-rate spread,
drift). Runs are paired by seed: within one cell (task, training rule, size, language pair), the
runs of both methods with the same seed trained on the same nested subset, so the difference per
seed removes the subset's share of the noise. The effect is the mean of the n differences; its 95%
interval is Student's t with n - 1 degrees of freedom. The verdict follows from the interval alone:

- supported: the whole interval lies on the side of zero the claim predicts;
- contradicted: the whole interval lies on the other side;
- inconclusive: the interval contains zero, or there is no interval (n < 2).

Nothing from the papers' own numbers enters a verdict. Each finding names the conditions it was
measured under, and carries a caveat where those are far from the paper's: runs that a bound
stopped while they were still improving, language adapters whose perplexity barely fell, fewer
than three pairs, a small test sample, unequal parameter budgets.

Claims are data (`CLAIMS`); a claim is covered only when the study holds the runs it needs.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from xadapt.errors import XadaptError
from xadapt.methods import get_method
from xadapt.study.config import LONG_TRAINING_EPOCHS
from xadapt.study.results import best_lr_runs, last_layer_similarity

SUPPORTED, CONTRADICTED, INCONCLUSIVE = "supported", "contradicted", "inconclusive"
VERDICTS = (SUPPORTED, CONTRADICTED, INCONCLUSIVE)
SMALL_TEST = 500  # fewer test examples than this: a caveat (a 200-sentence F1 has a standard error of ~0.02)
WEAK_LANGUAGE_ADAPTER = 0.5  # held-out perplexity after / before above this: the language adapter barely learnt
UNEQUAL_BUDGET = 1.5  # trainable parameters of the two methods differing by more than this factor: a caveat
MADX_STEPS = 250_000  # Pfeiffer et al. (2020) trained each language adapter this many steps
PROBE = "head"  # the linear-probe baseline every method has to clear

@dataclass(frozen=True)
class Claim:
    """`a` − `b` on `measure` is predicted to be positive, on `pairs` (in-language or zero-shot runs)."""

    key: str
    source: str
    statement: str  # with {a} and {b}
    measure: str  # a key of MEASURES
    pairs: str  # "in_language" or "zero_shot"
    methods: Callable[[list[str]], list[tuple[str, str]]]  # the (a, b) pairs this claim compares, from the study's methods
    best_b: bool = False  # per cell, compare `a` only with the `b` of the highest mean (the best of several candidates)


def _entry(method: str):
    """The registry entry of a recorded method, or None (a method this version does not know, "?": unrecorded)."""
    try:
        return get_method(method)
    except XadaptError:
        return None


def _single_adapter(method: str) -> bool:
    entry = _entry(method)
    return entry is not None and entry.single_adapter


def _adapters_vs(other: str, reverse: bool = False):
    """Every single adapter method of the study against `other`."""
    def pairs(methods: list[str]) -> list[tuple[str, str]]:
        if other not in methods:
            return []
        adapters = [m for m in methods if _single_adapter(m)]
        return [(other, m) if reverse else (m, other) for m in adapters]
    return pairs


def _budget(method: str) -> float | None:
    """The parameter budget a method name carries (None for the method's preset size): `lora@0.5%` -> 0.005."""
    return getattr(_entry(method), "budget", None)


def _adapter_kind(method: str) -> str | None:
    """The adapter method of a single adapter method (`adapter`, `seq_bn@2%` -> seq_bn), else None."""
    entry = _entry(method)
    return entry.adapter_method if entry is not None and entry.single_adapter else None


def _one(a: str | tuple[str, ...], b: str | tuple[str, ...]):
    """Per parameter budget of the study, the first present method of adapter kind(s) `a` against `b`'s:
    the unified view compares methods at matched budgets."""
    kinds_a, kinds_b = ((k,) if isinstance(k, str) else k for k in (a, b))

    def pairs(methods: list[str]) -> list[tuple[str, str]]:
        found = []
        for budget in dict.fromkeys(_budget(m) for m in methods):
            same = [m for m in methods if _budget(m) == budget]
            first = next((m for kind in kinds_a for m in same if _adapter_kind(m) == kind), None)
            second = next((m for kind in kinds_b for m in same if _adapter_kind(m) == kind), None)
            if first and second:
                found.append((first, second))
        return found
    return pairs


def _vs_probe(methods: list[str]) -> list[tuple[str, str]]:
    """Every method against the linear probe, when the study has one."""
    return [(m, PROBE) for m in methods if m != PROBE] if PROBE in methods else []


def _madx_vs_sequential(methods: list[str]) -> list[tuple[str, str]]:
    """MAD-X against the sequential adapter alone (the task adapter MAD-X stacks, without a language adapter)."""
    madx = next((m for m in methods if (_entry(m) is not None and _entry(m).needs_language_adapters)), None)
    alone = next((m for m in methods if _adapter_kind(m) == "seq_bn" and _budget(m) is None), None)
    return [(madx, alone)] if madx and alone else []


HE2021, MADX, HE2022 = "Ruidan He et al. 2021", "Pfeiffer et al. 2020 (MAD-X)", "Junxian He et al. 2022"
FUSION = "Pfeiffer et al. 2021 (AdapterFusion)"
FLOOR = "the baseline (a linear probe on the frozen encoder)"
CLAIMS = (
    Claim("baseline.in_language", FLOOR, "{a} ≥ {b}, the frozen encoder with only a head trained", "score", "in_language",
          _vs_probe),
    Claim("baseline.zero_shot", FLOOR, "{a} ≥ {b}, the frozen encoder with only a head trained, in zero-shot transfer",
          "score", "zero_shot", _vs_probe),
    Claim("he2021.low_resource", HE2021, "{a} ≥ {b} in-language at low-resource sizes", "score", "in_language", _adapters_vs("finetune")),
    Claim("he2021.zero_shot", HE2021, "{a} ≥ {b} in zero-shot cross-lingual transfer", "score", "zero_shot", _adapters_vs("finetune")),
    Claim("he2021.overfitting", HE2021, "{b} overfits less than {a} (dev-score drop from the best epoch to the last)",
          "overfitting", "in_language", _adapters_vs("finetune", reverse=True)),
    Claim("he2021.lr_sensitivity", HE2021, "{b} is less sensitive to the learning rate than {a} (test-score range over the rates)",
          "lr_spread", "in_language", _adapters_vs("finetune", reverse=True)),
    Claim("he2021.drift", HE2021, "{a} drifts less than {b} from the pretrained representations (last-layer RSA)",
          "drift", "in_language", _adapters_vs("finetune")),
    Claim("madx.zero_shot", MADX, "{a} (target-language adapter in the Stack) ≥ {b} alone in zero-shot transfer",
          "score", "zero_shot", _madx_vs_sequential),
    Claim("he2022.parallel", HE2022, "{a} (parallel) ≥ {b} (sequential)", "score", "in_language", _one(("par_bn", "scaled_par_bn"), "seq_bn")),
    Claim("he2022.ffn", HE2022, "{a} (FFN) ≥ {b} (attention) at an equal budget", "score", "in_language", _one(("par_bn", "scaled_par_bn"), "prefix")),
    Claim("he2022.mam_prefix", HE2022, "{a} ≥ {b}, one of its parts", "score", "in_language", _one("mam", "prefix")),
    Claim("he2022.mam_parallel", HE2022, "{a} ≥ {b}, one of its parts", "score", "in_language", _one("mam", "scaled_par_bn")),
    Claim("fusion.best_single", FUSION, "{a} ≥ {b}, the best single adapter of the cell", "score", "in_language",
          _adapters_vs("fusion", reverse=True), best_b=True),
)

MEASURE_WORDS = {
    "score": "test {metric} at the best dev epoch",
    "overfitting": "dev {metric}, best epoch minus last epoch",
    "lr_spread": "test {metric}, best minus worst learning rate",
    "drift": "RSA similarity to the base model at the last layer",
}


def _per_seed(runs: pd.DataFrame, measure: str) -> pd.DataFrame:
    """One row per (seed, training subset) with the method's value of `measure`, and `runs`: how many
    runs it rests on (more than one when merged studies differ in what the cell does not name)."""
    keys = ["seed", "train_fingerprint"]
    runs = runs.assign(train_fingerprint=runs["train_fingerprint"].fillna(""))
    if measure == "lr_spread":
        grouped = runs.groupby(keys)
        rates = grouped["lr"].nunique()
        every_rate = (rates == runs["lr"].nunique()) & (rates >= 2)  # a seed missing a rate (a failed run) is left out
        spread = (grouped["score"].max() - grouped["score"].min())[every_rate]
        return spread.rename("value").reset_index().assign(runs=1)
    values = {
        "score": runs["score"],
        "overfitting": runs["dev_best"] - runs["dev_last"],
        "drift": runs["drift"].map(last_layer_similarity),
    }[measure]
    per = runs.assign(value=values.astype(float)).groupby(keys)["value"].agg(value="mean", runs="count")
    return per.reset_index()


def _runs_for(frame: pd.DataFrame, measure: str) -> pd.DataFrame:
    """The successful runs a measure is judged on, at each cell's best dev learning rate (all rates for
    the learning-rate spread); overfitting only on runs trained at least `LONG_TRAINING_EPOCHS` epochs
    without early stopping. Every cell is judged under its own training rule, which its conditions name."""
    ok = frame[frame["status"] == "ok"]
    if measure == "overfitting":
        return best_lr_runs(ok[ok["patience"].isna() & (ok["epochs_trained"] >= LONG_TRAINING_EPOCHS)])
    return ok if measure == "lr_spread" else best_lr_runs(ok)


def paired_effect(differences: np.ndarray) -> tuple[float, tuple[float, float] | None]:
    """Mean of paired differences and its 95% Student-t interval (None for fewer than two pairs)."""
    n = len(differences)
    mean = float(np.mean(differences))
    if n < 2:
        return mean, None
    half = float(stats.t.ppf(0.975, n - 1) * np.std(differences, ddof=1) / math.sqrt(n))
    return mean, (mean - half, mean + half)


def verdict(interval: tuple[float, float] | None) -> str:
    """Supported when the interval lies above zero, contradicted when below, else inconclusive."""
    if interval is None:
        return INCONCLUSIVE
    low, high = interval
    if low > 0:
        return SUPPORTED
    if high < 0:
        return CONTRADICTED
    return INCONCLUSIVE


def _rates(runs: pd.DataFrame) -> str:
    return ", ".join(f"{lr:g}" for lr in sorted(runs["lr"].dropna().unique()))


def _caveats(a: pd.DataFrame, b: pd.DataFrame, n: int, claim: Claim, differences: np.ndarray, failed: int, repeated: int) -> list[str]:
    both = pd.concat([a, b])
    caveats = []
    if failed:
        caveats.append(f"{failed} run(s) of this cell failed and are left out")
    if repeated:
        caveats.append(f"{repeated} seed(s) hold several runs of one method (merged studies that differ outside the cell): averaged")
    if n >= 2 and np.ptp(differences) == 0:
        caveats.append("every paired difference is the same: the interval has no width")
    bounded = int(both["still_improving"].sum())
    if bounded:
        caveats.append(f"{bounded} of {len(both)} runs hit a bound (max epochs or time budget) while still improving: not converged")
    if n < 2:
        caveats.append(f"n = {n}: no interval")
    elif n < 3:
        caveats.append(f"only n = {n} seed pairs")
    smallest = both["eval_examples"].min()
    if claim.measure != "overfitting" and pd.notna(smallest) and smallest < SMALL_TEST:
        caveats.append(f"test sample of {int(smallest)} examples")
    with_adapters = both.dropna(subset=["language_adapter_perplexity_before", "language_adapter_perplexity_after"])
    if not with_adapters.empty:
        ratio = with_adapters["language_adapter_perplexity_after"] / with_adapters["language_adapter_perplexity_before"]
        worst = with_adapters.loc[ratio.idxmax()]
        steps = int(worst["language_adapter_steps"])
        what = ("language adapters barely learnt" if ratio.max() > WEAK_LANGUAGE_ADAPTER
                else "language adapters trained far less than MAD-X's" if steps < MADX_STEPS / 100 else None)
        if what:
            caveats.append(
                f"{what}: held-out perplexity {worst['language_adapter_perplexity_before']:,.0f} → "
                f"{worst['language_adapter_perplexity_after']:,.0f} after {steps:,} steps (MAD-X: {MADX_STEPS:,})"
            )
    params_a, params_b = a["trainable_params"].max(), b["trainable_params"].max()
    if claim.key == "he2022.ffn" and pd.notna(params_a) and pd.notna(params_b) and max(params_a, params_b) > UNEQUAL_BUDGET * min(params_a, params_b):
        caveats.append(f"unequal budgets: {int(params_a):,} vs {int(params_b):,} trainable parameters")
    return caveats


def _conditions(claim: Claim, key: tuple, a_name: str, b_name: str, a: pd.DataFrame, b: pd.DataFrame, seeds: list[int]) -> str:
    task, training, samples, train, target = key
    rates = f"lr {a_name} {_rates(a)}, {b_name} {_rates(b)}"
    return (f"{task} {train}→{target}, {samples} training examples, {training}; seeds {', '.join(map(str, seeds))}; {rates}")


def _finding(claim: Claim, key: tuple, a_name: str, b_name: str, a: pd.DataFrame, b: pd.DataFrame, metric: str, failed: int) -> dict | None:
    a_seed, b_seed = _per_seed(a, claim.measure), _per_seed(b, claim.measure)
    paired = a_seed.merge(b_seed, on=["seed", "train_fingerprint"], suffixes=("_a", "_b")).dropna(subset=["value_a", "value_b"])
    if paired.empty:
        return None
    paired = paired.sort_values("seed")
    differences = (paired["value_a"] - paired["value_b"]).to_numpy(dtype=float)
    effect, interval = paired_effect(differences)
    seeds = paired["seed"].astype(int).tolist()
    used_a, used_b = a[a["seed"].isin(seeds)], b[b["seed"].isin(seeds)]
    task, training, samples, train, target = key
    return {
        "claim": claim.key,
        "source": claim.source,
        "statement": claim.statement.format(a=a_name, b=b_name),
        "comparison": f"{a_name} − {b_name}",
        "measure": MEASURE_WORDS[claim.measure].format(metric=metric),
        "task": task, "training": training, "samples": int(samples), "train_lang": train, "eval_lang": target,
        "n": len(differences),
        "a_mean": float(paired["value_a"].mean()), "b_mean": float(paired["value_b"].mean()),
        "effect": effect,
        "ci95": list(interval) if interval else None,
        "verdict": verdict(interval),
        "caveats": _caveats(used_a, used_b, len(differences), claim, differences, failed,
                            int(((paired["runs_a"] > 1) | (paired["runs_b"] > 1)).sum())),
        "conditions": _conditions(claim, key, a_name, b_name, used_a, used_b, seeds),
        "pairs": [{"seed": int(r.seed), "a": float(r.value_a), "b": float(r.value_b)} for r in paired.itertuples()],
    }


def _best_b(comparisons: list[tuple[str, str]], runs: pd.DataFrame) -> list[tuple[str, str]]:
    """Of the comparisons, per `a` the one whose `b` has the highest mean best dev score in `runs` (one
    cell; the test score for runs without a dev curve), as every other choice in a study is made on dev.

    Choosing the best among several on the same seeds favours `b` slightly (the maximum of noisy
    means), so a verdict in favour of `a` is, if anything, conservative."""
    means = runs.assign(judge=runs["dev_best"].fillna(runs["score"])).groupby("method")["judge"].mean()
    best: dict[str, str] = {}
    for a, b in comparisons:
        if b in means.index and (a not in best or means[b] > means[best[a]]):
            best[a] = b
    return list(best.items())


def findings(frame: pd.DataFrame) -> list[dict]:
    """Every finding the runs in `frame` (`results_frame`) support, claim by claim, smallest size first."""
    metric = ", ".join(sorted(frame["metric"].dropna().unique())) or "score"
    methods = list(dict.fromkeys(frame["method"]))
    found = []
    cell = ["task", "training", "samples", "train_lang", "eval_lang", "model"]
    failures = frame[frame["status"] != "ok"].groupby([*cell, "method"], dropna=False).size().to_dict()
    for claim in CLAIMS:
        comparisons = claim.methods(methods)
        if not comparisons:
            continue
        runs = _runs_for(frame, claim.measure)
        same_language = runs["train_lang"] == runs["eval_lang"]
        runs = runs[same_language if claim.pairs == "in_language" else ~same_language]
        cells = sorted(runs.groupby(cell, dropna=False), key=lambda item: tuple(str(k) if pd.isna(k) else k for k in item[0][2:5]))
        for key, here in cells:
            for a_name, b_name in _best_b(comparisons, here) if claim.best_b else comparisons:
                a, b = here[here["method"] == a_name], here[here["method"] == b_name]
                if a.empty or b.empty:
                    continue
                failed = sum(failures.get((*key, m), 0) for m in (a_name, b_name))
                finding = _finding(claim, key[:5], a_name, b_name, a, b, metric, failed)
                if finding is not None:
                    found.append(finding)
    return found


def convergence(frame: pd.DataFrame) -> dict:
    """How the study's runs stopped: counts per stopping rule, and the runs a bound cut off while improving."""
    runs = frame[frame["status"] == "ok"].drop_duplicates("run_id")
    reasons = runs["stop_reason"].fillna("unrecorded").value_counts().to_dict()
    return {"runs": len(runs), "stopped_by": {str(k): int(v) for k, v in reasons.items()},
            "bounded_while_improving": int(runs["still_improving"].sum())}
