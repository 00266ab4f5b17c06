"""The course library across topics (issue: the course library), on a two-topic toy course:
topic ``layers`` teaches an affine layer, a loss and an optimizer in ``library/``; topic
``models`` builds a regressor from the affine layer. Graded with the student's affine layer
broken, the regressor's checks still pass (the reference's methods are swapped in, across the
process boundary); as a student release (no reference), they say that ``layers.affine``
blocks them."""

from __future__ import annotations

import importlib
import os
import shutil
import sys
from collections import Counter
from pathlib import Path

import pytest

from nlpdojo import plugins
from nlpdojo_autograder.authoring.markers import strip_solutions
from nlpdojo_autograder.grading.grade import GradeOptions, Listener, grade
from nlpdojo_autograder.grading.runner import Limits

HERE = Path(__file__).parent
PACK = HERE / "course_pack" / "nlpdojo_course_pack"
SOLUTIONS = PACK / "solutions"


@pytest.fixture(scope="module")
def course_site(tmp_path_factory) -> Path:
    site = tmp_path_factory.mktemp("course-site")
    shutil.copytree(PACK, site / PACK.name, ignore=shutil.ignore_patterns("__pycache__"))
    dist = site / "nlpdojo_course_pack-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: nlpdojo-course-pack\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[nlpdojo]\ncourse-pack = nlpdojo_course_pack.plugin\n")
    return site


@pytest.fixture
def course(course_site, monkeypatch):
    """The toy course loaded here and in the grader's workers (and nothing else)."""
    monkeypatch.syspath_prepend(str(course_site))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(course_site), *filter(None, [os.environ.get("PYTHONPATH")])]))
    monkeypatch.setenv(plugins.RESTRICT_ENV, "course-pack")
    importlib.invalidate_caches()
    plugins.reset()
    yield course_site
    plugins.reset()
    for name in [m for m in sys.modules if m.startswith("nlpdojo_course_pack")]:
        del sys.modules[name]


def _submission(root: Path, edits: dict[str, tuple[str, str]] | None = None, *,
                stub: bool = False) -> Path:
    """The course's solutions as a student's folder (library/, layers/, models/)."""
    shutil.copytree(SOLUTIONS, root, ignore=shutil.ignore_patterns("__pycache__"))
    for path in root.rglob("*.py"):
        text = path.read_text()
        if stub:
            text = strip_solutions(text, path)
        rel = path.relative_to(root).as_posix()
        if edits and rel in edits:
            old, new = edits[rel]
            assert old in text, f"{old!r} not in {rel}"
            text = text.replace(old, new)
        path.write_text(text)
    return root


def _grade(topics, submission, **options):
    options.setdefault("limits", Limits(timeout_scale=0.5))
    result = grade(topics, submission=submission, replay_options={},
                   options=GradeOptions(**options))
    return {f"{e.name}.{c.id}": c for e in result.exercises for c in e.checks}


def test_the_reference_earns_full_marks(course):
    checks = _grade(["layers", "models"], None)
    failed = {k: c.message for k, c in checks.items() if c.score < c.max_score}
    assert not failed, "\n".join(f"{k}: {m}" for k, m in failed.items())
    assert {"layers.affine.repeated", "layers.affine.accumulate", "layers.mse.gradients",
            "layers.momentum.torch", "layers.momentum.state", "models.regressor.values"} \
        <= set(checks)


def test_the_solutions_as_a_submission_earn_full_marks(course, tmp_path):
    checks = _grade(["layers", "models"], _submission(tmp_path / "course"))
    failed = {k: c.message for k, c in checks.items() if c.score < c.max_score}
    assert not failed, "\n".join(f"{k}: {m}" for k, m in failed.items())


def test_an_earlier_topics_passed_question_runs_as_the_students_own_in_a_later_topic(
        course, tmp_path):
    """Graded together, layers before models: the student's affine layer passed every check
    of its own, so the regressor's checks run it (no call-backs; ``own_required`` names it).
    Graded alone, models does not grade layers: the affine layer past its stub runs as the
    student's own all the same, and the result holds models alone."""
    submission = _submission(tmp_path / "course")
    together = _grade(["layers", "models"], submission)
    alone = _grade(["models"], submission)
    assert {k.partition(".")[0] for k in alone} == {"models"}
    for checks in (together, alone):
        regressor = {k: c for k, c in checks.items() if k.startswith("models.regressor.")}
        assert regressor
        for key, check in regressor.items():
            assert check.score == check.max_score, (key, check.message)
            assert "layers.affine" in check.details.get("own_required", ()), (key, check.details)
            assert not check.details.get("call_backs"), (key, check.details)


