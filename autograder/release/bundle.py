"""``dojo release --student-bundle DIR``: the built-in course as students get it.

A student bundle is a folder to hand out: a wheel of nlpdojo built **without** the reference
solutions (``nlpdojo_solutions``) but with the fixtures the grader uses in their place, the
released ``exercises/``, ``constraints.txt`` and a ``README.md`` saying how to install and
grade. It is made only from a course whose ``exercises/`` and fixtures are in sync with its
solutions (what ``dojo release --check`` verifies), so students grade against the expected
values of the solutions that were released, and whose plugins load without the optional
packages a student's install lacks (:mod:`.student_install`: an ``import torch`` at the top of
a topic's module would break ``grade`` for every topic).

The wheel is built from a temporary copy of the nlpdojo source tree: the package folders minus
the solutions folder and every ``withheld`` package (a topic's planted bugs, which quote the
reference), with the ``nlpdojo_solutions`` mapping removed from ``pyproject.toml``
(``pip wheel --no-deps --no-build-isolation``: offline, with this environment's setuptools).
Before anything is written the wheel is searched for the reference in every form
(:mod:`.leaks`: each line of a solution block, in code, strings, comments and data), and
refused where it holds any.
The checkout itself is never written to. The bundle is assembled next to ``DIR`` and renamed
into place, so a failure leaves no half-written bundle.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from nlpdojo.errors import NlpdojoError
from nlpdojo.files import ordinary_mode
from nlpdojo_autograder.release import fixtures as fx
from nlpdojo_autograder.release.consistency import ensure_release_consistent
from nlpdojo_autograder.release.leaks import (
    SolutionText,
    scan_files,
    scan_wheel,
    solution_lines,
)
from nlpdojo_autograder.release.release import build_release, release
from nlpdojo_autograder.release.student_install import import_problems

#: the distribution and the solutions' import name a bundle is made of and without
DISTRIBUTION = "nlpdojo"
SOLUTIONS_PACKAGE = "nlpdojo_solutions"
CONSTRAINTS = "constraints.txt"
#: the packages no build of the student wheel holds (a topic's planted bugs: Topic(withheld=))
WITHHELD = fx.WITHHELD
#: the findings of the reference a refusal lists (then a count of the others)
SHOWN_LEAKS = 5
#: never copied into the build: caches and earlier build output inside package folders
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", "*.egg-info", ".*")


class BundleError(NlpdojoError):
    """The student bundle cannot be made (a bad folder, a course out of sync, a failed build)."""


@dataclass
class Bundle:
    """What :func:`make_bundle` wrote into ``dest``."""

    dest: Path
    wheel: Path
    topics: list[str]
    exercise_files: list[str] = field(default_factory=list)
    fixture_files: int = 0


def check_destination(dest: Path) -> None:
    """``dest`` must be new or an empty folder: a bundle never mixes with other files."""
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BundleError(f"{dest} exists and is not empty; pass a new (or empty) folder for "
                          "the student bundle.")


def project_root(solutions_dir: Path) -> Path:
    """The nlpdojo source tree whose ``pyproject.toml`` maps ``nlpdojo_solutions`` to
    ``solutions_dir``; a :class:`BundleError` otherwise (an installed wheel, an exercise pack)."""
    solutions = solutions_dir.resolve()
    for folder in solutions.parents:
        pyproject = folder / "pyproject.toml"
        if not pyproject.is_file():
            continue
        with pyproject.open("rb") as fh:
            config = tomllib.load(fh)
        mapped = config.get("tool", {}).get("setuptools", {}).get("package-dir", {}).get(
            SOLUTIONS_PACKAGE)
        if (config.get("project", {}).get("name") == DISTRIBUTION and mapped is not None
                and (folder / mapped).resolve() == solutions):
            return folder
        break
    raise BundleError(
        f"--student-bundle bundles the built-in course from the nlpdojo source tree, and "
        f"{solutions_dir} is not its solutions folder (no nlpdojo pyproject.toml above it maps "
        f"{SOLUTIONS_PACKAGE} there): run it in a checkout installed with pip install -e . "
        "(for an exercise pack, see docs/grading.md, 'What a student release is').")


def check_in_sync(solutions_dir: Path, exercises_dir: Path, root: Path):
    """The release of ``solutions_dir`` (``(topics, {path: bytes})``, its ``README.md`` listing
    only these topics) and its fixture plans, after checking that ``exercises_dir`` and every
    fixtures folder hold exactly that release. The same comparisons as ``dojo release --check``;
    the cheap one (the files) first."""
    report = release(solutions_dir, exercises_dir, check=True)
    if not report.in_sync:
        shown = ", ".join(f"{d.kind} {d.path}" for d in report.differences[:3])
        more = f" and {len(report.differences) - 3} more" if len(report.differences) > 3 else ""
        raise BundleError(
            f"{exercises_dir} is out of sync with {solutions_dir} ({shown}{more}); run "
            "`dojo release` (`dojo release --check` lists the differences), then bundle.")
    topics, files = build_release(solutions_dir)
    ensure_release_consistent(topics, solutions_dir, "no bundle was written")
    plans = fx.plan(topics, solutions_dir)
    for plan in plans:
        if not plan.dest.resolve().is_relative_to(root):
            raise BundleError(
                f"exercise {plan.exercise.name!r} keeps its fixtures in {plan.dest}, outside "
                f"the source tree {root} the wheel is built from; install this checkout "
                "editable (pip install -e .) and bundle again.")
    with tempfile.TemporaryDirectory(prefix="nlpdojo-bundle-fixtures-") as tmp:
        stale = []
        # fixtures stored by a release from these very sources (or sources that differ only
        # in comments and docstrings), unedited since, stand as they are (fixtures.state);
        # the others are computed and compared
        for plan in plans:
            state = fx.state(plan)
            if state != fx.CURRENT and fx.given_stale(plan):
                stale.append(f"{plan.dest / fx.GIVEN} (the given modules changed since)")
            if state != fx.STALE:
                continue
            fresh = Path(tmp) / plan.exercise.name
            fx.compute(plan.exercise, plan.source, fresh)
            stale += [f"{plan.dest}/{p}" for p in fx.compare(plan.exercise, fresh, plan.dest)]
    if stale:
        more = f" and {len(stale) - 3} more" if len(stale) > 3 else ""
        raise BundleError(
            f"the fixtures are out of sync with {solutions_dir} ({', '.join(stale[:3])}{more}); "
            "run `dojo release`, then bundle.")
    return topics, files, plans


def strip_solutions_config(text: str) -> str:
    """``pyproject.toml`` text without the ``nlpdojo_solutions`` package: its line in the
    ``[tool.setuptools.package-dir]`` table (setup.py finds the packages of every mapped
    folder, and the build tree has no solutions folder). A :class:`BundleError` when the
    result still maps it or no longer parses."""
    table = ""
    kept = []
    mapping = re.compile(rf'"?{SOLUTIONS_PACKAGE}"?\s*=.*')
    for line in text.splitlines(keepends=True):
        header = re.match(r"\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$", line)
        if header:
            table = header.group(1)
        if table == "tool.setuptools.package-dir" and mapping.fullmatch(line.strip()):
            continue
        kept.append(line)
    result = "".join(kept)
    try:
        setuptools = tomllib.loads(result).get("tool", {}).get("setuptools", {})
    except tomllib.TOMLDecodeError as exc:
        raise BundleError(f"pyproject.toml without {SOLUTIONS_PACKAGE} does not parse "
                          f"({exc})") from exc
    if SOLUTIONS_PACKAGE in setuptools.get("package-dir", {}):
        raise BundleError(f"could not remove {SOLUTIONS_PACKAGE} from pyproject.toml's "
                          "[tool.setuptools.package-dir] (one entry a line)")
    return result


def _copy_build_tree(root: Path, solutions_dir: Path, dest: Path) -> None:
    """The files the wheel is built from: the top-level files of ``root`` (pyproject.toml,
    setup.py, README.md...) and the folder of every package but the solutions, with a
    filtered ``pyproject.toml``."""
    config_text = strip_solutions_config((root / "pyproject.toml").read_text(encoding="utf-8"))
    package_dir: dict[str, str] = tomllib.loads(config_text)["tool"]["setuptools"]["package-dir"]
    folders = set(package_dir.values())
    solutions = solutions_dir.resolve()
    dest.mkdir(parents=True)
    for item in root.iterdir():
        if item.is_file() and not item.name.startswith("."):
            shutil.copy2(item, dest / item.name)
    (dest / "pyproject.toml").write_text(config_text, encoding="utf-8")
    for folder in sorted(folders):
        source = root / folder
        if source.resolve() == solutions or solutions in source.resolve().parents:
            raise BundleError(f"package folder {folder} holds the solutions; cannot leave "
                              "them out of the wheel")
        if not source.is_dir():
            raise BundleError(f"pyproject.toml maps package folder {folder}, which {root} "
                              "does not have")
        shutil.copytree(source, dest / folder, ignore=_ignore, dirs_exist_ok=True)


def _ignore(folder: str, names: list[str]) -> set[str]:
    """What a build tree's copy leaves out: caches and build output, and every package named
    :data:`WITHHELD` (:func:`.fixtures.withheld_package`)."""
    return set(_IGNORE(folder, names)) | {
        n for n in names if fx.withheld_package(Path(folder) / n)}


def wheel_command(src: Path, out: Path) -> list[str]:
    """The build: offline, with this environment's setuptools, the wheel only."""
    return [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
            "--no-index", "--quiet", "--disable-pip-version-check", "-w", str(out), str(src)]


