"""Building and reading wheels, shared by test_packaging.py and test_third_party_plugin.py.

Builds run on a copy of the source (so the shared tree gets no ``build/`` or ``*.egg-info``)
with ``pip wheel --no-deps --no-build-isolation``: offline, and about a second each. The test
modules wrap these in session-scoped fixtures, so each wheel is built once per session.
"""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: never copied into a build: environments, caches, earlier build output, data
_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "venv", "build", "dist", "*.egg-info", "__pycache__", "*.pyc",
    ".pytest_cache", ".hypothesis", "results", ".ruff_cache", ".mypy_cache",
)


def copy_source(source: Path, dest: Path) -> Path:
    """A clean copy of the project at ``source`` in ``dest`` (which must not exist yet)."""
    shutil.copytree(source, dest, ignore=_IGNORE, symlinks=True)
    return dest


def build_wheel(source: Path, workdir: Path) -> Path:
    """Copy ``source`` under ``workdir``, build its wheel there, return the ``.whl`` path."""
    src = copy_source(source, workdir / "src")
    out = workdir / "dist"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "--quiet", "-w", str(out), str(src)],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, f"pip wheel failed for {source}:\n{proc.stdout}\n{proc.stderr}"
    wheels = sorted(out.glob("*.whl"))
    assert len(wheels) == 1, f"expected one wheel in {out}, found {wheels}"
    return wheels[0]


def install_wheel(wheel: Path, target: Path) -> Path:
    """``pip install --no-deps --target target wheel``; returns ``target`` (a site dir)."""
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet",
         "--target", str(target), str(wheel)],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, f"pip install failed for {wheel}:\n{proc.stdout}\n{proc.stderr}"
    return target


def wheel_files(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as zf:
        return zf.namelist()


def top_level_names(wheel: Path) -> set[str]:
    """The import names a wheel installs at the top of site-packages (packages and modules)."""
    names = set()
    for path in wheel_files(wheel):
        first = path.split("/", 1)[0]
        if first.endswith((".dist-info", ".data")):
            continue
        names.add(first.removesuffix(".py"))
    return names


def wheel_entry_points(wheel: Path) -> dict[str, dict[str, str]]:
    """``{group: {name: value}}`` from the wheel's ``entry_points.txt`` (empty if none)."""
    with zipfile.ZipFile(wheel) as zf:
        found = [n for n in zf.namelist() if n.endswith(".dist-info/entry_points.txt")]
        if not found:
            return {}
        text = zf.read(found[0]).decode()
    parser = configparser.ConfigParser(delimiters=("=",))
    parser.optionxform = str  # entry-point names are case-sensitive
    parser.read_string(text)
    return {group: dict(parser[group]) for group in parser.sections()}
