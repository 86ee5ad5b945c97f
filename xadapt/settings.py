"""Where xadapt keeps its cache and looks for benchmark data.

Both places can be set by environment variables so that CI, tests and users on shared
machines can point xadapt elsewhere without flags:

- ``XADAPT_HOME``: converted models, trained language adapters and other caches
  (default ``~/.cache/xadapt``).
- ``XADAPT_DATA``: the benchmark data directory, laid out like ``shared/data``.
"""

import os
from pathlib import Path

HOME_ENV = "XADAPT_HOME"
DATA_ENV = "XADAPT_DATA"


def home_path() -> Path:
    """Where the cache root is (`XADAPT_HOME`, default ~/.cache/xadapt), without creating it."""
    return Path(os.environ.get(HOME_ENV) or Path.home() / ".cache" / "xadapt").expanduser()


def xadapt_home() -> Path:
    """The cache root; created on first use."""
    root = home_path()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        from xadapt.errors import XadaptError

        raise XadaptError(f"the cache folder {root} cannot be created ({err.strerror or err}); set {HOME_ENV} "
                          "to a writable folder") from None
    return root


def models_dir() -> Path:
    """Where converted / prepared model directories live."""
    return xadapt_home() / "models"


def data_dir_candidates(explicit: str | os.PathLike | None = None) -> list[Path]:
    """Places to look for benchmark data, in order: the flag, ``XADAPT_DATA``, ``./data``, ``../shared/data``."""
    if explicit is not None:
        return [Path(explicit).expanduser()]
    found = []
    if os.environ.get(DATA_ENV):
        return [Path(os.environ[DATA_ENV]).expanduser()]
    for guess in (Path("data"), Path("..") / "shared" / "data"):
        found.append(guess)
    return found
