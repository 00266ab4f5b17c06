"""``dojo release --student-bundle DIR``: the built-in course as students get it.

The bundle is built once (the real command, in a subprocess), its wheel installed with
``pip install --no-deps --target SITE`` and graded in a student environment: an interpreter
(``python -m venv --without-pip``) that sees SITE and this environment's dependencies, but not
this checkout's packages. nlpdojo may be installed editable here, and its ``.pth`` finder would
expose ``solutions/`` to any interpreter that processes this site-packages folder; so the student
environment gets a folder of links to the dependencies instead (no nlpdojo*, no ``.pth``), and
the tests check that it imports the wheel's copy and cannot import ``nlpdojo_solutions``.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nlpdojo.cli.app import build_app
from nlpdojo_autograder.release import bundle as bundle_module
from tests._wheels import REPO, install_wheel, wheel_entry_points, wheel_files

TOPIC = "word_vectors"
#: quick questions (no training run): enough to see full marks without the reference
QUICK_QUESTIONS = ["softmax", "naive_softmax", "word_vectors.sgd"]  # sgd: also neural_networks
FIXTURES = REPO / "course" / TOPIC / "fixtures"


def _base_env() -> dict[str, str]:
    """This environment without anything that redirects imports or plugins."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PYTHON") and k not in ("NLPDOJO_BACKEND", "NLPDOJO_DEVICE",
                                                       "NLPDOJO_DTYPE")}
    env["NLPDOJO_PLUGINS"] = ""  # the built-ins only, as in conftest.py
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("bundle") / "student"
    proc = subprocess.run(
        [sys.executable, "-c", "from nlpdojo.cli.app import main; main()", "release",
         "--solutions", str(REPO / "solutions"), "--output", str(REPO / "exercises"),
         "--student-bundle", str(dest)],
        # a hang guard: where a fixtures folder's FINGERPRINT is not current, the build
        # computes its fixtures again, ~3 minutes for all alone on 2 cores, past 5 beside
        # other suites
        cwd=REPO, env=_base_env(), capture_output=True, text=True, check=False, timeout=1200)
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}"
    assert f"student bundle {dest}" in proc.stdout
    return dest


