"""What a student's install lacks, and whether the course loads without it.

A student bundle's wheel installs nlpdojo's own requirements and nothing else: torch, the
notebook and cluster extras and the developer tools are optional. ``grade`` loads every
topic's plugin module, so a topic that imports one of them when it is loaded
(``import torch`` at the top of a topic's ``questions.py``) breaks ``grade`` for every
topic in the bundle, although it releases, grades and verifies where the instructor works.
:func:`import_problems` loads the course as ``grade`` does, in a child process where those
packages cannot be imported, and says which file and line imported one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from functools import cache
from importlib import metadata

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from nlpdojo.plugins import RESTRICT_ENV

#: the distribution whose requirements (without extras) a student's install holds
DISTRIBUTION = "nlpdojo"
#: the package the student wheel leaves out (bundle.py), though it is nlpdojo's own
SOLUTIONS_PACKAGE = "nlpdojo_solutions"

#: how ``grade`` loads the course: every plugin, the topics they bring, what they register;
#: a topic left out (a command would warn and go on) is a problem here
LOAD_COURSE = ("from nlpdojo.plugins import get_registry, raise_left_out; get_registry(); "
               "raise_left_out()")
#: what a new virtual environment holds beside what is installed into it
VENV_BOOTSTRAP = frozenset({"pip", "setuptools", "pkg_resources", "_distutils_hack"})

#: run in the child: refuse the optional packages, run the statement that loads the course
#: (argv[2]), and print where the first refused import came from (JSON), or nothing
_CHILD = r"""
import importlib.abc, json, sys, traceback
OPTIONAL = set(json.loads(sys.argv[1]))

class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in OPTIONAL:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Refuse())
try:
    exec(sys.argv[2])
except Exception as exc:
    cause = exc
    while cause is not None and not isinstance(cause, ModuleNotFoundError):
        cause = cause.__cause__ or cause.__context__
    if cause is None or (cause.name or "").partition(".")[0] not in OPTIONAL:
        raise
    frames = [f for f in traceback.extract_tb(cause.__traceback__)
              if not f.filename.startswith("<") and "importlib" not in f.filename]
    where = frames[-1] if frames else None
    print(json.dumps({"module": cause.name, "file": where.filename if where else "",
                      "line": where.lineno if where else 0,
                      "code": (where.line or "") if where else ""}))
"""


@cache
def optional_modules() -> frozenset[str]:
    """The top-level modules installed here that a student's install lacks: those of every
    installed distribution outside the closure of nlpdojo's requirements without extras."""
    base = _closure(DISTRIBUTION)
    optional: set[str] = {SOLUTIONS_PACKAGE}
    for module, dists in metadata.packages_distributions().items():
        if not module.isidentifier() or module in sys.stdlib_module_names | VENV_BOOTSTRAP:
            continue
        if all(canonicalize_name(d) not in base for d in dists):
            optional.add(module)
    return frozenset(optional)


def _closure(name: str) -> set[str]:
    """``name`` and the distributions it requires, transitively, without extras, as
    installed here (a requirement that is not installed ends its branch)."""
    seen: set[str] = set()
    todo = [name]
    while todo:
        current = canonicalize_name(todo.pop())
        if current in seen:
            continue
        seen.add(current)
        try:
            requires = metadata.distribution(current).requires or []
        except metadata.PackageNotFoundError:
            continue
        for line in requires:
            try:
                req = Requirement(line)
            except InvalidRequirement:
                continue
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return seen


def import_problems(load: str = LOAD_COURSE, timeout_s: float = 300.0) -> list[str]:
    """What stops the course from loading in a student's install: a line per problem, naming
    the file and line that imported an optional package when the statement ``load`` ran
    (none: ``[]``)."""
    # -P and a working folder of its own: what it imports is the install's, never a module
    # of the folder it was started from; no third-party plugin, since the bundle holds the
    # built-in course only (an exercise pack installed here is not in it, and its import
    # was blamed on the plugin loader's line)
    with tempfile.TemporaryDirectory(prefix="nlpdojo-install-") as tmp:
        ran = subprocess.run(
            [sys.executable, "-P", "-c", _CHILD, json.dumps(sorted(optional_modules())), load],
            capture_output=True, text=True, timeout=timeout_s, cwd=tmp,
            env={**os.environ, RESTRICT_ENV: ""})
    if ran.returncode != 0:
        last = (ran.stderr.strip().splitlines() or ["(no message)"])[-1]
        return [f"the course does not load: {last}"]
    if not ran.stdout.strip():
        return []
    found = json.loads(ran.stdout.strip().splitlines()[-1])
    package = found["module"].partition(".")[0]
    where = (f"{found['file']} line {found['line']} ({found['code'].strip()})"
             if found["file"] else "loading the course")
    if package == SOLUTIONS_PACKAGE:
        return [f"{where} imports the reference solutions when the course is loaded, and the "
                "student wheel leaves them out: `grade` would fail for every topic. A topic "
                "reaches the reference through the grader (its checks' reference runs), never "
                "by importing it"]
    return [f"{where} imports {package} when the course is loaded, and a student's install "
            f"has no {package} (nlpdojo's requirements do not include it): `grade` would fail "
            "for every topic. Import it inside the function that uses it (the torch check of "
            "docs/authoring.md's walk-through does)"]
