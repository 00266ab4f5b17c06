"""``grade``'s incremental cache: what is reused, and that a changed input never keeps an old
verdict (a changed file reruns exactly its checks, a changed grader reruns everything)."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nlpdojo_autograder.cli.grade import app
from nlpdojo_autograder.course.store import Course
from nlpdojo_autograder.grading import gradecache

runner = CliRunner()
SCALE = ("scale.values", "scale.workdir")
QUADRATIC = ("quadratic.values", "quadratic.gradient", "quadratic.descent", "quadratic.hidden")


def graded(folder, tmp_path, *extra: str) -> dict[str, dict]:
    """Grade ``folder`` on the toy topic (fixed seeds), the checks by id."""
    out = tmp_path / "r.json"
    result = runner.invoke(app, ["toy", "--submission", str(folder), "--seed", "0", "-f", "json",
                                 "-o", str(out), *extra], catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output
    data = json.loads(out.read_text())
    return {c["id"]: c for e in data["exercises"] for c in e["checks"]}


def cached(checks: dict[str, dict]) -> set[str]:
    return {cid for cid, c in checks.items() if c["cached"]}


def test_an_unchanged_submission_reuses_every_verdict(toy, make_submission, tmp_path):
    folder = make_submission()
    first = graded(folder, tmp_path)
    assert cached(first) == set()
    second = graded(folder, tmp_path)
    assert cached(second) == set(SCALE + QUADRATIC)
    for cid, check in first.items():  # the same verdicts, only marked as reused
        assert {k: v for k, v in second[cid].items() if k != "cached"} == \
            {k: v for k, v in check.items() if k != "cached"}


def test_a_changed_file_reruns_exactly_the_checks_that_load_it(toy, make_submission, tmp_path):
    folder = make_submission()
    graded(folder, tmp_path)
    quadratic = folder / "toy" / "quadratic.py"
    quadratic.write_text(quadratic.read_text() + "\n# edited\n")
    assert cached(graded(folder, tmp_path)) == set(SCALE)  # scale.py does not import it
    scale = folder / "toy" / "scale.py"
    scale.write_text(scale.read_text() + "\n# edited\n")
    assert cached(graded(folder, tmp_path)) == set()  # quadratic.py imports scale.py


def test_a_broken_file_never_keeps_its_old_pass(toy, make_submission, tmp_path):
    folder = make_submission()
    assert graded(folder, tmp_path)["scale.values"]["status"] == "passed"
    scale = folder / "toy" / "scale.py"
    scale.write_text(scale.read_text().replace("xp.multiply(x, k)", "xp.add(x, k)"))
    again = graded(folder, tmp_path)
    assert again["scale.values"]["status"] == "failed"
    assert not again["scale.values"]["cached"]


def test_a_changed_grader_reruns_everything(toy, make_submission, tmp_path, monkeypatch):
    folder = make_submission()
    graded(folder, tmp_path)
    assert cached(graded(folder, tmp_path)) == set(SCALE + QUADRATIC)
    real = gradecache.versions
    monkeypatch.setattr(gradecache, "versions", lambda backend: {**real(backend), "nlpdojo": "9"})
    gradecache.grader_fingerprint.cache_clear()
    try:
        assert cached(graded(folder, tmp_path)) == set()
    finally:
        gradecache.grader_fingerprint.cache_clear()


def test_the_grader_fingerprint_follows_its_source(tmp_path, monkeypatch):
    package = tmp_path / "fake_grader_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(gradecache, "GRADER_PACKAGES", ("fake_grader_pkg",))
    gradecache.grader_fingerprint.cache_clear()
    before = gradecache.grader_fingerprint("numpy")
    (package / "__init__.py").write_text("X = 2\n")
    gradecache.grader_fingerprint.cache_clear()
    try:
        assert gradecache.grader_fingerprint("numpy") != before
    finally:
        gradecache.grader_fingerprint.cache_clear()


def test_a_plugin_put_on_the_path_later_is_part_of_the_grader(toy_site, monkeypatch):
    """A process that computed the fingerprint before a plugin's site was on its path (an
    earlier test in the same pytest worker; a cohort's grader) and its children started with
    the site agree on it: once the fingerprint was kept per backend alone, and a cohort's
    children then read none of the expected outcomes their parent stored for them (the store's
    key holds the fingerprint: test_expected_store's cohort test failed that way, by the order
    pytest-xdist ran the tests in)."""
    # an earlier test of this worker may have computed it at this very path before the toy
    # site's fixtures were written into it (toy_fixtures): start from what is there now
    gradecache.grader_fingerprint.cache_clear()
    without = gradecache.grader_fingerprint("numpy")
    monkeypatch.syspath_prepend(str(toy_site))
    importlib.invalidate_caches()
    with_site = gradecache.grader_fingerprint("numpy")
    assert with_site != without
    fresh = subprocess.run(
        [sys.executable, "-c", "from nlpdojo_autograder.grading.gradecache import "
         "grader_fingerprint; print(grader_fingerprint('numpy'))"],
        capture_output=True, text=True, check=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(toy_site), *filter(None, [os.environ.get("PYTHONPATH")])])})
    assert fresh.stdout.strip() == with_site


def test_other_seeds_backends_and_options_do_not_reuse(toy, make_submission, tmp_path):
    folder = make_submission()
    graded(folder, tmp_path)
    assert cached(graded(folder, tmp_path, "--timeout-scale", "2")) == set()
    # value and gradient checks draw their inputs from the seed; so does the training run
    out = tmp_path / "s.json"
    runner.invoke(app, ["toy", "-s", str(folder), "--seed", "1", "-f", "json", "-o", str(out)])
    assert not any(c["cached"] for e in json.loads(out.read_text())["exercises"]
                   for c in e["checks"])


def test_errors_are_not_cached_and_no_cache_runs_all(toy, make_submission, tmp_path):
    folder = make_submission({"scale": ("return xp.multiply(x, k)",
                                        "raise ValueError('boom')")})
    graded(folder, tmp_path)
    second = graded(folder, tmp_path)
    assert second["scale.values"]["status"] == "error" and not second["scale.values"]["cached"]
    assert cached(graded(folder, tmp_path, "--no-cache")) == set()


@pytest.mark.parametrize(("value", "reused"), [("true", False), ("1", False), ("false", True),
                                               ("", True)])
def test_a_ci_job_reuses_no_verdict(toy, make_submission, tmp_path, monkeypatch, value,
                                    reused):
    """A CI job's grading counts: the README's CI command (no --no-cache) reused the verdicts
    a runner's kept ~/.cache held. CI services set $CI."""
    folder = make_submission()
    graded(folder, tmp_path)
    monkeypatch.setenv("CI", value)
    assert bool(cached(graded(folder, tmp_path))) is reused


