"""Answers that satisfy a check's property without the work earn nothing (issue 23: an
attacker's run in CI mode got 8.5 points this way). The checks judged without the reference
were passed by a sampler that never samples (the argmax, or a constant per seed), smoothed
models that return the uniform distribution (it sums to 1), a gradient checker that knows
the closed forms of the two functions it was always given, and optimizers whose step does
nothing (two such trajectories resume each other exactly). Each attack below is the
attacker's code; the kind is closed in the engine: a check judged without the reference names
the oracle it compares with (release refuses one that does not: tests/test_consistency.py),
draws fresh inputs, and a planted bug proves a wrong answer fails it; or it is earned on the
reference's outputs only (``right=``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlpdojo_autograder.grading.grade import GradeOptions, grade
from tests.grading.courses import edited_course

pytestmark = pytest.mark.seeded


def _graded(topic: str, folder: Path, *questions: str) -> dict:
    result = grade([topic], submission=folder, options=GradeOptions(
        questions=frozenset(f"{topic}.{q}" for q in questions)), replay_options={})
    return {c.id: c for _, c in result.checks() if c.question in questions}


def _body(text: str, function: str) -> str:
    """The lines of the solution block of ``function`` in ``text`` (markers included): the
    attack's lines go in their place."""
    start = text.index(f"def {function}(")
    begin = text.rindex("\n", 0, text.index("### BEGIN SOLUTION", start)) + 1
    end = text.index("\n", text.index("### END SOLUTION", begin)) + 1
    return text[begin:end]


def _replaced(root: Path, rel: str, functions: dict[str, str]) -> None:
    path = root / rel
    text = path.read_text()
    for function, attack in functions.items():
        text = text.replace(_body(text, function), attack)
    path.write_text(text)


NEVER_SAMPLES = """\
    B, V = scores.shape
    if temperature == 1.0 and top_k is None and isinstance(rng, (int, np.integer)):
        return np.full(B, int(rng) % V, dtype=np.int64)  # a constant per seed
    return np.argmax(scores, axis=1).astype(np.int64)
"""

UNIFORM = "    return np.full(len(windows), -np.log(vocab_size))  # sums to 1\n"


def test_a_sampler_that_never_samples_earns_only_the_greedy_check(tmp_path):
    """Before: top_k 1/1, greedy 1/1, reproducible 0.5/0.5 (and values, for tempered_probs,
    which this submission does write). The argmax is the right answer at
    temperature 0, so greedy stays earned; top_k and reproducible now judge the draws' ranks
    against the exact tempered distribution."""
    course = edited_course(tmp_path, ("language_models",))
    _replaced(course, "language_models/sampling.py", {"sample_next": NEVER_SAMPLES})
    checks = _graded("language_models", course / "language_models", "sampling")
    earned = {k: c.score for k, c in checks.items() if c.score > 0}
    # tempered_probs (sampling.values) is the solution's, written: earned
    assert earned == {"sampling.values": 2.0, "sampling.greedy": 1.0}, \
        {k: c.message for k, c in checks.items()}
    assert "do not follow softmax(scores / T) over those k" in checks["sampling.top_k"].message
    reproducible = checks["sampling.reproducible"].message
    assert "different seeds gave the same" in reproducible or "not draws of softmax" in reproducible


def test_smoothed_models_that_return_the_uniform_distribution_earn_nothing(tmp_path):
    """Before: sums_to_one 1/1 on both questions (the uniform distribution sums to 1)."""
    course = edited_course(tmp_path, ("language_models",))
    _replaced(course, "language_models/backoff.py",
              {"absolute_discount_log_probs": UNIFORM,
               # inside the loop over orders: nothing counted
               "everygram_counts": "        out.append((np.zeros(0, np.int64), "
                                   "np.zeros(0, np.int64)))\n"})
    _replaced(course, "language_models/kneser_ney.py",
              {"kneser_ney_log_probs": UNIFORM,
               "continuation_counts": "    raise NotImplementedError\n"})
    checks = _graded("language_models", course / "language_models", "backoff", "kneser_ney")
    assert {k: c.score for k, c in checks.items() if c.score > 0} == {}
    for question in ("backoff", "kneser_ney"):
        message = checks[f"{question}.sums_to_one"].message
        assert "not the right ones (the property is earned on right outputs only)" in message


CLOSED_FORMS = """\
    import numpy as np
    a = np.asarray(x, dtype=np.float64)
    if getattr(f, "__name__", "") == "weighted_cubes":
        i, j = np.indices(a.shape)
        return xp.asarray((1.0 + i + 2.0 * j) * a * a)
    e = np.exp(a - a.max())
    return xp.asarray(e / e.sum())
"""

COMPARED_WITH_THE_CLOSED_FORMS = """\
    import numpy as np
    n = np.asarray(numerical_gradient(f, x, h), dtype=np.float64)
    a = np.asarray(analytic, dtype=np.float64)
    if a.shape != n.shape:
        return False, (), float("inf")
    err = np.abs(a - n)
    rel = err / np.maximum(np.maximum(np.abs(a), np.abs(n)), 1e-300)
    ok = bool(np.all((rel < rtol) | (err < atol)))
    worst = tuple(int(i) for i in np.unravel_index(np.argmax(err), err.shape))
    return ok, worst, float(err.max())
"""


