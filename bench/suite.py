"""The whole run: workloads, the machine's peak, every selected case, the sweep, the result files."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from transformers import AutoTokenizer

from bench import precision_grid, report, sweep_case, workloads
from bench.cases import CASES
from bench.flops import Shape
from bench.harness import REPO, BenchError, alternate, thread_environment
from bench.machine import PEAK_DTYPES, describe, matmul_peak
from xadapt.models import DEFAULT_MODEL, resolve_model

RESULTS = REPO / "bench" / "results"
MAX_LENGTH = 128  # the study's tokenisation limit for WikiANN


@dataclass(frozen=True)
class Scale:
    """How much work each case does: examples per workload (one repetition = one pass), matmul size, sweep."""

    name: str
    examples: dict[str, int]
    matmul_size: int
    sweep: dict  # the reduced study's settings over bench.sweep_case.BASE_STUDY
    sweep_reps: int
    perplexity: dict  # language-adapter settings for the output-vocabulary perplexity check
    workers: dict  # the reduced study of the workers case, over BASE_STUDY
    precision_grid: dict  # the grid trained in fp32 and bf16, over BASE_STUDY
    default_study: dict  # the default study (empty: `xadapt sweep`'s defaults, --lang sw --samples 1000)


FULL = Scale(
    "full", {"mlm": 48, "tagging": 160, "pipeline": 320, "evaluation": 384}, 4096,
    sweep={"sizes": [100], "eval_limit": 100, "dev_limit": 50,
           "language_adapter": {"steps": 10, "head_steps": 10, "heldout_sentences": 100}},
    sweep_reps=1,
    perplexity={"steps": 40, "head_steps": 20, "heldout_sentences": 100},
    # runs of the default study's kind (300 sentences, the default dev and test caps), cut to 3 epochs:
    # worker start-up (imports, model, splits: ~20 s each) must weigh as little as in a real study
    workers={"sizes": [300], "epochs": 3, "patience": None,
             "language_adapter": {"steps": 10, "head_steps": 10, "heldout_sentences": 100}},
    # converged runs (the default stopping rule) at the smallest default size, five seeds, in-language
    precision_grid={"sizes": [100], "seeds": [0, 1, 2, 3, 4], "epochs": 20, "patience": 3, "source": None,
                    "language_adapter": {"steps": 100, "head_steps": 100}},
    default_study={},
)
QUICK = Scale(
    "quick", {"mlm": 16, "tagging": 32, "pipeline": 32, "evaluation": 64}, 1024,
    sweep={"sizes": [16], "methods": ["madx"], "source": None, "eval_limit": 16, "dev_limit": 16,
           "language_adapter": {"steps": 2, "head_steps": 2, "heldout_sentences": 16}},
    sweep_reps=1,
    perplexity={"steps": 2, "head_steps": 2, "heldout_sentences": 16},
    workers={"sizes": [16], "methods": ["adapter"], "source": None, "seeds": [0, 1], "eval_limit": 16, "dev_limit": 16},
    precision_grid={"sizes": [16], "methods": ["adapter", "finetune"], "source": None, "seeds": [0, 1], "eval_limit": 16,
                    "dev_limit": 16},
    default_study={"sizes": [16], "methods": ["adapter"], "source": None, "seeds": [0], "epochs": 1, "eval_limit": 16, "dev_limit": 16,
                   "language_adapter": {"steps": 2, "head_steps": 2, "heldout_sentences": 16}},
)
GROUPS = tuple(dict.fromkeys(case.group for case in CASES if case.group))  # `--cases precision` runs every precision_* case
CASE_IDS = (*(case.id for case in CASES), *GROUPS, "perplexity", "sweep", "workers", "precision_grid", "default_study", "default_study_warm")
# what `python -m bench` runs unless told: the timed cases. `perplexity` and `precision_grid` measure
# model quality (they change only when training does) and `default_study` takes an hour or more, so
# they are asked for by name.
BY_NAME = ("perplexity", "precision_grid", "default_study", "default_study_warm")
DEFAULT_CASES = tuple(case for case in CASE_IDS if case not in BY_NAME and case not in {c.id for c in CASES if c.group})


def perplexity_cost(model_dir: Path, scratch: Path, settings: dict) -> dict:
    """Run bench.perplexity in its own process and cache; its result."""
    home, out = scratch / "perplexity-home", scratch / "perplexity.json"
    sweep_case.fresh_home(home, model_dir)
    spec = scratch / "perplexity-spec.json"
    spec.write_text(json.dumps({"out": str(out), "settings": settings}), encoding="utf-8")
    with (scratch / "perplexity.log").open("w", encoding="utf-8") as log:
        done = subprocess.run([sys.executable, "-m", "bench.perplexity", str(spec)], stdout=log, stderr=subprocess.STDOUT,
                              cwd=REPO, env={**thread_environment(), "XADAPT_HOME": str(home)})
    if done.returncode:
        raise BenchError(f"bench.perplexity failed ({done.returncode}); log {scratch / 'perplexity.log'}")
    result = json.loads(out.read_text(encoding="utf-8"))
    return {
        "settings": result["settings"],
        **{name: {key: result[name][key] for key in ("perplexity_before", "perplexity_after", "seconds", "output_vocabulary")}
           for name in ("full", "corpus")},
    }


def run(selected: list[str], reps: int, scale: Scale, out: Path = RESULTS, log=print) -> tuple[Path, Path]:
    """Run the `selected` cases (ids from CASE_IDS) with `reps` repetitions; return the JSON and Markdown paths."""
    model_dir = resolve_model(DEFAULT_MODEL)
    with tempfile.TemporaryDirectory(prefix="xadapt-bench-") as scratch_name:
        scratch = Path(scratch_name)
        log("tokenising the workloads ...")
        files = workloads.build(scratch / "data", AutoTokenizer.from_pretrained(model_dir), scale.examples, MAX_LENGTH)
        peaks = {precision: [matmul_peak(scale.matmul_size, precision=precision)] for precision in PEAK_DTYPES}
        log("matmul peak " + ", ".join(f"{name} {values[0] / 1e9:.1f}" for name, values in peaks.items()) + " GFLOP/s")
        shape = Shape.of(model_dir)
        summary = {
            "date": datetime.date.today().isoformat(), "machine": describe(), "reps": reps, "model": str(model_dir),
            "scale": asdict(scale), "cases": {},
        }
        raw = {}
        for case in CASES:
            if case.id in selected or case.group in selected:
                log(f"case {case.id}: {', '.join(side.tool for side in case.sides())} ...")
                raw[case.id] = alternate(case.sides(), case.spec(model_dir, getattr(files, case.workload)), reps, scratch)
                first = {name: values[0] for name, values in peaks.items()}
                so_far = report.summarise_case(case, raw[case.id], shape, first)  # logged now: a later failure loses nothing
                log(f"  {case.id}: xadapt / {case.peer.tool} = {so_far['ratio']:.2f}x examples/s "
                    f"({so_far['tools']['xadapt']['examples_per_s']:.1f} vs {so_far['tools'][case.peer.tool]['examples_per_s']:.1f})")
        if "perplexity" in selected:
            log("output vocabulary: perplexity cost ...")
            summary["perplexity"] = perplexity_cost(model_dir, scratch, scale.perplexity)
        if "sweep" in selected:
            log("case sweep: cold vs warm ...")
            summary["sweep"] = sweep_case.run(model_dir, scratch, scale.sweep_reps, scale.sweep)
        if "workers" in selected:
            log("case workers: 1 vs 2 workers, warm caches ...")
            summary["workers"] = sweep_case.workers(model_dir, scratch, scale.sweep_reps, scale.workers)
            log(f"  2 workers / 1: {summary['workers']['speedup']:.2f}x")
        if "precision_grid" in selected:
            log("case precision_grid: the same grid in fp32 and bf16 ...")
            summary["precision_grid"] = precision_grid.run(model_dir, scratch, scale.precision_grid)
        if "default_study" in selected:
            log("case default_study: the default study, cold and warm ...")
            summary["default_study"] = sweep_case.default_study(model_dir, scratch, scale.default_study)
        if "default_study_warm" in selected:
            log("case default_study_warm: the default study, warm caches ...")
            summary["default_study_warm"] = sweep_case.default_study_warm(model_dir, scratch, scale.default_study)
        for name, values in peaks.items():
            values.append(matmul_peak(scale.matmul_size, precision=name))  # again at the end; the better of the two is the peak
        summary["peaks"] = {name: max(values) for name, values in peaks.items()}
        summary["peak_flops"] = summary["peaks"]["fp32"]
        summary["peaks_measured"] = peaks
        for case in CASES:
            if case.id in raw:
                summary["cases"][case.id] = report.summarise_case(case, raw[case.id], shape, summary["peaks"])
        summary["targets"] = report.check_targets(summary)
        return report.write(summary, out)
