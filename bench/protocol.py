"""The worker side of the benchmark: what every tool's side process shares.

A side is one process per (case, tool), started by `bench.harness` with a JSON spec. It builds its
model and data, trains (or infers), and pauses at fixed step counts so that the harness can let
xadapt and its peer take turns on the CPU:

    worker -> {"event": "ready", ...}     warm-up done, paused
    harness -> "go"                       run one timed repetition
    worker -> {"event": "rep", ...}       seconds, counts and peak memory of that repetition, paused
    harness -> "stop"                     finish and exit

Messages travel as JSON lines on the process's original standard output; everything the libraries
print is sent to standard error instead. Only the standard library, torch and transformers are
imported here, so the peers' virtual environment (transformers 4.57) can run it as well as xadapt's.
"""

from __future__ import annotations

import json
import math
import os
import re
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import torch
import transformers
from safetensors.torch import load_file
from transformers import AutoTokenizer, DataCollatorForTokenClassification, TrainerCallback, TrainingArguments

THREADS = 2  # every side computes on the same number of threads
WARMUP = 0.1  # fraction of steps warming the learning rate up, as xadapt's training does
WARMUP_STEPS = 3  # untimed optimiser steps before the first repetition (allocations, kernel choices)


class Channel:
    """JSON lines to the harness on the real stdout; stdout itself now goes to stderr."""

    def __init__(self):
        self.out = os.fdopen(os.dup(1), "w", buffering=1)
        os.dup2(2, 1)
        sys.stdout = sys.stderr

    def send(self, message: dict) -> None:
        self.out.write(json.dumps(message) + "\n")

    def wait(self) -> bool:
        """Block until the harness says "go" (True) or "stop" / closes the pipe (False)."""
        line = sys.stdin.readline().strip()
        return line == "go"


def read_spec(argv: list[str]) -> dict:
    torch.set_num_threads(THREADS)
    torch.manual_seed(0)
    return json.loads(Path(argv[1]).read_text(encoding="utf-8"))


def reset_peak_memory() -> None:
    """Start a new peak-RSS window (Linux: writing 5 to clear_refs resets VmHWM)."""
    Path("/proc/self/clear_refs").write_text("5")
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()


