"""``dojo release --gradescope autograder.zip [TOPIC ...]``: the zip Gradescope's autograder takes.

Gradescope (https://gradescope-autograders.readthedocs.io/en/latest/specs/) unpacks the zip into
``/autograder/source``, runs ``setup.sh`` there once (as root) when it builds the image, and then,
per submission, ``/autograder/run_autograder`` (copied from the zip's root) with the student's
files in ``/autograder/submission``; it reads ``/autograder/results/results.json``. The zip:

```
autograder.zip
├── setup.sh                # apt: bubblewrap, python3-venv; a venv in /autograder/venv with
│                           # both wheels, pinned by constraints.txt; the data sets fetched
├── run_autograder          # grade TOPIC... --submission /autograder/submission
│                           #   --require-sandbox --format gradescope --output .../results.json
│                           #   (through gradescope_run: submission_metadata.json's late
│                           #   days and the daily limit of graded runs)
├── gradescope_policy.json  # runs per day, their time zone, grace minutes (gradescope_run)
├── constraints.txt         # the pinned dependencies
├── wheels/nlpdojo-*.whl    # nlpdojo without the solutions (as a student bundle's)
├── wheels/nlpdojo_reference-*.whl   # the reference: nlpdojo_solutions, the chosen topics
│                                    # and the course library only
└── README.md               # what is in it, how to upload it, how it grades
```

The reference is a wheel of its own so that the zip holds only the topics graded with it;
installed, it is the ``nlpdojo_solutions`` package the grader finds (hidden checks, fresh
inputs, swap-ins), masked from the student's code by the sandbox like any installed reference.
``run_autograder`` always leaves a ``results.json``: where ``grade`` could not write one (the
sandbox cannot be made: ``--require-sandbox`` refuses), it writes score 0 and the reason, so
that Gradescope shows the student why instead of a harness failure.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass
from importlib.metadata import version as dist_version
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from nlpdojo.errors import NlpdojoError
from nlpdojo_autograder.authoring.questions import QuestionError, resolve, split
from nlpdojo_autograder.grading.grade import exercise_names, get_exercise
from nlpdojo_autograder.release.bundle import (
    CONSTRAINTS,
    SOLUTIONS_PACKAGE,
    BundleError,
    build_wheel,
    check_wheel,
    project_root,
    wheel_command,
)
from nlpdojo_autograder.release.gradescope_run import POLICY_NAME, RunPolicy
from nlpdojo_autograder.runtime.loader import LIBRARY, reference_available

REFERENCE_DISTRIBUTION = "nlpdojo_reference"
#: the zip's own entries get a fixed date (the wheels inside still carry their build times)
_EPOCH = (2020, 1, 1, 0, 0, 0)


class GradescopeError(NlpdojoError):
    """The Gradescope zip cannot be made (a bad destination, an unknown topic, a failed build)."""


@dataclass
class GradescopeZip:
    """What :func:`make_gradescope_zip` wrote."""

    path: Path
    topics: list[str]
    targets: list[str]
    entries: list[str]


SETUP_SH = """#!/usr/bin/env bash
# nlpdojo autograder set-up: Gradescope runs this once, as root, in /autograder/source when it
# builds the autograder image (choose a base image with Python >= 3.11: Ubuntu 24.04).
#
#   setup.sh             apt-get bubblewrap and python3-venv, make the venv, install the two
#                        wheels with their pinned dependencies (PyPI), fetch the data sets
#   setup.sh --offline   no apt, no network: make the venv (without pip) and install the two
#                        wheels only (--no-deps --no-index); the dependencies must already be
#                        importable there (the tests use this path)
#
# NLPDOJO_AUTOGRADER_ROOT (default /autograder) and NLPDOJO_PYTHON (default python3) move it.
set -euo pipefail
HERE="$(cd "$(dirname "${{BASH_SOURCE[0]}}")" && pwd)"
ROOT="${{NLPDOJO_AUTOGRADER_ROOT:-/autograder}}"
PYTHON="${{NLPDOJO_PYTHON:-python3}}"
VENV="$ROOT/venv"
OFFLINE=0
[ "${{1:-}}" = "--offline" ] && OFFLINE=1

