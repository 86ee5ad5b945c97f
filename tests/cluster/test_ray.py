"""`xadapt sweep --executor ray` on a real local Ray cluster: the same records as in-process, a
killed worker retried (or, out of retries, recorded failed) with every run recorded once, Ctrl-C
and a killed driver leaving a study the same command finishes."""

import os
import signal
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from cluster_helpers import (
    SWEEP_SECONDS, comparable, free_port, ray_cluster, records, run_processes, run_sweep, start_sweep, sweep_command, wait_for,
)
from xadapt.cli import app
from xadapt.errors import XadaptError
from xadapt.study.executor import ExecutorOptions, make_executor
from xadapt.study.local_executor import available_cores


@pytest.fixture(scope="module")
def cluster(env):
    with ray_cluster(env.environment) as address:
        yield address


@pytest.fixture(scope="module")
def reference(env, cluster):
    """The tiny sweep on Ray (language adapter trained as a Ray task), then in this machine's process on as
    many threads as a Ray run gets: their records."""
    cores = str(available_cores())
    on_ray = run_sweep(env, env.work / "on-ray", "--executor", "ray", "--address", cluster, "--cpus-per-run", cores)
    assert on_ray.returncode == 0, on_ray.stdout + on_ray.stderr
    in_process = run_sweep(env, env.work / "in-process", "--workers", "1")
    assert in_process.returncode == 0, in_process.stdout + in_process.stderr
    return on_ray, in_process


def finish(process: subprocess.Popen) -> str:
    output, _ = process.communicate(timeout=SWEEP_SECONDS)
    return " ".join(output.split())


def test_a_sweep_on_ray_records_exactly_what_the_in_process_executor_records(reference, env):
    on_ray, in_process = reference
    assert "language adapters sw (sw to train)" in " ".join(on_ray.stdout.split())  # trained on the cluster, as a task
    assert "language adapters sw (all cached)" in " ".join(in_process.stdout.split())  # and found there by the second sweep
    assert "Ray (2 CPUs, 0 GPUs)" in " ".join(on_ray.stdout.split())
    ray_records, local_records = records(env.work / "on-ray"), records(env.work / "in-process")
    assert len(ray_records) == 2 and all(r["status"] == "ok" for r in ray_records)
    assert comparable(ray_records) == comparable(local_records)
    assert (env.work / "on-ray" / "report.md").is_file()


def test_a_worker_killed_while_it_trains_is_retried_and_every_run_is_recorded_once(reference, env, cluster):
    out = env.work / "worker-killed"
    sweep = start_sweep(env, out, "--executor", "ray", "--address", cluster, "--cpus-per-run", str(available_cores()),
                        "--retries", "1")
    victim = wait_for(run_processes, 300, "a Ray worker training a run")[0]
    os.kill(victim, signal.SIGKILL)
    output = finish(sweep)
    assert sweep.returncode == 0, output
    assert comparable(records(out)) == comparable(records(env.work / "in-process"))
    assert len(records(out)) == 2  # the killed attempt left no record


def test_a_run_whose_worker_dies_on_every_attempt_is_recorded_failed_with_the_reason_once(reference, env, cluster):
    out = env.work / "out-of-retries"
    sweep = start_sweep(env, out, "--executor", "ray", "--address", cluster, "--cpus-per-run", str(available_cores()),
                        "--retries", "0")
    os.kill(wait_for(run_processes, 300, "a Ray worker training a run")[0], signal.SIGKILL)
    output = finish(sweep)
    assert sweep.returncode == 0, output
    rows = records(out)
    failed = [r for r in rows if r["status"] == "failed"]
    assert len(rows) == 2 and len(failed) == 1, output
    assert failed[0]["error"].startswith("its Ray worker died on 1 attempt (") and failed[0]["score"] is None
    again = run_sweep(env, out, "--executor", "ray", "--address", cluster, "--retries", "0")
    assert again.returncode == 0 and "(0 to do)" in " ".join(again.stdout.split())
    assert len(records(out)) == 2


def test_ctrl_c_cancels_the_outstanding_runs_and_a_killed_driver_resumes_without_redoing_finished_runs(reference, env, cluster):
    out = env.work / "driver-killed"
    options = ("--executor", "ray", "--address", cluster, "--cpus-per-run", str(available_cores()))  # one run at a time
    sweep = start_sweep(env, out, *options)
    wait_for(run_processes, 300, "a Ray worker training a run")
    sweep.send_signal(signal.SIGINT)
    output = finish(sweep)
    assert sweep.returncode == 1 and "interrupted; the finished runs are in" in output, output
    wait_for(lambda: not run_processes(), 60, "the cancelled run's worker to stop")

    sweep = start_sweep(env, out, *options)
    wait_for(lambda: records(out), 300, "the first record")
    sweep.kill()  # the driver, with a run still outstanding
    sweep.wait(timeout=60)
    assert len(records(out)) == 1

    resumed = run_sweep(env, out, *options)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "2 runs (1 to do)" in " ".join(resumed.stdout.split())
    assert comparable(records(out)) == comparable(records(env.work / "in-process"))
    assert len(records(out)) == 2


def test_bad_ray_settings_are_refused_before_anything_is_written(env, cluster):
    out = env.work / "refused-too-small"
    too_small = run_sweep(env, out, "--executor", "ray", "--address", cluster, "--cpus-per-run", "3")
    assert too_small.returncode == 1 and not out.exists()
    assert "each run asks for 3 CPUs and 0 GPUs, and the Ray cluster has 2 CPUs and 0 GPUs" in " ".join(too_small.stderr.split())
    for options, message in [(("--executor", "ray", "--workers", "2"), "--workers applies to --executor local, not --executor ray"),
                             (("--address", cluster), "--address applies to --executor ray, not --executor local")]:
        out = env.work / "refused-option"
        result = CliRunner().invoke(app, sweep_command(env, out, *options)[1:], env=env.environment)  # before Ray is imported
        assert result.exit_code == 1 and message in " ".join(result.output.split()), result.output
        assert not out.exists()


def test_an_unreachable_cluster_and_a_missing_ray_are_one_line_errors(monkeypatch):
    dead = f"127.0.0.1:{free_port()}"
    result = subprocess.run([sys.executable, "-c", "from xadapt.study.ray_executor import RayExecutor; RayExecutor(%r)" % dead],
                            capture_output=True, text=True, timeout=300)
    assert "cannot connect to a Ray cluster at " + dead in result.stderr
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(XadaptError, match=r"--executor ray needs Ray, which is not installed here; pip install 'xadapt\[ray\]'"):
        make_executor("ray", ExecutorOptions(address=dead))
