"""Executors: where a study's runs execute.

A sweep hands an executor a picklable top-level function and a list of picklable jobs and
consumes `(job, result)` pairs as they finish. The in-process executor runs them one after the
other; a cluster engine (Ray, Dask, Slurm via submitit) can implement the same `map` and receive
the very same jobs, because a job carries only plain data (the study as a dict, the run, paths)
and workers rebuild their own `RunContext` from it.
"""

from collections.abc import Callable, Iterable, Iterator
from typing import Protocol, TypeVar

Job = TypeVar("Job")
Result = TypeVar("Result")


class Executor(Protocol):
    def map(self, work: Callable[[Job], Result], jobs: Iterable[Job]) -> Iterator[tuple[Job, Result]]:
        """Run `work` on every job; yield each job with its result as soon as it is done."""
        ...


class InProcessExecutor:
    """Runs jobs sequentially in this process (the default; shares caches between runs)."""

    def map(self, work: Callable[[Job], Result], jobs: Iterable[Job]) -> Iterator[tuple[Job, Result]]:
        for job in jobs:
            yield job, work(job)