@pytest.fixture(scope="module")
def wheel(bundle: Path) -> Path:
    wheels = sorted(bundle.glob("*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def student_env(wheel: Path, tmp_path_factory) -> tuple[Path, dict[str, str], Path]:
    """``(python, env, site)``: an interpreter whose nlpdojo packages come from the wheel only."""
    root = tmp_path_factory.mktemp("student-env")
    site = install_wheel(wheel, root / "site")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   capture_output=True)
    deps = root / "deps"
    deps.mkdir()
    for folder in {Path(sysconfig.get_paths()[k]) for k in ("purelib", "platlib")}:
        for entry in folder.iterdir():
            name = entry.name.lower()
            if (name.startswith(("nlpdojo", "__editable__", "__pycache__"))
                    or name.endswith(".pth") or (deps / entry.name).exists()):
                continue
            (deps / entry.name).symlink_to(entry)
    env = _base_env() | {"PYTHONPATH": os.pathsep.join([str(site), str(deps)]),
                         "PYTHONNOUSERSITE": "1"}
    return venv / "bin" / "python", env, site


def _grade(student_env, submission: Path, cwd: Path, *args: str) -> tuple[int, dict]:
    python, env, _ = student_env
    report = cwd / "report.json"
    proc = subprocess.run(
        [str(python), "-m", "nlpdojo_autograder.cli.grade", *args, "--submission", str(submission),
         "--format", "json", "--output", str(report)],
        cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=300)
    assert report.is_file(), f"{proc.stdout}\n{proc.stderr}"
    return proc.returncode, json.loads(report.read_text())


def _checks(result: dict) -> list[dict]:
    return [c for exercise in result["exercises"] for c in exercise["checks"]]


def test_bundle_holds_wheel_exercises_constraints_readme(bundle: Path, wheel: Path):
    assert sorted(p.name for p in bundle.iterdir()) == sorted(
        ["README.md", "constraints.txt", "exercises", wheel.name])
    assert (bundle / "constraints.txt").read_bytes() == (REPO / "constraints.txt").read_bytes()
    shipped = sorted(p.relative_to(bundle / "exercises").as_posix()
                     for p in (bundle / "exercises").rglob("*") if p.is_file())
    assert f"{TOPIC}/{TOPIC}.ipynb" in shipped and f"test_{TOPIC}.py" in shipped
    for rel in shipped:  # exactly the released exercises/
        assert (bundle / "exercises" / rel).read_bytes() == (REPO / "exercises" / rel).read_bytes()
    readme = (bundle / "README.md").read_text()
    assert f"pip install -c constraints.txt {wheel.name}" in readme
    assert "grade" in readme and TOPIC in readme
    assert "## Submit" in readme and "Gradescope" in readme


def test_wheel_has_autograder_and_fixtures_but_no_solutions(wheel: Path):
    files = set(wheel_files(wheel))
    assert not [f for f in files if f.startswith("nlpdojo_solutions")]
    assert not [f for f in files if "/solutions/" in f]
    for module in ("nlpdojo_autograder/__init__.py", "nlpdojo_autograder/cli/grade.py",
                   "nlpdojo_course/word_vectors/__init__.py", "nlpdojo/cli/app.py",
                   "nlpdojo_numpy/backend.py"):
        assert module in files, module
    fixtures = sorted(p.name for p in FIXTURES.iterdir() if p.suffix in (".json", ".npz"))
    assert fixtures
    for name in fixtures:
        path = f"nlpdojo_course/{TOPIC}/fixtures/{name}"
        assert path in files, path
        with zipfile.ZipFile(wheel) as zf:
            assert zf.read(path) == (FIXTURES / name).read_bytes(), path
    groups = wheel_entry_points(wheel)
    assert groups["console_scripts"]["grade"] == "nlpdojo_autograder.cli.launch:grade"
    assert "autograder" in groups["nlpdojo"]


def test_the_wheel_holds_no_line_of_the_reference_in_any_form(wheel: Path):
    """No text the wheel ships holds a substantial line of a solution block or a name defined
    only in one: every module's code, string constants, docstrings and comments, its JSON and
    text files and its arrays of strings (release/leaks.py, which the build runs too and
    refuses on; tests/test_leaks.py plants each form). The planted bugs, which quote the
    reference, stay out with their withheld packages."""
    from nlpdojo_autograder.release.leaks import scan_wheel, solution_lines
    from nlpdojo_autograder.release.release import build_release

    assert not [f for f in wheel_files(wheel) if "/withheld/" in f]
    _, given = build_release(REPO / "solutions")
    found = solution_lines(REPO / "solutions", given)
    assert len(found.lines) > 500  # what is searched for: most of the blocks' lines
    leaks = scan_wheel(wheel, found)
    assert not leaks, "\n".join(map(str, leaks[:20]))


def test_student_environment_imports_the_wheel_only(student_env, tmp_path: Path):
    python, env, site = student_env
    probe = (
        "import json, nlpdojo, nlpdojo_autograder\n"
        "from importlib.metadata import distribution\n"
        "try:\n"
        "    import nlpdojo_solutions\n"
        "    solutions = nlpdojo_solutions.__file__ or str(nlpdojo_solutions.__path__)\n"
        "except ImportError:\n"
        "    solutions = None\n"
        "print(json.dumps({'autograder': nlpdojo_autograder.__file__, 'core': nlpdojo.__file__,"
        " 'dist': str(distribution('nlpdojo')._path), 'solutions': solutions}))\n"
    )
    proc = subprocess.run([str(python), "-c", probe], cwd=tmp_path, env=env,
                          capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout)
    assert found["solutions"] is None, f"nlpdojo_solutions importable from {found['solutions']}"
    for key in ("autograder", "core", "dist"):
        assert Path(found[key]).resolve().is_relative_to(site.resolve()), (key, found[key])


def test_untouched_exercises_score_zero(bundle: Path, student_env, tmp_path: Path):
    code, result = _grade(student_env, bundle / "exercises", tmp_path)
    assert code == 1
    assert result["solutions_present"] is False
    checks = _checks(result)
    assert checks and result["score"] == 0
    assert {c["status"] for c in checks} == {"not_implemented"}, [
        (c["id"], c["status"], c["message"]) for c in checks if c["status"] != "not_implemented"]
    assert not [c["id"] for c in checks if c["hidden"]]
    # the hidden checks left out are announced, per question, with their points
    announced = {(e["name"], q): p for e in result["exercises"]
                 for q, p in e["hidden_points"].items()}
    assert ("word_vectors", "softmax") in announced
    assert result["hidden_points"] == pytest.approx(sum(announced.values()))


def test_solved_exercises_get_full_marks_without_hidden_checks(bundle: Path, student_env,
                                                               tmp_path: Path):
    solved = tmp_path / "submission"
    shutil.copytree(bundle / "exercises", solved)
    for module in (REPO / "solutions" / TOPIC).glob("*.py"):
        shutil.copy2(module, solved / TOPIC / module.name)
    code, result = _grade(student_env, solved, tmp_path, *QUICK_QUESTIONS)
    checks = _checks(result)
    assert code == 0, [(c["id"], c["status"], c["message"]) for c in checks]
    assert result["solutions_present"] is False
    assert {c["question"] for c in checks} == {q.split(".")[-1] for q in QUICK_QUESTIONS}
    assert {c["status"] for c in checks} == {"passed"}
    assert result["score"] == result["max_score"] > 0
    assert not [c["id"] for c in checks if c["hidden"] or c["id"].endswith(".hidden")]


# ---- what a newcomer trips on (issue 26), in the student release ---------------------------

def _solved(bundle: Path, dest: Path, *topics: str) -> Path:
    """The bundle's ``exercises/`` copied to ``dest`` with the reference's modules of
    ``topics`` in place of the stubs: a student's finished work."""
    exercises = dest / "exercises"
    shutil.copytree(bundle / "exercises", exercises)
    for topic in topics:
        for module in (REPO / "solutions" / topic).rglob("*.py"):
            if "__pycache__" not in module.parts:
                rel = module.relative_to(REPO / "solutions" / topic)
                shutil.copy2(module, exercises / topic / rel)
    return exercises


def _dojo(student_env, cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    python, base, _ = student_env
    return subprocess.run([str(python), "-c", "from nlpdojo.cli.app import main; main()", *args],
                          cwd=cwd, env=base | env, capture_output=True, text=True, check=False,
                          timeout=300)


def _files(folder: Path) -> dict[str, int]:
    return {p.relative_to(folder).as_posix(): p.stat().st_size for p in folder.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts}


def test_training_from_exercises_never_breaks_grading(bundle: Path, student_env,
                                                      tmp_path: Path):
    """`dojo train tagger` run from `exercises/` wrote its checkpoint there, after which every
    `grade` refused the folder. Now the checkpoint goes to the outputs folder, nothing in
    `exercises/` changes, and a large file found there anyway is left out of the grading with
    a warning naming it and its size; the rest is graded as usual."""
    exercises = _solved(bundle, tmp_path, "library", "neural_networks")
    # a long folder name: a path cut by the console's line wrapping would not be found below
    out = tmp_path / ("out-" + "x" * 100)
    env = {"NLPDOJO_DATA": str(tmp_path / "data"), "NLPDOJO_OUTPUTS": str(out)}
    fetched = _dojo(student_env, exercises, "data", "fetch", "tiny", **env)  # bundled: offline
    assert fetched.returncode == 0, fetched.stderr
    before = _files(exercises)
    trained = _dojo(student_env, exercises, "train", "tagger", "--dataset", "tiny", "--epochs",
                    "1", "--dim", "8", "--hidden", "16", "--no-progress", **env)
    assert trained.returncode == 0, trained.stdout + trained.stderr
    checkpoint = out / "tagger.npz"
    assert f"checkpoint -> {checkpoint}" in " ".join(trained.stdout.split())
    assert checkpoint.is_file() and _files(exercises) == before
    evaluated = _dojo(student_env, exercises, "train", "tagger", "--evaluate", "tagger.npz",
                      **env)
    assert evaluated.returncode == 0, evaluated.stdout + evaluated.stderr
    # a checkpoint left in the folder all the same (copied there, or by an older release)
    (exercises / "neural_networks" / "tagger.npz").write_bytes(b"\0" * 8_500_000)
    code, result = _grade(student_env, exercises, tmp_path, "neural_networks.sigmoid")
    checks = _checks(result)
    assert code == 0, [(c["id"], c["status"], c["message"]) for c in checks]
    assert checks and result["score"] == result["max_score"] > 0
    (warning,) = result["warnings"]
    assert ("skipped: a file too large to grade (neural_networks/tagger.npz: 8,500,000 bytes, "
            "more than the 5,242,880 a file may have)") in warning
    # round points (issue 26: sigmoid's checks were worth 0.282353, 0.141176, 0.094118...)
    assert {c["id"]: c["max_score"] for c in checks} == {
        "sigmoid.values": 0.3, "sigmoid.gradients": 0.3, "sigmoid.repeated": 0.1,
        "sigmoid.stability": 0.2}
    assert result["max_score"] == 0.9 and result["hidden_points"] == 0.1


def test_without_data_the_rest_is_graded_and_the_skipped_questions_named(
        bundle: Path, student_env, tmp_path: Path):
    """Without `dojo data fetch`, `grade` in the student release stopped at once. Now what
    needs no data is graded, the training question is skipped (verdict `skipped`), and the
    report says which and the command that fetches its data; the exit code follows the
    score (1: below full marks)."""
    exercises = _solved(bundle, tmp_path, TOPIC)
    python, env, _ = student_env
    proc = subprocess.run(
        [str(python), "-m", "nlpdojo_autograder.cli.grade", "softmax", "word_vectors.training",
         "--submission", str(exercises)], cwd=tmp_path,
        env=env | {"NLPDOJO_DATA": str(tmp_path / "no-data"), "COLUMNS": "200"},
        capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    shown = " ".join((proc.stdout + proc.stderr).split())
    assert "softmax" in shown and "passed" in shown and "skipped" in shown
    assert ("warning: skipped for want of data: word_vectors.training (no points until then); "
            "run `dojo data fetch sotu wordsim353 simlex999 google-analogies` (or `dojo data "
            "fetch --all`) and grade again") in shown
    # pytest grades as grade grades: the training tests are skipped, saying why
    tests = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "training",
         str(exercises / f"test_{TOPIC}.py")], cwd=exercises,
        env=env | {"NLPDOJO_DATA": str(tmp_path / "no-data")},
        capture_output=True, text=True, check=False, timeout=300)
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-2000:]
    assert " skipped" in tests.stdout and "failed" not in tests.stdout, tests.stdout[-3000:]
    readme = (bundle / "README.md").read_text()
    install = readme.split("## Install", 1)[1].split("## ", 1)[0]
    assert "dojo data fetch --all" in install and "skipped" in install


