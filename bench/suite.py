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

from bench import report, sweep_case, workloads
from bench.cases import CASES
from bench.flops import Shape
from bench.harness import REPO, BenchError, alternate, thread_environment
from bench.machine import describe, matmul_peak
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


FULL = Scale(
    "full", {"mlm": 48, "tagging": 160, "pipeline": 320, "evaluation": 384}, 4096,
    sweep={"sizes": [100], "eval_limit": 100, "dev_limit": 50,
           "language_adapter": {"steps": 10, "head_steps": 10, "heldout_sentences": 100}},
    sweep_reps=1,
    perplexity={"steps": 40, "head_steps": 20, "heldout_sentences": 100},
)
QUICK = Scale(
    "quick", {"mlm": 16, "tagging": 32, "pipeline": 32, "evaluation": 64}, 1024,
    sweep={"sizes": [16], "methods": ["madx"], "source": None, "eval_limit": 16, "dev_limit": 16,
           "language_adapter": {"steps": 2, "head_steps": 2, "heldout_sentences": 16}},
    sweep_reps=1,
    perplexity={"steps": 2, "head_steps": 2, "heldout_sentences": 16},
)
CASE_IDS = (*(case.id for case in CASES), "perplexity", "sweep")
# what `python -m bench` runs unless told: the timed cases. `perplexity` measures a model-quality
# cost (it changes only when language-adapter training does), so it is asked for by name.
DEFAULT_CASES = tuple(case for case in CASE_IDS if case != "perplexity")


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
        peaks = [matmul_peak(scale.matmul_size)]
        log(f"fp32 matmul peak {peaks[0] / 1e9:.1f} GFLOP/s")
        shape = Shape.of(model_dir)
        summary = {
            "date": datetime.date.today().isoformat(), "machine": describe(), "reps": reps, "model": str(model_dir),
            "scale": asdict(scale), "cases": {},
        }
        raw = {}
        for case in CASES:
            if case.id in selected:
                log(f"case {case.id}: xadapt vs {case.peer.tool} ...")
                raw[case.id] = alternate(case.sides(), case.spec(model_dir, getattr(files, case.workload)), reps, scratch)
                so_far = report.summarise_case(case, raw[case.id], shape, peaks[0])  # logged now: a later failure loses nothing
                log(f"  {case.id}: xadapt / {case.peer.tool} = {so_far['ratio']:.2f}x examples/s "
                    f"({so_far['tools']['xadapt']['examples_per_s']:.1f} vs {so_far['tools'][case.peer.tool]['examples_per_s']:.1f})")
        if "perplexity" in selected:
            log("output vocabulary: perplexity cost ...")
            summary["perplexity"] = perplexity_cost(model_dir, scratch, scale.perplexity)
        if "sweep" in selected:
            log("case sweep: cold vs warm ...")
            summary["sweep"] = sweep_case.run(model_dir, scratch, scale.sweep_reps, scale.sweep)
        peaks.append(matmul_peak(scale.matmul_size))  # again at the end; the better of the two is the peak
        summary["peak_flops"] = max(peaks)
        summary["peak_flops_measured"] = peaks
        for case in CASES:
            if case.id in raw:
                summary["cases"][case.id] = report.summarise_case(case, raw[case.id], shape, summary["peak_flops"])
        summary["targets"] = report.check_targets(summary)
        return report.write(summary, out)
