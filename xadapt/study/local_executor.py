"""The local executors: runs in this process, or in a pool of worker processes on this machine.

`WorkerPoolExecutor` starts its workers fresh (spawn); each rebuilds its own `RunContext` from the
plain data a job carries and keeps it between jobs.
"""

import multiprocessing
import os
import queue
import signal
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TypeVar

from xadapt.errors import XadaptError

Job = TypeVar("Job")
Result = TypeVar("Result")
POLL_SECONDS = 1.0  # how often the pool looks for dead workers while it waits for results


class InProcessExecutor:
    """Runs jobs sequentially in this process (shares caches between runs)."""

    slots = 1

    def describe(self) -> str:
        return "1 worker (this process)"

    def check_storage(self, writable: list[Path], readable: list[Path]) -> None:
        """Jobs run here: they see what this process sees."""

    def map(self, work: Callable[[Job], Result], jobs: Iterable[Job]) -> Iterator[tuple[Job, Result]]:
        for job in jobs:
            yield job, work(job)


def available_cores() -> int:
    """The CPU cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class WorkerPoolExecutor:
    """Runs jobs in `workers` processes at once, each computing on `threads` threads.

    Workers are started fresh (spawn), take jobs from a shared queue in the order given and keep their
    caches between jobs. Progress events a job emits (`report_progress`) reach `on_event` in this
    process. With fewer jobs than workers, fewer workers start and share all the cores. A worker
    that fails stops the pool with its error; a worker that dies (out of memory, killed) stops it
    with its exit code; when this process dies, its workers die with it.
    """

    def __init__(self, workers: int, threads: int, on_event: Callable[[dict], None] = lambda event: None):
        if workers < 1 or threads < 1:
            raise XadaptError(f"a worker pool needs at least one worker and one thread each, got {workers} and {threads}")
        self.workers, self.threads, self.on_event = workers, threads, on_event
        self.slots = workers

    def describe(self) -> str:
        return f"{self.workers} workers of {self.threads} thread{'s' if self.threads > 1 else ''}"

    def check_storage(self, writable: list[Path], readable: list[Path]) -> None:
        """Workers run on this machine: they see what this process sees."""

    def map(self, work: Callable[[Job], Result], jobs: Iterable[Job]) -> Iterator[tuple[Job, Result]]:
        jobs = list(jobs)
        if not jobs:
            return
        spawn = multiprocessing.get_context("spawn")
        tasks, results = spawn.Queue(), spawn.Queue()
        for index, job in enumerate(jobs):
            tasks.put((index, job))
        count = min(self.workers, len(jobs))
        threads = self.threads * self.workers // count  # fewer jobs than workers: the idle workers' cores go to the others
        processes = [spawn.Process(target=_serve, args=(work, tasks, results, threads), daemon=True) for _ in range(count)]
        for _ in processes:
            tasks.put(None)  # one stop sign per worker, after every job
        for process in processes:
            process.start()
        try:
            remaining = len(jobs)
            while remaining:
                try:
                    kind, index, payload = results.get(timeout=POLL_SECONDS)
                except queue.Empty:
                    dead = [p.exitcode for p in processes if p.exitcode not in (None, 0)]
                    if dead:
                        raise XadaptError(f"a worker process died (exit code {dead[0]}: out of memory or killed); "
                                          "finished runs are saved: run the same command again to resume") from None
                    continue
                if kind == "event":
                    self.on_event(payload)
                elif kind == "error":
                    user_error, message = payload
                    raise XadaptError(message) if user_error else RuntimeError(f"a run failed in a worker process:\n{message}")
                else:
                    remaining -= 1
                    yield jobs[index], payload
        finally:
            for process in processes:
                if process.is_alive():
                    process.terminate()
                process.join()


_EVENTS = None  # in a worker process: the queue its progress events go to


def report_progress(event: dict) -> None:
    """Send `event` to the pool's `on_event` (in a worker process; elsewhere nothing happens)."""
    if _EVENTS is not None:
        _EVENTS.put(("event", None, event))


def _serve(work: Callable, tasks, results, threads: int) -> None:
    """A worker process: compute on `threads` threads, run jobs until the stop sign, send back results."""
    global _EVENTS
    if sys.platform == "linux":  # die with the sweep, even when it is killed with SIGKILL
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the sweep, which stops its workers
    os.environ["OMP_NUM_THREADS"] = str(threads)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import torch

    torch.set_num_threads(threads)
    _EVENTS = results
    while (task := tasks.get()) is not None:
        index, job = task
        try:
            result = work(job)
        except Exception as err:
            results.put(("error", index, (isinstance(err, XadaptError), str(err) if isinstance(err, XadaptError) else traceback.format_exc())))
            return
        results.put(("result", index, result))


def default_workers() -> int:
    """Runs at once unless told: 2 on a CPU with at least 2 cores (faster than 1 on 2 cores: `python -m bench
    --cases workers`), else 1 (a single core; a GPU, which one run keeps busy)."""
    import torch

    return 1 if torch.cuda.is_available() or available_cores() < 2 else 2


def local_executor(workers: int | None = None, on_event: Callable[[dict], None] = lambda event: None):
    """This process for one worker; else a pool of `workers` processes sharing this machine's cores evenly."""
    workers = workers or default_workers()
    cores = available_cores()
    if workers < 1 or workers > cores:
        raise XadaptError(f"--workers {workers}: this machine has {cores} cores; use 1 to {cores} workers")
    return InProcessExecutor() if workers == 1 else WorkerPoolExecutor(workers, cores // workers, on_event)
