"""Where a training step's time goes: the torch profiler over xadapt's own training loop.

    python -m bench.profile                                   # task adapter, fp32 and bf16
    python -m bench.profile --method finetune --precision bf16
    python -m bench.profile --method language_adapter --steps 10
    python -m bench.profile --compile                         # eager vs torch.compile, compile time included
    python -m bench.profile --eval-batches 32,64,128,256      # evaluation throughput by batch size

Trains `--steps` steps (batch 16, WikiANN sw sentences, or Swahili raw text for the language adapter)
after 3 untimed warm-up steps, on the benchmark's thread count, and prints the operators with the
most self CPU time and the share of matrix products (GEMM) in the total. `--compile` instead times
the same training eagerly and with the model compiled by `torch.compile` (inductor; Debian's g++),
from the first step, so that compilation counts. `--eval-batches` times `xadapt.train.evaluate` on
500 WikiANN sw test sentences at each batch size. Nothing is written.
"""

from __future__ import annotations

import argparse
import sys
import time

import torch
from torch.profiler import ProfilerActivity, profile
from transformers import AutoTokenizer, DataCollatorForLanguageModeling, DataCollatorForTokenClassification, TrainerCallback

from bench.protocol import THREADS
from xadapt.data import get_task, load_corpus, load_split
from xadapt.models import DEFAULT_MODEL, resolve_model
from xadapt.train.evaluate import evaluate
from xadapt.train.features import encode
from xadapt.train.language import language_adapter_model
from xadapt.methods import build_run_model, get_method
from xadapt.train.task import ComposedModel, TrainSettings, seeded, train

GEMM = ("aten::addmm", "aten::mm", "aten::bmm", "aten::baddbmm", "aten::linear", "aten::matmul",
        "aten::_scaled_dot_product_flash_attention_for_cpu", "aten::_scaled_dot_product_flash_attention_for_cpu_backward",
        "mkldnn::_linear_pointwise", "aten::mkldnn_linear")
WARMUP_STEPS = 3
BATCH = 16


class _Window(TrainerCallback):
    """Start the profiler after the warm-up steps and stop training after the profiled ones."""

    def __init__(self, profiler, steps: int):
        self.profiler, self.steps = profiler, steps

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == WARMUP_STEPS:
            self.profiler.start()
        elif state.global_step == WARMUP_STEPS + self.steps:
            self.profiler.stop()
            control.should_training_stop = True
        return control


def _model_and_data(method: str, precision: str, examples: int):
    model_dir = resolve_model(DEFAULT_MODEL)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    if method == "language_adapter":
        lines = load_corpus("sw", heldout_lines=200).train[:examples]
        rows = [{"input_ids": ids} for ids in tokenizer(lines, truncation=True, max_length=64)["input_ids"]]
        return language_adapter_model(model_dir, "sw", precision=precision), rows, DataCollatorForLanguageModeling(tokenizer)
    spec = get_task("wikiann")
    data = encode(load_split("wikiann", "sw", "train").select(range(examples)), spec.head, tokenizer, 128)
    model, composition_for = build_run_model(method, model_dir, spec.head, len(spec.labels))
    return ComposedModel(model, composition_for("sw"), precision=precision), data, DataCollatorForTokenClassification(tokenizer)


def _settings(method: str) -> TrainSettings:
    """One epoch at the method's usual rate and weight decay (a language adapter: the rate the profile always used)."""
    if method == "language_adapter":
        return TrainSettings(lr=1e-3, epochs=1, batch_size=BATCH, seed=0, weight_decay=0.0)
    entry = get_method(method)
    return TrainSettings(lr=entry.lr, epochs=1, batch_size=BATCH, seed=0, weight_decay=entry.weight_decay)


def profile_training(method: str, precision: str, steps: int, top: int) -> str:
    torch.set_num_threads(THREADS)
    seeded(0)
    composed, data, collator = _model_and_data(method, precision, (WARMUP_STEPS + steps) * BATCH)
    settings = _settings(method)
    profiler = profile(activities=[ProfilerActivity.CPU])
    train(composed, data, collator, settings, callbacks=[_Window(profiler, steps)])
    averages = profiler.key_averages()
    total = sum(event.self_cpu_time_total for event in averages)
    gemm = sum(event.self_cpu_time_total for event in averages if event.key in GEMM)
    table = averages.table(sort_by="self_cpu_time_total", row_limit=top, max_name_column_width=60)
    return (f"{method}, {precision}, {steps} steps of {BATCH}, {THREADS} threads: {total / 1e6 / steps:.3f} s per step, "
            f"matrix products {100 * gemm / total:.0f}% of self CPU time\n{table}")


def time_training(method: str, precision: str, steps: int, compiled: bool) -> dict:
    """Seconds for `steps` training steps from a fresh model (compilation included when `compiled`)."""
    torch.set_num_threads(THREADS)
    seeded(0)
    composed, data, collator = _model_and_data(method, precision, steps * BATCH)
    if compiled:
        composed.model = torch.compile(composed.model, dynamic=True)
    settings = _settings(method)
    _, seconds = train(composed, data, collator, settings)
    return {"compiled": compiled, "seconds": seconds, "per_step": seconds / steps}


def time_evaluation(precision: str, batch_sizes: list[int]) -> list[dict]:
    """Seconds to evaluate a fresh task adapter on 500 WikiANN sw test sentences at each batch size."""
    torch.set_num_threads(THREADS)
    seeded(0)
    model_dir = resolve_model(DEFAULT_MODEL)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    spec = get_task("wikiann")
    data = encode(load_split("wikiann", "sw", "test").select(range(500)), spec.head, tokenizer, 128)
    model, composition_for = build_run_model("adapter", model_dir, spec.head, len(spec.labels))
    composed = ComposedModel(model, composition_for("sw"), precision=precision)
    collator = DataCollatorForTokenClassification(tokenizer)
    evaluate(composed, data.select(range(64)), collator, head=spec.head, labels=spec.labels)  # warm-up
    timings = []
    for batch_size in batch_sizes:
        start = time.perf_counter()
        evaluate(composed, data, collator, head=spec.head, labels=spec.labels, batch_size=batch_size)
        timings.append({"batch_size": batch_size, "seconds": time.perf_counter() - start})
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.splitlines()[0])
    parser.add_argument("--method", default="adapter", choices=("adapter", "finetune", "language_adapter"))
    parser.add_argument("--precision", default="fp32,bf16", help="comma-separated: fp32, bf16")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--top", type=int, default=15, help="operators to list")
    parser.add_argument("--compile", action="store_true", help="time eager and torch.compile training instead")
    parser.add_argument("--eval-batches", default=None, help="time evaluation at these batch sizes instead, e.g. 32,64,128")
    args = parser.parse_args(argv)
    for precision in args.precision.split(","):
        if args.eval_batches:
            for row in time_evaluation(precision, [int(b) for b in args.eval_batches.split(",")]):
                print(f"evaluation, {precision}, batch {row['batch_size']}: {row['seconds']:.2f} s for 500 sentences")
        elif args.compile:
            for compiled in (False, True):
                row = time_training(args.method, precision, args.steps, compiled)
                print(f"{args.method}, {precision}, {'torch.compile' if compiled else 'eager'}: {row['seconds']:.1f} s "
                      f"for {args.steps} steps ({row['per_step']:.3f} s per step, compilation included)")
        else:
            print(profile_training(args.method, precision, args.steps, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
