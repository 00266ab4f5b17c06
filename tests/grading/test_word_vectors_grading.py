"""The built-in topic ``word_vectors`` through the real grader: the issue's "done when"."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nlpdojo.plugins import get_registry
from nlpdojo_autograder.cli.grade import app
from nlpdojo_autograder.grading.grade import grade
from nlpdojo_autograder.release.verify import BASELINE_STEP, GIVEN_STEP, REQUIRES_STEP, verify
from tests.grading.courses import run_options, slow_only, trained_questions

#: the course's own topics: the reference's expected outcomes are shared (tests/conftest.py)
pytestmark = pytest.mark.shared_expected

REPO = Path(__file__).resolve().parents[2]
EXERCISES = REPO / "exercises"


def _grade(submission, **options):
    return grade(["word_vectors"], submission=submission, options=run_options(**options),
                 replay_options={})


def test_solutions_full_marks_numpy():
    result = _grade(None)
    assert result.score == result.max_score > 0
    assert all(c.status == "passed" for _, c in result.checks())


#: graded on torch in the slow runs only (word2vec's training run on torch's small operations:
#: most of this topic's torch test); neural_networks' window tagger trains on torch in every run
SLOW_ON_TORCH = ("training",)


def _on_torch(slow: bool) -> frozenset[str]:
    return trained_questions("word_vectors", SLOW_ON_TORCH, in_slow=slow)


@pytest.mark.torch
def test_solutions_full_marks_torch():
    """Every question on torch but :data:`SLOW_ON_TORCH`'s (the test below)."""
    pytest.importorskip("torch")
    result = _grade(None, backend="torch", questions=_on_torch(False))
    assert result.score == result.max_score > 0, [c.message for _, c in result.checks()
                                                  if not c.passed]
    assert {c.question for _, c in result.checks()} == {
        q.split(".", 1)[1] for q in _on_torch(False)}


@pytest.mark.torch
@pytest.mark.seeded  # the trained metrics' held-out draws
@pytest.mark.slow
@slow_only("15 s")
def test_the_training_run_earns_full_marks_on_torch():
    pytest.importorskip("torch")
    result = _grade(None, backend="torch", questions=_on_torch(True))
    assert result.score == result.max_score > 0, [c.message for _, c in result.checks()
                                                  if not c.passed]
    assert "metric" in {c.kind for _, c in result.checks()}