def peak_memory() -> dict:
    """Peak resident memory since the last reset and over the process's life (MiB); CUDA peak on a GPU."""
    status = Path("/proc/self/status").read_text()
    window = int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024
    facts = {"peak_rss_mib": window, "lifetime_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if torch.cuda.is_available():
        facts["cuda_max_allocated_mib"] = torch.cuda.max_memory_allocated() / 2**20
    return facts


def load_rows(path: str, padded: bool) -> list[dict]:
    """A workload file's examples as rows of lists: padded to the file's width, or cut to each one's length."""
    tensors = load_file(path)
    lengths = tensors.pop("lengths").tolist()
    rows = []
    for i, length in enumerate(lengths):
        width = tensors["input_ids"].shape[1] if padded else length
        rows.append({key: values[i, :width].tolist() for key, values in tensors.items()})
    return rows


def load_batches(path: str, batch_size: int) -> list[dict]:
    """A workload file cut into consecutive batches, each trimmed to its longest member (inference)."""
    tensors = load_file(path)
    lengths = tensors.pop("lengths")
    batches = []
    for start in range(0, len(lengths), batch_size):
        width = int(lengths[start : start + batch_size].max())
        # contiguous copies, as a collator would hand them over (the adapters library views the mask flat)
        batches.append({key: values[start : start + batch_size, :width].contiguous() for key, values in tensors.items()})
    return batches


class Tally:
    """Counts what the model is given: examples, real and padded tokens, squared lengths, labels."""

    FIELDS = ("examples", "tokens", "padded_tokens", "tokens_squared", "padded_squared", "labelled")

    def __init__(self):
        self.counts = dict.fromkeys(self.FIELDS, 0)

    def add(self, batch: dict) -> None:
        """Add one batch (real tokens from the attention mask; labelled = labels other than -100)."""
        mask = batch["attention_mask"]
        real = mask.sum(-1)
        self.counts["examples"] += mask.shape[0]
        self.counts["tokens"] += int(real.sum())
        self.counts["padded_tokens"] += mask.numel()
        self.counts["tokens_squared"] += int((real * real).sum())  # attention's cost grows with length squared
        self.counts["padded_squared"] += mask.shape[0] * mask.shape[1] ** 2
        if "labels" in batch:
            self.counts["labelled"] += int((batch["labels"] != -100).sum())

    def take(self) -> dict:
        """The counts since the last call."""
        taken, self.counts = self.counts, dict.fromkeys(self.FIELDS, 0)
        return taken


class CountingCollator:
    """Wraps a collator so that every batch it makes is added to `tally`."""

    def __init__(self, collate: Callable, tally: Tally):
        self.collate, self.tally = collate, tally

    def __call__(self, features):
        batch = self.collate(features)
        self.tally.add(batch)
        return batch


class Pacer:
    """Alternation with the harness: warm up, then one timed repetition per "go"."""

    def __init__(self, channel: Channel, tally: Tally, info: dict):
        self.channel, self.tally, self.info = channel, tally, info
        self.started = 0.0

    def warmed_up(self) -> bool:
        """Warm-up finished: announce, wait for the first "go"; False when told to stop."""
        self.channel.send({"event": "ready", **self.info})
        return self._resume()

    def repetition_done(self) -> bool:
        """A repetition finished: report it, wait for the next "go"; False when told to stop."""
        seconds = time.perf_counter() - self.started
        self.channel.send({"event": "rep", "seconds": seconds, **self.tally.take(), **peak_memory()})
        return self._resume()

    def _resume(self) -> bool:
        if not self.channel.wait():
            return False
        self.tally.take()  # what came before the pause is not part of the next repetition
        reset_peak_memory()
        self.started = time.perf_counter()
        return True


class PacingCallback(TrainerCallback):
    """Pause a `Trainer` after `WARMUP_STEPS` warm-up steps and after every `steps` steps that follow."""

    def __init__(self, pacer: Pacer, steps: int):
        self.pacer, self.steps = pacer, steps

    def on_step_end(self, args, state, control, **kwargs):
        done = state.global_step - WARMUP_STEPS
        if done < 0 or done % self.steps:
            return control
        resume = self.pacer.warmed_up() if done == 0 else self.pacer.repetition_done()
        if not resume:
            control.should_training_stop = True
        return control


def pace_inference(pacer: Pacer, batches: list[dict], run: Callable[[dict], object]) -> None:
    """Inference: one pass over `batches` to warm up, then one timed pass per "go"."""
    with torch.inference_mode():
        for batch in batches:
            run(batch)
        resume = pacer.warmed_up()
        while resume:
            for batch in batches:
                run(batch)
                pacer.tally.add(batch)
            resume = pacer.repetition_done()


def steps_per_epoch(spec: dict, examples: int) -> int:
    """Optimiser steps in one pass over `examples` (the suite's workloads are multiples of the batch size)."""
    return max(1, examples // spec["batch_size"])


def trainer_epochs(spec: dict, examples: int) -> int:
    """Epochs for a paced Trainer run: one per repetition and enough more for the warm-up steps."""
    return spec["reps"] + math.ceil(WARMUP_STEPS / steps_per_epoch(spec, examples))


def peer_training_arguments(spec: dict, output_dir: str, examples: int) -> TrainingArguments:
    """`TrainingArguments` for a peer's `Trainer` with xadapt's optimisation settings (see xadapt.train.task.train).

    The sampler stays the library default (random order), as in the peers' documented recipes.
    """
    major = int(transformers.__version__.split(".")[0])
    warmup = {"warmup_ratio": WARMUP} if major < 5 else {"warmup_steps": WARMUP}  # transformers 5 takes a fraction here
    return TrainingArguments(
        output_dir=output_dir,
        per_device_train_batch_size=spec["batch_size"],
        num_train_epochs=trainer_epochs(spec, examples),
        learning_rate=spec["lr"],
        weight_decay=spec["weight_decay"],
        lr_scheduler_type="linear",
        seed=0,
        data_seed=0,
        save_strategy="no",
        logging_strategy="steps",
        logging_steps=steps_per_epoch(spec, examples),
        report_to="none",
        disable_tqdm=True,
        remove_unused_columns=False,
        dataloader_num_workers=0,
        dataloader_pin_memory=torch.cuda.is_available(),
        # bf16 autocast as the library documents it (`bf16=True`; on a CPU it needs `use_cpu`); else fp32
        bf16=spec.get("precision") == "bf16",
        use_cpu=not torch.cuda.is_available(),
        **warmup,
    )


def model_facts(model: torch.nn.Module, libraries: tuple[str, ...]) -> dict:
    """What a side reports once ready: trainable parameters, attention implementation, library versions."""
    return {
        "trainable_params": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "attention": model.config._attn_implementation,
        "versions": {name: version(name) for name in libraries},
    }


def run_inference(spec: dict, predict: Callable[[dict], object], info: dict) -> None:
    """The inference side of a case: paced passes of `predict` over the workload's batches."""
    pacer = Pacer(Channel(), Tally(), info)
    pace_inference(pacer, load_batches(spec["workload"], spec["batch_size"]), predict)


def run_peer_training(trainer_class: type, model: torch.nn.Module, spec: dict, info: dict) -> None:
    """A peer's training side: its `Trainer` class on the workload, with xadapt's settings and the pacing callback."""
    channel, tally = Channel(), Tally()
    rows = load_rows(spec["workload"], padded=spec["padding"] == "fixed")
    collator = CountingCollator(DataCollatorForTokenClassification(AutoTokenizer.from_pretrained(spec["model_dir"])), tally)
    pacer = Pacer(channel, tally, info)
    with tempfile.TemporaryDirectory() as scratch:
        trainer = trainer_class(
            model=model, args=peer_training_arguments(spec, scratch, len(rows)), train_dataset=rows, data_collator=collator,
            callbacks=[PacingCallback(pacer, steps_per_epoch(spec, len(rows)))],
        )
        trainer.train()