def test_reading_a_parameter_by_a_wrong_name_is_told_p_data(bundle: Path, student_env,
                                                             tmp_path: Path):
    """`p.value` got an AttributeError with no hint; the student's SGD that uses it now fails
    its checks with a message naming p.data and p.grad, and the README says how to read a
    parameter."""
    exercises = _solved(bundle, tmp_path, "library", "neural_networks")
    optim = exercises / "library" / "optim.py"
    right = "p.data = p.data - self.lr * p.grad"
    assert right in optim.read_text()
    optim.write_text(optim.read_text().replace(
        right, "p.value = p.value - self.lr * p.grad", 1))
    code, result = _grade(student_env, exercises, tmp_path, "neural_networks.sgd")
    checks = _checks(result)
    assert code == 1 and checks and result["score"] == 0
    for c in checks:
        assert "Parameter has no attribute 'value': did you mean p.data?" in c["message"], c
        assert "p.grad" in c["message"]
    readme = (bundle / "exercises" / "neural_networks" / "README.md").read_text()
    assert "**`p.data`**" in readme and "**`p.grad`**" in readme


def test_train_lm_scores_every_model_on_one_split_and_quotes_the_reference(
        bundle: Path, student_env, tmp_path: Path):
    """`dojo train lm` scored count models on valid and neural ones on test, and pointed at
    docs/results.md, which the release lacks. In the release, both kinds say they were scored
    on sotu's test split and print the reference's figure on it."""
    from nlpdojo.data import get_dataset
    from nlpdojo.dataset import DataMissingError

    try:
        get_dataset("sotu").path()
    except DataMissingError:
        pytest.skip("sotu is not fetched here (dojo data fetch sotu)")
    exercises = _solved(bundle, tmp_path, "library", "language_models")
    env = {"NLPDOJO_OUTPUTS": str(tmp_path / "out")}
    lines = {}
    for model, args in (("ngram", ["--max-documents", "20", "--output", "kn3.npz"]),
                        ("rnn", ["--max-documents", "2", "--test-texts", "1", "--max-steps",
                                 "2", "--no-progress"])):
        run = _dojo(student_env, exercises, "train", "lm", "--model", model, *args, **env)
        assert run.returncode == 0, run.stdout + run.stderr
        lines[model] = " ".join(run.stdout.split())
    assert "reach 109.3 on sotu's test split (trigram, Kneser-Ney" in lines["ngram"]
    assert "reach 100.4 on sotu's test split (RNN LM" in lines["rnn"]
    for text in lines.values():
        assert "on sotu's test split (" in text and "add-one unigram" in text
        assert "docs/results.md in the nlpdojo repository" in text
    # sampling with the student's own code, the count statistics reused between steps
    sampled = _dojo(student_env, exercises, "sample", "kn3.npz", "--sentences", "3", **env)
    assert sampled.returncode == 0, sampled.stdout + sampled.stderr
    header, *sentences = sampled.stdout.strip().splitlines()
    assert "sampled by your code in" in header and len(sentences) == 3


