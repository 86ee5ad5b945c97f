"""Findings on synthetic records whose answer is known: a clear win, a clear loss, pure noise, runs
that never converged, and each claim's own measure (overfitting, learning-rate spread, drift)."""

import json

import numpy as np
import pytest
from scipy import stats

from xadapt.study.findings import CONTRADICTED, INCONCLUSIVE, SUPPORTED, findings, paired_effect, verdict
from xadapt.study.report import FINDINGS_FILE, REPORT_FILE, write_report
from xadapt.study.results import ResultsStore, results_frame, run_id

PROTOCOL = {"epochs": 20, "patience": 3, "time_budget": None, "batch_size": 8, "max_length": 128, "dev_limit": 200, "eval_limit": 500}
LONG = {**PROTOCOL, "patience": None}


def record(method, seed, score, samples=100, train="sw", target="sw", lr=None, protocol=PROTOCOL, curve=None,
           stop_reason="patience", drift=None, eval_examples=500, language_adapters=None, study="s1", model="m", status="ok"):
    lr = lr if lr is not None else (5e-5 if method == "finetune" else 1e-3)
    curve = curve or [{"epoch": e, "dev_score": score - 0.01 * abs(e - 5), "dev_loss": 1.0, "train_loss": 1.0} for e in range(1, 9)]
    best = max(range(len(curve)), key=lambda i: curve[i]["dev_score"]) + 1
    identity = {"method": method, "seed": seed, "samples": samples, "train": train, "lr": lr, "protocol": protocol, "model": model}
    return {
        "run_id": run_id(identity), "study_id": study, "method": method, "task": "wikiann", "train_lang": train,
        "eval_lang": target, "samples": samples, "lr": lr, "seed": seed, "epochs": protocol["epochs"], "metric": "seqeval_f1",
        "status": status, "score": score, "last_score": score, "curve": curve, "best_epoch": best, "epochs_trained": len(curve),
        "stop_reason": stop_reason, "protocol": protocol, "eval_split": "test", "eval_examples": eval_examples,
        "drift": drift or {"measure": "rsa", "layers": [0, 1], "similarity": [0.9, 0.5]},
        "trainable_params": 1000, "total_params": 100000, "seconds": 1.0, "model": {"name": model, "fingerprint": "f"},
        "data": {"task": "wikiann", "train_fingerprint": f"{train}-{samples}-{seed}"},
        **({"language_adapters": language_adapters} if language_adapters else {}),
    }


def one(found, claim, **where):
    matches = [f for f in found if f["claim"] == claim and all(f[k] == v for k, v in where.items())]
    assert len(matches) == 1, matches
    return matches[0]


def test_the_interval_is_students_t_over_the_paired_differences():
    differences = np.array([0.05, 0.02, 0.08, 0.04])
    effect, (low, high) = paired_effect(differences)
    half = stats.t.ppf(0.975, 3) * differences.std(ddof=1) / 2
    assert effect == pytest.approx(0.0475) and (low, high) == pytest.approx((0.0475 - half, 0.0475 + half))
    assert paired_effect(np.array([0.1]))[1] is None
    assert verdict((0.01, 0.2)) == SUPPORTED and verdict((-0.2, -0.01)) == CONTRADICTED
    assert verdict((-0.01, 0.2)) == INCONCLUSIVE and verdict(None) == INCONCLUSIVE


def test_a_clear_win_a_clear_loss_and_pure_noise():
    rng = np.random.default_rng(0)
    records = []
    for seed in range(5):
        subset = rng.normal(0.6, 0.05)  # the subset's share: both methods see it, pairing removes it
        records += [record("finetune", seed, subset, samples=100), record("adapter", seed, subset + 0.05 + rng.normal(0, 0.005), samples=100)]
        records += [record("finetune", seed, subset, samples=300), record("adapter", seed, subset - 0.05 + rng.normal(0, 0.005), samples=300)]
        records += [record("finetune", seed, subset, samples=1000), record("adapter", seed, subset + rng.normal(0, 0.03), samples=1000)]
    found = findings(results_frame(records))
    win, loss, noise = (one(found, "he2021.low_resource", samples=size) for size in (100, 300, 1000))
    assert win["verdict"] == SUPPORTED and win["effect"] == pytest.approx(0.05, abs=0.01) and win["n"] == 5
    assert loss["verdict"] == CONTRADICTED and loss["comparison"] == "adapter − finetune"
    assert noise["verdict"] == INCONCLUSIVE and noise["ci95"][0] < 0 < noise["ci95"][1]
    # an unpaired analysis of the win would drown it in the subsets' spread (std 0.05 >> effect 0.05 / sqrt(5))
    assert [p["seed"] for p in win["pairs"]] == [0, 1, 2, 3, 4]
    assert all(not f["caveats"] for f in (win, loss, noise))


