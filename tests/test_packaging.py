"""The wheel carries every package, under prefixed import names only, with the built-in plugins
registered through the same entry-point group a third-party plugin uses."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from tests._wheels import REPO, build_wheel, top_level_names, wheel_entry_points, wheel_files

BUILTIN_PLUGINS = {"numpy", "torch", "datasets", "reports", "autograder", "course"}
#: the design card's folders whose packages ship in the wheel
SHIPPED_ROOTS = ("framework", "autograder", "course", "solutions", "plugins")


@pytest.fixture(scope="module")
def setuptools_config() -> dict:
    with (REPO / "pyproject.toml").open("rb") as f:
        return tomllib.load(f)["tool"]["setuptools"]


@pytest.fixture(scope="session")
def nlpdojo_wheel(tmp_path_factory) -> Path:
    return build_wheel(REPO, tmp_path_factory.mktemp("nlpdojo-build"))


def _import_name(folder: Path, package_dir: dict[str, str]) -> str | None:
    """The import name ``folder`` gets through ``[tool.setuptools.package-dir]``, if any."""
    rel = folder.relative_to(REPO).as_posix()
    best = None
    for name, directory in package_dir.items():
        if rel == directory or rel.startswith(directory + "/"):
            if best is None or len(directory) > len(package_dir[best]):
                best = name
    if best is None:
        return None
    rest = rel[len(package_dir[best]):].strip("/")
    return ".".join([best, *rest.split("/")]) if rest else best


def _package_folders() -> list[Path]:
    folders = []
    for root in SHIPPED_ROOTS:
        folders += [p.parent for p in (REPO / root).rglob("__init__.py")
                    if "__pycache__" not in p.parts]
    return sorted(folders)


def test_every_package_folder_ships_under_its_import_name(setuptools_config, nlpdojo_wheel):
    """setup.py finds every package of every mapped folder (a new topic, a new sub-package:
    nothing to list by hand), and each is in the wheel."""
    package_dir = setuptools_config["package-dir"]
    assert "packages" not in setuptools_config, "setup.py finds the packages: list none"
    folders = _package_folders()
    assert folders, "found no package folders: has the layout moved?"
    unmapped = [f.relative_to(REPO).as_posix() for f in folders
                if _import_name(f, package_dir) is None]
    assert not unmapped, (
        f"no [tool.setuptools.package-dir] entry maps these folders to an import name: {unmapped}"
    )
    files = set(wheel_files(nlpdojo_wheel))
    missing = sorted(name for name in (_import_name(f, package_dir) for f in folders)
                     if f"{name.replace('.', '/')}/__init__.py" not in files)
    assert not missing, f"packages left out of the wheel: {missing}"
    assert "nlpdojo_course/word_vectors/fixtures/softmax.values.json" in files


def test_wheel_top_level_names_are_prefixed(nlpdojo_wheel):
    names = top_level_names(nlpdojo_wheel)
    assert "nlpdojo" in names
    assert not {"plugins", "framework", "solutions", "exercises", "tests", "autograder"} & names
    assert all(n.startswith("nlpdojo") for n in names), sorted(names)


def test_wheel_carries_the_core(nlpdojo_wheel):
    files = set(wheel_files(nlpdojo_wheel))
    for module in ("nlpdojo/hookspecs.py", "nlpdojo/plugins.py", "nlpdojo/cli/app.py",
                   "nlpdojo_numpy/backend.py"):
        assert module in files, module


def test_wheel_entry_points_name_the_builtins(nlpdojo_wheel):
    groups = wheel_entry_points(nlpdojo_wheel)
    assert set(groups["nlpdojo"]) == BUILTIN_PLUGINS
    files = set(wheel_files(nlpdojo_wheel))
    for name, target in groups["nlpdojo"].items():
        module = target.split(":")[0]
        path = module.replace(".", "/")
        assert f"{path}.py" in files or f"{path}/__init__.py" in files, (
            f"entry point {name} = {target} names a module the wheel does not contain"
        )
    assert groups["console_scripts"]["dojo"] == "nlpdojo.cli.app:main"