def build_wheel(root: Path, solutions_dir: Path, workdir: Path) -> Path:
    """Build the nlpdojo wheel without the solutions in ``workdir``; returns the ``.whl``."""
    src, out = workdir / "src", workdir / "dist"
    _copy_build_tree(root, solutions_dir, src)
    proc = subprocess.run(
        wheel_command(src, out), capture_output=True, text=True, check=False,
        env={**os.environ, "PIP_NO_INPUT": "1"},
    )
    wheels = sorted(out.glob("*.whl"))
    if proc.returncode != 0 or len(wheels) != 1:
        lines = [line.strip() for line in (proc.stderr + proc.stdout).splitlines()
                 if line.strip()]
        why = lines[-1] if lines else f"exit status {proc.returncode}, {len(wheels)} wheels"
        raise BundleError(
            f"building the student wheel failed (pip wheel --no-build-isolation): {why} "
            "(the build needs setuptools>=70.1 in this environment: "
            "pip install -c constraints.txt -e '.[dev]')")
    return wheels[0]


def check_wheel(wheel: Path, plans, solutions: SolutionText | None = None) -> int:
    """The wheel has the autograder and every fixture, and no solutions, no withheld package
    and (given ``solutions``, :func:`.leaks.solution_lines`) no line of the reference in any
    form: returns the number of fixture files in it."""
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    leaked = sorted(n for n in names if n.split("/")[0] == SOLUTIONS_PACKAGE
                    or WITHHELD in n.split("/")[:-1])
    if leaked:
        raise BundleError(f"the student wheel contains the solutions or a withheld package "
                          f"({leaked[0]}...); nothing was written")
    if solutions is not None:
        refuse_leaks(scan_wheel(wheel, solutions))
    if "nlpdojo_autograder/__init__.py" not in names:
        raise BundleError("the student wheel has no nlpdojo_autograder; nothing was written")
    count = 0
    for plan in plans:
        tail = f"{plan.dest.parent.name}/{plan.dest.name}/"
        for file in sorted(p.name for p in plan.dest.iterdir()
                           if p.is_file() and p.suffix in (".json", ".npz")):
            if not any(n.endswith(tail + file) for n in names):
                raise BundleError(f"the student wheel lacks the fixture {plan.dest / file}; "
                                  "nothing was written")
            count += 1
    return count