def test_the_release_lists_no_solutions_option_and_the_tagger_can_be_quiet(
        student_env, tmp_path: Path):
    """--solutions can only fail where the reference is not installed: the student release
    does not list it; `dojo train tagger` has --no-progress like the other trainers."""
    python, env, _ = student_env
    env = env | {"COLUMNS": "200"}
    helps = {
        "grade": subprocess.run([str(python), "-m", "nlpdojo_autograder.cli.grade", "--help"],
                                cwd=tmp_path, env=env, capture_output=True, text=True,
                                check=False, timeout=120),
        **{name: _dojo(student_env, tmp_path, *args, "--help", COLUMNS="200")
           for name, args in (("tagger", ["train", "tagger"]), ("lm", ["train", "lm"]),
                              ("sample", ["sample"]))}}
    for name, proc in helps.items():
        assert proc.returncode == 0, (name, proc.stderr)
        assert "--solutions" not in proc.stdout, name
    assert "--no-progress" in helps["tagger"].stdout


def test_the_student_readme_installs_the_data_too():
    readme = bundle_module.student_readme("nlpdojo-0-py3-none-any.whl", ["a", "b"])
    install = readme.split("## Install", 1)[1].split("## ", 1)[0]
    commands = [line.split("#")[0].strip() for line in install.splitlines()]
    assert commands.index("dojo data fetch --all") == commands.index(
        "pip install -c constraints.txt nlpdojo-0-py3-none-any.whl") + 1
    assert "topics: `a`, `b`" in readme
    # what `grade --backend torch` and `dojo notebook` say to run without them works here too
    assert "`grade --backend torch`" in install
    assert "pip install -c constraints.txt torch" in install
    assert "pip install -c constraints.txt jupyterlab" in readme