def test_a_gradient_checker_that_knows_the_functions_by_name_earns_nothing(tmp_path):
    """Before: 2.5 of 2.5: the checker was always given weighted_cubes and log_sum_exp, whose
    gradients it returned by name without a single difference. The functions are drawn
    afresh for every grading now."""
    course = edited_course(tmp_path, ("library", "neural_networks"))
    _replaced(course, "neural_networks/gradcheck.py",
              {"numerical_gradient": CLOSED_FORMS,
               "check_gradient": COMPARED_WITH_THE_CLOSED_FORMS})
    checks = _graded("neural_networks", course / "neural_networks", "gradcheck")
    assert {k: c.score for k, c in checks.items() if c.score > 0} == {}, \
        {k: c.message for k, c in checks.items()}


#: check_gradient that takes the first gradient it sees at a point for the truth and compares
#: every later one at that point with it: no function called, no difference taken
REMEMBERS_THE_FIRST = """\
    import numpy as np
    xs, a = np.asarray(x, dtype=np.float64), np.asarray(analytic, dtype=np.float64)
    global SEEN
    try:
        SEEN
    except NameError:
        SEEN = []
    truth = next((t for s, t in SEEN if s.shape == xs.shape and np.array_equal(s, xs)), None)
    if truth is None:
        SEEN.append((xs.copy(), a.copy()))
        truth = a
    err = np.abs(a - truth)
    rel = err / np.maximum(np.maximum(np.abs(a), np.abs(truth)), 1e-300)
    worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(err)), err.shape))
    return bool(np.all((rel < rtol) | (err < atol))), worst, float(err.max())
"""


def test_a_gradient_checker_that_remembers_the_first_gradient_earns_nothing(tmp_path):
    """An adversarial trial, before: check_gradient 1.5 of 1.5. Every planted gradient came
    at one point, the right one first: a checker that kept it as the truth told the rest
    apart without calling the function. Each call has a point and a function of its own."""
    course = edited_course(tmp_path, ("library", "neural_networks"))
    _replaced(course, "neural_networks/gradcheck.py", {"check_gradient": REMEMBERS_THE_FIRST})
    checks = _graded("neural_networks", course / "neural_networks", "gradcheck")
    planted = checks["gradcheck.planted"]  # (numerical_gradient is the reference's here)
    assert planted.score == 0 and "the twice gradient passed" in planted.message, \
        planted.message


OPTIMIZERS = ("sgd", "momentum", "adagrad", "rmsprop", "adam")


def test_optimizers_whose_step_does_nothing_earn_nothing(tmp_path):
    """Before: every optimizer's state check, 1.5 points in all: two runs that never move
    resume each other exactly. The round trip is earned on a right trajectory only."""
    course = edited_course(tmp_path, ("library", "neural_networks"))
    path = course / "library/optim.py"
    text = path.read_text()
    count = text.count("    def step(self) -> None:\n")
    assert count == len(OPTIMIZERS)
    lines, out, skipping = text.splitlines(keepends=True), [], False
    for line in lines:  # every step's body replaced by `pass`
        if line == "    def step(self) -> None:\n":
            out += [line, "        pass\n"]
            skipping = True
            continue
        if skipping and line.strip() and not line.startswith("        "):
            skipping = False
        if not skipping:
            out.append(line)
    path.write_text("".join(out))
    checks = _graded("neural_networks", course / "neural_networks", *OPTIMIZERS)
    assert {k: c.score for k, c in checks.items() if c.score > 0} == {}
    for question in OPTIMIZERS:
        assert "earned on right outputs only" in checks[f"{question}.state"].message


#: check_gradient that answers from a table by its call count (the calls' fixed order)
BY_CALL_COUNT = """\
    global CALLS
    try:
        CALLS += 1
    except NameError:
        CALLS = 0
    table = [(True, (0, 0)), (True, (0, 0)), (True, (0, 0)), (False, (0, 0)), (False, (0, 0)),
             (False, (0, 0)), (False, (2, 1)), (True, (0, 0)), (False, (0, 0)), (True, (0, 0)),
             (False, (0, 0))]
    passed, worst = table[CALLS % len(table)]
    return passed, worst, 0.0 if passed else 1.0
"""


def test_a_gradient_checker_that_answers_by_its_call_count_earns_nothing(tmp_path):
    """A fourth adversarial trial, before: 1.5 of 1.5. The planted gradients came in one
    order in every grading, the wrong coordinate always [2, 1]: a table of verdicts by call
    count told them apart. The order and the coordinate are drawn per grading, and verdicts
    guessed earn no share (two wrong at most for one)."""
    course = edited_course(tmp_path, ("library", "neural_networks"))
    _replaced(course, "neural_networks/gradcheck.py", {"check_gradient": BY_CALL_COUNT})
    checks = _graded("neural_networks", course / "neural_networks", "gradcheck")
    assert checks["gradcheck.planted"].score == 0, checks["gradcheck.planted"].message
