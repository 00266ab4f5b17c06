"""An independent oracle computed once per draw (issue 66 item 1): a gradient check's torch
autograd gradient of the true loss is a function of its point and the inputs the true loss
reads, all drawn by the grader; a submission's grading takes it from the reference's payload
for the same check where those are equal (:meth:`Context.oracle`), so that a cohort's
gradings (whose expected outcomes come from the store) need not import torch for it. The
verdicts are those of computing it every time."""

from __future__ import annotations

import numpy as np
import pytest

from nlpdojo_autograder.authoring.context import ORACLE_DIGEST, Context, digest_of
from nlpdojo_autograder.grading import grade as grading
from nlpdojo_autograder.grading.grade import GradeOptions, grade
from tests.grading.courses import edited_course

pytest.importorskip("torch")


def test_the_digest_sees_every_number_dtype_and_shape_and_no_key_order():
    x = np.arange(6.0).reshape(2, 3)
    same = digest_of({"a": x, "b": (1, "s")})
    assert digest_of({"b": (1, "s"), "a": x.copy()}) == same
    y = x.copy()
    y[1, 2] += 1e-12
    assert digest_of({"a": y, "b": (1, "s")}) != same
    assert digest_of({"a": x.astype(np.float32), "b": (1, "s")}) != same
    assert digest_of({"a": x.reshape(3, 2), "b": (1, "s")}) != same
    assert digest_of({"a": x, "b": [1, "s"]}) != same  # a list is not a tuple
    assert digest_of({"a": x, "b": (1.0, "s")}) != same  # nor 1.0 the integer 1


def test_a_tensor_is_digested_by_all_its_numbers_not_its_shortened_repr():
    torch = pytest.importorskip("torch")
    big = torch.zeros(5000, dtype=torch.float64)
    other = big.clone()
    other[2500] = 1.0  # repr shows neither: "tensor([0., 0., 0.,  ..., 0., 0., 0.])"
    assert repr(big) == repr(other)
    assert digest_of(big) != digest_of(other)


def _context(known):
    return Context(subject=None, backend=None, seed=0, workdir=None, known=known)


def test_the_oracle_is_taken_from_the_reference_only_on_equal_inputs():
    point = {"x": np.ones(3)}
    calls = []

    def compute():
        calls.append(1)
        return np.full(3, 2.0)

    reference = _context(None).oracle("autograd|x", point, compute)
    assert len(calls) == 1 and reference["autograd|x" + ORACLE_DIGEST] == digest_of(point)
    reused = _context(reference).oracle("autograd|x", {"x": np.ones(3)}, compute)
    assert len(calls) == 1 and reused["autograd|x"] is reference["autograd|x"]
    # another point, or a reference payload without the digest: computed
    _context(reference).oracle("autograd|x", {"x": np.zeros(3)}, compute)
    _context({"autograd|x": np.full(3, 9.0)}).oracle("autograd|x", point, compute)
    assert len(calls) == 3


def _graded(tmp_path, monkeypatch, topic, question, edits, *, reuse=True):
    """``question`` graded on a copy of the solutions with ``edits``: each check's score,
    message and details, the oracles the reference's run computed and those the submission's
    computed (by key). The reference's expected outcomes are computed once per test (kept in
    memory): a second grading runs the submission alone. Metric checks are left out: they
    train, and take no oracle (rnn_lm's perplexity trained three times a test, 60 % of it)."""
    course = edited_course(tmp_path, ("library", topic), edits)
    by_reference, by_submission = [], []
    single, several = Context.oracle, Context.oracles

    def counted(method):
        def call(self, key, on, compute):
            def counting():  # the reference's own run is in this process, "trusted"
                reference = getattr(self.subject, "isolation", "") == "trusted"
                (by_reference if reference else by_submission).append(key)
                return compute()
            if reuse:
                return method(self, key, on, counting)
            # the oracle computed again; what else reads the reference's payload still does
            known, self.known = self.known, {}
            try:
                return method(self, key, on, counting)
            finally:
                self.known = known
        return call

    def without_metrics(*args, **kwargs):
        return [c for c in selected(*args, **kwargs) if c.kind != "metric"]

    selected = grading.select_checks
    with monkeypatch.context() as patched:
        patched.setattr(Context, "oracle", counted(single))
        patched.setattr(Context, "oracles", counted(several))
        patched.setattr(grading, "select_checks", without_metrics)
        result = grade([topic], submission=course / topic,
                       options=GradeOptions(questions=frozenset({f"{topic}.{question}"}),
                                            input_seed=7), replay_options={})
    checks = {c.id: (c.score, c.message, c.details) for _, c in result.checks()}
    return checks, by_reference, by_submission


