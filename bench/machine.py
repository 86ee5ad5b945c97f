"""The machine a run measured: its name and instruction sets, and its matrix-multiply peaks (fp32, bf16)
under the benchmark's thread count."""

from __future__ import annotations

import os
import platform
import re
import time
from pathlib import Path

import torch

from bench.protocol import THREADS
from xadapt.environment import cpu


def cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        found = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        if found:
            return found.group(1).strip()
    return platform.processor() or platform.machine()


def describe() -> dict:
    """Facts that identify the machine; `name` is short and safe for a file name."""
    cores = os.cpu_count()
    model = cpu_model()
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    slug = re.sub(r"[^a-z0-9]+", "-", (gpu or model).lower()).strip("-")
    return {
        "name": f"{slug}-{cores}c", "cpu": model, "isa": cpu()["isa"], "cores": cores, "threads": THREADS, "gpu": gpu,
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "torch": torch.__version__, "python": platform.python_version(),
    }


PEAK_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}


def matmul_peak(size: int = 4096, repeats: int = 5, precision: str = "fp32") -> float:
    """Best FLOP/s of `size` x `size` matrix products in `precision` (fp32 or bf16) on `THREADS` threads
    (after one untimed product)."""
    torch.set_num_threads(THREADS)
    generator = torch.Generator().manual_seed(0)
    dtype = PEAK_DTYPES[precision]
    a, b = (torch.randn(size, size, generator=generator).to(dtype) for _ in range(2))
    out = torch.empty(size, size, dtype=dtype)
    torch.mm(a, b, out=out)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b, out=out)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best