def test_the_table_says_what_came_from_the_cache(toy, make_submission):
    folder = make_submission()
    runner.invoke(app, ["toy", "-s", str(folder), "--seed", "0"])
    result = runner.invoke(app, ["toy", "-s", str(folder), "--seed", "0"])
    assert "(cached)" in result.output
    # (rich wraps the total line at the terminal's width: compare with the line breaks undone)
    assert "6 unchanged, from the cache; --no-cache runs all" in " ".join(result.output.split())


def test_cohort_grading_never_uses_the_cache(toy, make_submission, tmp_path):
    make_submission(name="cohort/alice")
    for _ in range(2):
        result = runner.invoke(app, ["toy", "--submissions", str(tmp_path / "cohort"),
                                     "--seed", "0", "-o", str(tmp_path / "out")])
        assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "out" / "alice" / "result.json").read_text())
    assert not any(c["cached"] for e in data["exercises"] for c in e["checks"])
    assert not any(gradecache.default_root().rglob("*.json"))


def _toy_course(tmp_path, monkeypatch) -> None:
    """A course at ``tmp_path / "course.db"``, its assignment a1 the toy's two questions, its
    roster one student, s1 (login ann); no ``$NLPDOJO_COURSE``."""
    from nlpdojo_autograder.course.roster import import_roster
    from nlpdojo_autograder.course.store import COURSE_ENV
    from tests.course.helpers import TABLE, make_course

    monkeypatch.delenv(COURSE_ENV, raising=False)
    table = {**TABLE, "assignments": [{**TABLE["assignments"][0],
                                       "questions": ["toy.scale", "toy.quadratic"]}]}
    with make_course(tmp_path, table) as course:
        (tmp_path / "r.csv").write_text("id,name,email,login\ns1,Ann,ann@x.edu,ann\n")
        import_roster(course, tmp_path / "r.csv")


