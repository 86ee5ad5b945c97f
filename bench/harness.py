"""Run one case: start both sides, let them warm up, then alternate timed repetitions between them.

Each side is its own process (see `bench.protocol`), so its peak memory is its own. After both
have warmed up, repetition r runs xadapt then the peer for even r and the peer then xadapt for
odd r, so slow drifts of the machine (heat, other load) fall on both alike.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from bench.protocol import THREADS

REPO = Path(__file__).resolve().parents[1]


class BenchError(RuntimeError):
    """A side failed; the message names its log."""


@dataclass(frozen=True)
class Side:
    """Who runs a side: a tool name, the python of its virtual environment, the module to run, spec options."""

    tool: str
    python: Path
    module: str
    options: dict = field(default_factory=dict)  # added to the case's spec (e.g. a variant of the tool)


def thread_environment() -> dict[str, str]:
    """The environment for child processes: the same thread count for every math library, no hub access."""
    threads = str(THREADS)
    return {
        **os.environ, "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads, "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false", "PYTHONPATH": str(REPO),
    }


class Worker:
    """One running side: a process that answers "go" with one repetition's measurements."""

    def __init__(self, side: Side, spec: dict, scratch: Path):
        self.side = side
        name = f"{spec['case']}-{side.tool}"
        spec = {**spec, **side.options}
        spec_path = scratch / f"{name}.json"
        spec_path.write_text(json.dumps(spec, indent=2), encoding="utf-8")
        self.log = scratch / f"{name}.log"
        with self.log.open("w", encoding="utf-8") as log:
            self.process = subprocess.Popen(
                [str(side.python), "-m", side.module, str(spec_path)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True, cwd=REPO, env=thread_environment(),
            )

    def receive(self, event: str) -> dict:
        line = self.process.stdout.readline()
        if not line:
            self.process.wait()
            tail = self.log.read_text(encoding="utf-8", errors="replace")[-3000:]
            raise BenchError(f"{self.side.tool} side exited ({self.process.returncode}) before '{event}'; log {self.log}:\n{tail}")
        message = json.loads(line)
        if message.get("event") != event:
            raise BenchError(f"{self.side.tool} side sent {message.get('event')!r}, expected {event!r}")
        return message

    def go(self) -> dict:
        self.process.stdin.write("go\n")
        self.process.stdin.flush()
        return self.receive("rep")

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                self.process.stdin.write("stop\n")
                self.process.stdin.close()
            except BrokenPipeError:
                pass
            try:
                self.process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def alternate(sides: list[Side], spec: dict, reps: int, scratch: Path) -> dict[str, dict]:
    """Warm up every side, then `reps` alternating repetitions; per tool its ready facts and repetitions."""
    workers = []
    try:
        results = {}
        for side in sides:  # one at a time: a side warming up never competes with another's timing
            workers.append(Worker(side, {**spec, "reps": reps}, scratch))
            results[side.tool] = {"info": workers[-1].receive("ready"), "reps": []}
        for rep in range(reps):
            for worker in workers if rep % 2 == 0 else workers[::-1]:
                results[worker.side.tool]["reps"].append(worker.go())
        return results
    finally:
        for worker in workers:
            worker.stop()
