"""Package discovery: every package under each folder that ``[tool.setuptools.package-dir]`` in
pyproject.toml maps to an import name (``course`` -> ``nlpdojo_course``...), so adding a topic
(``course/<topic>/``, ``solutions/<topic>/``) or any sub-package edits no list. A mapped folder
that is absent brings no package: the student wheel is built from a tree without
``solutions/`` (``nlpdojo_autograder.release.bundle``). Everything else is in pyproject.toml."""

from __future__ import annotations

import tomllib
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).resolve().parent


def packages() -> list[str]:
    with (HERE / "pyproject.toml").open("rb") as f:
        roots = tomllib.load(f)["tool"]["setuptools"]["package-dir"]
    found = []
    for name, folder in sorted(roots.items()):
        if (HERE / folder / "__init__.py").is_file():
            found += [name, *(f"{name}.{sub}" for sub in find_packages(str(HERE / folder)))]
    return found


setup(packages=packages())