def test_the_install_hints_work_in_a_student_release():
    """A student release has a wheel and constraints.txt, no checkout (no -e '.[torch]') and
    no nlpdojo on PyPI (no 'nlpdojo[torch]'): the hints name what constraints.txt pins."""
    from nlpdojo_autograder.cli.notebook_commands import INSTALL_HINT as NOTEBOOK
    from nlpdojo_torch.plugin import INSTALL_HINT as TORCH

    assert "pip install -c constraints.txt torch," in TORCH
    assert "pip install -c constraints.txt jupyterlab," in NOTEBOOK
    for hint in (TORCH, NOTEBOOK):
        assert "nlpdojo[" not in hint and "-e" not in hint.split()
        assert "student release" in hint and "checkout" in hint
    pins = (REPO / "constraints.txt").read_text().splitlines()
    assert any(line.startswith("torch==") for line in pins)
    assert any(line.startswith("jupyterlab==") for line in pins)


# ---- refusals: one line, exit 2, nothing written -------------------------------------------

def _release(*args: str):
    return CliRunner().invoke(build_app(), ["release", "--solutions", str(REPO / "solutions"),
                                            *args])


def _one_error_line(result) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2, result.output
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    return lines[0]


def test_refuses_a_folder_that_is_not_empty(tmp_path: Path):
    dest = tmp_path / "bundle"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine")
    line = _one_error_line(_release("--student-bundle", str(dest)))
    assert "is not empty" in line
    assert [p.name for p in dest.iterdir()] == ["notes.txt"]


def test_refuses_exercises_out_of_sync(tmp_path: Path):
    exercises = tmp_path / "exercises"
    shutil.copytree(REPO / "exercises", exercises,
                    ignore=shutil.ignore_patterns("__pycache__", ".*"))
    (exercises / TOPIC / "softmax.py").write_text("# edited by hand\n")
    dest = tmp_path / "bundle"
    line = _one_error_line(_release("--output", str(exercises), "--student-bundle", str(dest)))
    assert "out of sync" in line and f"changed {TOPIC}/softmax.py" in line
    assert not dest.exists()


def test_refuses_check_and_no_fixtures(tmp_path: Path):
    for flag in ("--check", "--no-fixtures"):
        line = _one_error_line(_release(flag, "--student-bundle", str(tmp_path / "b")))
        assert flag in line


