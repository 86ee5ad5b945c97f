"""The Ray executor: each job a Ray task with its resource request, on a cluster that shares storage.

Built on Ray core alone (tasks, resources, `ray.wait`, node-affinity scheduling); Ray schedules.
A task whose worker process or node dies is run again by Ray up to `retries` times and after that
comes back as `JobLost`. An error a job raises is not retried: a user error stops the sweep with its
message, a bug with its traceback. When the driver stops (an error, Ctrl-C, the end of the
sweep), the tasks still outstanding are cancelled; the finished ones are already recorded.

Workers read and write the driver's files by the same absolute paths, so the output folder, the
cache root (`XADAPT_HOME`) and the data directory must be on storage every node mounts at the same
place; `check_storage` proves it on every node before anything trains.
"""

import math
import os
import signal
import socket
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from xadapt.errors import XadaptError
from xadapt.settings import HOME_ENV, home_path
from xadapt.study.executor import JobLost

INSTALL = "pip install 'xadapt[ray]'"
DEFAULT_RETRIES = 2  # further attempts at a task whose worker died
PROBE_PREFIX = ".xadapt-storage-probe-"
CONNECT_SECONDS = 10.0  # how long the cluster's address may take to accept a connection
PROBE_SECONDS = 120.0  # how long a node may take to answer the shared-storage check
WAIT_SECONDS = 0.5  # how often the driver, waiting for results, looks whether Ctrl-C was pressed


def _import_ray():
    try:
        import ray
    except ImportError:
        raise XadaptError(f"--executor ray needs Ray, which is not installed here; {INSTALL}") from None
    return ray


def _check_reachable(address: str | None) -> None:
    """Fail fast on a HOST:PORT (or ray://HOST:PORT) nothing listens on: Ray itself keeps retrying for minutes."""
    host, _, port = (address or "").removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        return  # None, `auto`, or an address Ray resolves itself
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_SECONDS).close()
    except OSError as err:
        raise XadaptError(f"cannot connect to a Ray cluster at {address}: {err.strerror or err}; start one with `ray start --head`, "
                          "or leave out --address to start one on this machine") from None


def _first_line(err: BaseException) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0]


