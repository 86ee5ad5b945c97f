"""The lock agrees with the declared range, and a result's environment is described and checked."""

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version
from typer.testing import CliRunner

from xadapt import environment
from xadapt.cli import app
from xadapt.precision import resolve_precision
from xadapt.study.results import environment_id

REPO = Path(__file__).resolve().parents[1]


def _declared() -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    return [Requirement(text) for text in [*project["dependencies"], *extras["dev"], *extras["demo"]]]


def test_the_lock_pins_every_declared_dependency_inside_its_declared_range():
    locked = environment.locked_versions(REPO / "requirements.lock")
    for requirement in _declared():
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{name} is declared in pyproject.toml but not locked"
        assert requirement.specifier.contains(Version(locked[name]), prereleases=True), (
            f"requirements.lock pins {name}=={locked[name]}, outside pyproject.toml's {requirement}"
        )


def test_the_peer_lock_pins_what_its_input_names():
    locked = environment.locked_versions(REPO / "tests/peer/requirements.lock")
    wanted = (REPO / "tests/peer/requirements.in").read_text(encoding="utf-8").splitlines()
    for line in (line.split("#")[0].strip() for line in wanted):
        if line:
            requirement = Requirement(line)
            assert requirement.specifier.contains(Version(locked[canonicalize_name(requirement.name)]))


def test_lock_drift_names_each_package_that_differs_and_ignores_build_labels(tmp_path):
    torch_release = environment.package_version("torch").split("+")[0]
    lock = tmp_path / "requirements.lock"
    lock.write_text(
        f"# a comment\ntorch=={torch_release}\n    # via xadapt\ntyper==0.0.1\nno-such-package-xadapt==1.0\n",
        encoding="utf-8",
    )
    drift = environment.lock_drift(lock)
    assert drift == {
        "typer": ("0.0.1", environment.package_version("typer")),
        "no-such-package-xadapt": ("1.0", None),
    }
    assert environment.lock_drift(tmp_path / "absent.lock") is None


def test_describe_names_versions_threads_device_and_the_default_models_fingerprint():
    described = environment.describe()
    assert described["packages"]["transformers"] == environment.package_version("transformers")
    assert described["threads"] >= 1 and described["device"]["kind"] in ("cpu", "cuda")
    assert described["python"].count(".") == 2
    fingerprint = described["default_model_fingerprint"]
    assert fingerprint is None or len(fingerprint) == 16
    assert environment_id(described) == environment_id(dict(reversed(described.items())))


def test_version_and_doctor_print_what_a_result_depends_on():
    version = CliRunner().invoke(app, ["--version"])
    assert version.exit_code == 0
    for what in ("xadapt", "python", "torch", "transformers", "gradio", "threads", "device", "default model"):
        assert what in version.output
    chosen = resolve_precision("auto")
    assert f"{chosen.name} ({chosen.reason[:20]}" in " ".join(version.output.split())  # what --precision auto picks here


def test_doctor_check_fails_on_a_lock_the_installation_does_not_match(tmp_path, monkeypatch):
    lock = tmp_path / "requirements.lock"
    lock.write_text(f"typer=={environment.package_version('typer')}\n", encoding="utf-8")
    monkeypatch.setattr(environment, "LOCK_FILE", lock)
    matching = CliRunner().invoke(app, ["doctor", "--check"])
    assert matching.exit_code == 0 and "every package matches requirements.lock" in " ".join(matching.output.split())
    lock.write_text("typer==0.0.1\n", encoding="utf-8")
    drifting = CliRunner().invoke(app, ["doctor", "--check"])
    assert drifting.exit_code == 1
    assert "1 differ from requirements.lock: typer" in " ".join(drifting.output.split())
    assert CliRunner().invoke(app, ["doctor"]).exit_code == 0  # without --check it only reports