def test_a_grading_recorded_as_an_attempt_reuses_nothing(toy, make_submission, tmp_path,
                                                          monkeypatch):
    """A trial's finding (round 4): ``grade --student S --course C`` served "passed (cached)"
    verdicts and recorded them as the attempt. A grading that counts reuses nothing (and
    stores nothing a later run of the student's could take)."""
    _toy_course(tmp_path, monkeypatch)
    folder = make_submission()
    runner.invoke(app, ["toy", "-s", str(folder), "--seed", "5"])  # the student's own run
    for when in ("2027-01-20T10:00:00Z", "2027-01-20T11:00:00Z"):
        out = tmp_path / "rec.json"
        result = runner.invoke(app, [
            "-s", str(folder), "--seed", "5", "--student", "s1", "--assignment", "a1",
            "--submitted-at", when, "--course", str(tmp_path / "course.db"), "-f", "json",
            "-o", str(out)])
        assert result.exit_code == 0, result.output
        assert "recorded" in result.output
        data = json.loads(out.read_text())
        assert not any(c["cached"] for e in data["exercises"] for c in e["checks"])


def test_a_report_over_the_course_file_is_refused_before_grading(toy, make_submission,
                                                                  tmp_path, monkeypatch):
    """An instructor's finding: ``grade -s F --student S --course C -o C`` recorded the
    attempt and then wrote the JSON report over the course file (exit 0). Refused before
    grading now, the record as it was, nothing recorded."""
    _toy_course(tmp_path, monkeypatch)
    folder = make_submission()
    course = tmp_path / "course.db"
    before = course.read_bytes()
    result = runner.invoke(app, [
        "-s", str(folder), "--seed", "5", "--student", "s1", "--assignment", "a1",
        "--submitted-at", "2027-01-20T10:00:00Z", "--course", str(course), "-f", "json",
        "-o", str(course)])
    assert result.exit_code == 2, result.output
    assert "is part of course" in result.output and "recorded" not in result.output
    assert course.read_bytes()[:16] == b"SQLite format 3\x00"
    with Course.open(course) as opened:
        assert not opened.conn.execute("SELECT COUNT(*) FROM attempts").fetchone()[0]
    assert len(before) > 0


def test_fresh_inputs_are_never_stored_but_training_is_reused(toy, make_submission, tmp_path):
    """Where the reference is present and no --seed is given, value and gradient checks draw
    fresh inputs each run: only the checks seeded by the base seed can be reused."""
    folder = make_submission()

    def run() -> dict[str, dict]:
        out = tmp_path / "f.json"
        runner.invoke(app, ["toy", "-s", str(folder), "-f", "json", "-o", str(out)])
        return {c["id"]: c for e in json.loads(out.read_text())["exercises"]
                for c in e["checks"]}

    run()
    assert cached(run()) == {"quadratic.descent"}  # the metric (workdir compares with the
    # reference's payload, so its inputs are fresh too)


def test_the_student_view_and_the_default_view_keep_their_own_entries(toy_fixtures,
                                                                      make_submission,
                                                                      tmp_path):
    folder = make_submission()
    public = set(SCALE + QUADRATIC) - {"quadratic.hidden"}
    out = tmp_path / "a.json"

    def as_student() -> set[str]:
        runner.invoke(app, ["toy", "-s", str(folder), "--as-student", "-f", "json", "-o",
                            str(out)])
        return cached({c["id"]: c for e in json.loads(out.read_text())["exercises"]
                       for c in e["checks"]})

    assert as_student() == set()
    assert cached(graded(folder, tmp_path)) == set()  # another context: the reference
    assert as_student() == public
    assert cached(graded(folder, tmp_path)) == set(SCALE + QUADRATIC)