def test_a_topic_folder_submitted_alone_runs_its_library_layers_as_its_own(course, tmp_path):
    """``grade models --submission course/models``: the library beside it is the student's;
    layers has no folder there, and its library questions are graded on that library."""
    alone = _grade(["models"], _submission(tmp_path / "course") / "models")
    values = alone["models.regressor.values"]
    assert values.score == values.max_score, values.message
    assert "layers.affine" in values.details.get("own_required", ()), values.details
    assert not values.details.get("call_backs"), values.details


BROKEN_AFFINE = {"library/layers.py": (
    "return xp.matmul(grad_output, xp.matrix_transpose(self.weight.data))",
    "return xp.matmul(grad_output, xp.matrix_transpose(self.weight.data)) * 2.0")}


def test_a_broken_library_layer_costs_points_once(course, tmp_path):
    """The student's affine backward is wrong: the affine question loses points; the
    regressor, built from it, is graded with the reference's Affine methods swapped in."""
    checks = _grade(["layers", "models"], _submission(tmp_path / "course", BROKEN_AFFINE))
    assert checks["layers.affine.gradients"].score == 0
    assert checks["layers.affine.values"].score == 0
    regressor = {k: c for k, c in checks.items() if k.startswith("models.")}
    assert regressor and all(c.score == c.max_score for c in regressor.values()), \
        "\n".join(f"{k}: {c.message}" for k, c in regressor.items())
    assert all("layers.affine" not in c.details.get("own_required", ())
               for c in regressor.values())


def test_a_broken_library_layer_of_a_topic_not_graded_costs_nothing(course, tmp_path):
    """models graded alone: the regressor's first check that runs the student's broken affine
    backward (of layers, not graded here) loses points and runs again with the reference's
    Affine standing in, whose verdict stands; the checks after it have the reference's Affine
    from the start (one check run twice, not each). Full marks, and no verdict of layers in
    the result."""
    starts = _Starts()
    result = grade(["models"], submission=_submission(tmp_path / "course", BROKEN_AFFINE),
                   replay_options={}, listener=starts,
                   options=GradeOptions(limits=Limits(timeout_scale=0.5)))
    assert [e.name for e in result.exercises] == ["models"]
    checks = {c.id: c for c in result.exercises[0].checks}
    assert checks and all(c.score == c.max_score for c in checks.values()), \
        "\n".join(f"{k}: {c.message}" for k, c in checks.items())
    assert sorted(starts.runs.values()) == [1] * (len(checks) - 1) + [2], starts.runs
    twice = next(k for k, n in starts.runs.items() if n == 2)
    after = list(checks)[list(checks).index(twice) + 1:]
    assert after and all("layers.affine" not in checks[k].details.get("own_required", ())
                         and checks[k].details.get("call_backs", 0) > 0 for k in after), \
        {k: checks[k].details for k in after}


class _Starts(Listener):
    """Counts each check's runs on the submission (a check run again is counted twice), and
    keeps the order they started in."""

    def __init__(self):
        self.runs = Counter()
        self.order = []

    def started(self, topic, check, *, reference=False):
        if not reference:
            self.runs[check.id] += 1
            self.order.append(check.id)


REVERSED_CACHE = {"models/regressor.py": (
    "for layer, c in zip(reversed(self.layers), reversed(cache)",
    "for layer, c in zip(reversed(self.layers), cache")}


def test_a_check_run_again_has_its_verdict_before_the_next_check_starts(course, tmp_path):
    """models graded alone, a bug in the regressor's backward, the student's own affine
    presumed (layers not graded here): the first check to lose points ran that affine, so it
    runs again at once with the reference's standing in, before any later check starts. Its
    verdict, a loss still (the bug is the regressor's), is the one ``until_lost`` (dojo
    verify's planted bugs) settles the question on: no later check of it runs. (Run again
    after all the others, the checks between had all run, a training among them.)"""
    starts = _Starts()
    result = grade(["models"], submission=_submission(tmp_path / "course", REVERSED_CACHE),
                   replay_options={}, listener=starts,
                   options=GradeOptions(limits=Limits(timeout_scale=0.5),
                                        until_lost={"regressor": ""}))
    checks = {c.id: c for e in result.exercises for c in e.checks}
    lost = [k for k, c in checks.items() if c.score < c.max_score]
    assert len(lost) == 1, checks
    (caught,) = lost
    assert "layers.affine" not in checks[caught].details.get("own_required", ())
    assert starts.order[-2:] == [caught, caught], starts.order
    assert starts.runs[caught] == 2 and set(starts.order[:-2]) == set(checks) - {caught}
    every = _grade(["models"], _submission(tmp_path / "every", REVERSED_CACHE))
    assert len(checks) < len(every), "the rerun's verdict came too late to settle the question"




LOOPING_AFFINE = {"library/layers.py": (
    "        return xp.matmul(grad_output, xp.matrix_transpose(self.weight.data))",
    "        while grad_output.shape[0] >= 64:  # the training check's batch, not the others'\n"
    "            pass\n"
    "        return xp.matmul(grad_output, xp.matrix_transpose(self.weight.data))")}