def test_runs_stopped_by_a_bound_while_improving_are_named_beside_the_verdict():
    rising = [{"epoch": e, "dev_score": 0.1 * e, "dev_loss": 1.0, "train_loss": 1.0} for e in range(1, 21)]
    records = [record(m, seed, 0.5 + (0.1 if m == "adapter" else 0), curve=rising, stop_reason="max_epochs")
               for seed in range(3) for m in ("finetune", "adapter")]
    found = one(findings(results_frame(records)), "he2021.low_resource")
    assert found["verdict"] == SUPPORTED
    assert any("6 of 6 runs hit a bound" in caveat for caveat in found["caveats"])


def test_few_seeds_small_test_samples_and_weak_language_adapters_are_caveats():
    weak = {"sw": {"steps": 200, "perplexity_before": 9000.0, "perplexity_after": 6000.0}}
    records = [record(m, seed, 0.5 + 0.01 * seed + (0.02 if m == "madx" else 0), train="en", samples=1000, eval_examples=200,
                      language_adapters=weak if m == "madx" else None)
               for seed in range(2) for m in ("adapter", "madx", "finetune")]
    found = one(findings(results_frame(records)), "madx.zero_shot")
    assert found["verdict"] == SUPPORTED and found["n"] == 2 and (found["train_lang"], found["eval_lang"]) == ("en", "sw")
    text = " | ".join(found["caveats"])
    assert "only n = 2" in text and "test sample of 200" in text and "9,000 → 6,000 after 200 steps" in text
    assert one(findings(results_frame(records)), "he2021.zero_shot", comparison="adapter − finetune")


def test_overfitting_is_judged_only_on_long_runs_without_early_stopping():
    def falling(peak, drop):  # best at epoch 5, then a steady fall to `peak - drop` at epoch 20
        return [{"epoch": e, "dev_score": peak - (0 if e <= 5 else drop * (e - 5) / 15), "dev_loss": 1.0, "train_loss": 1.0}
                for e in range(1, 21)]

    records = []
    for seed in range(3):
        records += [record("finetune", seed, 0.7, protocol=LONG, curve=falling(0.7, 0.10 + 0.01 * seed), stop_reason="max_epochs"),
                    record("adapter", seed, 0.7, protocol=LONG, curve=falling(0.7, 0.02), stop_reason="max_epochs"),
                    record("finetune", seed, 0.7), record("adapter", seed, 0.7)]
    found = [f for f in findings(results_frame(records)) if f["claim"] == "he2021.overfitting"]
    assert len(found) == 1  # the early-stopped runs are not judged for overfitting
    [overfit] = found
    assert overfit["verdict"] == SUPPORTED and overfit["comparison"] == "finetune − adapter"
    assert overfit["effect"] == pytest.approx(0.09, abs=1e-9) and overfit["training"].startswith("20 epochs")
    assert not any("bound" in c for c in overfit["caveats"])  # trained long on purpose: not "still improving"


def test_learning_rate_sensitivity_compares_each_methods_spread_over_its_rates():
    records = []
    for seed in range(3):
        for lr, score in ((1e-5, 0.3), (5e-5, 0.7), (1e-4, 0.5)):
            records.append(record("finetune", seed, score + 0.01 * seed, lr=lr, samples=300))
        for lr, score in ((1e-4, 0.66), (3e-4, 0.7), (1e-3, 0.68)):
            records.append(record("adapter", seed, score - 0.01 * seed, lr=lr, samples=300))
    found = one(findings(results_frame(records)), "he2021.lr_sensitivity")
    assert found["verdict"] == SUPPORTED and found["effect"] == pytest.approx(0.4 - 0.04)
    assert "1e-05, 5e-05, 0.0001" in found["conditions"]
    # the score claim uses each method's best dev rate only
    score = one(findings(results_frame(records)), "he2021.low_resource")
    assert "lr adapter 0.0003, finetune 5e-05" in score["conditions"]


def test_drift_compares_last_layer_similarity_to_the_base_model():
    records = [record(m, seed, 0.6, drift={"measure": "rsa", "layers": [0, 1, 2],
                                            "similarity": [0.99, 0.9, (0.8 if m == "adapter" else 0.4) + 0.01 * seed]})
               for seed in range(3) for m in ("finetune", "adapter")]
    found = one(findings(results_frame(records)), "he2021.drift")
    assert found["verdict"] == SUPPORTED and found["effect"] == pytest.approx(0.4)


def test_claims_whose_methods_are_missing_are_not_covered():
    records = [record("finetune", seed, 0.6) for seed in range(3)] + [record("lora", seed, 0.6) for seed in range(3)]
    claims = {f["claim"] for f in findings(results_frame(records))}
    assert claims == {"he2021.low_resource", "he2021.drift"}  # no zero-shot, madx, long or lr-sweep runs


