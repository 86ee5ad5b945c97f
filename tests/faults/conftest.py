"""The fault suite's test bed: a tiny study on the tiny model (tests/conftest.py) and a process that starts sweeps in milliseconds.

The model has multilingual-e5-small's tokenizer and vocabulary but 2 layers of width 32 (random
weights, 32 MB): a whole sweep's work takes seconds, so the suite can kill and resume one many
times. Each sweep runs in a child forked from `Zygote` (see zygote.py), a process that imported
xadapt, torch and transformers once: a child is a real process, killed with a real SIGKILL, that
starts working at once instead of after seconds of imports.
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest


HERE = Path(__file__).resolve().parent
TINY_STUDY = """\
task: sib200
sizes: [8, 16]
seeds: [0, 1]
epochs: 2
patience: null
zero_shot_sizes: all
eval_limit: 16
dev_limit: 16
max_length: 32
batch_size: 4
language_adapter: {steps: 4, head_steps: 4, batch_size: 4, max_length: 32, heldout_sentences: 8}
"""


class Zygote:
    """A process holding xadapt's imports that forks one child per command (see zygote.py)."""

    def __init__(self, model: Path):
        env = {**os.environ, "TOKENIZERS_PARALLELISM": "false"}
        self.process = subprocess.Popen([sys.executable, str(HERE / "zygote.py"), str(model)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True, env=env)
        assert self.process.stdout.readline().strip() == "ready"

    def run(self, args: list, env: dict, log: Path, kill: tuple[str, int] | None = None) -> dict:
        """Run `xadapt ARGS` in a fresh child with `env` set, output into `log`; with `kill` = (phase, n), the child
        SIGKILLs itself at the n-th moment of that phase. Returns {"exit": code or -signal, "killed": "phase n" or None}."""
        marker = log.with_suffix(".killed")
        marker.unlink(missing_ok=True)
        order = {"args": [str(a) for a in args], "env": env, "log": str(log), "kill": kill, "marker": str(marker)}
        self.process.stdin.write(json.dumps(order) + "\n")
        self.process.stdin.flush()
        answer = json.loads(self.process.stdout.readline())
        answer["killed"] = marker.read_text() if marker.is_file() else None
        return answer

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)


@pytest.fixture(scope="module")
def zygote(tiny_model):
    started = Zygote(tiny_model)
    yield started
    started.close()


@pytest.fixture
def study(tmp_path, tiny_model, real_data):
    """The tiny study's file and the arguments of `xadapt sweep` over it (--out and XADAPT_HOME are the caller's)."""
    config = tmp_path / "tiny.yaml"
    config.write_text(TINY_STUDY, encoding="utf-8")
    return SimpleNamespace(args=["sweep", "--lang", "sw", "--config", config, "--model", tiny_model, "--data-dir", real_data,
                                 "--workers", "1"])