def test_a_check_reading_a_shared_run_depends_on_what_filled_it():
    """Two metric checks measure one training run: the second makes no call itself but
    depends on the modules the first reached."""
    from nlpdojo_autograder.grading.runner import TrackedCache

    cache = TrackedCache()
    first = cache.begin()
    first.add("train")
    cache["run"] = 1.0
    second = cache.begin()
    assert "run" in cache and cache["run"] == 1.0 and cache.get("run") == 1.0
    assert second == {"train"}
    third = cache.begin()
    assert cache.get("other") is None and third == set()


#: code that reads a data file of its folder: plainly, and by a route no list of names sees
DATA_READERS = {
    "open": ("from pathlib import Path\n",
             "float(open(Path(__file__).parent / 'factor.txt').read())"),
    "getattr": ("import numpy as np\n",
                "float(getattr(np, 'load' + 'txt')(scale.__code__.co_filename.rsplit('/', 1)[0]"
                " + '/factor.txt'))"),
}


@pytest.mark.parametrize("reader", list(DATA_READERS))
def test_a_changed_data_file_never_keeps_an_old_pass(toy, make_submission, tmp_path,
                                                     monkeypatch, reader):
    """A function whose result depends on a file of its folder: after the file changes, the
    check runs again and fails (the "getattr" route kept its cached pass before the data
    files were inputs of every check)."""
    monkeypatch.setenv("NLPDOJO_CODE_RULES", "off")  # the cache, behind the rules
    imports, read = DATA_READERS[reader]
    folder = make_submission({"scale": ("return xp.multiply(x, k)",
                                        f"return xp.multiply(x, k * {read})")})
    scale = folder / "toy" / "scale.py"
    scale.write_text(imports + scale.read_text())
    data = folder / "toy" / "factor.txt"
    data.write_text("1.0\n")
    assert graded(folder, tmp_path)["scale.values"]["status"] == "passed"
    assert graded(folder, tmp_path)["scale.values"]["cached"]
    data.write_text("2.0\n")  # now scale(x, k) is x * 2k
    again = graded(folder, tmp_path)
    assert not again["scale.values"]["cached"]
    assert again["scale.values"]["status"] == "failed"
    assert not any(c["cached"] for c in again.values())  # data: an input of every check


@pytest.mark.parametrize("route", ["np.fromregex", "linecache.getline"])
def test_a_module_read_as_data_never_keeps_an_old_pass(toy, make_submission, tmp_path,
                                                       monkeypatch, route):
    """An attacker's scale read its factor from another module's source (switch.py, imported
    by nothing) with ``np.fromregex``, a route the list of file readers missed: after
    switch.py changed, the cached pass stayed. Such a route makes the module reach every
    file."""
    monkeypatch.setenv("NLPDOJO_CODE_RULES", "off")  # the cache, behind the rules
    where = "scale.__code__.co_filename.rsplit('/', 1)[0] + '/switch.py'"
    read = {"np.fromregex": f"float(np.fromregex({where}, r'MODE = (\\S+)', [('m', float)])"
                            "['m'][0])",
            "linecache.getline": f"float(linecache.getline({where}, 1).split('=')[1])"}[route]
    folder = make_submission({"scale": ("return xp.multiply(x, k)",
                                        f"return xp.multiply(x, k * {read})")})
    scale = folder / "toy" / "scale.py"
    scale.write_text("import linecache\n\nimport numpy as np\n" + scale.read_text())
    switch = folder / "toy" / "switch.py"
    switch.write_text("MODE = 1.0\n")
    assert graded(folder, tmp_path)["scale.values"]["status"] == "passed"
    assert graded(folder, tmp_path)["scale.values"]["cached"]
    switch.write_text("MODE = 2.0\n")
    again = graded(folder, tmp_path)
    assert not again["scale.values"]["cached"]
    assert again["scale.values"]["status"] == "failed"