def test_released_exercises_score_zero_and_say_not_implemented(tmp_path):
    copy = tmp_path / "exercises"
    shutil.copytree(EXERCISES, copy)
    result = CliRunner().invoke(app, ["word_vectors", "--submission", str(copy), "-f", "json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["score"] == 0 < report["max_score"]
    assert [e["name"] for e in report["exercises"]] == ["word_vectors"]
    for _, check in _grade(copy).checks():
        assert check.status == "not_implemented" and check.score == 0
        assert "not implemented" in check.message


def test_student_release_grades_from_fixtures(tmp_path):
    """Without solutions: fixtures give the expected values and hidden checks are left out
    (the topic's hidden checks read from its declaration: a grading with the reference present
    grades every declared check)."""
    exercise = get_registry().get("exercise", "word_vectors")
    hidden = {c.id for c in exercise.checks if c.hidden}
    assert hidden, "word_vectors should keep some checks hidden"
    folder = tmp_path / "sub"
    shutil.copytree(Path(__import__("nlpdojo_solutions.word_vectors").word_vectors.__file__)
                    .parent, folder / "word_vectors")
    student = _grade(folder, use_reference=False)
    assert {c.id for _, c in student.checks()} & hidden == set()
    assert student.score == student.max_score, [c.message for _, c in student.checks()
                                                if not c.passed]


#: a newcomer's naive_softmax: right, but its one-hot vector a Python list over the vocabulary
ONE_HOT_LIST = (
    "    delta = y_hat * 1.0  # (V,)  a copy: y_hat - y\n"
    "    delta[outside_idx] -= 1.0\n",
    "    y = xp.asarray([1.0 if i == outside_idx else 0.0 for i in range(scores.shape[0])],\n"
    "                   dtype=scores.dtype, device=scores.device)\n"
    "    delta = y_hat - y\n")


def test_a_release_and_as_student_grade_alike_and_the_loop_is_named_at_submission(tmp_path):
    """``--as-student`` loaded the reference still, and the run at scale compared against it:
    0/5 where the release (no reference) gave 5/5. It grades as the release now; the
    grading with the reference fails the loop at scale, naming its line, not calling it
    numerical differentiation (a newcomer's findings)."""
    folder = tmp_path / "sub"
    shutil.copytree(Path(__import__("nlpdojo_solutions.word_vectors").word_vectors.__file__)
                    .parent, folder / "word_vectors")
    module = folder / "word_vectors" / "naive_softmax.py"
    text = module.read_text(encoding="utf-8")
    assert ONE_HOT_LIST[0] in text
    module.write_text(text.replace(*ONE_HOT_LIST), encoding="utf-8")
    line = 1 + module.read_text(encoding="utf-8").splitlines().index(
        ONE_HOT_LIST[1].splitlines()[0])
    only = frozenset({"word_vectors.naive_softmax"})
    released = _grade(folder, use_reference=False, questions=only)
    assert released.score == released.max_score > 0, [
        c.message for _, c in released.checks() if not c.passed]
    submitted = _grade(folder, questions=only)
    lost = [c for _, c in submitted.checks() if not c.passed]
    assert lost and all(c.id.startswith("naive_softmax.") for c in lost)
    said = lost[0].message
    assert f"most of them at line {line} of word_vectors/naive_softmax.py" in said, said
    assert "a Python loop whose turns grow with the sizes" in said, said


#: an honest softmax that loops over the coordinates (its checks ask for values, not speed)
LOOPED_SOFTMAX = (
    "    rows = xp.reshape(x, (-1, x.shape[-1]))\n"
    "    out = []\n"
    "    for r in range(rows.shape[0]):\n"
    "        row = rows[r]\n"
    "        m = xp.max(row)\n"
    "        exps = [xp.exp(row[i] - m) for i in range(row.shape[0])]\n"
    "        total = sum(exps)\n"
    "        out.append(xp.stack([e / total for e in exps]))\n"
    "    return xp.reshape(xp.stack(out), x.shape)\n")
#: naive_softmax's classic instability (log of a probability that underflows to 0)
UNSTABLE_LOSS = ("    loss = xp.log(xp.sum(xp.exp(scores - m))) + m - scores[outside_idx]\n",
                 "    loss = -xp.log(y_hat[outside_idx])\n")


def _solutions_copy(folder: Path) -> Path:
    shutil.copytree(Path(__import__("nlpdojo_solutions.word_vectors").word_vectors.__file__)
                    .parent, folder / "word_vectors",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return folder


def _replace_block(path: Path, question: str, body: str) -> None:
    text = path.read_text(encoding="utf-8")
    begin = text.index(f"### BEGIN SOLUTION {question}\n") + len(
        f"### BEGIN SOLUTION {question}\n")
    end = text.index("    ### END SOLUTION", begin)
    path.write_text(text[:begin] + body + text[end:], encoding="utf-8")


def test_the_students_own_passed_softmax_costs_no_point_the_references_would_keep(tmp_path):
    """A required question the submission passes runs as its own code in later checks
    (GradeOptions.own_passed); a check that loses points that way runs again with the
    reference's. An honest softmax that loops passes its own checks, and naive_softmax's run
    at scale, which counts its lines, kept its 6 points (it lost them, run on the student's
    softmax). An unstable naive_softmax loses its stability check only: skipgram, whose
    reference naive_softmax needs the reference's softmax, which naive_softmax's checks swap
    in, kept its points (it had lost 2 to an error: softmax was left out of its swap-ins)."""
    looped = _solutions_copy(tmp_path / "looped")
    _replace_block(looped / "word_vectors" / "softmax.py", "softmax", LOOPED_SOFTMAX)
    questions = frozenset({"word_vectors.softmax", "word_vectors.naive_softmax",
                           "word_vectors.neg_sampling", "word_vectors.skipgram"})
    result = _grade(looped, questions=questions)
    assert result.score == result.max_score > 0, [
        (c.id, c.message) for _, c in result.checks() if not c.passed]

    unstable = _solutions_copy(tmp_path / "unstable")
    module = unstable / "word_vectors" / "naive_softmax.py"
    assert UNSTABLE_LOSS[0] in module.read_text(encoding="utf-8")
    module.write_text(module.read_text(encoding="utf-8").replace(*UNSTABLE_LOSS),
                      encoding="utf-8")
    checks = {c.id: c for _, c in _grade(unstable, questions=questions).checks()}
    lost = sorted(cid for cid, c in checks.items() if not c.passed)
    assert lost == ["naive_softmax.stability"], [(cid, checks[cid].message) for cid in lost]
    skipgram = checks["skipgram.values"]
    assert "word_vectors.naive_softmax" not in skipgram.details.get("own_required", ())
    assert "word_vectors.softmax" not in skipgram.details.get("own_required", ())


@pytest.mark.long
@pytest.mark.seeded
def test_every_planted_bug_is_caught_on_its_question():
    exercise = get_registry().get("exercise", "word_vectors")
    steps = verify([exercise], backends=[], stubs=False)
    failed = [f"{s.name}: {s.detail}" for s in steps if not s.ok]
    assert not failed
    # the course library's markers, consistency, the planted bugs' baseline (the solutions at
    # this seed, through the worker), the given code it ran from the reference only
    assert [s.name for s in steps[:5]] == [
        "the course library's markers name registered topics and questions",
        "declarations consistent with the solutions", BASELINE_STEP, GIVEN_STEP, REQUIRES_STEP]
    assert len(steps) == 5 + len(exercise.planted_bugs)


def test_filled_in_notebook_scores_full_marks(tmp_path):
    """A notebook submission (the solutions' notebook) is graded like a folder."""
    from nlpdojo_autograder.release.notebooks import build_notebook, dumps
    from nlpdojo_autograder.runtime.loader import load_reference_dir

    exercise = get_registry().get("exercise", "word_vectors")
    notebook = tmp_path / "word_vectors.ipynb"
    notebook.write_text(dumps(build_notebook(load_reference_dir(exercise.reference_package),
                                             stub=False)))
    result = CliRunner().invoke(app, ["word_vectors", "--submission", str(notebook),
                                      "--format", "json"])
    assert result.exit_code == 0, result.output


@pytest.mark.torch
def test_autograd_oracle_catches_a_loss_and_gradient_wrong_together(tmp_path):
    """Dropping the negatives from both the loss and its gradient fools central differences
    (they only see the student's own loss) but not the true loss at the check's point (every
    backend) nor autograd of the true loss on torch."""
    pytest.importorskip("torch")
    folder = tmp_path / "sub"
    shutil.copytree(EXERCISES.parent / "solutions" / "word_vectors", folder / "word_vectors")
    module = folder / "word_vectors" / "negative_sampling.py"
    text = module.read_text()
    for old, new in [("loss = -(xp.sum(log_sigmoid(s_o)) + xp.sum(log_sigmoid(-s_k)))",
                      "loss = -xp.sum(log_sigmoid(s_o))"),
                     ("coef_negatives = sigmoid(s_k)  # (B, K)",
                      "coef_negatives = sigmoid(s_k) * 0.0  # (B, K)")]:
        assert old in text
        text = text.replace(old, new)
    module.write_text(text)
    on = {b: {c.id: c for _, c in _grade(folder, backend=b, questions=frozenset({"sgns_batch"}))
              .checks()} for b in ("numpy", "torch")}
    numpy_check = on["numpy"]["sgns_batch.gradient"]  # self-consistent, but not the true loss
    assert numpy_check.status == "failed"
    assert "Your loss differs from the true one" in numpy_check.message
    torch_check = on["torch"]["sgns_batch.gradient"]
    assert torch_check.status == "failed"
    assert "autograd" in str(torch_check.details)


def test_training_checks_run_the_given_loop_not_the_submissions(tmp_path):
    """The training budget is the instructor's: a submission's edited train.py (more epochs, a
    forged result) is not what the metric checks run where the solutions are installed; the
    submission's own step functions are."""
    folder = tmp_path / "sub" / "word_vectors"
    shutil.copytree(Path(__import__("nlpdojo_solutions.word_vectors").word_vectors.__file__)
                    .parent, folder)
    train = folder / "train.py"
    train.write_text(train.read_text().replace(
        '    steps = steps or SGNSSteps.of(negative_sampling, sgd)\n',
        '    raise RuntimeError("the submission\'s train.py ran")\n'))
    sgd = folder / "sgd.py"  # the submission's steps do run: a learning rate 10x too small
    sgd.write_text(sgd.read_text().replace("return max(lr0 * (1.0 - progress), lr_min)",
                                           "return max(0.1 * lr0 * (1.0 - progress), lr_min)"))
    checks = {c.id: c for _, c in _grade(folder.parent, questions=frozenset({"training"}))
              .checks()}
    assert not any("the submission's train.py ran" in c.message for c in checks.values())
    assert checks["training.heldout_loss"].status == "failed", checks["training.heldout_loss"]
    assert "Training ran your sgns_batch_loss_and_gradients" in checks[
        "training.heldout_loss"].message  # which functions to look at


@pytest.mark.waits
def test_a_training_run_stopped_for_time_is_paid_once(tmp_path):
    """The three training checks measure one run: when it is stopped for time, the other two
    say so instead of training again until their own limits."""
    from nlpdojo_autograder.grading.runner import Limits

    folder = tmp_path / "sub" / "word_vectors"
    shutil.copytree(Path(__import__("nlpdojo_solutions.word_vectors").word_vectors.__file__)
                    .parent, folder)
    ns = folder / "negative_sampling.py"
    ns.write_text(ns.read_text().replace("    s_o = xp.vecdot(center, outside)",
                                         "    import time\n    time.sleep(600)\n"
                                         "    s_o = xp.vecdot(center, outside)"))
    checks = {c.id: c for _, c in _grade(folder.parent, questions=frozenset({"training"}),
                                         limits=Limits(timeout_scale=0.02)).checks()}
    statuses = {cid: c.status for cid, c in checks.items()}
    assert set(statuses.values()) == {"timeout"}, statuses
    stopped = [c for c in checks.values() if "took longer than 12 s and was stopped" in c.message
               and not c.message.startswith("not run")]
    assert len(stopped) == 1, [c.message for c in checks.values()]
    assert "negative_sampling.py line" in stopped[0].message  # where the code was
    others = [c for c in checks.values() if c is not stopped[0]]
    assert all(c.message.startswith("not run: it measures the same training run as "
                                    + stopped[0].id) for c in others)


def test_one_function_wrong_costs_its_own_check_only(tmp_path):
    """count_svd and sgd have a check per function, each fed inputs made by the check: an
    off-by-one window costs the co-occurrence check, not PPMI and SVD; an update that returns
    a copy costs its own check, saying why."""
    folder = tmp_path / "sub" / "word_vectors"
    shutil.copytree(Path(__import__("nlpdojo_solutions.word_vectors").word_vectors.__file__)
                    .parent, folder)
    edits = {"count_based": ("for j in range(1, window + 1):", "for j in range(1, window):"),
             "sgd": ("    return backend.scatter_add(matrix, rows, grads, alpha=-lr)",
                     "    matrix = matrix * 1.0\n"
                     "    return backend.scatter_add(matrix, rows, grads, alpha=-lr)")}
    for module, (old, new) in edits.items():
        path = folder / f"{module}.py"
        assert old in path.read_text(), old
        path.write_text(path.read_text().replace(old, new))
    checks = {c.id: c for _, c in _grade(folder.parent, questions=frozenset({"count_svd", "sgd"}))
              .checks()}
    failed = {cid for cid, c in checks.items() if c.status != "passed"}
    assert failed == {"count_svd.cooccurrence", "sgd.update"}, failed
    assert "must update `matrix` in place" in checks["sgd.update"].message


# -- the training checks' holes (issue 9): chance and vectors that steps cannot train -------
def _copy_with(tmp_path: Path, module: str, old: str, new: str) -> Path:
    """A copy of the reference solutions with ``old`` replaced by ``new`` in ``module``."""
    folder = tmp_path / "sub"
    shutil.copytree(Path(__import__("nlpdojo_solutions.word_vectors").word_vectors.__file__)
                    .parent, folder / "word_vectors")
    path = folder / "word_vectors" / module
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new))
    return folder


@pytest.mark.parametrize("backend", ["numpy", pytest.param("torch", marks=pytest.mark.torch)])
def test_a_fancy_index_update_names_the_repeated_rows(tmp_path, backend):
    """``matrix[rows] -= lr * grads`` keeps one update of a repeated row: the message said
    only "row 1 is wrong; the others are right", now that row 1 repeats and what to use."""
    if backend == "torch":
        pytest.importorskip("torch")
    folder = _copy_with(tmp_path, "sgd.py",
                        "    return backend.scatter_add(matrix, rows, grads, alpha=-lr)",
                        "    matrix[rows] -= lr * grads\n    return matrix")
    path = folder / "word_vectors" / "sgd.py"
    path.write_text(path.read_text().replace(
        "    return backend.scatter_add_weighted(matrix, rows, coefs, vectors, alpha=-lr)",
        "    matrix[rows] -= lr * coefs[..., None] * vectors[:, None, :]\n    return matrix"))
    checks = {c.id: c for _, c in _grade(folder, questions=frozenset({"sgd"}),
                                         backend=backend).checks()}
    update, outer = checks["sgd.update"].message, checks["sgd.outer_update"].message
    assert update.startswith(
        "Your outputs are exactly those of a fancy-index assignment (matrix[rows] -= lr * "
        "grads): row 1 appears 3 times in rows, and such an assignment keeps only the last "
        "update of a repeated row"), update
    assert "row 1 is wrong; the others are right" in update, update
    assert "use backend.scatter_add(matrix, rows, grads, alpha=-lr), which sums repeats (in " \
        "NumPy: np.add.at / np.subtract.at)" in update
    assert "rows 1 and 4 each appear more than once in rows" in outer, outer
    assert "backend.scatter_add_weighted(matrix, rows, coefs, vectors, alpha=-lr)" in outer


def test_a_metric_below_chance_fails_even_near_the_reference():
    """``chance`` floors the threshold: a weak reference (rho 0.16, threshold 0.06) must not
    pass vectors that random ones match 5% of the time (0.13)."""
    from nlpdojo_autograder.authoring.kinds import metric_check

    check = metric_check("m", "t", 1.0, lambda ctx: {}, question="q", metric="rho",
                         threshold=lambda ref: ref - 0.1, budget="b", chance="chance")
    below = check.judge({"value": 0.10, "chance": 0.13}, {"value": 0.16})
    assert not below.passed and below.threshold == pytest.approx(0.13)
    assert "untrained (random) vectors reach 0.13 by chance" in below.message
    assert check.judge({"value": 0.15, "chance": 0.13}, {"value": 0.16}).passed
    # the reference's own threshold still binds where it is the higher one
    assert not check.judge({"value": 0.15, "chance": 0.0}, {"value": 0.3}).passed


def test_chance_rho_agrees_with_spearman_of_random_matrices():
    """The vectorised null (random vectors of the pairs' words only, ranks by hand) against
    an independent Monte Carlo: scipy's spearmanr (via similarity_rho) on whole random
    matrices."""
    import numpy as np

    from nlpdojo_course.word_vectors import metrics

    rng = np.random.default_rng(3)
    word2ind = {f"w{i}": i for i in range(60)}
    pairs = [(f"w{a}", f"w{b}", float(s)) for a, b, s in zip(
        rng.integers(0, 60, 150), rng.integers(0, 60, 150), rng.integers(0, 10, 150),
        strict=True) if a != b] + [("w1", "unknown", 3.0)]
    fast = metrics.similarity_rho_chance(word2ind, pairs, 20, draws=2000, seed=1)
    slow = np.quantile([metrics.similarity_rho(rng.standard_normal((60, 20)), word2ind,
                                               pairs)[0] for _ in range(600)], 0.95)
    assert fast == pytest.approx(slow, abs=0.025)
    n = sum(1 for p in pairs if p[1] != "unknown")
    assert fast == pytest.approx(1.645 / np.sqrt(n - 1), abs=0.03)  # rho ~ N(0, 1/(n-1))


def test_the_graders_sgns_step_agrees_with_the_reference():
    """The audit's oracle (grader code) against the reference, an independent implementation."""
    import numpy as np

    from nlpdojo_course.word_vectors.measure import sgns_step
    from nlpdojo_solutions.word_vectors.negative_sampling import sgns_batch_loss_and_gradients

    rng = np.random.default_rng(0)
    center, outside = rng.standard_normal((7, 4)), rng.standard_normal((7, 4))
    negatives = rng.standard_normal((7, 3, 4))
    ours = sgns_step(center, outside, negatives)
    theirs = sgns_batch_loss_and_gradients(center, outside, negatives)
    for (name, mine), other in zip(ours.items(), theirs, strict=True):
        np.testing.assert_allclose(mine, np.asarray(other), rtol=1e-12, err_msg=name)


@pytest.mark.timeout(300)
def test_steps_right_on_small_inputs_but_not_at_training_size_earn_no_training_points(
        tmp_path):
    """An update that passes question sgd's (10, 5) checks but does nothing at the training's
    size: the audit stops the training checks before training, each with the reason."""
    folder = _copy_with(tmp_path, "sgd.py",
                        "    return backend.scatter_add(matrix, rows, grads, alpha=-lr)",
                        "    if matrix.shape[0] > 100:\n        return matrix\n"
                        "    return backend.scatter_add(matrix, rows, grads, alpha=-lr)")
    result = grade(["word_vectors"], submission=folder, replay_options={},
                   options=run_options(questions=frozenset({"sgd", "training"})))
    checks = {c.id: c for _, c in result.checks()}
    assert checks["sgd.update"].passed
    for name in ("heldout_loss", "analogy", "wordsim"):
        check = checks[f"training.{name}"]
        assert check.score == 0 and "training was not run" in check.message, check.message
        assert "sparse_sgd_update" in check.message and "10," in check.message
        assert check.duration_s < 60  # stopped before training
