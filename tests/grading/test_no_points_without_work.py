"""A check must not pay for work that was not done: a layer whose backward adds nothing to
its parameters' gradients (a stub's ``+= 0``) once earned "gradients accumulate" (twice 0 is
2 × 0), and a constant classifier tied the chance floor of a trained-accuracy check
(test_trained_metrics.py). Accumulation is judged on right gradients only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nlpdojo.plugins import get_registry
from tests.grading.courses import edited_course
from tests.grading.test_mistakes_that_passed import _grade

#: the course's own topics: the reference's expected outcomes are shared (tests/conftest.py)
pytestmark = pytest.mark.shared_expected

CONV = "library/conv.py"
FIXTURES = Path(__file__).resolve().parents[2] / "course" / "cnn_text" / "fixtures"


def accumulate_seed(input_seed: int) -> int:
    return get_registry().get("exercise", "cnn_text").check("qrnn.accumulate").seed(input_seed)
ZERO_BACKWARD = ("        rows, t_steps = cache  # rows: the windows, (N, K·D) with N = B·T_out\n",
                 "        rows, t_steps = cache\n"
                 "        return xp.zeros((grad_output.shape[0], t_steps, self.weight.shape[1]),"
                 " dtype=grad_output.dtype)\n")


def test_a_backward_that_adds_nothing_earns_no_accumulate_points(tmp_path):
    course = edited_course(tmp_path, ("library", "cnn_text"), {CONV: ZERO_BACKWARD})
    checks = _grade("cnn_text", course / "cnn_text", "conv1d")
    accumulate = {k: c for k, c in checks.items() if ".accumulate" in k}
    assert len(accumulate) == 3  # one per setting
    for check in accumulate.values():
        assert check.score == 0, (check.id, check.message)
        assert "is not right yet" in check.message
    assert sum(c.score for c in checks.values()) == 0


def test_the_accumulate_judge_pays_only_right_gradients_that_add_up():
    check = get_registry().get("exercise", "cnn_text").check("conv1d.accumulate_plain")
    right = {"once bias": np.array([1.0, -2.0]), "twice bias": np.array([2.0, -4.0])}
    assert check.judge(right, right).passed
    zeros = {"once bias": np.zeros(2), "twice bias": np.zeros(2)}
    assert not check.judge(zeros, right).passed
    overwritten = {"once bias": right["once bias"], "twice bias": right["once bias"]}
    verdict = check.judge(overwritten, right)
    assert not verdict.passed and "accumulate" in verdict.message


#: the right QRNN, but asked for its parameters a second time it lists none: the grader set
#: them through named_parameters() when it built the layer, and read the gradients through it
HIDDEN_PARAMETERS = '''
_listed = QRNN.named_parameters


def _first_time_only(self, *args, **kwargs):
    asked = getattr(self, "_asked", 0)
    self._asked = asked + 1
    if asked == 0:
        yield from _listed(self, *args, **kwargs)


QRNN.named_parameters = _first_time_only
'''


def test_parameters_hidden_after_the_layer_is_built_earn_no_gradient_points(tmp_path):
    """Before: gradients, repeated and accumulate passed (0.9 of 2 points) on dL/dx alone,
    saying the gradients matched the reference's: the parameters' gradients went unchecked
    because none were reported."""
    course = edited_course(tmp_path, ("library", "cnn_text"),
                           appended={"cnn_text/qrnn.py": HIDDEN_PARAMETERS})
    checks = _grade("cnn_text", course / "cnn_text", "qrnn")
    for name in ("gradients", "repeated", "accumulate"):
        check = checks[f"qrnn.{name}"]
        assert check.score == 0, (check.id, check.message)
        assert "no gradient came back for" in check.message and "conv.weight" in check.message
    assert sum(c.score for c in checks.values()) == 0


def test_a_gradient_left_out_of_a_returned_dict_is_not_skipped():
    """A function check whose gradients come back as a dict (the L2 penalty's): one left out
    fails the gradient check instead of going unchecked."""
    from nlpdojo_autograder.authoring.checks import CheckFailure
    from nlpdojo_autograder.authoring.kinds import GradientProblem, gradient_check

    point = {"W": np.ones((2, 2)), "b": np.ones(2)}
    problem = GradientProblem(loss=lambda v: float(np.sum(v["W"] ** 2) + np.sum(v["b"] ** 2)),
                              point=point, analytic={"W": 2 * point["W"]})
    check = gradient_check("gradients", "t", 1.0, lambda ctx: problem, question="q")

    class Ctx:
        expected_only, seed = False, 0

        def to_numpy(self, x, what=""):
            return np.asarray(x)

        def batch(self, f, values):
            return [f(v) for v in values]

    with pytest.raises(CheckFailure, match="no gradient came back for b"):
        check.collect(Ctx())


#: a forward whose output claims a shape of 150 million numbers: the grader drew upstream
#: gradients of that shape in its own process (9.6 GB) before anything was compared
HUGE_OUTPUT = '''

class _Claims:
    shape = (150, 1000, 1000)
    dtype = "float64"


def _huge_forward(self, x, lengths=None):
    return _Claims(), x.shape


QRNN.forward = _huge_forward
'''


def test_an_output_that_claims_a_huge_shape_is_refused_before_anything_is_allocated(tmp_path):
    course = edited_course(tmp_path, ("library", "cnn_text"),
                           appended={"cnn_text/qrnn.py": HUGE_OUTPUT})
    checks = _grade("cnn_text", course / "cnn_text", "qrnn")
    layer = [c for c in checks.values() if c.id.split(".")[1] in ("values", "gradients")]
    assert layer
    for check in layer:
        assert check.score == 0 and check.status != "timeout", (check.id, check.message)
        assert "over 1,048,576 numbers" in check.message, check.message


def _pasted_fixture() -> str:
    """A QRNN that computes nothing: its backward adds the numbers of the shipped fixture
    ``qrnn.accumulate.npz`` (the reference's one-pass gradients at input seed 0) to the
    convolution's gradients."""
    with np.load(FIXTURES / "qrnn.accumulate.npz") as fixture:
        weight, bias = fixture["once conv.weight"].tolist(), fixture["once conv.bias"].tolist()
    return f'''

def _nothing_forward(self, x):
    return self.xp.zeros((x.shape[0], x.shape[1], self.hidden_size), dtype=x.dtype), x.shape


def _pasted_backward(self, grad_output, cache):
    xp = self.xp
    self.conv.weight.grad = self.conv.weight.grad + xp.asarray({weight!r}, dtype=grad_output.dtype)
    self.conv.bias.grad = self.conv.bias.grad + xp.asarray({bias!r}, dtype=grad_output.dtype)
    return xp.zeros(cache, dtype=grad_output.dtype)


QRNN.forward, QRNN.backward = _nothing_forward, _pasted_backward
'''


def test_every_check_judged_against_the_reference_draws_fresh_inputs():
    """Custom checks judged against the reference's payload (a layer's "gradients accumulate",
    the optimizers against torch.optim, whitening) drew their inputs from the base seed, the
    same on every grading, so the fixture a student release ships was the expected answer."""
    for topic in ("neural_networks", "cnn_text", "rnn_variants"):
        for check in get_registry().get("exercise", topic).checks:
            if check.needs_expected and check.kind != "metric":
                assert check.fresh_inputs, check.id
            if check.kind == "metric":
                assert not check.fresh_inputs, check.id  # training runs keep the base seed


@pytest.mark.parametrize("input_seed", [0, 5])
def test_a_pasted_fixture_earns_nothing_where_the_reference_is_installed(tmp_path, input_seed):
    """At input seed 0 (what a student release grades with) the pasted numbers are the
    expected ones, and the accumulate check alone passed them; where the reference is
    installed the layer must also give the reference's gradients at scale, which no pasted
    number does (at any seed: the grader with the reference draws another one anyway)."""
    course = edited_course(tmp_path, ("library", "cnn_text"),
                           appended={"cnn_text/qrnn.py": _pasted_fixture()})
    checks = _grade("cnn_text", course / "cnn_text", "qrnn", input_seed=input_seed)
    accumulate = checks["qrnn.accumulate"]
    assert accumulate.details["seed"] == accumulate_seed(input_seed)
    assert sum(c.score for c in checks.values()) == 0, {k: c.message for k, c in checks.items()}
    if input_seed == 0:
        assert "at scale" in accumulate.message.lower(), accumulate.message


#: a QRNN whose forward calls the swapped-in Conv1d for an output over the reference
#: process's reply cap, again and again: each call stops that process and the next starts it
RESTARTS_THE_REFERENCE = '''
def _forward(self, x):
    from ..library.conv import Conv1d

    big = Conv1d(self.backend, 1, 8192, 1)
    ones = self.xp.ones((1, 4200, 1), dtype=x.dtype)
    while True:
        try:
            big.forward(ones)  # 275 MB of output, over the cap: the reference process stops
        except Exception:
            pass


QRNN.forward = _forward
'''


@pytest.mark.timeout(300)
def test_restarting_the_reference_process_does_not_buy_a_check_time(tmp_path):
    """A restart of the reference process was added to the check's deadline, as its first
    start is (the grader's time): a forward that got it stopped again and again (a reply over
    its cap) ran a 30-second check for as long as it liked. Only the first start of a check
    is credited now."""
    from nlpdojo_autograder.grading.runner import Limits

    course = edited_course(tmp_path, ("library", "cnn_text"),
                           appended={"cnn_text/qrnn.py": RESTARTS_THE_REFERENCE})
    limits = Limits(timeout_scale=0.5)
    checks = _grade("cnn_text", course / "cnn_text", "qrnn", limits=limits,
                    until_lost={"qrnn": ""})
    (check,) = checks.values()  # the first lost check ends the question's grading
    limit = get_registry().get("exercise", "cnn_text").check(check.id).timeout_s * 0.5
    assert check.score == 0 and check.status == "timeout", (check.status, check.message)
    # its limit, the reference process's first start and the time to stop it (each restart
    # credited, the same check ran twice its limit)
    assert check.duration_s < limit + 8, (check.duration_s, limit)


#: an attacker's state_gradient_norms: ‖grad_last‖, then zeros, no cell ever run
ZERO_NORMS = ("    state, caches = state0, []\n",
              "    return xp.concat([xp.reshape(xp.linalg.vector_norm(grad_last), (1,)),\n"
              "                      xp.zeros(xs.shape[1], dtype=xs.dtype, device=xs.device)])\n"
              "    state, caches = state0, []\n")


def test_norms_that_meet_the_bound_without_backpropagation_earn_nothing(tmp_path):
    """Zeros meet Pascanu et al.'s upper bound: the bound's property check paid 0.5 of 2
    points to norms computed by no backward pass at all. It is earned on right norms only."""
    course = edited_course(tmp_path, ("library", "rnn_variants"),
                           {"rnn_variants/vanishing.py": ZERO_NORMS})
    checks = _grade("rnn_variants", course / "rnn_variants", "vanishing")
    assert checks and sum(c.score for c in checks.values()) == 0, {
        k: (c.score, c.message) for k, c in checks.items()}
    bound = checks["vanishing.bound"]
    assert "not the right ones" in bound.message, bound.message


#: a backward that gives up at the run at scale's sizes (an adversarial trial): right in every
#: check's own small case, nothing at scale
GIVE_UP_AT_SCALE = (
    "        c_emb, c_hidden, c_act, c_drop, c_out, shape = cache\n",
    "        c_emb, c_hidden, c_act, c_drop, c_out, shape = cache\n"
    "        if shape[0] * shape[1] * shape[2] > 10_000:\n"
    "            return None\n")


def test_a_backward_that_gives_up_at_scale_earns_no_eval_mode_points(tmp_path):
    """The eval-mode check judges eval-mode gradients too: excused for gradients wrong at the
    (training-mode) run at scale, it paid such a backward 0.5 of the window classifier's 4
    (an adversarial trial of the day's change). It has its own run at scale, in eval mode."""
    course = edited_course(tmp_path, ("library", "neural_networks"),
                           {"neural_networks/window.py": GIVE_UP_AT_SCALE})
    checks = _grade("neural_networks", course / "neural_networks", "window_classifier")
    assert sum(c.score for c in checks.values()) == 0, {
        k: (c.score, c.message[:200]) for k, c in checks.items() if c.score}


def test_a_loss_that_keeps_its_caches_in_a_queue_on_self_earns_no_values_points(tmp_path):
    """A loss whose forward returns no cache and queues what backward needs on self, backward
    popping the oldest, answered a first forward's backward after a second forward right and
    kept 2 of 2 (an adversarial trial); the values check also runs a second forward's backward
    before the first's, on a loss of its own."""
    course = edited_course(tmp_path, ("library", "neural_networks"))
    path = course / "library/losses.py"
    text = path.read_text()
    for old, new in (("        return loss, (active, onehot)\n",
                      "        self.queue = getattr(self, 'queue', [])\n"
                      "        self.queue.append((active, onehot))\n"
                      "        return loss, None\n"),
                     ("        active, onehot = cache\n",
                      "        active, onehot = self.queue.pop(0)\n")):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path.write_text(text)
    checks = _grade("neural_networks", course / "neural_networks", "max_margin")
    values = checks["max_margin.values"]
    assert values.score == 0 and "called before the first forward's backward" in \
        values.message, values.message


def test_ngram_keys_made_in_floats_and_cast_back_lose_the_counts_check(tmp_path):
    """Keys computed in float64 and cast to int64 are exact below 2⁵³ and kept 3 of 3 while
    every large key was a trigram's (an adversarial trial): 4-grams one apart past 2⁵³ share a
    key there, and the message says why."""
    course = edited_course(tmp_path, ("language_models",), {"language_models/ngrams.py": (
        "    powers = vocab_size ** np.arange(k - 1, -1, -1, dtype=np.int64)  # (k,)  V^(k−1) "
        "… V^0\n    return windows.astype(np.int64) @ powers  # (M,)",
        "    powers = float(vocab_size) ** np.arange(k - 1, -1, -1, dtype=np.float64)\n"
        "    return (windows.astype(np.float64) @ powers).astype(np.int64)")})
    checks = _grade("language_models", course / "language_models", "ngram_counts")
    values = checks["ngram_counts.values"]
    assert values.score == 0 and "floating-point arithmetic cast to integers" in \
        values.message, values.message