def test_files_the_worker_does_not_receive_change_nothing(toy, make_submission, tmp_path):
    """A notebook or an array file next to the code is not copied to the worker (the code
    under test cannot read it): editing it reuses every verdict."""
    folder = make_submission()
    graded(folder, tmp_path)
    (folder / "toy" / "scratch.ipynb").write_text("{}")
    (folder / "toy" / "weights.npy").write_bytes(b"\x93NUMPY")
    assert cached(graded(folder, tmp_path)) == set(SCALE + QUADRATIC)


def test_the_cache_knows_which_files_the_worker_receives():
    """deps.RECEIVED_SUFFIXES is what remote.py copies into the worker's folder (the loader's
    CODE_SUFFIXES, which the course record keeps too)."""
    from nlpdojo_autograder.grading import deps
    from nlpdojo_autograder.runtime import loader

    assert deps.RECEIVED_SUFFIXES is loader.CODE_SUFFIXES


def test_state_an_earlier_check_left_never_keeps_an_old_pass(toy, make_submission, tmp_path):
    """One worker runs the checks in turn: scale's code appends to a list in state.py that
    quadratic's loss reads (and quadratic.py imports no module of scale's). After scale.py
    stopped appending, quadratic's cached pass stayed, though graded afresh it fails: a check
    that reaches a module keeping state depends on every module that can reach it too."""
    folder = make_submission({
        "scale": ("from array_api_compat import array_namespace\n",
                  "from array_api_compat import array_namespace\n\nfrom .state import SEEN\n"),
        "quadratic": ("from .scale import scale\n", "from .state import SEEN\n")})
    (folder / "toy" / "state.py").write_text("SEEN: list = []\n")
    scale, quadratic = folder / "toy" / "scale.py", folder / "toy" / "quadratic.py"
    scale.write_text(scale.read_text().replace("    return xp.multiply(x, k)",
                                               "    SEEN.append(1)\n    return xp.multiply(x, k)"))
    quadratic.write_text(quadratic.read_text().replace(
        "scale(W, 2.0)", "(2.0 * W)").replace(
        "loss = 0.5 * float(xp.sum(y * y))",
        "loss = 0.5 * float(xp.sum(y * y)) + (0 if SEEN else 1)"))
    first = graded(folder, tmp_path)
    assert first["quadratic.values"]["status"] == "passed", first["quadratic.values"]["message"]
    scale.write_text(scale.read_text().replace("    SEEN.append(1)\n", ""))
    again = graded(folder, tmp_path)
    assert not again["quadratic.values"]["cached"]
    assert again["quadratic.values"]["status"] == "failed"


def test_a_grading_for_a_course_at_the_release_seed_is_refused_before_grading(
        toy, make_submission, tmp_path, monkeypatch):
    """Round 5: ``grade --course ... --seed 0`` recorded gradings at the input seed whose
    answers the student release ships (a memorised answer: 3 of 4 there, 0 of 4 fresh)."""
    _toy_course(tmp_path, monkeypatch)
    result = runner.invoke(app, ["-s", str(make_submission()), "--seed", "0", "--student",
                                 "s1", "--assignment", "a1", "--course",
                                 str(tmp_path / "course.db")])
    assert result.exit_code == 2 and "input seed 0 is the student release's" in " ".join(
        result.output.split()), result.output



@pytest.mark.parametrize("change, read", [
    ("np.set_printoptions(edgeitems=7)", "np.get_printoptions()['edgeitems'] == 7"),
    ("np.random.seed(7)", "np.random.get_state()[1][0] == 7"),
    # the setter kept under another name (a name made at run time, getattr(np, "set_" + x),
    # is refused by the code rules before it runs)
    ("show = np.set_printoptions; show(edgeitems=7)", "np.get_printoptions()['edgeitems'] == 7")])
