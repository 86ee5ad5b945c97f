"""Executors: where a study's runs execute, one registry entry per kind.

A sweep hands an executor a picklable top-level function and a list of picklable jobs and
consumes `(job, result)` pairs as they finish, in any order; the sweep alone appends records, so
there is one writer however many runs compute at once. A job carries only plain data and absolute
paths (the study as a dict, the run, the converted model's folder, the cache root), and a worker
rebuilds its own `RunContext` from it, so the same job runs in this process, in a local worker
process or on a Ray node. A job the executor could not finish for a reason outside the job (its
worker or node died, more often than the retries allow) comes back as `JobLost`; the sweep records
it as failed with that reason, once.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Protocol, TypeVar

from xadapt.errors import XadaptError

Job = TypeVar("Job")
Result = TypeVar("Result")


@dataclass(frozen=True)
class JobLost:
    """The result of a job that never finished: why."""

    reason: str


class Executor(Protocol):
    slots: int  # runs computed at once

    def describe(self) -> str:
        """Where and how many runs compute at once, for the plan line."""
        ...

    def check_storage(self, writable: list[Path], readable: list[Path]) -> None:
        """Raise `XadaptError`, naming the path, unless every worker can write `writable` and read
        `readable` where this process does (the same files)."""
        ...

    def map(self, work: Callable[[Job], Result], jobs: Iterable[Job]) -> Iterator[tuple[Job, Result | JobLost]]:
        """Run `work` on every job; yield each job with its result as soon as it is done."""
        ...


@dataclass(frozen=True)
class ExecutorOptions:
    """The command line's executor settings; None: not given (each executor has its defaults)."""

    workers: int | None = None
    address: str | None = None
    cpus_per_run: int | None = None
    gpus_per_run: float | None = None
    retries: int | None = None


@dataclass(frozen=True)
class ExecutorKind:
    name: str
    summary: str
    options: tuple[str, ...]  # the `ExecutorOptions` fields it reads
    make: Callable[[ExecutorOptions, Callable[[dict], None]], Executor]


def _local(options: ExecutorOptions, on_event: Callable[[dict], None]) -> Executor:
    from xadapt.study.local_executor import local_executor

    return local_executor(options.workers, on_event)


def _ray(options: ExecutorOptions, on_event: Callable[[dict], None]) -> Executor:
    from xadapt.study.ray_executor import RayExecutor

    return RayExecutor(options.address, options.cpus_per_run, options.gpus_per_run, options.retries)


EXECUTORS = {kind.name: kind for kind in (
    ExecutorKind("local", "this machine: this process, or --workers processes sharing its cores", ("workers",), _local),
    ExecutorKind("ray", "a Ray cluster: each run a Ray task (pip install 'xadapt[ray]')",
                 ("address", "cpus_per_run", "gpus_per_run", "retries"), _ray),
)}
DEFAULT_EXECUTOR = "local"


def make_executor(name: str, options: ExecutorOptions = ExecutorOptions(),
                  on_event: Callable[[dict], None] = lambda event: None) -> Executor:
    """The executor `name` with `options`; an option another executor reads is refused, naming its executor."""
    if name not in EXECUTORS:
        raise XadaptError(f"unknown executor {name!r}; choose from {', '.join(EXECUTORS)}")
    kind = EXECUTORS[name]
    for option in fields(options):
        if getattr(options, option.name) is not None and option.name not in kind.options:
            owner = next(k.name for k in EXECUTORS.values() if option.name in k.options)
            raise XadaptError(f"--{option.name.replace('_', '-')} applies to --executor {owner}, not --executor {name}")
    return kind.make(options, on_event)