def test_a_library_layer_of_a_topic_not_graded_that_never_returns_costs_nothing(
        course, tmp_path):
    """models graded alone: the student's affine backward never returns on the training
    check's batch; that check, run on it, is stopped at its time limit and run again with the
    reference's Affine (nothing graded that layer here: a time-out on it is not the
    regressor's), whose verdict stands."""
    checks = _grade(["models"], _submission(tmp_path / "course", LOOPING_AFFINE),
                    limits=Limits(timeout_scale=0.05))
    assert all(c.score == c.max_score for c in checks.values()), \
        "\n".join(f"{k}: {c.message}" for k, c in checks.items())
    fit = checks["models.regressor.loss"]
    assert "layers.affine" not in fit.details.get("own_required", ()), fit.details
    assert "layers.affine" in checks["models.regressor.values"].details["own_required"]

def test_a_library_layer_left_as_its_stub_has_the_reference_standing_in_at_once(
        course, tmp_path):
    """models graded alone with library/layers.py as released (its stubs): the affine layer is
    not run as the student's own, so no check of the regressor runs twice (a stub would lose
    every point there and be graded again with the reference)."""
    submission = _submission(tmp_path / "course")
    layers = submission / "library" / "layers.py"
    layers.write_text(strip_solutions(layers.read_text(), layers))

    starts = _Starts()
    result = grade(["models"], submission=submission, replay_options={}, listener=starts,
                   options=GradeOptions(limits=Limits(timeout_scale=0.5)))
    checks = {c.id: c for e in result.exercises for c in e.checks}
    assert all(c.score == c.max_score for c in checks.values()), \
        "\n".join(f"{k}: {c.message}" for k, c in checks.items())
    assert starts.runs and set(starts.runs.values()) == {1}, starts.runs
    assert "layers.affine" not in checks["regressor.values"].details.get("own_required", ())

def test_a_bug_in_the_model_is_caught_with_the_reference_layer_in_place(course, tmp_path):
    bug = {"models/regressor.py": ("for layer, c in zip(reversed(self.layers), reversed(cache)",
                                   "for layer, c in zip(reversed(self.layers), cache")}
    checks = _grade(["models"], _submission(tmp_path / "course", bug))
    assert checks["models.regressor.gradients"].score == 0


def test_state_kept_on_self_fails_the_repeated_application_check(course, tmp_path):
    """A layer that keeps its input on self (the old contract) is exact once and wrong when it
    is applied several times before backward."""
    on_self = {"library/layers.py": ("        return y, (x,)", "        self._x = x\n"
                                     "        return y, (x,)"),
               }
    on_self_backward = ("        (x,) = cache\n", "        x = self._x\n")
    root = _submission(tmp_path / "course", on_self)
    path = root / "library" / "layers.py"
    path.write_text(path.read_text().replace(*on_self_backward, 1))
    checks = _grade(["layers"], root)
    assert checks["layers.affine.gradients"].score == checks["layers.affine.gradients"].max_score
    assert checks["layers.affine.repeated"].score == 0
    assert "cache" in checks["layers.affine.repeated"].message


def test_a_student_release_names_the_question_that_blocks(course, tmp_path, monkeypatch):
    """Without the reference nothing stands in for layers.affine: the regressor's checks fail
    with the student's broken layer and say that layers.affine blocks them."""
    root = _submission(tmp_path / "course", BROKEN_AFFINE)
    checks = _grade(["layers", "models"], root, use_reference=False)
    failing = {k: c for k, c in checks.items() if k.startswith("models.") and
               c.score < c.max_score}
    assert failing
    for c in failing.values():
        assert "blocked by layers.affine" in c.message, c.message


def test_a_student_release_names_a_required_question_the_run_did_not_grade(course, tmp_path):
    """Grading models alone, without the reference: a failing regressor check runs the
    student's own layers.affine, which this run did not grade; the message says so, and to
    fix it first if it fails its own checks (it said "grade it too" to a student who just
    had, and had passed)."""
    root = _submission(tmp_path / "course", BROKEN_AFFINE)
    checks = _grade(["models"], root, use_reference=False)
    failing = [c for k, c in checks.items() if c.score < c.max_score]
    assert failing
    for c in failing:
        assert "blocked by" not in c.message
        assert "this check runs your own layers.affine" in c.message, c.message
        assert "which this run did not grade: if it fails its own checks, fix that first" in (
            c.message)


