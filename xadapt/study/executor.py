"""Executors: where a study's runs execute.

A sweep hands an executor a picklable top-level function and a list of picklable jobs and
consumes `(job, result)` pairs as they finish; the sweep alone appends records, so there is one
writer however many runs compute at once. The in-process executor runs jobs one after the other;
`WorkerPoolExecutor` runs several at once in worker processes on this machine. A cluster engine
(Ray, Dask, Slurm via submitit) can implement the same `map` and receive the very same jobs,
because a job carries only plain data (the study as a dict, the run, paths) and workers rebuild
their own `RunContext` from it.
"""

import multiprocessing
import os
import queue
import signal
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol, TypeVar

from xadapt.errors import XadaptError

Job = TypeVar("Job")
Result = TypeVar("Result")
POLL_SECONDS = 1.0  # how often the pool looks for dead workers while it waits for results


class Executor(Protocol):
    def map(self, work: Callable[[Job], Result], jobs: Iterable[Job]) -> Iterator[tuple[Job, Result]]:
        """Run `work` on every job; yield each job with its result as soon as it is done."""
        ...


class InProcessExecutor:
    """Runs jobs sequentially in this process (shares caches between runs)."""

    def map(self, work: Callable[[Job], Result], jobs: Iterable[Job]) -> Iterator[tuple[Job, Result]]:
        for job in jobs:
            yield job, work(job)


def available_cores() -> int:
    """The CPU cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class WorkerPoolExecutor:
    """Runs jobs in `workers` processes at once, each computing on `threads` threads.

    Workers are started fresh (spawn), take jobs from a shared queue in plan order and keep their
    caches between jobs. Progress events a job emits (`report_progress`) reach `on_event` in this
    process. A worker that fails stops the pool with its error; a worker that dies (out of
    memory, killed) stops it with its exit code; when this process dies, its workers die with it.
    """

    def __init__(self, workers: int, threads: int, on_event: Callable[[dict], None] = lambda event: None):
        if workers < 1 or threads < 1:
            raise XadaptError(f"a worker pool needs at least one worker and one thread each, got {workers} and {threads}")
        self.workers, self.threads, self.on_event = workers, threads, on_event

    def map(self, work: Callable[[Job], Result], jobs: Iterable[Job]) -> Iterator[tuple[Job, Result]]:
        jobs = list(jobs)
        if not jobs:
            return
        spawn = multiprocessing.get_context("spawn")
        tasks, results = spawn.Queue(), spawn.Queue()
        for index, job in enumerate(jobs):
            tasks.put((index, job))
        processes = [spawn.Process(target=_serve, args=(work, tasks, results, self.threads), daemon=True)
                     for _ in range(min(self.workers, len(jobs)))]
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
