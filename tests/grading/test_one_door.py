"""One door (issue #23, part 3): every way a submission comes in goes through the same snapshot,
with the same refusals, before anything of it is copied, read or materialised.

Ways in: a folder (``grade TOPIC --submission DIR``), a notebook (``grade --submission
X.ipynb``), pytest (``pytest course``, the generated ``test_<topic>.py``), a cohort (``grade
--submissions DIR``), a Dask cluster (``--cluster local``) and Gradescope's ``run_autograder``.
Hazards: a link to the installed reference solutions, a link to ``/proc/self/environ``, a link
to ``/dev/zero``, a FIFO, a file name that is not UTF-8.

Every grading here is a process of its own, as CI runs it, with a fake CI secret in its
environment (``/proc/self/environ`` holds it), a file-size limit (a regression that copies
``/dev/zero`` dies of SIGXFSZ instead of filling the disk) and a time limit (a FIFO opened for
reading would block forever). Each test asserts the score the hazard would have fed is 0 (or
the submission is refused with its reason, in a report too), that the secret appears in no
output or report, that no large file was written, and the documented exit code.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import sysconfig
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from nlpdojo_autograder.release.notebooks import build_notebook, dumps
from nlpdojo_autograder.release.release import _pytest_module

ROOT = Path(__file__).resolve().parents[2]
#: the console script CI runs
GRADE = Path(sysconfig.get_path("scripts")) / "grade"
SECRET = f"secret-{uuid.uuid4().hex}"
#: no file a grading writes may be this large (the largest here are a few kB)
LARGE = 4 * 2**20
#: a process of these tests that writes a file beyond this dies (SIGXFSZ): the disk is safe
FSIZE_LIMIT = 64 * 2**20
TIMEOUT_S = 240
#: the escaped form of the name that is not UTF-8, as messages show it
NOT_UTF8_NAME = b"\xff.py"
NOT_UTF8_WARNING = "skipped: a file whose name is not UTF-8"
#: the toy pack's points: scale (values 1 + workdir 0.5), quadratic (values 2, gradient 2,
#: descent 1, hidden 1)
FULL = 7.5
SCALE_POINTS = 1.5

try:
    import distributed
except ImportError:
    distributed = None


# -- hazards --------------------------------------------------------------------------------


def _reference(folder: Path, toy_site: Path) -> str:
    (folder / "ref.py").symlink_to(toy_site / "nlpdojo_toy_pack" / "solutions" / "toy"
                                   / "scale.py")
    return "ref.py is a symbolic link to"


def _environ(folder: Path, toy_site: Path) -> str:
    (folder / "notes.txt").symlink_to("/proc/self/environ")
    return "notes.txt is a symbolic link to /proc/self/environ, outside the submission"


def _zero(folder: Path, toy_site: Path) -> str:
    (folder / "data.bin").symlink_to("/dev/zero")
    return "data.bin is a symbolic link to /dev/zero, outside the submission"


def _fifo(folder: Path, toy_site: Path) -> str:
    os.mkfifo(folder / "pipe")
    return "pipe is not a regular file"


#: hazard -> plant(folder, toy_site) -> the refusal's message
HAZARDS: dict[str, Callable[[Path, Path], str]] = {
    "reference": _reference, "environ": _environ, "zero": _zero, "fifo": _fifo}


def _not_utf8(folder: Path) -> str:
    """A file whose name is not UTF-8 in ``folder``; returns the warning's escaped path part."""
    with open(os.path.join(os.fsencode(folder), NOT_UTF8_NAME), "wb") as fh:
        fh.write(b"x = 1\n")
    return "\\xff.py"


# -- running and checking -------------------------------------------------------------------


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (FSIZE_LIMIT, FSIZE_LIMIT))