def test_training_runs_on_the_reference_optimizer_when_the_students_is_broken(course, tmp_path):
    """The regressor's metric check trains with the given loop, which uses the library's loss
    and optimizer: a broken Momentum costs points on layers.momentum only."""
    bug = {"library/optim.py": ("p.data = p.data - self.lr * v", "p.data = p.data + self.lr * v")}
    checks = _grade(["layers", "models"], _submission(tmp_path / "course", bug))
    assert checks["layers.momentum.trajectory"].score == 0
    assert checks["layers.momentum.torch"].score == 0
    fit = checks["models.regressor.loss"]
    assert fit.kind == "metric" and fit.score == fit.max_score, fit.message


def test_dependencies_are_computed_transitively(course):
    from nlpdojo_autograder.authoring.questions import QuestionError, closure, resolve, swap_in

    models = plugins.get_registry().get("exercise", "models")
    check = models.check("regressor.values")
    assert swap_in(models, check) == ("layers.affine", "layers.momentum", "layers.mse")
    assert closure("models.regressor") == {"layers.affine", "layers.momentum", "layers.mse"}
    assert resolve("affine", [plugins.get_registry().get("exercise", n)
                              for n in ("layers", "models")]) == "layers.affine"
    with pytest.raises(QuestionError, match="unknown question"):
        resolve("layers.nope", [models])


def test_a_library_edit_reruns_exactly_the_checks_that_import_it(course, tmp_path):
    """grade's incremental cache across topics: editing library/losses.py reruns the loss's
    checks and the regressor's training (its given loop imports the loss), nothing else."""
    from nlpdojo_autograder.grading.gradecache import GradeCache

    root = _submission(tmp_path / "course")

    def rerun() -> set[str]:
        result = grade(["layers", "models"], submission=root, replay_options={},
                       options=GradeOptions(cache=GradeCache(root, tmp_path / "cache")))
        assert result.score == result.max_score
        return {f"{e.name}.{c.id}" for e in result.exercises for c in e.checks if not c.cached}

    every = rerun()
    assert rerun() == set()
    losses = root / "library" / "losses.py"
    losses.write_text(losses.read_text() + "\n# edited\n")
    again = rerun()
    assert again == {k for k in every if k.startswith(("layers.mse.", "models.regressor.loss"))}
    assert any(k.startswith("layers.mse.") for k in again)
    assert "models.regressor.loss" in again


REEXPORT = ('"""The toy course library, one namespace."""\n\nfrom nlpdojo.exports import '
            "reexport\n\n__getattr__, __dir__ = reexport(__name__)\n")


def _from_the_package(root: Path) -> Path:
    """The submission with a library that re-exports (nlpdojo.exports) and models that
    import its names from it: ``from ..library import Affine, Tanh``."""
    (root / "library" / "__init__.py").write_text(REEXPORT)
    for module, names in (("layers", ["Affine", "Tanh"]), ("losses", ["MSE"]),
                          ("optim", ["Momentum"])):
        path = root / "library" / f"{module}.py"
        path.write_text(path.read_text() + f"\n__all__ = {names!r}\n")
    for rel, old, new in (
            ("models/regressor.py", "from ..library.layers import Affine, Tanh",
             "from ..library import Affine, Tanh"),
            ("models/train.py", "from ..library.losses import MSE\n"
                                "from ..library.optim import Momentum",
             "from ..library import MSE, Momentum")):
        path = root / rel
        assert old in path.read_text()
        path.write_text(path.read_text().replace(old, new))
    return root


def test_names_imported_from_the_package_are_swapped_in_like_the_modules(course, tmp_path):
    """The student's broken Affine costs points on layers.affine only: the regressor, which
    imports Affine from the package, runs with the reference's methods."""
    root = _from_the_package(_submission(tmp_path / "course", BROKEN_AFFINE))
    checks = _grade(["layers", "models"], root)
    assert checks["layers.affine.gradients"].score == 0
    regressor = {k: c for k, c in checks.items() if k.startswith("models.")}
    assert regressor and all(c.score == c.max_score for c in regressor.values()), \
        "\n".join(f"{k}: {c.message}" for k, c in regressor.items())


def test_a_library_edit_reruns_the_checks_that_import_its_names_from_the_package(course,
                                                                                 tmp_path):
    """As above, through ``from ..library import MSE``: editing library/losses.py reruns the
    loss's checks and the regressor's training, nothing else."""
    from nlpdojo_autograder.grading.gradecache import GradeCache

    root = _from_the_package(_submission(tmp_path / "course"))

    def rerun() -> set[str]:
        result = grade(["layers", "models"], submission=root, replay_options={},
                       options=GradeOptions(cache=GradeCache(root, tmp_path / "cache")))
        assert result.score == result.max_score
        return {f"{e.name}.{c.id}" for e in result.exercises for c in e.checks if not c.cached}

    every = rerun()
    assert rerun() == set()
    losses = root / "library" / "losses.py"
    losses.write_text(losses.read_text() + "\n# edited\n")
    assert rerun() == {k for k in every if k.startswith(("layers.mse.", "models.regressor.loss"))}
