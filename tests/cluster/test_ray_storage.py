"""The shared-storage check: a Ray cluster whose workers see another folder at the sweep's --out
path (a tmpfs mounted over it in the cluster's own mount namespace, as on a node that does not
mount the shared disk) is refused, naming the path, before anything trains or is written."""

import os
import shutil

import pytest
from cluster_helpers import ray_cluster, records, run_sweep

from xadapt.settings import HOME_ENV


def private_mount(path) -> tuple[str, ...]:
    """A command prefix that runs the rest in a mount namespace of its own, with a tmpfs over `path`."""
    unshare = shutil.which("unshare")
    assert unshare, "the shared-storage test needs util-linux's unshare to give the Ray cluster a mount of its own"
    namespace = ("--mount", "--propagation", "private") if os.geteuid() == 0 else ("--user", "--map-root-user", "--mount")
    return (unshare, *namespace, "sh", "-c", 'mount -t tmpfs xadapt-test "$0" && exec "$@"', str(path))


@pytest.fixture(scope="module")
def hidden_out(env):
    out = env.work / "not-shared"
    out.mkdir()
    with ray_cluster(env.environment, private_mount(out)) as address:
        yield out, address


def test_a_sweep_whose_out_the_workers_cannot_see_is_refused_before_any_training(env, hidden_out):
    out, address = hidden_out
    result = run_sweep(env, out, "--executor", "ray", "--address", address)
    message = " ".join(result.stderr.split())
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{out}: a Ray worker on" in message and "wrote a file there that this machine cannot see" in message
    assert "--out, XADAPT_HOME and the data directory must be on storage every Ray node mounts at the same path" in message
    assert list(out.iterdir()) == [] and records(out) == []  # no manifest, no probe file, no record
    home = env.environment[HOME_ENV]
    assert not os.path.exists(os.path.join(home, "language_adapters")) and not os.path.exists(os.path.join(home, "mlm_heads"))