def test_report_opens_with_findings_and_merges_studies_by_configuration(tmp_path):
    first, second, merged = tmp_path / "default", tmp_path / "overfitting", tmp_path / "merged"
    shared = [record(m, seed, 0.6 + (0.05 if m == "adapter" else 0) + 0.01 * seed) for seed in range(3) for m in ("finetune", "adapter")]
    long = [record(m, seed, 0.6, protocol=LONG, stop_reason="max_epochs", study="s2") for seed in range(3) for m in ("finetune", "adapter")]
    for directory, records in ((first, shared), (second, shared + long)):
        store = ResultsStore(directory)
        for r in records:
            store.append(r)
    write_report(merged, [first, second])
    text = (merged / REPORT_FILE).read_text(encoding="utf-8")
    assert text.index("## Findings") < text.index("## Summary") < text.index("## Scores")
    document = json.loads((merged / FINDINGS_FILE).read_text(encoding="utf-8"))
    low = [f for f in document["findings"] if f["claim"] == "he2021.low_resource" and f["training"].startswith("≤20")]
    assert len(low) == 1 and low[0]["n"] == 3  # the runs both studies hold count once
    assert low[0]["verdict"] == SUPPORTED and "**supported**" in text
    assert document["convergence"]["runs"] == 12 and document["studies"] == [str(first), str(second)]


def test_intervals_agree_with_scipys_paired_t_test_on_the_records():
    rng = np.random.default_rng(3)
    records, a, b = [], [], []
    for seed in range(4):
        subset = rng.normal(0.6, 0.05)
        fine, adapter = subset + rng.normal(0, 0.02), subset + 0.01 + rng.normal(0, 0.02)
        records += [record("finetune", seed, fine), record("adapter", seed, adapter)]
        a.append(adapter)
        b.append(fine)
    found = one(findings(results_frame(records)), "he2021.low_resource")
    reference = stats.ttest_rel(a, b).confidence_interval(0.95)
    assert found["ci95"] == pytest.approx([reference.low, reference.high], abs=1e-12)
    assert found["effect"] == pytest.approx(np.mean(np.subtract(a, b)), abs=1e-12)


def test_runs_of_other_models_are_never_paired():
    records = [record("adapter", seed, 0.7, model="x") for seed in range(3)] + [record("finetune", seed, 0.5, model="y") for seed in range(3)]
    assert findings(results_frame(records)) == []


def test_failed_runs_and_equal_differences_are_named_and_a_success_outranks_a_failure():
    records = [record(m, seed, 0.6 + (0.01 if m == "adapter" else 0)) for seed in range(3) for m in ("finetune", "adapter")]
    records.append({**record("finetune", 3, 0.0), "status": "failed", "score": None, "error": "loss became nan"})
    records.append({**records[0], "status": "failed", "score": None})  # a later failure of a run that succeeded
    found = one(findings(results_frame(records)), "he2021.low_resource")
    assert found["n"] == 3 and found["verdict"] == SUPPORTED
    assert "1 run(s) of this cell failed and are left out" in found["caveats"]
    assert "every paired difference is the same: the interval has no width" in found["caveats"]


def test_the_spread_leaves_out_a_seed_that_lacks_a_rate():
    records = [record("finetune", seed, score, lr=lr) for seed in range(3) for lr, score in ((1e-5, 0.3 + 0.01 * seed), (1e-4, 0.6))]
    records += [record("adapter", seed, score, lr=lr) for seed in range(3) for lr, score in ((1e-4, 0.55), (1e-3, 0.6 - 0.01 * seed))]
    records = [r for r in records if not (r["method"] == "adapter" and r["seed"] == 2 and r["lr"] == 1e-4)]
    found = one(findings(results_frame(records)), "he2021.lr_sensitivity")
    assert [p["seed"] for p in found["pairs"]] == [0, 1]


def test_fusion_is_compared_with_the_best_single_adapter_of_each_cell():
    rng = np.random.default_rng(1)
    records = []
    for seed in range(4):
        subset = rng.normal(0.6, 0.05)
        for samples, fusion_gain in ((100, 0.04), (300, -0.04)):
            records += [record("finetune", seed, subset, samples=samples),
                        record("adapter", seed, subset - 0.10, samples=samples),
                        record("par_bn", seed, subset + 0.02 + rng.normal(0, 0.002), samples=samples),
                        record("fusion", seed, subset + 0.02 + fusion_gain + rng.normal(0, 0.002), samples=samples)]
    found = findings(results_frame(records))
    win, loss = (one(found, "fusion.best_single", samples=size) for size in (100, 300))
    assert win["comparison"] == "fusion − par_bn" and win["verdict"] == SUPPORTED
    assert win["effect"] == pytest.approx(0.04, abs=0.005) and win["n"] == 4
    assert loss["comparison"] == "fusion − par_bn" and loss["verdict"] == CONTRADICTED
    # a fused model is not a single adapter: Ruidan He's claims compare only the single adapters with fine-tuning
    assert {f["comparison"] for f in found if f["claim"] == "he2021.low_resource"} == {"adapter − finetune", "par_bn − finetune"}