def _run(argv: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    """``argv`` in a process of its own with the fake secret, the size and the time limits."""
    return subprocess.run(argv, cwd=cwd, env={**os.environ, "CI_TOKEN": SECRET, **env},
                          capture_output=True, text=True, timeout=TIMEOUT_S,
                          stdin=subprocess.DEVNULL, preexec_fn=_limits, check=False)


def _grade(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """The ``grade`` console script, as CI runs it (a name that is not UTF-8 goes through
    ``python -m nlpdojo_autograder.cli.grade``, the module's own entry, below)."""
    return _run([str(GRADE), *args], cwd)


def _assert_clean(proc: subprocess.CompletedProcess, *roots: Path) -> None:
    """No secret in the output or in any file under ``roots``, no large file, no traceback."""
    assert SECRET not in proc.stdout + proc.stderr
    assert "Traceback (most recent call last)" not in proc.stdout + proc.stderr
    for root in roots:
        for folder, _, files in os.walk(root):
            for name in files:
                path = Path(folder) / name
                if path.is_symlink() or not path.is_file():
                    continue  # the planted hazards themselves
                assert path.stat().st_size < LARGE, f"{path} is {path.stat().st_size:,} bytes"
                assert SECRET.encode() not in path.read_bytes(), f"the secret is in {path}"


def _report(path: Path) -> dict:
    return json.loads(path.read_text())


def _checks(report: dict) -> dict[str, dict]:
    return {c["id"]: c for e in report["exercises"] for c in e["checks"]}


def _refused_report(report: dict, reason: str) -> None:
    """A report of a refused submission: 0 points, every check an error naming the reason."""
    assert report["score"] == 0 and report["max_score"] > 0
    assert all(c["status"] == "error" and reason in c["message"]
               for c in _checks(report).values()), _checks(report)


# -- 1. a folder ----------------------------------------------------------------------------


@pytest.mark.parametrize("hazard", sorted(HAZARDS))
def test_a_folder_with_a_hazard_is_refused_with_a_report(toy, toy_site, make_submission,
                                                         tmp_path, hazard):
    folder = make_submission()
    reason = HAZARDS[hazard](folder / "toy", toy_site)
    out = tmp_path / "r.json"
    proc = _grade(tmp_path, "toy", "--submission", str(folder), "-f", "json", "-o", str(out))
    assert proc.returncode == 2, proc.stderr
    error = next(line for line in proc.stderr.splitlines() if line.startswith("error: "))
    assert reason in error
    _refused_report(_report(out), reason)
    _assert_clean(proc, tmp_path)


def test_a_folder_with_a_name_that_is_not_utf8_is_graded_with_a_warning(
        toy, make_submission, tmp_path):
    folder = make_submission()
    shown = _not_utf8(folder / "toy")
    out = tmp_path / "r.json"
    proc = _grade(tmp_path, "toy", "--submission", str(folder), "-f", "json", "-o", str(out))
    assert proc.returncode == 0, proc.stderr  # full marks: the usual exit code
    report = _report(out)
    assert report["score"] == FULL == report["max_score"]
    assert report["warnings"] == [f"{NOT_UTF8_WARNING} (toy/{shown}); rename it to grade it"]
    assert f"warning: {NOT_UTF8_WARNING} (toy/{shown})" in proc.stderr
    _assert_clean(proc, tmp_path)


def test_a_table_and_gradescope_report_show_the_warning(toy, make_submission, tmp_path):
    folder = make_submission()
    _not_utf8(folder / "toy")
    for fmt, name in (("table", "report.txt"), ("gradescope", "gs.json"), ("junit", "j.xml")):
        out = tmp_path / name
        proc = _grade(tmp_path, "toy", "--submission", str(folder), "-f", fmt, "-o", str(out))
        assert proc.returncode == 0, proc.stderr
        assert NOT_UTF8_WARNING in out.read_text(), fmt


# -- 2. a notebook --------------------------------------------------------------------------

#: a scale cell that delegates to a file beside the notebook (a link to the reference), and a
#: quadratic cell that puts what it finds beside it into its error message
DELEGATE = ("import importlib\n\n\ndef scale(x, k):\n"
            "    return importlib.import_module(__package__ + '.ref').scale(x, k)\n")
LEAK = ("import os\n\n\ndef quadratic_loss_and_gradient(W, x):\n"
        "    here = os.path.dirname(os.path.abspath(__file__))\n"
        "    found = []\n"
        "    for name in sorted(os.listdir(here)):\n"
        "        try:\n"
        "            with open(os.path.join(here, name), 'rb') as fh:\n"
        "                found.append(name + '=' + fh.read(3000).decode('latin-1'))\n"
        "        except OSError as exc:\n"
        "            found.append(name + ': ' + type(exc).__name__)\n"
        "    raise ValueError(' | '.join(found))\n")


def _notebook(released: Path, cells: dict[str, str] | None = None) -> Path:
    """The toy notebook in the released folder ``released`` (``toy/``), solutions in its
    cells, ``cells`` replacing some ``{module: source}``."""
    nb = build_notebook(released, stub=False)
    for cell in nb.cells:
        module = cell.get("metadata", {}).get("nlpdojo", {}).get("module")
        if module in (cells or {}):
            cell.source = cells[module]
    path = released / "toy.ipynb"
    path.write_text(dumps(nb))
    return path


def test_a_notebook_is_written_over_the_released_template_not_its_neighbours(
        toy, toy_site, make_submission, tmp_path, monkeypatch):
    """Every hazard at once beside the notebook, with cells that would use them: with the
    reference installed none is read (the template is its release), so the delegating scale
    earns nothing, the quadratic cell finds no secret, and nothing hangs or fills the disk.
    (The code rules would refuse the delegating cell's ``importlib`` first: off here, so that
    what is tested is that the neighbours are not there.)"""
    monkeypatch.setenv("NLPDOJO_CODE_RULES", "off")
    released = make_submission(stub=True) / "toy"
    path = _notebook(released, {"scale": DELEGATE, "quadratic": LEAK})
    for plant in HAZARDS.values():
        plant(released, toy_site)
    _not_utf8(released)
    out = tmp_path / "r.json"
    proc = _grade(tmp_path, "toy", "--submission", str(path), "-f", "json", "-o", str(out),
                  "--no-cache")
    assert proc.returncode == 1, proc.stderr
    report = _report(out)
    checks = _checks(report)
    assert report["score"] == 0, checks
    assert checks["scale.values"]["status"] == "error"
    assert "ref" in checks["scale.values"]["message"]  # no module ref: it was not copied
    leaked = checks["quadratic.values"]["message"]
    assert "notes.txt" not in leaked and "data.bin" not in leaked and "ref.py" not in leaked
    # nothing beside the notebook was even looked at (the one warning: the rules were off)
    assert [w for w in report["warnings"] if "NLPDOJO_CODE_RULES" not in w] == []
    assert report["submission_sha256"] == _sha256_of_file(path)
    _assert_clean(proc, tmp_path)


def _sha256_of_file(path: Path) -> str:
    from nlpdojo_autograder.grading.snapshot import content_hash

    return content_hash(path)


@pytest.mark.parametrize("hazard", sorted(HAZARDS))
def test_without_the_reference_the_folder_beside_the_notebook_is_snapshotted(
        toy, toy_site, toy_fixtures, make_submission, tmp_path, hazard):
    """--as-student (a student release): the released folder beside the notebook is the
    template, taken through the snapshot: a hazard there refuses the notebook, with a report."""
    released = make_submission(stub=True) / "toy"
    path = _notebook(released)
    reason = HAZARDS[hazard](released, toy_site)
    out = tmp_path / "r.json"
    proc = _grade(tmp_path, "toy", "--submission", str(path), "--as-student", "-f", "json",
                  "-o", str(out))
    assert proc.returncode == 2, proc.stderr
    assert reason in next(line for line in proc.stderr.splitlines()
                          if line.startswith("error: "))
    _refused_report(_report(out), reason)
    _assert_clean(proc, tmp_path)


def test_without_the_reference_a_name_that_is_not_utf8_beside_the_notebook_is_a_warning(
        toy, toy_fixtures, make_submission, tmp_path):
    released = make_submission() / "toy"  # the solutions in the cells: full marks
    path = _notebook(released)
    shown = _not_utf8(released)
    out = tmp_path / "r.json"
    proc = _grade(tmp_path, "toy", "--submission", str(path), "--as-student", "-f", "json",
                  "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    report = _report(out)
    assert report["score"] == report["max_score"] > 0
    assert report["warnings"] == [f"{NOT_UTF8_WARNING} (toy/{shown}); rename it to grade it"]
    _assert_clean(proc, tmp_path)


@pytest.mark.parametrize("target", ["/proc/self/environ", "/dev/zero", "reference"])
def test_a_notebook_that_is_a_link_is_refused(toy, toy_site, make_submission, tmp_path,
                                              target):
    if target == "reference":
        target = str(toy_site / "nlpdojo_toy_pack" / "solutions" / "toy" / "scale.py")
    path = tmp_path / "toy.ipynb"
    path.symlink_to(target)
    out = tmp_path / "r.json"
    proc = _grade(tmp_path, "toy", "--submission", str(path), "-f", "json", "-o", str(out))
    assert proc.returncode == 2, proc.stderr
    assert f"toy.ipynb is a symbolic link (to {target})" in proc.stderr
    _refused_report(_report(out), "is a symbolic link")
    _assert_clean(proc, tmp_path)


def test_a_notebook_that_is_a_fifo_or_has_a_name_that_is_not_utf8_is_refused(toy, tmp_path):
    fifo = tmp_path / "toy.ipynb"
    os.mkfifo(fifo)
    out = tmp_path / "r.json"
    proc = _grade(tmp_path, "toy", "--submission", str(fifo), "-f", "json", "-o", str(out))
    assert proc.returncode == 2, proc.stderr
    assert "toy.ipynb is not a regular file" in proc.stderr
    _refused_report(_report(out), "is not a regular file")
    odd = os.path.join(os.fsencode(tmp_path), b"\xff.ipynb")
    with open(odd, "wb") as fh:
        fh.write(b"{}")
    proc = _run([sys.executable, "-m", "nlpdojo_autograder.cli.grade", "toy", "--submission",
                 os.fsdecode(odd), "-f", "json", "-o", str(out)], tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "is not UTF-8: rename it" in proc.stderr
    _refused_report(_report(out), "is not UTF-8")
    _assert_clean(proc, tmp_path)


# -- 3. pytest ------------------------------------------------------------------------------


def _course(make_submission, tmp_path: Path) -> Path:
    """A student's exercises/ for the toy pack: ``toy/`` (the solutions) and the generated
    ``test_toy.py``."""
    course = make_submission(name="course")
    (course / "test_toy.py").write_text(_pytest_module("toy"))
    return course


def _pytest(course: Path) -> subprocess.CompletedProcess:
    """A student's ``pytest`` in ``course``; without hypothesis's plugin, which a student's
    environment lacks (here it imports hypothesis at every run's end: ~0.6 CPU-s)."""
    return _run([sys.executable, "-m", "pytest", str(course), "-p", "no:cacheprovider",
                 "-p", "no:hypothesispytest", "-q", "-rN"], course)


def test_pytest_grades_through_the_snapshot_with_grades_seeds(toy, make_submission, tmp_path):
    course = _course(make_submission, tmp_path)
    proc = _pytest(course)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "6 passed" in proc.stdout  # every check of toy, hidden one included
    summary = proc.stdout.split("nlpdojo: graded as `grade` grades")[1]
    assert "graded from a private snapshot (sha256" in summary
    assert "inputs=" in summary and "fresh inputs: the reference is installed" in summary
    _assert_clean(proc, tmp_path)


@pytest.mark.parametrize("hazard", sorted(HAZARDS))
def test_pytest_refuses_a_hazard_and_passes_no_test(toy, toy_site, make_submission, tmp_path,
                                                    hazard):
    course = _course(make_submission, tmp_path)
    reason = HAZARDS[hazard](course / "toy", toy_site)
    proc = _pytest(course)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "6 failed" in proc.stdout and " passed" not in proc.stdout
    assert f"not graded: {reason}" in proc.stdout
    _assert_clean(proc, tmp_path)


@pytest.mark.parametrize("linked", ["toy", "library"])
def test_pytest_refuses_a_linked_topic_or_library_folder(toy, toy_site, make_submission,
                                                         tmp_path, linked):
    """A topic folder that is a link to the reference, or a library/ that is a link to the
    course's solutions, is refused: no test passes on the reference."""
    course = _course(make_submission, tmp_path)
    if linked == "toy":
        os.rename(course / "toy", tmp_path / "mine")
        (course / "toy").symlink_to(toy_site / "nlpdojo_toy_pack" / "solutions" / "toy")
    else:
        (course / "library").symlink_to(ROOT / "solutions" / "library")
    proc = _pytest(course)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "6 failed" in proc.stdout and " passed" not in proc.stdout
    assert f"{linked} is a symbolic link (to" in proc.stdout
    _assert_clean(proc, tmp_path)


def test_pytest_reports_a_name_that_is_not_utf8(toy, make_submission, tmp_path):
    course = _course(make_submission, tmp_path)
    shown = _not_utf8(course / "toy")
    proc = _pytest(course)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"warning: {NOT_UTF8_WARNING} ({shown})" in proc.stdout
    _assert_clean(proc, tmp_path)


# -- 4. a cohort, locally and on a cluster ---------------------------------------------------


def _cohort(make_submission, toy_site: Path, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """One clean submission, one per hazard, one with a name that is not UTF-8 and one that is
    a link to another student's folder; returns the root and {name: refusal reason}."""
    root = tmp_path / "cohort"
    root.mkdir()
    reasons = {}
    make_submission(name="clean").rename(root / "clean")
    for hazard, plant in HAZARDS.items():
        make_submission(name=hazard).rename(root / hazard)
        reasons[hazard] = plant(root / hazard / "toy", toy_site)
    make_submission(name="odd").rename(root / "odd")
    _not_utf8(root / "odd" / "toy")
    (root / "linked").symlink_to(root / "clean")
    reasons["linked"] = "is a symbolic link (to"
    return root, reasons


def _check_cohort(proc: subprocess.CompletedProcess, out: Path, reasons: dict[str, str]
                  ) -> None:
    # refused submissions are the students' doing: 0 points each, not a failure of the grader
    # (exit 2, which a CI job reads as a broken grading); the exit code follows the scores
    assert proc.returncode == 1, proc.stdout + proc.stderr
    for name in reasons:
        assert f"warning: submission {name}: refused: " in proc.stderr, proc.stderr
    assert "error: submission" not in proc.stderr, proc.stderr
    rows = {r["name"]: r for r in _report(out / "summary.json")["submissions"]}
    assert rows["clean"]["score"] == FULL and not rows["clean"]["errors"]
    assert rows["odd"]["score"] == FULL and not rows["odd"]["errors"]
    odd = _report(out / "odd" / "result.json")
    assert odd["warnings"] == [f"{NOT_UTF8_WARNING} (toy/\\xff.py); rename it to grade it"]
    for name, reason in reasons.items():
        assert rows[name]["score"] == 0, rows[name]
        assert any(reason in e for e in rows[name]["errors"]), rows[name]
        _refused_report(_report(out / name / "result.json"), reason)


def test_a_cohort_refuses_each_hazard_and_grades_the_rest(toy, toy_site, make_submission,
                                                          tmp_path):
    root, reasons = _cohort(make_submission, toy_site, tmp_path)
    out = tmp_path / "out"
    proc = _grade(tmp_path, "toy", "--submissions", str(root), "--jobs", "2", "-f", "json",
                  "-o", str(out))
    _check_cohort(proc, out, reasons)
    _assert_clean(proc, tmp_path)


@pytest.mark.skipif(distributed is None, reason="Dask distributed is not installed (the "
                    "optional 'cluster' extra)")
@pytest.mark.timeout(600)
def test_a_cluster_refuses_each_hazard_before_sending_it(toy, toy_site, make_submission,
                                                         tmp_path):
    root, reasons = _cohort(make_submission, toy_site, tmp_path)
    out = tmp_path / "out"
    proc = _grade(tmp_path, "toy", "--submissions", str(root), "--cluster", "local", "--jobs",
                  "2", "-f", "json", "-o", str(out))
    _check_cohort(proc, out, reasons)
    _assert_clean(proc, tmp_path)


def test_pack_refuses_what_the_snapshot_refuses(toy_site, tmp_path):
    """The cluster's archive is made of the snapshot only: a hazard is refused before anything
    is read, never silently dropped or followed; a name that is not UTF-8 is left out and said."""
    from nlpdojo_autograder.grading import cluster
    from nlpdojo_autograder.grading.snapshot import SubmissionError

    for hazard, plant in HAZARDS.items():
        folder = tmp_path / hazard
        (folder / "toy").mkdir(parents=True)
        (folder / "toy" / "a.py").write_text("x = 1\n")
        reason = plant(folder / "toy", toy_site)
        with pytest.raises(SubmissionError, match=reason.split(" (")[0].split(",")[0]):
            cluster.pack(folder)
    folder = tmp_path / "odd"
    (folder / "toy").mkdir(parents=True)
    (folder / "toy" / "a.py").write_text("x = 1\n")
    _not_utf8(folder / "toy")
    archive, skipped = cluster.pack_snapshot(folder)
    dest = tmp_path / "dest"
    dest.mkdir()
    cluster.unpack(archive, dest)
    assert sorted(p.name for p in (dest / "toy").iterdir()) == ["a.py"]
    assert skipped == (f"{NOT_UTF8_WARNING} (toy/\\xff.py); rename it to grade it",)


# -- 5. Gradescope's run_autograder ---------------------------------------------------------


@pytest.fixture(scope="module")
def gradescope(tmp_path_factory) -> Path:
    """``/autograder`` after ``setup.sh --offline``, for the zip of ``softmax`` (as
    tests/grading/test_gradescope_zip.py lays it out)."""
    import sysconfig

    from typer.testing import CliRunner

    from nlpdojo.cli.app import build_app
    from nlpdojo_autograder.release.gradescope_zip import unpack
    from tests.grading.test_gradescope_zip import _env, _sandbox_available

    why = _sandbox_available()
    if why is not None:
        pytest.skip(f"the OS sandbox cannot be made here ({why}); run_autograder requires it")
    dest = tmp_path_factory.mktemp("zip") / "autograder.zip"
    made = CliRunner().invoke(build_app(), ["release", "--gradescope", str(dest), "softmax"])
    assert made.exit_code == 0, made.output
    root = unpack(dest, tmp_path_factory.mktemp("gradescope") / "autograder")
    proc = subprocess.run(["bash", str(root / "source" / "setup.sh"), "--offline"],
                          env=_env(root, NLPDOJO_PYTHON=sys.executable), capture_output=True,
                          text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (site,) = (root / "venv" / "lib").glob("python3*/site-packages")
    (site / "zz_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return root


def _run_autograder(root: Path, plant: Callable[[Path], str | None]) -> tuple[dict, str]:
    """Gradescope's run: the student's word_vectors/ (the solutions) with ``plant`` applied,
    graded by ``run_autograder`` with the fake secret around; ``(results.json, output)``."""
    import shutil

    from tests.grading.test_gradescope_zip import _env

    submission = root / "submission"
    shutil.rmtree(submission)
    shutil.copytree(ROOT / "solutions" / "word_vectors", submission / "word_vectors",
                    ignore=shutil.ignore_patterns("__pycache__"))
    reason = plant(submission / "word_vectors")
    proc = subprocess.run([str(root / "run_autograder")], env=_env(root, CI_TOKEN=SECRET),
                          capture_output=True, text=True, timeout=TIMEOUT_S,
                          preexec_fn=_limits, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr  # Gradescope: never a harness failure
    _assert_clean(proc, root / "results", submission)
    return _report(root / "results" / "results.json"), reason or ""


@pytest.mark.timeout(600)
@pytest.mark.parametrize("hazard", sorted(HAZARDS))
def test_run_autograder_refuses_a_hazard_with_score_0_and_the_reason(gradescope, toy_site,
                                                                     hazard):
    def plant(folder: Path) -> str:
        if hazard == "reference":  # word_vectors' own reference, not the toy pack's
            (folder / "ref.py").symlink_to(ROOT / "solutions" / "word_vectors" / "softmax.py")
            return "ref.py is a symbolic link to"
        return HAZARDS[hazard](folder, toy_site)

    data, reason = _run_autograder(gradescope, plant)
    assert data["score"] == 0
    assert reason in data["output"] and "could not grade this submission" in data["output"]
    assert data["tests"] and all(t["score"] == 0 and reason in t["output"]
                                 for t in data["tests"])


@pytest.mark.timeout(600)
def test_run_autograder_grades_past_a_name_that_is_not_utf8_and_says_so(gradescope):
    data, _ = _run_autograder(gradescope, _not_utf8)
    full = sum(t["max_score"] for t in data["tests"])
    assert full > 0 and data["score"] == pytest.approx(full)
    assert f"warning: {NOT_UTF8_WARNING} (word_vectors/\\xff.py)" in data["output"]


# -- 6. the snapshot itself ------------------------------------------------------------------


def test_a_link_that_leads_nowhere_or_in_a_loop_is_refused_not_a_crash(tmp_path):
    from nlpdojo_autograder.grading.snapshot import SubmissionError, take_snapshot

    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "a").symlink_to(folder / "b")
    (folder / "b").symlink_to(folder / "a")
    with pytest.raises(SubmissionError, match="which leads nowhere"):
        take_snapshot(folder, tmp_path / "s1")
    (folder / "a").unlink()
    (folder / "b").unlink()
    (folder / "gone").symlink_to(folder / "missing.py")
    with pytest.raises(SubmissionError, match="gone is a symbolic link to .*leads nowhere"):
        take_snapshot(folder, tmp_path / "s2")


def test_a_folder_whose_name_is_not_utf8_is_left_out_with_all_it_holds(tmp_path):
    from nlpdojo_autograder.grading.snapshot import take_snapshot

    folder = tmp_path / "sub"
    (folder / "toy").mkdir(parents=True)
    (folder / "toy" / "a.py").write_text("x = 1\n")
    odd = os.path.join(os.fsencode(folder / "toy"), b"\xfe")
    os.mkdir(odd)
    with open(os.path.join(odd, b"b.py"), "wb") as fh:
        fh.write(b"y = 2\n")
    snap = take_snapshot(folder, tmp_path / "s")
    assert snap.files == 1 and snap.skipped == (
        f"{NOT_UTF8_WARNING} (toy/\\xfe); rename it to grade it",)
