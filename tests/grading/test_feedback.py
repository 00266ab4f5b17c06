"""What a student reads when a check fails: the messages of compare_array, the gradient
check's hints and the worker's error outcomes (review findings #4, #6, #12)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from nlpdojo.gradcheck import check_gradient, compare_gradients
from nlpdojo_autograder.authoring.compare import compare_array
from nlpdojo_autograder.grading.grade import GradeOptions, grade
from nlpdojo_autograder.runtime.calls import describe

SOLUTIONS = Path(__file__).resolve().parents[2] / "solutions" / "word_vectors"


def _submission(tmp_path: Path, module: str, old: str, new: str) -> Path:
    """A copy of the reference solutions with one line of ``module`` changed."""
    folder = tmp_path / "sub"
    shutil.copytree(SOLUTIONS, folder / "word_vectors")
    path = folder / "word_vectors" / module
    text = path.read_text()
    assert old in text, f"{old!r} not in {module}"
    path.write_text(text.replace(old, new))
    return folder


def _checks(folder: Path | None, question: str, **options) -> dict:
    result = grade(["word_vectors"], submission=folder, replay_options={},
                   options=GradeOptions(questions=frozenset({question}), **options))
    return {c.id: c for _, c in result.checks()}


# -- where ±inf or NaN is expected, only that value matches ----------------------------------
def test_where_an_infinite_value_is_expected_no_other_passes():
    """rtol·|±inf| is inf: a tolerance there let any value pass where the reference gives
    log 0 (an unseen n-gram's -inf in backoff or Kneser-Ney), found by an attacker."""
    assert compare_array("x", np.array([5.0, 1.0]), np.array([-np.inf, 1.0])) == (
        "x: 1 of 2 entries differ; first at [0]: yours 5, expected -inf")
    assert compare_array("x", np.float64(3.0), np.float64(np.inf)) == "x: yours 3, expected inf"
    assert compare_array("x", np.array([np.inf, 1.0]), np.array([-np.inf, 1.0])) is not None
    assert compare_array("x", np.array([0.0, 1.0]), np.array([np.nan, 1.0])) is not None
    assert compare_array("x", np.array([-np.inf, np.nan, 1.0]),
                         np.array([-np.inf, np.nan, 1.0])) is None
    # the others are judged as before, and no pattern is read off the matched -inf
    assert compare_array("x", np.array([-np.inf, 2.0, 3.0]), np.array([-np.inf, 1.0, 1.5])) == (
        "x: 2 of 3 entries differ; worst at [2]: yours 3, expected 1.5; yours is twice the "
        "expected one")


# -- #4: a loss averaged over the batch where the sum is asked for ---------------------------
def test_scalar_mismatch_names_a_batch_factor():
    assert compare_array("loss", np.float64(6.25469), np.float64(6 * 6.25469)) == (
        "loss: yours 6.25469, expected 37.5281; yours is 1/6 of the expected one: a mean over "
        "6 items (a batch?) where the sum is expected?")
    assert compare_array("loss", np.float64(60.0), np.float64(10.0)) == (
        "loss: yours 60, expected 10; yours is 6 times the expected one: a sum over 6 items "
        "(a batch?) where the mean is expected?")
    assert compare_array("loss", np.float64(-3.0), np.float64(3.0)) == (
        "loss: yours -3, expected 3; yours has the wrong sign")
    # no factor to name: just both values (and no "worst at []")
    assert compare_array("accuracy", np.float64(0.958333), np.float64(0.541667)) == (
        "accuracy: yours 0.958333, expected 0.541667")
    assert compare_array("loss", np.float64(37.5281), np.float64(37.5281)) is None


def _summed_loss(x: np.ndarray) -> float:
    return float(np.sum(np.log1p(np.exp(x))))


def _its_gradient(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def test_gradient_check_against_the_own_loss_does_not_say_which_side_to_fix():
    """An averaged loss with a summed gradient: the gradient is N times the derivative of the
    student's own loss. Either may be wrong, so the hint must not say "divide by N"."""
    x = np.random.default_rng(0).standard_normal((6, 3))
    r = check_gradient(lambda v: _summed_loss(v) / 6, x, _its_gradient(x), name="center")
    assert not r.passed
    assert r.diagnosis == "your gradient is 6 times the numerical one"
    assert r.hint == (
        "Your loss and your gradient disagree by a factor 6 (the check differentiates your own "
        "loss). If 6 is your batch size N, one of them sums over the batch and the other "
        "averages: check which one the spec asks for (a sum or a mean) and fix the one that "
        "does not do it. Dividing the gradient by N is right only if the loss is meant to be "
        "a mean.")
    assert "divide by N." not in r.message
    r = check_gradient(_summed_loss, x, _its_gradient(x) / 6, name="center")
    assert r.diagnosis == "your gradient is 1/6 of the numerical one"
    assert r.hint.startswith("Your loss and your gradient disagree by a factor 6")
    assert check_gradient(_summed_loss, x, _its_gradient(x), name="center").passed


def test_gradient_against_a_reference_still_says_divide_by_n():
    """Against the true gradient (autograd of the true loss), the gradient is the wrong one."""
    x = np.random.default_rng(0).standard_normal((6, 3))
    r = compare_gradients(6 * _its_gradient(x), _its_gradient(x), name="center")
    assert r.diagnosis == "your gradient is 6 times the true one"
    assert r.hint == ("If 6 is your batch size N, the loss averages over the batch but your "
                      "gradient sums: divide by N.")
    assert compare_gradients(_its_gradient(x), _its_gradient(x), name="center").passed


def test_averaged_sgns_loss_end_to_end(tmp_path):
    folder = _submission(
        tmp_path, "negative_sampling.py",
        "loss = -(xp.sum(log_sigmoid(s_o)) + xp.sum(log_sigmoid(-s_k)))",
        "loss = -(xp.sum(log_sigmoid(s_o)) + xp.sum(log_sigmoid(-s_k))) / center.shape[0]")
    checks = _checks(folder, "sgns_batch")
    values = checks["sgns_batch.values"]
    assert values.status == "failed"
    assert values.message.startswith("loss: yours ")
    assert ("yours is 1/6 of the expected one: a mean over 6 items (a batch?) where the sum is "
            "expected?") in values.message
    gradient = checks["sgns_batch.gradient"]
    assert gradient.status == "failed"
    assert "your gradient is 6 times the numerical one" in gradient.message
    assert "Your loss and your gradient disagree by a factor 6" in gradient.message
    assert "divide by N." not in gradient.message


def test_reference_sgns_batch_still_passes():
    checks = _checks(None, "sgns_batch")
    assert all(c.status == "passed" for c in checks.values()), {
        k: c.message for k, c in checks.items()}


# -- #6: a ratio is reported only when it relates the wrong entries --------------------------
def test_a_few_wrong_entries_get_no_least_squares_ratio():
    """linear_decay written as lr0 + (lr_min - lr0)·p: two entries are off by ~1%, the large
    correct entries made a norm fit report "ratio 1.000012"."""
    expected = np.array([0.025, 0.01875, 0.0125, 0.00025, 2.5e-06, 2.5e-06])
    yours = expected.copy()
    yours[2], yours[3] = 0.0125 * 1.0001, 0.000252475
    assert compare_array("learning_rates", yours, expected) == (
        "learning_rates: 2 of 6 entries differ; worst at [3]: yours 0.000252475, expected "
        "0.00025 (ratio 1.0099); entries 2, 3 are wrong; the others are right")
    clamped_at_zero = expected.copy()
    clamped_at_zero[4:] = 0.0
    assert compare_array("learning_rates", clamped_at_zero, expected) == (
        "learning_rates: 2 of 6 entries differ; worst at [4]: yours 0, expected 2.5e-06; "
        "entries 4, 5 are wrong; the others are right")
    assert compare_array("learning_rates", expected.copy(), expected) is None


def test_a_true_constant_factor_is_still_named():
    expected = np.linspace(0.1, 1.0, 10)
    assert compare_array("p", 3 * expected, expected) == (
        "p: 10 of 10 entries differ; worst at [9]: yours 3, expected 1; yours is 3 times the "
        "expected one")
    assert compare_array("p", expected * 1.0002, expected) == (
        "p: 10 of 10 entries differ; worst at [9]: yours 1.0002, expected 1; yours is close to "
        "the expected one but not equal (ratio 1.000200)")


def test_gradient_check_ratio_needs_every_wrong_entry_to_fit():
    x = np.full(40, 10.0)  # gradients near 1...
    x[7] = -4.6  # ...and one of 0.01, wrong by half of itself: 8e-4 of the norm
    g = _its_gradient(x)
    g[7] *= 1.5
    r = check_gradient(_summed_loss, x, g, name="b")
    assert not r.passed
    assert r.diagnosis == "entry 7 is wrong; the others are right", r.message
    assert "close to the true one" not in r.message


# -- #12: float32 results, integer reprs ----------------------------------------------------
def test_values_that_round_alike_get_more_digits_and_a_float32_hint():
    expected = np.array([0.1169624, 0.3, 0.5830376])
    yours = expected.astype(np.float32).astype(np.float64)  # what ctx.to_numpy hands over
    yours[0] = 0.11696219444274902
    assert compare_array("shifted", yours, expected) == (
        "shifted: 1 of 3 entries differ; worst at [0]: yours 0.1169622, expected 0.1169624; "
        "yours differs only after the 5th significant digit: float32 arithmetic somewhere? "
        "(float32 keeps about 7 digits; compute in the input's dtype)")


def test_an_extra_axis_of_one_is_dropped_and_a_longer_one_summed():
    """An extra leading axis of size 1 is no batch (it said "same number of entries:
    reshape?" here and "sum the per-example gradients over the batch" in the gradient check)."""
    assert compare_array("grad_center_vec", np.ones((1, 5)), np.ones(5)) == (
        "grad_center_vec has shape (1, 5), expected (5,) (an extra leading axis of size 1: drop "
        "it; a [None, :], reshape or keepdims=True too many?)")
    assert compare_array("grad", np.ones((8, 5)), np.ones(5)) == (
        "grad has shape (8, 5), expected (5,) (an extra leading axis of 8: sum or average over "
        "the batch?)")


def test_an_extra_axis_in_naive_softmax_end_to_end(tmp_path):
    folder = _submission(tmp_path, "naive_softmax.py",
                         "grad_center_vec = xp.matmul(delta, outside_vectors)",
                         "grad_center_vec = xp.matmul(delta, outside_vectors)[None, :]")
    checks = _checks(folder, "naive_softmax")
    assert "extra leading axis of size 1: drop it" in checks["naive_softmax.values"].message
    gradient = checks["naive_softmax.gradient"].message
    assert "extra leading axis of size 1: drop it" in gradient and "batch" not in gradient


def test_differing_dtypes_are_named():
    expected = np.array([0.25, 0.5, 0.25])
    yours = np.array([0.2, 0.6, 0.2], dtype=np.float32)
    message = compare_array("p", yours, expected)
    assert message == ("p: 3 of 3 entries differ; worst at [1]: yours 0.6, expected 0.5 "
                       "(ratio 1.2; yours is float32, expected float64)")
    assert compare_array("p", expected.astype(np.float32), expected) is None


def test_integer_mismatches_print_plain_numbers():
    assert compare_array("neighbours", np.array([3, 1, 2]), np.array([10, 1, 2])) == (
        "neighbours: 1 of 3 entries differ; first at [0]: yours 3, expected 10")
    assert compare_array("n_used", np.int64(4), np.int64(5)) == "n_used: yours 4, expected 5"
    assert compare_array("neighbours", np.array([3, 1]), np.array([3, 1])) is None


def test_float32_softmax_end_to_end(tmp_path):
    folder = _submission(
        tmp_path, "softmax.py",
        "shifted = x - xp.max(x, axis=-1, keepdims=True)",
        "shifted = xp.astype(x, xp.float32) - xp.max(xp.astype(x, xp.float32), axis=-1, "
        "keepdims=True)")
    check = _checks(folder, "softmax")["softmax.values"]
    assert check.status == "failed"
    # judged as returned (issue 62, item 4): the dtype is named before any value is compared
    # (compare_array's "float32 arithmetic somewhere?" for a float64 result is tested above)
    assert "softmax has dtype float32, but its inputs are float64" in check.message, \
        check.message
    assert "dtype=x.dtype" in check.message


# -- #12: NumPy functions on torch tensors ---------------------------------------------------
def test_numpy_on_a_torch_tensor_gets_the_array_namespace_hint():
    torch = pytest.importorskip("torch")
    try:
        np.max(torch.ones(2, 3), axis=-1, keepdims=True)
    except TypeError as exc:
        outcome = describe(exc, "/nonexistent")
    else:
        pytest.skip("this torch version accepts numpy's keyword arguments")
    assert outcome["kind"] == "error" and outcome["type"] == "TypeError"
    assert outcome["message"].startswith("TypeError: ")
    assert outcome["message"].endswith(
        ". Hint: a NumPy function (np.max, np.sum...) was given a torch tensor: on the torch "
        "backend use the array namespace `xp = array_namespace(x)` (xp.max, xp.sum...) "
        "instead of numpy")


def test_other_type_errors_get_no_torch_hint():
    try:
        np.max(np.ones(3), axis="x")
    except TypeError as exc:
        outcome = describe(exc, "/nonexistent")
    assert "array_namespace" not in outcome["message"]
    try:
        len(5)
    except TypeError as exc:
        outcome = describe(exc, "/nonexistent")
    assert outcome["message"] == "TypeError: object of type 'int' has no len()"


@pytest.mark.parametrize("name, shown", [
    ("nlpdojo_submission.word_vectors.helpers", "word_vectors/helpers.py"),
    ("nlpdojo_submission_t3.library.mgu", "library/mgu.py"),
    ("scipy.specials", ""), ("nlpdojo_submission", "")])
def test_a_module_of_the_submission_that_is_not_there_is_named_as_its_file(name, shown):
    outcome = describe(ModuleNotFoundError(f"No module named {name!r}", name=name), "/none")
    assert (f"Hint: there is no {shown} in your submission" in outcome["message"]) is bool(shown)


def test_a_missing_return_says_so(tmp_path):
    """A stub filled in without ``return``: "returned None", not "dtype object"."""
    import shutil
    from pathlib import Path

    from nlpdojo_autograder.grading.grade import GradeOptions, grade

    folder = tmp_path / "sub" / "word_vectors"
    shutil.copytree(Path(__import__("nlpdojo_solutions.word_vectors").word_vectors.__file__)
                    .parent, folder)
    for module, old, new in [
            ("softmax", "    return exps / xp.sum(exps, axis=-1, keepdims=True)  # (..., N)",
             "    exps / xp.sum(exps, axis=-1, keepdims=True)  # (..., N)"),
            ("negative_sampling", "    return loss, grad_center, coef_outside, coef_negatives",
             "    loss, grad_center, coef_outside, coef_negatives")]:
        path = folder / f"{module}.py"
        assert old in path.read_text(), old
        path.write_text(path.read_text().replace(old, new))
    result = grade(["word_vectors"], submission=folder.parent, replay_options={},
                   options=GradeOptions(questions=frozenset({"softmax", "sgns_batch"})))
    checks = {c.id: c for _, c in result.checks()}
    assert "returned None; did you forget `return`?" in checks["softmax.values"].message
    # the check's inputs, not its output's key ("softmax's large_scores: ...")
    assert checks["softmax.stability"].message == (
        "softmax on scores around 1000 and -1e4: the function returned None; did you forget "
        "`return`?")
    assert ("sgns_batch_loss_and_gradients returned None; did you forget `return`?"
            in checks["sgns_batch.values"].message)


@pytest.mark.parametrize(("module", "old", "new", "check", "phrase"), [
    ("softmax", "axis=-1, keepdims=True)  # (..., N)", "axis=0, keepdims=True)  # (..., N)",
     "softmax.values", "your columns sum to 1, not your rows"),
    ("evaluate", "    cosines[index] = -np.inf  # never its own neighbour\n", "",
     "similarity.values", "itself; a word is not its own neighbour"),
])
def test_common_mistakes_are_named(tmp_path, module, old, new, check, phrase):
    import shutil
    from pathlib import Path

    from nlpdojo_autograder.grading.grade import GradeOptions, grade

    folder = tmp_path / "sub" / "word_vectors"
    shutil.copytree(Path(__import__("nlpdojo_solutions.word_vectors").word_vectors.__file__)
                    .parent, folder)
    path = folder / f"{module}.py"
    assert old in path.read_text(), old
    path.write_text(path.read_text().replace(old, new))
    question = check.split(".")[0]
    result = grade(["word_vectors"], submission=folder.parent, replay_options={},
                   options=GradeOptions(questions=frozenset({question})))
    checks = {c.id: c for _, c in result.checks()}
    assert phrase in checks[check].message, checks[check].message


def test_a_negative_zero_is_shown_as_0_and_matching_infinities_raise_no_warning():
    import warnings

    message = compare_array("grad", np.array([-0.0, 1.0]), np.array([0.5, 1.0]))
    assert "yours 0, expected 0.5" in message and "-0" not in message
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # inf − inf must not warn: both are −inf, equal
        assert compare_array("log_probs", np.array([-np.inf, -1.0]),
                             np.array([-np.inf, -1.0])) is None


def test_a_factor_is_called_a_batch_sum_or_mean_only_for_a_loss_or_gradient():
    said = compare_array("learning_rate", np.float64(0.0026), np.float64(0.026))
    assert said == "learning_rate: yours 0.0026, expected 0.026; yours is 1/10 of the expected one"
    assert "(a batch?)" in compare_array("grad_center", np.float64(2.6), np.float64(0.26))


def _described_error_of(code, module_name: str) -> tuple[dict, object]:
    """Import ``code/<module_name>.py`` (with ``code`` on the path) and call its ``forward``:
    the outcome ``describe`` makes of what it raised, and the module."""
    import importlib.util
    import sys

    sys.path.insert(0, str(code))
    try:
        spec = importlib.util.spec_from_file_location(module_name, code / f"{module_name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        try:
            module.forward()
        except Exception as exc:  # noqa: BLE001 - what the student's code raised
            return describe(exc, str(code)), module
    finally:
        sys.path.remove(str(code))
        sys.modules.pop("layers", None)
    raise AssertionError(f"{module_name}.forward() raised nothing")


def test_an_error_a_given_check_raised_names_the_line_that_called_it(tmp_path):
    """Found by a student: ``xp.concat(pooled, axis=0)`` in kim_cnn.py was reported "at
    layers.py line 37: raise ValueError(...)", the library's own refusal, not the student's
    line that sent it the wrong shape."""
    code = tmp_path / "course"
    code.mkdir()
    (code / "layers.py").write_text(
        "def linear(x):\n"
        "    if x.ndim != 2:\n"
        "        raise ValueError(f'Linear expects (N, D), got {x.shape}')\n"
        "    return x\n")
    (code / "model.py").write_text(
        "import numpy as np\n"
        "from layers import linear\n\n"
        "def forward():\n"
        "    h = np.zeros((2, 3, 4))\n"
        "    return linear(h)\n")
    outcome, module = _described_error_of(code, "model")
    assert outcome["message"] == (
        "ValueError: Linear expects (N, D), got (2, 3, 4) (at layers.py line 3: raise "
        "ValueError(f'Linear expects (N, D), got {x.shape}'), called from model.py line 6: "
        "return linear(h))")
    try:
        module.forward.__globals__["linear"](None)  # called from no file of the student's
    except AttributeError as exc:
        plain = describe(exc, str(code))
    assert "called from" not in plain["message"]
    # an error that is no deliberate raise, in one file, of a call from another: the caller's
    # line too (a newcomer's trial: skipgram passing every negative where neg_sampling asks
    # one row was reported at negative_sampling.py alone, a file that passes its own checks)
    (code / "caller.py").write_text("from layers import linear\n\n"
                                    "def forward():\n"
                                    "    return linear(None)\n")
    crossed, _ = _described_error_of(code, "caller")
    assert crossed["message"].endswith(", called from caller.py line 4: return linear(None))")


def test_a_flood_of_prints_is_counted_and_its_last_lines_kept(tmp_path):
    """~90,000 lines printed before the output limit stopped the worker: the output says how
    many lines were printed and that only the last 200 are kept (it was "last 3 of 200 lines;
    all in --format json", 200 lines from the middle and "… (1,608 characters cut)")."""
    folder = _submission(tmp_path, "softmax.py", "    ### BEGIN SOLUTION softmax\n",
                         "    ### BEGIN SOLUTION softmax\n"
                         "    for i in range(200000): print('debug', i)\n")
    check = _checks(folder, "softmax")["softmax.values"]
    assert "printed more than" in check.message
    lines = check.details["printed"]["lines"]
    assert lines > 50_000
    first, *kept = check.output.split("\n")
    assert first.startswith(f"… (your code printed {lines:,} lines, ")
    assert first.endswith("bytes in all; only the last 200 lines are kept)")
    if kept[-1] == "":  # the last line ended: the worker was stopped between two prints
        kept.pop()
        assert kept[-1] == f"debug {lines - 1}"
    else:  # stopped in the middle of one, which counts as a line
        assert kept[-2] == f"debug {lines - 2}"
    assert len(kept) == 200 and kept[0].startswith("debug ")
    assert "characters cut" not in check.output


def test_a_wrong_value_on_the_stability_inputs_names_them_not_the_key(tmp_path):
    folder = _submission(tmp_path, "softmax.py",
                         "    return exps / xp.sum(exps, axis=-1, keepdims=True)",
                         "    return 2 * exps / xp.sum(exps, axis=-1, keepdims=True)")
    message = _checks(folder, "softmax")["softmax.stability"].message
    assert message.startswith("softmax on scores around 1000 and -1e4: 5 of 6 entries differ; "
                              "worst at "), message
    assert "large_scores" not in message and "yours is twice the expected one" in message


def test_a_call_that_does_not_fit_the_signature_says_keep_the_stubs():
    """The TypeError of the call itself gets the hint; one raised inside the function, or
    arguments that fit, get none."""
    from nlpdojo_autograder.runtime.signatures import invoke, signature_hint_of

    def softmax(x, axis):
        return x

    def inside(x):
        return len(x) + "a"  # a TypeError of the student's own code

    with pytest.raises(TypeError) as info:
        invoke(softmax, (np.ones(3),), {})
    assert signature_hint_of(info.value) == (
        ". Hint: the grader calls test_a_call_that_does_not_fit_the_signature_says_keep_the_stubs"
        ".<locals>.softmax() with 1 positional argument, as the stub declares it; yours is "
        "test_a_call_that_does_not_fit_the_signature_says_keep_the_stubs.<locals>.softmax(x, "
        "axis): keep the stub's signature (its parameters, in their order; a parameter you add "
        "needs a default)")
    assert "keep the stub's signature" in describe(info.value, "")["message"]
    with pytest.raises(TypeError) as info:
        invoke(inside, (np.ones(3),), {})
    assert signature_hint_of(info.value) == ""
    assert "Hint" not in describe(info.value, "")["message"]
    with pytest.raises(TypeError) as info:
        invoke(lambda x: x, (), {"y": 1})
    assert "with 0 positional arguments and the keyword argument y" in signature_hint_of(
        info.value)


def test_a_changed_signature_end_to_end(tmp_path):
    """softmax(x, axis): "missing 1 required positional argument: 'axis'" and, as a renamed
    function gets "keep the names of the stubs", the advice to keep the stub's signature."""
    folder = _submission(tmp_path, "softmax.py", "def softmax(x: Array) -> Array:",
                         "def softmax(x: Array, axis: int) -> Array:")
    checks = _checks(folder, "softmax")
    for check in ("softmax.values", "softmax.stability"):
        assert checks[check].message == (
            "TypeError: softmax() missing 1 required positional argument: 'axis'. Hint: the "
            "grader calls softmax() with 1 positional argument, as the stub declares it; yours "
            "is softmax(x, axis): keep the stub's signature (its parameters, in their order; a "
            "parameter you add needs a default)"), checks[check].message


def test_eval_mode_runs_of_a_wrong_output_are_counted_in_one_line_as_the_same_mistake():
    """A layer's outputs run again after model.eval() ("h in eval mode, called again"), wrong
    where h is: one line counts them after h's own, as the same mistake."""
    from nlpdojo_autograder.authoring.compare import compare_payloads

    right = {"h": np.ones(3), "h in eval mode": np.ones(3),
             "h in eval mode, called again": np.ones(3)}
    wrong = {k: 2 * v for k, v in right.items()}
    verdict = compare_payloads(wrong, right, rtol=1e-6, atol=1e-8)
    assert not verdict.passed
    assert verdict.message.startswith("h: 3 of 3 entries differ"), verdict.message
    assert verdict.message.endswith("the same outputs, run again after model.eval(), differ too "
                                    "(2 comparisons: the same mistake, fixed with the outputs "
                                    "above)"), verdict.message
    assert "h in eval mode" not in verdict.message
