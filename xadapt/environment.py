"""What a result depends on besides its configuration: the software, the machine and the base model.

`describe()` is printed by `xadapt doctor` (and `xadapt --version`) and written into every
`study.json`, so a result names the environment it was computed in. `lock_drift()` compares the
installed versions with `requirements.lock`, the exact versions `setup.sh` installs and CI tests,
which catches a virtual environment that an earlier install left behind.
"""

from __future__ import annotations

import importlib.metadata
import platform
import re
from pathlib import Path

from packaging.utils import canonicalize_name

from xadapt import __version__

# The packages whose versions change what xadapt computes or serves.
PACKAGES = ("torch", "transformers", "tokenizers", "accelerate", "safetensors", "datasets", "numpy", "gradio")
LOCK_FILE = Path(__file__).resolve().parents[1] / "requirements.lock"  # present in a source checkout; looked up per call
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)")


def package_version(name: str) -> str | None:
    """The installed version of distribution `name`, or None when it is not installed."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def locked_versions(lock: Path | None = None) -> dict[str, str]:
    """Package -> exact version from a pip-compile lock file (default `LOCK_FILE`; empty when it is absent)."""
    lock = lock or LOCK_FILE
    if not lock.is_file():
        return {}
    pins = (_PIN.match(line) for line in lock.read_text(encoding="utf-8").splitlines())
    return {canonicalize_name(pin[1]): pin[2] for pin in pins if pin}


def lock_drift(lock: Path | None = None) -> dict[str, tuple[str, str | None]] | None:
    """Locked packages whose installed version differs: name -> (locked, installed or None).

    None when there is no lock to compare with (an installed wheel rather than a checkout). A
    local build label (torch's `+cpu`) is not a difference: the lock names the release."""
    locked = locked_versions(lock)
    if not locked:
        return None
    drift = {}
    for name, want in locked.items():
        have = package_version(name)
        if have is None or have.split("+")[0] != want.split("+")[0]:
            drift[name] = (want, have)
    return drift


def cpu() -> dict:
    """The CPU's model name and the widest matrix instructions it offers (what bf16 speed depends on)."""
    model, flags = platform.processor() or platform.machine(), set()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                model = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
    isa = [name for name, flag in (("AMX", "amx_bf16"), ("AVX512-BF16", "avx512_bf16"), ("AVX-512", "avx512f"),
                                    ("AVX2", "avx2")) if flag in flags]  # fmt: skip
    return {"model": model, "isa": isa}


def device() -> dict:
    """The accelerator torch would use, or the CPU."""
    import torch

    if torch.cuda.is_available():
        return {"kind": "cuda", "name": torch.cuda.get_device_name(0), "count": torch.cuda.device_count()}
    return {"kind": "cpu", "torch_capability": torch.backends.cpu.get_cpu_capability()}  # the model: `cpu()`


def default_model_fingerprint() -> str | None:
    """The fingerprint of the prepared default model (None until `xadapt model prepare` has run)."""
    from xadapt.models import DEFAULT_MODEL, PACKAGED_MODELS, model_identity

    spec = PACKAGED_MODELS[DEFAULT_MODEL]
    return model_identity(spec.directory())["fingerprint"] if spec.is_prepared() else None


def describe() -> dict:
    """Everything a result depends on besides its configuration, as plain JSON data."""
    import torch

    drift = lock_drift()
    return {
        "xadapt": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": {name: package_version(name) for name in PACKAGES},
        "threads": torch.get_num_threads(),
        "device": device(),
        "cpu": cpu(),
        "default_model_fingerprint": default_model_fingerprint(),
        "matches_lock": None if drift is None else not drift,
    }