if [ "$OFFLINE" = 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # bubblewrap: the OS sandbox run_autograder requires (--require-sandbox)
  apt-get install -y -qq --no-install-recommends bubblewrap python3-venv python3-pip
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --upgrade -c "$HERE/{constraints}" pip
  "$VENV/bin/python" -m pip install --quiet -c "$HERE/{constraints}" "$HERE"/wheels/*.whl
  "$VENV/bin/dojo" data fetch --all --quiet
else
  "$PYTHON" -m venv --without-pip "$VENV"
  "$PYTHON" -m pip --python "$VENV/bin/python" install --quiet --no-deps --no-index \\
      --disable-pip-version-check "$HERE"/wheels/*.whl
fi
echo "nlpdojo autograder ready in $VENV: grades {targets}"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# nlpdojo autograder: Gradescope runs this per submission. The student's files are in
# $ROOT/submission (their topic folder, or its files); the verdicts go to
# $ROOT/results/results.json. Generated by `dojo release --gradescope`.
set -uo pipefail
ROOT="${{NLPDOJO_AUTOGRADER_ROOT:-/autograder}}"
GRADE="${{NLPDOJO_GRADE:-$ROOT/venv/bin/grade}}"
PYTHON="${{NLPDOJO_GRADER_PYTHON:-$ROOT/venv/bin/python}}"
RESULTS="$ROOT/results/results.json"
mkdir -p "$ROOT/results"
rm -f "$RESULTS"
cd "$ROOT"
# grade TARGETS --submission $ROOT/submission --require-sandbox --format gradescope, with
# submission_metadata.json read: late days, and the daily limit of gradescope_policy.json
# (nlpdojo_autograder.release.gradescope_run; -I: no folder of the run's on its import path)
"$PYTHON" -I -m nlpdojo_autograder.release.gradescope_run --root "$ROOT" --grade "$GRADE" \\
    --policy "$ROOT/source/{policy}" -- {targets} 2> "$ROOT/results/grade.log"
code=$?
cat "$ROOT/results/grade.log" >&2
# 0: full marks, 1: points lost (the score is in results.json); 2: could not grade, 3: a bug.
# Gradescope must always get a results.json: where grade wrote none, say why.
if [ ! -s "$RESULTS" ]; then
  why="$(grep -m1 '^error: ' "$ROOT/results/grade.log" || echo "grade exited with code $code")"
  "${{NLPDOJO_RESULTS_PYTHON:-python3}}" - "$RESULTS" "$why" <<'PY'
import json, sys
path, why = sys.argv[1], sys.argv[2]
text = ("The autograder could not grade this submission: " + why.removeprefix("error: ")
        + "\\nThis is not your fault: please tell your instructor.")
json.dump({{"score": 0.0, "execution_time": 0.0, "output": text, "output_format": "text",
           "visibility": "visible", "stdout_visibility": "hidden", "tests": [],
           "extra_data": {{"nlpdojo": {{"counted": False, "autograder_failed": True}}}}}},
          open(path, "w"), indent=2)
PY
fi
if [ ! -s "$RESULTS" ]; then  # not even Python ran: a results.json all the same
  printf '%s%s%s%s\n' '{{"score": 0.0, "execution_time": 0.0, "output": "The autograder ' \
    'could not grade this submission. This is not your fault: please tell your instructor.", ' \
    '"output_format": "text", "visibility": "visible", "stdout_visibility": "hidden", ' \
    '"tests": [], "extra_data": {{"nlpdojo": {{"counted": false}}}}}}' > "$RESULTS"
fi
exit 0
"""


def resolve_targets(names: list[str]) -> tuple[list[str], list[str]]:
    """``(topics, targets)``: the topics the zip must hold and the arguments ``grade`` gets
    (topics and question ids, as given; every topic whose reference is installed when none)."""
    registered = exercise_names()
    if not names:
        names = [n for n in registered
                 if reference_available(get_exercise(n).reference_package)]
    topics: list[str] = []
    for name in names:
        if name in registered:
            topics.append(name)
            continue
        try:
            topics.append(split(resolve(name, [get_exercise(n) for n in registered]))[0])
        except QuestionError as exc:
            raise GradescopeError(f"{name!r} is neither a topic nor a question id ({exc}); "
                                  f"topics: {', '.join(registered)}") from None
    foreign = [t for t in dict.fromkeys(topics)
               if not get_exercise(t).reference_package.startswith(SOLUTIONS_PACKAGE + ".")]
    if foreign:
        raise GradescopeError(f"--gradescope packages the built-in course; {', '.join(foreign)} "
                              "comes from an exercise pack (add its wheel to the zip's wheels/ "
                              "by hand)")
    return list(dict.fromkeys(topics)), list(dict.fromkeys(names))


def build_reference_wheel(solutions_dir: Path, topics: list[str], version: str,
                          workdir: Path) -> Path:
    """A wheel of ``nlpdojo_solutions`` holding only ``topics`` and the course library."""
    src = workdir / "reference-src"
    package = src / SOLUTIONS_PACKAGE
    package.mkdir(parents=True)
    shutil.copy2(solutions_dir / "__init__.py", package / "__init__.py")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", ".*")
    packages = [SOLUTIONS_PACKAGE]
    for name in [*topics, LIBRARY]:
        if (solutions_dir / name / "__init__.py").is_file():
            shutil.copytree(solutions_dir / name, package / name, ignore=ignore)
            packages.append(f"{SOLUTIONS_PACKAGE}.{name}")
    listed = ", ".join(f'"{p}"' for p in packages)
    (src / "pyproject.toml").write_text(f"""[build-system]
requires = ["setuptools>=70.1"]
build-backend = "setuptools.build_meta"

[project]
name = "{REFERENCE_DISTRIBUTION}"
version = "{version}"
description = "nlpdojo's reference solutions for the topics an autograder grades"
requires-python = ">=3.11"
dependencies = ["nlpdojo=={version}"]

[tool.setuptools]
packages = [{listed}]

[tool.setuptools.package-data]
"*" = ["*.md", "*.txt", "*.json"]
""", encoding="utf-8")
    out = workdir / "reference-dist"
    proc = subprocess.run(wheel_command(src, out), capture_output=True, text=True, check=False,
                          env={**os.environ, "PIP_NO_INPUT": "1"})
    wheels = sorted(out.glob("*.whl"))
    if proc.returncode != 0 or len(wheels) != 1:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no wheel"]
        raise GradescopeError(f"building the reference wheel failed: {tail[0]}")
    return wheels[0]


def readme(targets: list[str], topics: list[str], wheels: list[str],
           policy: RunPolicy | None = None) -> str:
    policy = policy or RunPolicy()
    limit = (f"at most {policy.runs_per_day} graded run(s) per day ({policy.timezone}); past "
             f"it a run grades the public checks of {', '.join(policy.public_targets) or 'none'}"
             " only (hidden and training checks withheld), keeps the last graded score and "
             "says when the next graded run is available; runs the autograder failed on do "
             "not count" if policy.runs_per_day else "no limit of graded runs per day")
    return f"""# nlpdojo autograder for Gradescope

Made by `dojo release --gradescope`. Grades: `{' '.join(targets)}` (topics: {', '.join(topics)}).

- `setup.sh`: installs bubblewrap (the OS sandbox the grading requires), makes a virtual
  environment in `/autograder/venv` with {', '.join(f'`{w}`' for w in wheels)} and their
  dependencies pinned by `{CONSTRAINTS}`, and fetches the data sets. Choose a base image with
  Python 3.11 or newer (Ubuntu 24.04).
- `run_autograder`: `grade {' '.join(targets)} --submission /autograder/submission
  --require-sandbox --format gradescope --output /autograder/results/results.json`; a
  `results.json` is written even when grading cannot run (score 0 and the reason).
  It reads `/autograder/submission_metadata.json`: the late days used on this assignment
  (submission time against the due date, {policy.grace_minutes} min of grace, days rounded
  up) open the result's output; {limit} (`{POLICY_NAME}`).

Upload this zip as the assignment's autograder ("Zip file upload"). Students upload their topic
folder (for example `<topic>/`, plus `library/` for topics built on the course library) or
the topic's files. Hidden checks are graded here (the reference is installed) and shown after
the grades are published.
"""


def _add(zf: zipfile.ZipFile, name: str, data: bytes, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=_EPOCH)
    info.compress_type = zipfile.ZIP_DEFLATED
    mode = 0o755 if executable else 0o644
    info.external_attr = (stat.S_IFREG | mode) << 16
    zf.writestr(info, data)


def public_targets(targets: list[str]) -> list[str]:
    """The questions of ``targets`` (topics or question ids) none of whose checks trains: what
    a run past the daily limit grades (with ``--as-student``: no hidden checks either)."""
    registered = [get_exercise(n) for n in exercise_names()]
    found: list[str] = []
    for name in targets:
        if name in exercise_names():
            exercise = get_exercise(name)
            questions = [f"{name}.{q}" for q in dict.fromkeys(c.question
                                                              for c in exercise.checks)]
        else:
            questions = [resolve(name, registered)]
        for full in questions:
            topic, question = split(full)
            kinds = {c.kind for c in get_exercise(topic).checks if c.question == question}
            if "metric" not in kinds and full not in found:
                found.append(full)
    return found


def run_policy(targets: list[str], runs_per_day: int | None, timezone: str,
               grace_minutes: int) -> RunPolicy:
    """The zip's ``gradescope_policy.json``; a bad value is an error before anything is
    built."""
    if runs_per_day is not None and runs_per_day < 1:
        raise GradescopeError(f"--runs-per-day {runs_per_day}: give 1 or more (leave it out "
                              "for no limit)")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise GradescopeError(f"--day-timezone {timezone!r} is not a time zone; name one as "
                              "'Area/City' (America/Los_Angeles, Europe/Paris, UTC)") from None
    if grace_minutes < 0:
        raise GradescopeError(f"--grace-minutes {grace_minutes}: give 0 or more")
    return RunPolicy(runs_per_day=runs_per_day, timezone=timezone,
                     grace_minutes=grace_minutes,
                     public_targets=tuple(public_targets(targets)) if runs_per_day else ())


def make_gradescope_zip(dest: Path, names: list[str], solutions_dir: Path, *,
                        runs_per_day: int | None = None, timezone: str = "UTC",
                        grace_minutes: int = 0) -> GradescopeZip:
    """Build both wheels and write ``dest`` (atomically: a temporary file renamed over it).
    ``runs_per_day``, ``timezone``, ``grace_minutes``: the :class:`RunPolicy` run_autograder
    applies with the submission's metadata (:mod:`.gradescope_run`)."""
    if dest.suffix != ".zip":
        raise GradescopeError(f"--gradescope {dest}: give the zip's file name (autograder.zip)")
    if dest.is_dir():
        raise GradescopeError(f"--gradescope {dest} is a folder; give the zip's file name")
    topics, targets = resolve_targets(names)
    if not topics:
        raise GradescopeError("no topic to grade: no reference solutions are installed")
    policy = run_policy(targets, runs_per_day, timezone, grace_minutes)
    root = project_root(solutions_dir)
    for bad in targets:
        if not re.fullmatch(r"[A-Za-z0-9_.]+", bad):
            raise GradescopeError(f"{bad!r} is not a topic or question id")
    shown = " ".join(shlex.quote(t) for t in targets)
    with tempfile.TemporaryDirectory(prefix="nlpdojo-gradescope-") as tmp:
        work = Path(tmp)
        try:
            student = build_wheel(root, solutions_dir, work / "student")
            check_wheel(student, [])
        except BundleError as exc:
            raise GradescopeError(str(exc)) from exc
        reference = build_reference_wheel(solutions_dir.resolve(), topics,
                                          dist_version("nlpdojo"), work)
        wheels = [student, reference]
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, partial = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
        os.close(fd)
        try:
            with zipfile.ZipFile(partial, "w") as zf:
                _add(zf, "setup.sh", SETUP_SH.format(constraints=CONSTRAINTS,
                                                     targets=shown).encode(), True)
                _add(zf, "run_autograder", RUN_AUTOGRADER.format(
                    targets=shown, policy=POLICY_NAME).encode(), True)
                _add(zf, POLICY_NAME, (json.dumps(policy.to_dict(), indent=2) + "\n").encode())
                _add(zf, CONSTRAINTS, (root / CONSTRAINTS).read_bytes())
                for wheel in wheels:
                    _add(zf, f"wheels/{wheel.name}", wheel.read_bytes())
                _add(zf, "README.md",
                     readme(targets, topics, [w.name for w in wheels], policy).encode())
                entries = zf.namelist()
            os.chmod(partial, 0o644)
            os.replace(partial, dest)
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise
    return GradescopeZip(path=dest, topics=topics, targets=targets, entries=entries)


def unpack(zip_path: Path, root: Path) -> Path:
    """Lay ``zip_path`` out as Gradescope does under ``root`` (``/autograder``): the zip in
    ``source/``, ``run_autograder`` copied to the root, empty ``submission/`` and ``results/``;
    the executable bits kept. Returns ``root``. (Used by the tests; handy to try a zip locally.)"""
    source = root / "source"
    source.mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as zf:
        for info in zf.infolist():
            target = source / info.filename
            if not target.resolve().is_relative_to(source.resolve()):
                raise GradescopeError(f"{zip_path}: entry {info.filename} leaves the folder")
            zf.extract(info, source)
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                os.chmod(target, mode)
    shutil.copy2(source / "run_autograder", root / "run_autograder")
    (root / "submission").mkdir()
    (root / "results").mkdir()
    return root

