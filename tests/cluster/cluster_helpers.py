"""Helpers of the Ray executor's tests: a real local Ray cluster, started with `ray start` and stopped after.

The sweeps run as a user runs them: `xadapt sweep ... --executor ray --address ADDRESS` in a
subprocess, on the real default model and the shared benchmark data, with a fresh `XADAPT_HOME`.
Every wait is bounded, so a hung cluster fails the test instead of hanging CI.
"""

import json
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
QUICK_STUDY = """\
eval_limit: 50
dev_limit: 50
max_length: 64
language_adapter: {steps: 3, head_steps: 3, batch_size: 4, max_length: 32, heldout_sentences: 16}
"""
SWEEP_SECONDS = 600  # the most one tiny sweep may take
RUN_TASK = b"ray::xadapt-run_job"  # the process title of a Ray worker while it executes a run


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def ray_cluster(environment: dict, prefix: tuple[str, ...] = ()):
    """A one-node Ray cluster of 2 CPUs (started with `environment`, through `prefix`, a command that runs the rest); its address."""
    port = free_port()
    start = [*prefix, str(BIN / "ray"), "start", "--head", f"--port={port}", "--num-cpus=2", "--disable-usage-stats",
             "--include-dashboard=false"]
    subprocess.run(start, check=True, timeout=180, capture_output=True, env=environment)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([str(BIN / "ray"), "stop", "--force"], timeout=180, capture_output=True, env=environment)


def sweep_command(env, out: Path, *extra: str) -> list[str]:
    """The tiny sweep: adapter and MAD-X on 20 Swahili NER sentences, one epoch, one seed, in-language."""
    return [str(BIN / "xadapt"), "sweep", "--lang", "sw", "--sizes", "20", "--epochs", "1", "--seeds", "0", "--source", "none",
            "--methods", "adapter,madx", "--config", str(env.config), "--model", env.model, "--data-dir", str(env.data),
            "--out", str(out), *extra]


def run_sweep(env, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(sweep_command(env, out, *extra), env=env.environment, capture_output=True, text=True,
                          timeout=SWEEP_SECONDS)


def start_sweep(env, out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(sweep_command(env, out, *extra), env=env.environment, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def records(out: Path) -> list[dict]:
    path = out / "results.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.is_file() else []


def comparable(rows: list[dict]) -> dict:
    """Records by (run, evaluation language), without what differs between two runs of the same thing."""
    return {(r["run_id"], r["eval_lang"]): {k: v for k, v in r.items() if k not in ("seconds", "environment")} for r in rows}


def run_processes() -> list[int]:
    """Ray worker processes executing a run right now."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "cmdline").read_bytes().startswith(RUN_TASK):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def wait_for(condition, seconds: float, what: str):
    """Poll `condition` until it returns something true; fail naming `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"waited {seconds:.0f} s for {what}")