def test_failed_build_writes_nothing(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(bundle_module, "check_in_sync", lambda *a: ([TOPIC], {}, []))
    monkeypatch.setattr(bundle_module, "wheel_command", lambda src, out: [
        sys.executable, "-c", "import sys; sys.exit('error: no setuptools here')"])
    dest = tmp_path / "bundle"
    line = _one_error_line(_release("--student-bundle", str(dest)))
    assert "building the student wheel failed" in line and "no setuptools here" in line
    assert list(tmp_path.iterdir()) == []  # no bundle, no staging folder


def test_pyproject_without_solutions_keeps_every_other_package():
    text = (REPO / "pyproject.toml").read_text()
    original = tomllib.loads(text)
    stripped = tomllib.loads(bundle_module.strip_solutions_config(text))
    package_dir = dict(original["tool"]["setuptools"]["package-dir"])
    del package_dir["nlpdojo_solutions"]
    assert stripped["tool"]["setuptools"]["package-dir"] == package_dir
    original["tool"]["setuptools"].pop("package-dir")
    stripped["tool"]["setuptools"].pop("package-dir")
    assert stripped == original  # nothing else changes


def test_refuses_solutions_outside_the_nlpdojo_source_tree(tmp_path: Path):
    solutions = tmp_path / "solutions"
    shutil.copytree(REPO / "solutions", solutions,
                    ignore=shutil.ignore_patterns("__pycache__", ".*"))
    result = CliRunner().invoke(build_app(), [
        "release", "--solutions", str(solutions), "--student-bundle", str(tmp_path / "b")])
    line = _one_error_line(result)
    assert "built-in course from the nlpdojo source tree" in line
    assert not (tmp_path / "b").exists()


def _defined_names(source: str) -> set[str]:
    """Qualified names of the functions and methods a module defines (``f``, ``C.m``)."""
    import ast

    found: set[str] = set()

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found.add(prefix + child.name)
                visit(child, prefix + child.name + ".<locals>.")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")
            else:
                visit(child, prefix)

    visit(ast.parse(source), "")
    return found


def _refused_to_graded_code(module: str) -> bool:
    """Whether the worker refuses ``module`` to graded code: the grader's own modules but the
    worker's, and the course tools (``nlpdojo.gradcheck``) that would answer a question."""
    from nlpdojo.plugins import bringing_plugins
    from nlpdojo_autograder.runtime.subject import (
        COURSE_TOOLS,
        GRADER_PACKAGE,
        PACK_API_MODULES,
        WORKER_MODULES,
    )

    def under(top: str) -> bool:
        return module == top or module.startswith(top + ".")

    if any(under(tool) for tool in COURSE_TOOLS):
        return True
    for plugin in bringing_plugins():  # a course's topics: refused, but its plugin module
        package = plugin.__name__.rpartition(".")[0]
        if package and under(package) and not under(plugin.__name__):
            return True
    return under(GRADER_PACKAGE) and module not in {
        f"{GRADER_PACKAGE}.{m}" for m in (*WORKER_MODULES, *PACK_API_MODULES)}


#: what the student wheel may define of an answer, and why: each is refused to graded code
#: by the worker (checked below), so it can be read, not used (docs/security.md, residual risks)
SHIPPED_ANSWERS = {
    "nlpdojo.gradcheck.numerical.numerical_gradient": "the gradient checker (word_vectors)",
    "nlpdojo.gradcheck.evidence.check_gradient": "the gradient checker (word_vectors)",
    "nlpdojo_course.word_vectors.metrics.analogy_accuracy":
        "the grader's analogy metric of the trained vectors (a student release trains and "
        "measures them)",
    "nlpdojo_autograder.training.evaluate.perplexity":
        "the grader computes held-out perplexities itself (trusted evaluation); the formula, "
        "exp(−mean log P), is one line that the topic's README states",
}


def test_no_module_of_the_wheel_defines_what_a_solution_marker_encloses(wheel: Path):
    """The reference answers never ship: no module in the student wheel defines a function or
    method of the same name as one a solution marker encloses (a copy of a layer in a plugin,
    a grader metric that is a question's answer), but the few named in SHIPPED_ANSWERS, each
    in a module graded code cannot import."""
    from nlpdojo_autograder.authoring.markers import questions_in

    answers: dict[str, str] = {}
    solutions = REPO / "solutions"
    for folder in [p for p in solutions.iterdir() if (p / "__init__.py").is_file()]:
        for question, pairs in questions_in(folder).items():
            answers.update({name: question for _, name in pairs if name})
    assert answers
    leaks = []
    with zipfile.ZipFile(wheel) as zf:
        for name in zf.namelist():
            if name.endswith(".py"):
                module = name[:-3].replace("/", ".").removesuffix(".__init__")
                defined = _defined_names(zf.read(name).decode("utf-8"))
                for n in sorted(defined & set(answers)):
                    if f"{module}.{n}" in SHIPPED_ANSWERS:
                        assert _refused_to_graded_code(module), module
                    else:
                        leaks.append(f"{name}: {n} (the answer to {answers[n]})")
    assert not leaks, "\n".join(leaks)


# -- answers by what they compute, whatever they are called --------------------------------------
#: a solution's statements this large (AST nodes) are an answer wherever they appear, under any
#: names; smaller ones (``return (x - mean) / std``) are common code, and count only where a
#: function that holds them computes what the solution computes (a behavioural probe)
MIN_NODES = 12


class _Placeholders(ast.NodeTransformer):
    """Identifiers and arguments as positional placeholders (``_0``, ``_1``, ... by first use),
    strings as one constant, docstrings, annotations and decorators dropped: a renamed copy
    normalises like its original. Attribute names, keywords and numbers are kept: they are
    what the code computes."""

    def __init__(self, erase: bool = False) -> None:
        self.names: dict[str, str] = {}
        self.erase = erase  # every name as "_": a coarse key, one per statement

    def _name(self, name: str) -> str:
        return "_" if self.erase else self.names.setdefault(name, f"_{len(self.names)}")

    def visit_Name(self, node: ast.Name) -> ast.AST:
        return ast.copy_location(ast.Name(id=self._name(node.id), ctx=ast.Load()), node)

    def visit_arg(self, node: ast.arg) -> ast.AST:
        return ast.copy_location(ast.arg(arg=self._name(node.arg)), node)

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        return ast.Constant(value="") if isinstance(node.value, str) else node

    def _function(self, node: ast.AST) -> ast.AST:
        node.name = self._name(node.name)
        node.decorator_list, node.returns = [], None
        node.body = _code(node.body) or [ast.Pass()]
        return self.generic_visit(node)

    visit_FunctionDef = visit_AsyncFunctionDef = _function

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST:
        node.annotation = ast.Constant(value=None)
        return self.generic_visit(node)


def _code(statements: list[ast.stmt]) -> list[ast.stmt]:
    """``statements`` without strings standing alone (docstrings)."""
    return [s for s in statements
            if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)
                    and isinstance(s.value.value, str))]