class RayExecutor:
    """Runs jobs as Ray tasks of `cpus_per_run` CPUs (and torch threads) and `gpus_per_run` GPUs each.

    Connects to the cluster at `address` (`auto`, `HOST:PORT`, `ray://HOST:10001`; None: `RAY_ADDRESS`,
    else a local cluster started for this sweep), unless Ray is already initialised in this process.
    """

    def __init__(self, address: str | None = None, cpus_per_run: int | None = None, gpus_per_run: float | None = None,
                 retries: int | None = None):
        self.cpus = 1 if cpus_per_run is None else cpus_per_run
        self.gpus = 0.0 if gpus_per_run is None else gpus_per_run
        self.retries = DEFAULT_RETRIES if retries is None else retries
        if self.cpus < 1 or self.gpus < 0 or self.retries < 0:
            raise XadaptError(f"--cpus-per-run must be at least 1, --gpus-per-run and --retries at least 0; got "
                              f"{self.cpus}, {self.gpus:g} and {self.retries}")
        self.ray = _import_ray()
        if not self.ray.is_initialized():
            _check_reachable(address)
            try:
                self.ray.init(address=address, include_dashboard=False, logging_level="WARNING")
            except Exception as err:  # Ray raises ConnectionError, RuntimeError or ValueError for a cluster it cannot reach
                raise XadaptError(f"cannot connect to a Ray cluster at {address or 'RAY_ADDRESS'}: {_first_line(err)}; start one "
                                  "with `ray start --head`, or leave out --address to start one on this machine") from None
        total = self.ray.cluster_resources()
        cpus, gpus = total.get("CPU", 0.0), total.get("GPU", 0.0)
        if self.cpus > cpus or self.gpus > gpus:
            raise XadaptError(f"each run asks for {self.cpus} CPUs and {self.gpus:g} GPUs, and the Ray cluster has {cpus:g} CPUs "
                              f"and {gpus:g} GPUs; lower --cpus-per-run / --gpus-per-run or add nodes")
        self.slots = int(min(cpus // self.cpus, gpus // self.gpus if self.gpus else math.inf))
        self.cluster = f"{cpus:g} CPUs, {gpus:g} GPUs"

    def describe(self) -> str:
        gpus = f", {self.gpus:g} GPU" if self.gpus else ""
        runs = "1 run" if self.slots == 1 else f"{self.slots} runs"
        return f"Ray ({self.cluster}): {runs} at once of {self.cpus} CPU{'s' if self.cpus > 1 else ''}{gpus}"

    def map(self, work: Callable, jobs: Iterable) -> Iterator[tuple[object, object]]:
        jobs = list(jobs)
        task = self.ray.remote(num_cpus=self.cpus, num_gpus=self.gpus, max_retries=self.retries, retry_exceptions=False,
                               name=f"xadapt-{work.__name__}")(_on_worker)
        environment = {HOME_ENV: str(home_path().resolve())}
        pending = {task.remote(work, job, self.cpus, environment): job for job in jobs}
        with _ctrl_c_noted() as pressed:
            try:
                while pending:
                    ready, _ = self.ray.wait(list(pending), num_returns=1, timeout=WAIT_SECONDS)
                    if pressed.is_set():
                        raise KeyboardInterrupt
                    for ref in ready:
                        job = pending.pop(ref)
                        yield job, self._result(ref)
            finally:  # stopped early (an error, Ctrl-C): what has not finished is cancelled, and is pending on resume
                for ref in pending:
                    self.ray.cancel(ref, force=True)

    def _result(self, ref):
        from ray.exceptions import RayError, RayTaskError

        try:
            return self.ray.get(ref)
        except RayTaskError as err:  # the job raised: not retried
            if isinstance(err.cause, XadaptError):
                raise XadaptError(str(err.cause)) from None
            raise RuntimeError(f"a run failed on a Ray worker:\n{err}") from None
        except RayError as err:  # its worker or node died on every attempt
            attempts = self.retries + 1
            return JobLost(f"its Ray worker died on {attempts} attempt{'s' if attempts > 1 else ''} "
                           f"({type(err).__name__}: {_first_line(err)})")

    def check_storage(self, writable: list[Path], readable: list[Path]) -> None:
        """On every live node, a task writes a probe file into each `writable` folder for this process to
        read, and lists each `readable` folder for this process to compare with its own listing."""
        from ray.exceptions import GetTimeoutError
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        probe = self.ray.remote(num_cpus=0, max_retries=0)(_probe)
        token = uuid.uuid4().hex
        nodes = [node for node in self.ray.nodes() if node.get("Alive")]
        answers = [
            probe.options(scheduling_strategy=NodeAffinitySchedulingStrategy(node["NodeID"], soft=False)).remote(
                [str(p) for p in writable], [str(p) for p in readable], f"{token}-{node['NodeID'][:12]}")
            for node in nodes
        ]
        shared = "--out, XADAPT_HOME and the data directory must be on storage every Ray node mounts at the same path"
        for node, answer in zip(nodes, answers):
            host = node.get("NodeManagerAddress", node["NodeID"][:12])
            try:
                name, errors, listings = self.ray.get(answer, timeout=PROBE_SECONDS)
            except GetTimeoutError:
                raise XadaptError(f"the Ray node {host} did not answer the shared-storage check within {PROBE_SECONDS:.0f} s") from None
            for path in writable:
                if str(path) in errors:
                    raise XadaptError(f"{path}: a Ray worker on {host} cannot write there ({errors[str(path)]}); {shared}")
                probe_file = Path(path) / f"{PROBE_PREFIX}{name}"
                try:
                    seen = probe_file.read_text(encoding="utf-8") == name
                    probe_file.unlink()
                except OSError:
                    seen = False
                if not seen:
                    raise XadaptError(f"{path}: a Ray worker on {host} wrote a file there that this machine cannot see, so it is "
                                      f"not shared storage; {shared}")
            for path in readable:
                if listings[str(path)] != _listing(str(path)):
                    raise XadaptError(f"{path}: a Ray worker on {host} does not see the files this machine sees there; {shared}")


@contextmanager
def _ctrl_c_noted():
    """While the driver waits on Ray, Ctrl-C only sets the event this yields, and the wait loop raises
    KeyboardInterrupt itself: raised from Python's own handler, it can land inside one of Ray's callbacks,
    which reports it as ignored and goes on. Outside the main thread (no signal handlers there) nothing changes."""
    pressed = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield pressed
        return
    previous = signal.signal(signal.SIGINT, lambda signum, frame: pressed.set())
    try:
        yield pressed
    finally:
        signal.signal(signal.SIGINT, previous)


def _on_worker(work: Callable, job, threads: int, environment: dict):
    """A Ray task: compute `work(job)` on `threads` torch threads with the driver's cache root."""
    os.environ.update(environment)
    import torch

    torch.set_num_threads(threads)
    return work(job)


def _listing(path: str) -> list[str] | None:
    """The names in folder `path`, sorted; None if it cannot be listed."""
    try:
        return sorted(os.listdir(path))
    except OSError:
        return None


def _probe(writable: list[str], readable: list[str], name: str) -> tuple[str, dict, dict]:
    """On a node: write the probe file `name` into each writable folder; list each readable one."""
    errors = {}
    for path in writable:
        try:
            Path(path).mkdir(parents=True, exist_ok=True)
            (Path(path) / f"{PROBE_PREFIX}{name}").write_text(name, encoding="utf-8")
        except OSError as err:
            errors[path] = err.strerror or str(err)
    return name, errors, {path: _listing(path) for path in readable}