def refuse_leaks(leaks) -> None:
    """A :class:`BundleError` naming file and line of the first findings of the reference
    (:class:`.leaks.Leak`) in what the student bundle ships, where there are any."""
    if not leaks:
        return
    files = len({leak.file for leak in leaks})
    shown = "\n  ".join(str(leak) for leak in leaks[:SHOWN_LEAKS])
    more = f"\n  and {len(leaks) - SHOWN_LEAKS} more" if len(leaks) > SHOWN_LEAKS else ""
    raise BundleError(
        f"the student bundle holds the reference solutions as text ({len(leaks)} findings in "
        f"{files} files); nothing was written:\n  {shown}{more}\n"
        "Declare a planted bug in its topic's withheld package (Topic(withheld=...)), and write "
        "what the grader computes itself from the docstrings' contract, not from the reference "
        "(docs/authoring.md, 'Planted bugs are withheld from students').")


def student_readme(wheel: str, topics: list[str]) -> str:
    """The bundle's ``README.md``: what is in it, how to install, how to grade."""
    listed = ", ".join(f"`{t}`" for t in topics)
    first = topics[0] if topics else "TOPIC"
    commands = [
        (f"cat exercises/{first}/README.md", "the instructions (or the topic's notebook)"),
        ("grade", "grade everything in ./exercises (or the folder you are in)"),
        (f"grade {first}", "one topic"),
        ("grade QUESTION", "one question (e.g. grade softmax; ids in the instructions)"),
        ("pytest exercises -m QUESTION", "the same checks as pytest tests (pip install pytest)"),
    ]
    width = max(len(command) for command, _ in commands) + 2
    block = "\n".join(f"{command:<{width}}# {note}" for command, note in commands)
    return f"""# nlpdojo exercises

This folder holds everything you need to do the exercises and grade them yourself:

- `{wheel}`: nlpdojo (the framework, its plugins and the autograder, with the
  expected values it grades against; not the reference solutions);
- `{CONSTRAINTS}`: the versions of its dependencies it was tested with;
- `exercises/`: the exercises (topics: {listed}). Each topic folder has its instructions
  (`README.md`), the modules you complete and a notebook with the same code.

## Install (Python 3.11)

```bash
python -m venv .venv
source .venv/bin/activate          # Windows: .venv\\Scripts\\activate
pip install -c {CONSTRAINTS} {wheel}
dojo data fetch --all              # the data sets the training checks use (once)
```

Without the data, `grade` grades everything that needs none and says which questions it
skipped (verdict `skipped`, no points until then) and the command that fetches their data.

`grade` runs your code on NumPy. `grade --backend torch` runs the same checks on PyTorch, which
the wheel does not install: install it once with `pip install -c {CONSTRAINTS} torch` (from
this folder: `{CONSTRAINTS}` pins the version nlpdojo was tested with). With torch installed,
`grade` also tells you, on either backend, when a layer's wrong outputs are those of one of its
usual mistakes (an LSTM's gates read in another order, a path left out of its backward) and
which; a wrong answer says so where torch is missing.

## Work and grade

```bash
{block}
```

A function you still have to write raises `NotImplementedError("... not implemented yet")`:
replace that line with your code and run `grade` again. Every check says what it compared and
what was wrong. Working in the notebook (`exercises/<topic>/<topic>.ipynb`)? Install
JupyterLab once (`pip install -c constraints.txt jupyterlab`) and open it with `dojo notebook
<topic>`; in the notebook, `check("<question>")` grades a question and shows the feedback below
the cell (it grades the tagged cells as you last ran them). From a terminal, save it and grade it
with `grade --submission <topic>.ipynb` from its folder.

`grade` compares your results with expected values shipped in the package. Your instructors
may grade with more checks than you see here (hidden checks, other random seeds), so passing
every check here is necessary, not always sufficient: `grade` says how many points the hidden
checks of each question carry. It runs again only the checks whose code changed since its last
run (marked `(cached)`; `grade --no-cache` runs them all).

What `dojo train` and `dojo sample` write (checkpoints, vectors, plots) goes to an outputs
folder outside `exercises/` (each command prints the path; `$NLPDOJO_OUTPUTS` chooses it), so
training never changes what `grade` sees; `grade` leaves out, with a warning naming it, any file
over 5 MiB it finds in the exercises.

## Submit

Upload the files of the topic you worked on (its folder under `exercises/`, plus
`exercises/library/` for topics built on the course library) to Gradescope, or, where your
course grades in CI, let the job run `grade TOPIC --submission FOLDER --format json --output
result.json`. `exercises/README.md` says more.
"""