def _normal(statements: list[ast.stmt], *, erase: bool = False) -> str:
    """The statements' AST, normalised (:class:`_Placeholders`), as one string."""
    import copy

    renamer = _Placeholders(erase)
    body = [renamer.visit(copy.deepcopy(s)) for s in statements]
    return ast.dump(ast.Module(body=body, type_ignores=[]), annotate_fields=False)


def _nodes(statements: list[ast.stmt]) -> int:
    return sum(1 for s in statements for _ in ast.walk(s))


def _functions(tree: ast.AST, prefix: str = ""):
    """``(qualname, node)`` of every function and method of a module, nested ones too."""
    for child in ast.iter_child_nodes(tree):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield prefix + child.name, child
            yield from _functions(child, prefix + child.name + ".<locals>.")
        elif isinstance(child, ast.ClassDef):
            yield from _functions(child, prefix + child.name + ".")


def _statement_lists(function: ast.AST):
    """Every list of statements inside ``function`` (its body, branches, loops' bodies...)."""
    for node in ast.walk(function):
        for field in ("body", "orelse", "finalbody", "handlers"):
            value = getattr(node, field, None)
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                yield _code(value)


def _positional(function: ast.AST) -> int:
    args = function.args
    return len(args.posonlyargs) + len(args.args)


@dataclass(frozen=True)
class _Answer:
    """What a solution block computes: its statements (or its whole function's), normalised."""

    question: str
    where: str  # solutions' module.qualname
    key: str
    coarse: tuple[str, ...]
    size: int
    arity: int
    whole: bool  # the whole function's body, not only the block


def _solution_answers() -> list[_Answer]:
    """Every solution block, and every function that encloses one, of the solutions."""
    from nlpdojo_autograder.authoring.markers import module_name, parse_blocks, python_modules

    found = []
    root = REPO / "solutions"
    for folder in [p for p in root.iterdir() if (p / "__init__.py").is_file()]:
        for path in python_modules(folder):
            blocks = parse_blocks(path)
            if not blocks:
                continue
            module = f"nlpdojo_solutions.{folder.name}.{module_name(folder, path)}"
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for qualname, function in _functions(tree):
                for block in blocks:
                    if not function.lineno < block.start_line < function.end_lineno:
                        continue
                    inside = next((
                        [s for s in stmts if block.start_line < s.lineno < block.end_line]
                        for stmts in _statement_lists(function)
                        if any(block.start_line < s.lineno < block.end_line for s in stmts)),
                        [])
                    for stmts, whole in ((inside, False), (_code(function.body), True)):
                        if stmts:
                            found.append(_Answer(
                                block.question, f"{module}.{qualname}", _normal(stmts),
                                tuple(_normal([s], erase=True) for s in stmts),
                                _nodes(stmts), _positional(function), whole))
    return found


def _shipped_sources(wheel: Path, bundle: Path) -> dict[str, str]:
    """Every Python module a student gets: the wheel's (by module name) and the released
    exercises' (by path: the stubs and the given code)."""
    sources = {}
    with zipfile.ZipFile(wheel) as zf:
        for name in zf.namelist():
            if name.endswith(".py"):
                module = name[:-3].replace("/", ".").removesuffix(".__init__")
                sources[module] = zf.read(name).decode("utf-8")
    for path in sorted((bundle / "exercises").rglob("*.py")):
        sources[f"exercises/{path.relative_to(bundle / 'exercises').as_posix()}"] = \
            path.read_text(encoding="utf-8")
    return sources


def _shipped_function(module: str, qualname: str, source: str):
    """The function ``qualname`` of a shipped module, from the module's shipped source run in
    a namespace of its own (its relative imports reach this environment's packages); None for
    a method, or for code that does not run here (the released exercises' modules)."""
    if module.startswith("exercises/") or "." in qualname:
        return None
    namespace = {"__name__": module, "__package__": module.rpartition(".")[0]}
    try:
        exec(compile(source, f"<shipped {module}>", "exec"), namespace)  # noqa: S102
    except Exception:  # noqa: BLE001 - not runnable here: the AST match stands
        return None
    return namespace.get(qualname)