def test_state_a_library_keeps_never_keeps_an_old_pass(toy, make_submission, tmp_path,
                                                        change, read):
    """Round 6: scale's code set numpy's print options, which quadratic's loss read (and
    quadratic.py imports no module of scale's); after scale.py stopped, quadratic's cached
    pass stayed, though graded afresh it fails. A module that changes a library's state is a
    dependency of every check."""
    folder = make_submission({"quadratic": ("from .scale import scale\n",
                                            "import numpy as np\n")})
    scale, quadratic = folder / "toy" / "scale.py", folder / "toy" / "quadratic.py"
    scale.write_text("import numpy as np\n" + scale.read_text().replace(
        "    return xp.multiply(x, k)", f"    {change}\n    return xp.multiply(x, k)"))
    quadratic.write_text(quadratic.read_text().replace(
        "scale(W, 2.0)", "(2.0 * W)").replace(
        "loss = 0.5 * float(xp.sum(y * y))",
        f"loss = 0.5 * float(xp.sum(y * y)) + (0 if {read} else 1)"))
    first = graded(folder, tmp_path)
    assert first["quadratic.values"]["status"] == "passed", first["quadratic.values"]["message"]
    scale.write_text(scale.read_text().replace(f"    {change}\n", ""))
    again = graded(folder, tmp_path)
    assert not again["quadratic.values"]["cached"]
    assert again["quadratic.values"]["status"] == "failed"


def test_a_given_module_depends_on_what_the_instructors_copy_imports(tmp_path):
    """A check that runs given code reaches what the instructor's copy imports, resolved in
    the submission, whatever the submission's own copy says (it never runs)."""
    from nlpdojo_autograder.grading.deps import Course

    topic, library = tmp_path / "nn", tmp_path / "library"
    for folder in (topic, library):
        folder.mkdir()
        (folder / "__init__.py").write_text("")
    (topic / "window.py").write_text("def classify(x):\n    return x\n")
    (library / "optim.py").write_text("def step(p):\n    return p\n")
    (topic / "tagger.py").write_text('"""emptied by the student"""\n')
    instructors = "from ..library.optim import step\nfrom .window import classify\n"
    own = {f for f in Course(topic).dependencies({"tagger"}).files}
    ran = {f for f in Course(topic, {"tagger": instructors}).dependencies({"tagger"}).files}
    assert "nn/window.py" not in own and "library/optim.py" not in own
    assert {"nn/window.py", "library/optim.py", "nn/tagger.py"} <= ran
    (topic / "tagger.py").unlink()  # deleted: the instructor's still runs, and imports them
    gone = Course(topic, {"tagger": instructors}).dependencies({"tagger"}).files
    assert gone["nn/tagger.py"] is None and {"nn/window.py", "library/optim.py"} <= set(gone)


@pytest.mark.parametrize("given_copy", ["emptied", "deleted"])
def test_a_given_module_emptied_or_deleted_keeps_no_training_pass(tmp_path, monkeypatch,
                                                                  given_copy):
    """An adversarial student's wrong pass (round 4): with the submission's copy of the given
    tagger emptied (or absent: uploading only one's own files), the cache took pos_tagging's
    training check to depend on that file alone, and after window.py and library/optim.py
    went back to the released stubs it still gave 3/3 "(cached)" where a fresh grading gives
    0. Wherever the cache persists between CI runs (a self-hosted runner, a cached
    ~/.cache), that is points for code the submission no longer holds."""
    repo = Path(__file__).resolve().parents[2]
    sub = tmp_path / "sub"
    for name in ("neural_networks", "library"):
        shutil.copytree(repo / "solutions" / name, sub / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    tagger = sub / "neural_networks" / "tagger.py"
    tagger.write_text('"""Given code (the grader sends its own copy)."""\n') \
        if given_copy == "emptied" else tagger.unlink()
    monkeypatch.setenv(gradecache.ROOT_ENV, str(tmp_path / "cache"))

    def accuracy() -> dict:
        out = tmp_path / "r.json"
        done = runner.invoke(app, ["pos_tagging", "--submission", str(sub), "--seed", "0",
                                   "-f", "json", "-o", str(out)], catch_exceptions=False)
        assert done.exit_code in (0, 1), done.output
        data = json.loads(out.read_text())
        return {c["id"]: c for e in data["exercises"] for c in e["checks"]}[
            "pos_tagging.accuracy"]

    first = accuracy()
    assert first["status"] == "passed" and not first["cached"], first
    for name in ("neural_networks/window.py", "library/optim.py"):
        shutil.copy(repo / "exercises" / name, sub / name)
    second = accuracy()
    assert not second["cached"] and second["score"] == 0, second
