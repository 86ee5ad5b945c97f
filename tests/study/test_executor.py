"""The executor registry, and the local worker pool: every job's result comes back once, progress events arrive, failures stop the pool."""

import os

import pytest

from xadapt.errors import XadaptError
from xadapt.study.executor import EXECUTORS, ExecutorOptions, make_executor
from xadapt.study.local_executor import WorkerPoolExecutor, available_cores, local_executor, report_progress


def square_on_threads(job: int) -> tuple[int, int, str]:
    """The job squared, the torch threads the worker computes on, and its process id."""
    import torch

    report_progress({"job": job})
    return job * job, torch.get_num_threads(), str(os.getpid())


def fail(job: int):
    if job == 2:
        raise XadaptError(f"job {job} has bad input")
    if job == 3:
        raise ValueError("a bug")
    return job


def die(job: int):
    os._exit(9)


def test_every_job_comes_back_once_computed_by_two_workers_on_the_threads_given():
    events = []
    pool = WorkerPoolExecutor(2, 1, on_event=events.append)
    results = dict(pool.map(square_on_threads, range(6)))
    assert {job: value for job, (value, _, _) in results.items()} == {job: job * job for job in range(6)}
    assert {threads for _, threads, _ in results.values()} == {1}
    workers = {pid for _, _, pid in results.values()}
    assert str(os.getpid()) not in workers and 1 <= len(workers) <= 2  # worker processes (a slow starter may get none)
    assert sorted(event["job"] for event in events) == list(range(6))


def test_a_workers_user_error_is_raised_as_one_and_a_bug_with_its_traceback():
    with pytest.raises(XadaptError, match="job 2 has bad input"):
        dict(WorkerPoolExecutor(1, 1).map(fail, [0, 1, 2]))
    with pytest.raises(RuntimeError, match="(?s)a run failed in a worker process.*ValueError: a bug"):
        dict(WorkerPoolExecutor(1, 1).map(fail, [3]))


def test_a_worker_that_dies_stops_the_pool_with_a_message():
    with pytest.raises(XadaptError, match="exit code 9"):
        dict(WorkerPoolExecutor(2, 1).map(die, [0, 1]))


def test_more_workers_than_cores_is_refused_and_one_worker_runs_in_process():
    cores = available_cores()
    with pytest.raises(XadaptError, match=f"--workers {cores + 1}: this machine has {cores} cores"):
        local_executor(cores + 1)
    assert type(local_executor(1)).__name__ == "InProcessExecutor"
    if cores >= 2:
        pool = local_executor(2)
        assert (pool.workers, pool.threads) == (2, cores // 2)


def test_fewer_jobs_than_workers_share_all_the_cores():
    [(_, (_, threads, _))] = list(WorkerPoolExecutor(2, 1).map(square_on_threads, [3]))
    assert threads == 2


def test_the_registry_makes_each_executor_and_refuses_an_option_of_another():
    assert set(EXECUTORS) == {"local", "ray"}
    assert type(make_executor("local", ExecutorOptions(workers=1))).__name__ == "InProcessExecutor"
    with pytest.raises(XadaptError, match="unknown executor 'slurm'; choose from local, ray"):
        make_executor("slurm")
    with pytest.raises(XadaptError, match="--gpus-per-run applies to --executor ray, not --executor local"):
        make_executor("local", ExecutorOptions(gpus_per_run=1))
    with pytest.raises(XadaptError, match="--workers applies to --executor local, not --executor ray"):
        make_executor("ray", ExecutorOptions(workers=2))