def _same_behaviour(answer: _Answer, candidate) -> bool:
    """Whether ``candidate`` computes what the solution function of ``answer`` computes,
    called on a few kinds of arguments (arrays of negative numbers: log-probabilities; a
    matrix and vectors; positive scalars): it must agree wherever the solution runs, and the
    solution must run on at least one. ``None`` (a function that cannot be called here)
    counts as the same: the AST match stands; a method's block never does (no probe)."""
    import importlib

    import numpy as np

    sol_module, _, sol_name = answer.where.rpartition(".")
    if sol_module.rsplit(".", 1)[-1][:1].isupper():
        # a method's block (RNNLM.final_state's ``return cache[-1]``) cannot be called alone:
        # no probe, and a statement this small is common code (``return options[-1]``)
        return False
    if candidate is None:
        return True
    solution = getattr(importlib.import_module(sol_module), sol_name)
    rng = np.random.default_rng(0)
    n = answer.arity
    trials = [tuple(-rng.uniform(0.1, 3.0, 6) for _ in range(n)),
              (rng.standard_normal((4, 6)), *(rng.uniform(0.5, 2.0, 6) for _ in range(n - 1))),
              tuple(float(x) for x in rng.uniform(0.5, 2.0, n))]
    agreed = 0
    for args in trials:
        try:
            expected = solution(*args)
        except Exception:  # noqa: BLE001 - not arguments this solution takes
            continue
        try:
            same = np.allclose(np.asarray(candidate(*args), float),
                               np.asarray(expected, float), equal_nan=True)
        except Exception:  # noqa: BLE001 - the solution ran on them, this did not
            return False
        if not same:
            return False
        agreed += 1
    return agreed > 0


def answers_shipped(wheel: Path, bundle: Path) -> list[str]:
    """Functions a student gets that compute what a solution block computes, under any names:
    the block's (or its function's) statements, normalised, among a function's statements,
    when they are large enough to be an answer; smaller ones where the function holding
    them also behaves as the solution does."""
    answers = _solution_answers()
    assert answers
    by_coarse: dict[tuple[str, ...], list[_Answer]] = {}
    for answer in answers:
        by_coarse.setdefault(answer.coarse, []).append(answer)
    lengths = {len(a.coarse) for a in answers}
    found = []
    for module, source in _shipped_sources(wheel, bundle).items():
        for qualname, function in _functions(ast.parse(source)):
            for stmts in _statement_lists(function):
                coarse = [_normal([s], erase=True) for s in stmts]
                for length in lengths:
                    for at in range(len(stmts) - length + 1):
                        for answer in by_coarse.get(tuple(coarse[at:at + length]), []):
                            if _normal(stmts[at:at + length]) != answer.key:
                                continue
                            if answer.size < MIN_NODES and not (
                                    _positional(function) == answer.arity
                                    and _same_behaviour(answer, _shipped_function(
                                        module, qualname, source))):
                                continue
                            found.append(f"{module}.{qualname} computes what "
                                         f"{answer.where} answers ({answer.question})")
    return sorted(set(found))


def test_no_function_a_student_gets_computes_what_a_solution_block_computes(wheel: Path,
                                                                             bundle: Path):
    """The reference answers never ship under another name: no function of the student wheel
    or of the released exercises holds a solution block's statements (or its function's) up
    to the names of things, unless it is one of SHIPPED_ANSWERS, in a module graded code
    cannot import. Names alone (the test above) miss a renamed copy."""
    leaks = []
    for finding in answers_shipped(wheel, bundle):
        shipped = finding.split(" computes what ")[0]
        if shipped in SHIPPED_ANSWERS:
            assert _refused_to_graded_code(shipped.rsplit(".", 1)[0]), shipped
        else:
            leaks.append(finding)
    assert not leaks, "\n".join(leaks)


def test_the_behaviour_test_finds_a_renamed_copy(tmp_path: Path):
    """A helper that is a renamed copy of a solution (ngram_windows, as the grader's
    count-model checks shipped it until issue 23), and a one-line answer wrapped in a helper
    of the same behaviour (perplexity), are found; code that only shares a line is not."""
    wheel = tmp_path / "fake.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("nlpdojo_autograder/topics/fake_counts.py", (
            "import numpy as np\n\n"
            "def _windows(stream, n, bos=0):\n"
            "    \"\"\"The grader's own n-grams.\"\"\"\n"
            "    w = np.lib.stride_tricks.sliding_window_view(stream, n)\n"
            "    return np.ascontiguousarray(w[w[:, -1] != bos], dtype=np.int64)\n\n"
            "def ppl(lp):\n"
            "    lp = np.asarray(lp, dtype=np.float64)\n"
            "    if lp.size == 0:\n"
            "        return float('nan')\n"
            "    return float(np.exp(-np.mean(lp)))\n\n"
            "def moving(values, window):\n"  # normalize's (x - mean) / std, not its job
            "    total = np.cumsum(values)\n"
            "    shifted = np.roll(total, window)\n"
            "    count = np.minimum(np.arange(1, len(values) + 1), window)\n"
            "    return (total - shifted) / count\n"))
    (tmp_path / "exercises").mkdir()
    assert answers_shipped(wheel, tmp_path) == [
        "nlpdojo_autograder.topics.fake_counts._windows computes what "
        "nlpdojo_solutions.language_models.ngrams.ngram_windows answers (ngram_counts)",
        "nlpdojo_autograder.topics.fake_counts.ppl computes what "
        "nlpdojo_solutions.language_models.ngrams.perplexity answers (perplexity)"]