def make_bundle(dest: Path, solutions_dir: Path, exercises_dir: Path) -> Bundle:
    """Check ``dest`` and the course, build the wheel, then write the bundle into ``dest``
    (assembled in a sibling folder and renamed into place)."""
    check_destination(dest)
    root = project_root(solutions_dir)
    constraints = root / CONSTRAINTS
    if not constraints.is_file():
        raise BundleError(f"{constraints}: not found; the bundle ships it for installing")
    # before the fixtures are computed again (half a minute): a course that a student's
    # install cannot load is refused at once
    problems = import_problems()
    if problems:
        raise BundleError("the course would not load in a student's install (its wheel and "
                          "nlpdojo's requirements, no extras); nothing was written:\n  "
                          + "\n  ".join(problems))
    topics, files, plans = check_in_sync(solutions_dir, exercises_dir, root)
    with tempfile.TemporaryDirectory(prefix="nlpdojo-bundle-") as tmp:
        wheel = build_wheel(root, solutions_dir, Path(tmp))
        found = solution_lines(solutions_dir, files)
        fixture_files = check_wheel(wheel, plans, found)
        # the rest of what ships: the instructions and notebooks (the stubs are never searched
        # for, but an instruction may quote a block)
        refuse_leaks(scan_files(found, {f"exercises/{rel}": data for rel, data in files.items()}))
        dest.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
        try:
            shutil.copy2(wheel, staging / wheel.name)
            for rel, data in files.items():
                target = staging / "exercises" / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            shutil.copy2(constraints, staging / CONSTRAINTS)
            (staging / "README.md").write_text(student_readme(wheel.name, topics),
                                               encoding="utf-8")
            os.chmod(staging, ordinary_mode(folder=True))  # mkdtemp: 0700, hidden from others
            check_destination(dest)
            os.replace(staging, dest)  # onto an empty folder too (POSIX rename)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return Bundle(dest=dest, wheel=dest / wheel.name, topics=topics,
                  exercise_files=sorted(files), fixture_files=fixture_files)