@pytest.mark.parametrize("topic,question,edits", [
    # a function (function_checks): the center vector's gradient halved
    ("word_vectors", "naive_softmax", {"word_vectors/naive_softmax.py": (
        "grad_center_vec = xp.matmul(delta, outside_vectors)  # (D,)",
        "grad_center_vec = 0.5 * xp.matmul(delta, outside_vectors)  # (D,)")}),
    # a layer (layer_checks): the bias's gradient halved
    ("neural_networks", "affine", {"library/layers.py": (
        "self.bias.grad += xp.sum(grad_output, axis=0)  # (D_out,)",
        "self.bias.grad += 0.5 * xp.sum(grad_output, axis=0)  # (D_out,)")}),
    # a loss (loss_checks): the solutions as they are
    ("neural_networks", "softmax_ce", {}),
])
def test_a_submission_takes_autograd_from_the_reference_with_the_same_verdicts(
        tmp_path, monkeypatch, topic, question, edits):
    # the reference's run computes the oracles (autograd among them), the submission's none
    reused, by_reference, by_submission = _graded(tmp_path / "reused", monkeypatch, topic,
                                                  question, edits)
    assert by_reference, "the reference computes the autograd oracle"
    assert by_submission == [], "the submission's run took every oracle from the reference"
    each_time, _, by_submission = _graded(tmp_path / "each", monkeypatch, topic, question,
                                          edits, reuse=False)
    assert by_submission, "computed by the submission's run where not reused"
    assert reused == each_time
    gradient = [cid for cid, (_, _, details) in reused.items() if "gradients" in details]
    assert gradient, list(reused)
    with_autograd = [cid for cid in gradient if any(
        g["notes"] == ["reference: torch autograd"] for g in reused[cid][2]["gradients"])]
    assert with_autograd, gradient
    for cid in with_autograd:
        score, message, details = reused[cid]
        by_autograd = [g for g in details["gradients"]
                       if g["notes"] == ["reference: torch autograd"]]
        if edits:  # the halved gradient differs from autograd's too
            assert score == 0 and not all(g["passed"] for g in by_autograd), message
        else:
            assert score > 0 and all(g["passed"] for g in by_autograd), message
            assert "autograd" in message, message


@pytest.mark.parametrize("topic,question,edits,named", [
    # torch_check's and the values check's oracles: batch norm's torch forward, and its
    # named mistakes written in torch (the unbiased variance)
    ("cnn_text", "batch_norm", {"library/normalization.py": (
        "var = xp.mean((x - mean) ** 2, axis=axes)",
        "var = xp.var(x, axis=axes, correction=1)")}, "the unbiased variance"),
    # the truncated-BPTT losses in torch and its named mistakes (name_the_mistake's oracle)
    ("language_models", "rnn_lm", {"language_models/rnn_lm.py": (
        "            opt.zero_grad()\n            scores, cache = model(x, h)",
        "            scores, cache = model(x, h)")}, "gradients never zeroed"),
    # an optimizer's torch.optim trajectory: Adam without bias correction
    ("neural_networks", "adam", {"library/optim.py": (
        "step = m / (1.0 - self.beta1 ** t)  # m̂, then α m̂ / (√v̂ + ε), in place\n"
        "            step *= self.lr\n"
        "            denominator = xp.sqrt(v / (1.0 - self.beta2 ** t))  # √v̂",
        "step = m * 1.0\n            step *= self.lr\n            denominator = xp.sqrt(v)")},
     "without bias correction"),
])
def test_oracles_of_several_values_are_reused_with_the_same_verdicts(
        tmp_path, monkeypatch, topic, question, edits, named):
    reused, by_reference, by_submission = _graded(tmp_path / "reused", monkeypatch, topic,
                                                  question, edits)
    assert any(key.startswith(("torch|", "mistake|")) for key in by_reference), by_reference
    assert by_submission == [], "the submission's run took every oracle from the reference"
    each_time, _, by_submission = _graded(tmp_path / "each", monkeypatch, topic, question,
                                          edits, reuse=False)
    assert by_submission and reused == each_time
    lost = {cid: message for cid, (score, message, _) in reused.items() if score == 0}
    assert any(named in message for message in lost.values()), lost
    if topic != "language_models":  # its loop has no torch check of its own
        assert any(cid.endswith(".torch") for cid in lost), lost


@pytest.mark.parametrize("edits,named", [
    ({}, None),
    # the values check names the mistake from its torch forward's outputs, kept in the fixture
    ({"library/normalization.py": ("var = xp.mean((x - mean) ** 2, axis=axes)",
                                   "var = xp.var(x, axis=axes, correction=1)")},
     "the unbiased variance"),
])
def test_a_student_release_takes_the_named_mistakes_from_its_fixtures(
        tmp_path, monkeypatch, edits, named):
    """A release's fixtures keep the named mistakes written in torch as the oracles they are
    (their digest beside them): a student's grading at the fixtures' seed computes no oracle,
    and names the mistake all the same. Before, cnn_text's, rnn_variants' and language_models'
    releases imported torch for these alone."""
    computed = []
    one, many = Context.oracle, Context.oracles
    monkeypatch.setattr(Context, "oracle", lambda self, key, on, compute: one(
        self, key, on, lambda: computed.append(key) or compute()))
    monkeypatch.setattr(Context, "oracles", lambda self, prefix, on, compute: many(
        self, prefix, on, lambda: computed.append(prefix) or compute()))
    course = edited_course(tmp_path, ("library", "cnn_text"), edits)
    result = grade(["cnn_text"], submission=course / "cnn_text", replay_options={},
                   options=GradeOptions(questions=frozenset({"cnn_text.batch_norm"}),
                                        use_reference=False))
    checks = {c.id: c for _, c in result.checks()}
    assert computed == [], "every oracle came from the fixtures"
    if named is None:
        assert result.score == result.max_score > 0, [c.message for c in checks.values()]
    else:
        values = checks["batch_norm.values"]
        assert values.score == 0 and named in values.message, values.message
