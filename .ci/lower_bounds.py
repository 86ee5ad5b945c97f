"""Print a pip constraints file that pins every dependency pyproject.toml declares to its lower bound.

`.ci/compat oldest` installs with it, so the oldest end of the declared range is tested exactly:
each `>=X` becomes `==X` (an `==X` stays). A resolver's "lowest" mode alone is not enough: it
prefers low versions one package at a time and can settle above a bound that is still feasible.
"""

import re
import sys
import tomllib
from pathlib import Path

project = tomllib.loads(Path(sys.argv[1] if len(sys.argv) > 1 else "pyproject.toml").read_text())["project"]
declared = [*project["dependencies"], *(r for extra in project["optional-dependencies"].values() for r in extra)]
for requirement in declared:
    name = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)[0]
    bound = re.search(r"(?:>=|==)\s*([0-9][^,;\s]*)", requirement)
    if bound is None:
        sys.exit(f"{requirement!r} in pyproject.toml has no lower bound; declare one so CI can test it")
    print(f"{name}=={bound[1]}")
