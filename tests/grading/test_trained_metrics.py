"""Metric checks measured on the trusted side (issue 23, part 2;
:mod:`nlpdojo_autograder.training.trained`).

Each attack below earned accuracy or perplexity points from the previous grader without a
trained model; here each is a submission graded through the real grader (the OS sandbox where
bubblewrap is there) and must score 0 on the metric it aimed at, with a message that says why.
The honest reference, graded the same way, keeps full marks (test_language_models_grading.py,
test_neural_networks_grading.py), and the judge's audit is checked directly on payloads.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest

from nlpdojo.plugins import get_registry
from nlpdojo_autograder.grading.grade import GradeOptions, grade_exercise, seed_from_environment
from nlpdojo_autograder.grading.runner import read_outcome
from nlpdojo_autograder.training import trained
from tests.grading.courses import edited_course, slow_only

#: attacks judged on drawn inputs: `make test-seeds` runs them for 20 input seeds
pytestmark = [pytest.mark.seeded, pytest.mark.shared_expected]

REPO = Path(__file__).resolve().parents[2]


def _course(root: Path, topic: str, edits: dict[str, tuple[str, str]],
            appended: dict[str, str] | None = None) -> Path:
    """The reference course (library, neural_networks, language_models) with ``edits`` and
    text ``appended`` (:func:`edited_course`): the folder of ``topic``."""
    folders = ("library", "neural_networks", "language_models")
    return edited_course(root, folders, edits, appended) / topic


def _graded(folder: Path, topic: str, check_id: str):
    exercise = get_registry().get("exercise", topic)
    exercise = dataclasses.replace(exercise, checks=[c for c in exercise.checks
                                                     if c.id == check_id])
    options = GradeOptions(input_seed=seed_from_environment() or 12345)
    (check,) = grade_exercise(exercise, folder, options).checks
    return check


def test_a_training_loop_that_does_not_train_earns_no_perplexity_point(tmp_path):
    """The loop replaced by one that trains nothing and reports losses that look like
    training (the old attack also replaced the scoring with constant log-probabilities set to
    the reference's printed perplexity; no scoring runs in the worker any more): the audit
    compares every step's loss with the reference's training from the same start."""
    folder = _course(tmp_path, "language_models", {"language_models/rnn_lm.py": (
        "            opt.zero_grad()\n            scores, cache = model(x, h)  # (B, T, V)",
        "            losses.append(7.6 - 0.01 * len(losses))  # made up, nothing trained\n"
        "            continue\n"
        "            scores, cache = model(x, h)  # (B, T, V)")})
    check = _graded(folder, "language_models", "rnn_lm.perplexity")
    assert check.score == 0, check.message
    # an untrained model's first loss is about ln(2,000) = 7.60, so the made-up first loss
    # (7.6) may agree with the reference's at some seeds: the audit then names the first step
    # whose made-up loss (7.59, 7.58, ...) does not (input seed 3 stopped at step 2)
    assert re.search(r"training audit: (the first step's loss|the loss of training step \d+ "
                     r"\(every step before it agrees\)) is 7\.[56]\d*;", check.message), \
        check.message


def test_parameters_from_elsewhere_earn_no_perplexity_point(tmp_path):
    """The loop trains as the reference does, then swaps the model's weights for others (the
    stand-in for weights trained elsewhere, shipped with the submission): every loss agrees,
    the returned parameters are not the ones the training produced."""
    folder = _course(tmp_path, "language_models", {"language_models/rnn_lm.py": (
        "            losses.append(float(loss))\n",
        "            losses.append(float(loss))\n"
        "            if len(losses) == max_windows:\n"
        "                for p in model.parameters():\n"
        "                    p.data[...] = 1.01 * p.data\n")})
    check = _graded(folder, "language_models", "rnn_lm.perplexity")
    assert check.score == 0, check.message
    assert "not the ones that training produced" in check.message, check.message


#: the public start: what a trajectory computed before the grading must begin from (the
#: grader's ``initial_parameters`` at seed 0, re-implemented as a submission can, by name)
PUBLIC_START = """\
            if k == 0 and not losses:  # a trajectory computed before grading starts here
                import numpy as _np
                _rng = _np.random.default_rng([0, 0x1A17])
                for _name, _p in sorted(model.named_parameters()):
                    _shape = tuple(_p.data.shape)
                    if len(_shape) == 1:
                        _v = _np.zeros(_shape)
                    elif _name.endswith("weight_h"):
                        _v = _rng.uniform(-1 / _np.sqrt(_shape[0]), 1 / _np.sqrt(_shape[0]),
                                          _shape)
                    elif "embedding" in _name:
                        _v = 0.1 * _rng.standard_normal(_shape)
                    else:
                        _v = (_np.sqrt(2.0 / (_np.prod(_shape[:-1]) + _shape[-1]))
                              * _rng.standard_normal(_shape))
                    _p.data[...] = backend.asarray(_v)
"""


def _public_start(tmp_path: Path) -> Path:
    """The RNN LM trained honestly, but from the public start (seed 0), as a trajectory
    computed before the grading and shipped must be."""
    return _course(tmp_path, "language_models", {"language_models/rnn_lm.py": (
        "            opt.zero_grad()\n            scores, cache = model(x, h)  # (B, T, V)",
        PUBLIC_START + "            opt.zero_grad()\n"
        "            scores, cache = model(x, h)  # (B, T, V)")})


def test_a_trajectory_computed_before_grading_earns_no_perplexity_point(tmp_path):
    """Training started from the grader's initial parameters at a seed known in advance, on
    public data, so its every step could be computed before the grading (with torch's
    autograd, on another machine) and shipped: an attacker's LSTM LM with no backward earned
    the perplexity check by returning such a trajectory. The start and the training seed are
    drawn from the input seed now. The stand-in here trains honestly, but from the public
    start (seed 0), as a shipped trajectory must: with a fresh input seed the audit finds the
    first loss off (that the stand-in is what a shipped trajectory would be: the test below,
    in the slow runs)."""
    check = _graded(_public_start(tmp_path), "language_models", "rnn_lm.perplexity")
    assert check.score == 0, check.message
    assert "training audit: the first step's loss" in check.message, check.message


@pytest.mark.slow
@slow_only("15 s")
def test_the_public_start_stand_in_is_the_references_training_at_input_seed_0(tmp_path):
    """At input seed 0 (never drawn in CI) the stand-in above is the reference's training, with
    full marks: it is what a trajectory computed before the grading and shipped would be."""
    folder = _public_start(tmp_path)
    exercise = get_registry().get("exercise", "language_models")
    exercise = dataclasses.replace(exercise, checks=[c for c in exercise.checks
                                                     if c.id == "rnn_lm.perplexity"])
    (public,) = grade_exercise(exercise, folder, GradeOptions(input_seed=0)).checks
    assert public.score == public.max_score, public.message


def test_a_model_that_reads_the_next_token_earns_no_perplexity_point(tmp_path):
    """A non-causal RNN LM: when scored (eval mode) its forward reads, at step t, the token of
    step t + 1 from its input window and puts all the probability there (it trains honestly,
    so the audit passes). The grader scores held-out text with the reference's forward, and
    the student's forward must agree with it on a probe of training text: it does not."""
    folder = _course(tmp_path, "language_models", {"language_models/rnn_lm.py": (
        "        scores = xp.reshape(scores, (b, t_steps, scores.shape[-1]))  # (B, T, V)",
        "        scores = xp.reshape(scores, (b, t_steps, scores.shape[-1]))  # (B, T, V)\n"
        "        if not self.training:  # peek: the next token is in the window\n"
        "            import numpy as _np\n"
        "            peek = _np.array(self.backend.to_numpy(scores))\n"
        "            nxt = _np.array(self.backend.to_numpy(ids))[:, 1:]\n"
        "            bb, tt = _np.meshgrid(_np.arange(b), _np.arange(t_steps - 1), indexing='ij')\n"
        "            peek[bb, tt, nxt] += 50.0\n"
        "            scores = self.backend.asarray(peek)")})
    check = _graded(folder, "language_models", "rnn_lm.perplexity")
    assert check.score == 0, check.message
    assert "your model's forward gives" in check.message, check.message
    assert "(a language model predicts each token from the tokens before it only;" \
        in check.message, check.message


def test_a_forward_that_disagrees_with_the_reference_on_the_trained_weights_fails(tmp_path):
    """A window LM that trains exactly like the reference but answers differently in eval
    mode (when it is scored): the grader scores with the reference's forward, and the
    student's forward must give the reference's outputs on a probe of training text."""
    folder = _course(tmp_path, "language_models", {"language_models/window_lm.py": (
        "        return scores, (c_emb, c_hidden, c_act, c_out, tuple(vectors.shape))",
        "        if not self.training:  # only when scored: a different answer\n"
        "            scores = scores * 0.5\n"
        "        return scores, (c_emb, c_hidden, c_act, c_out, tuple(vectors.shape))")})
    check = _graded(folder, "language_models", "window_lm.perplexity")
    assert check.score == 0, check.message
    assert "your model's forward gives" in check.message, check.message


def test_a_classifier_trained_on_other_labels_earns_no_accuracy_point(tmp_path):
    """The given loop is the instructor's (sent by the grader, whatever the submission's copy
    says), but the submission's own loss trains on other labels than the grader's (the
    stand-in for labels shipped with the submission, such as MR's public test split; the worker
    never receives held-out data): the audit sees the first loss differ from the reference's
    training from the same start on the grader's data."""
    folder = _course(tmp_path, "language_models", {"library/losses.py": (
        "        index = xp.reshape(xp.astype(target, xp.int64), (n, 1))  # (N, 1) class ids",
        "        index = xp.reshape(xp.astype(1 - target if c == 2 else target, xp.int64),"
        " (n, 1))")})
    check = _graded(folder, "language_models", "sentence_polarity.accuracy")
    assert check.score == 0, check.message
    assert "training audit: the first step's loss" in check.message, check.message


def test_the_scorer_cannot_tell_true_windows_from_corrupted_ones(tmp_path):
    """A window scorer that remembers the order of its scoring calls (true windows first,
    corrupted ones after, as the old protocol sent them) earns nothing: the grader scores one
    shuffled batch itself, and the student's forward is only compared on training windows."""
    folder = _course(tmp_path, "neural_networks", {"neural_networks/window.py": (
        "        scores, c_out = self.output(kept)  # (N, C)",
        "        scores, c_out = self.output(kept)  # (N, C)\n"
        "        if not self.training:\n"
        "            _CALLS.append(1)\n"
        "            scores = scores + (10.0 if len(_CALLS) == 1 else -10.0)")},
        {"neural_networks/window.py": "_CALLS = []\n"})
    check = _graded(folder, "neural_networks", "window_scoring.ranking")
    assert check.score == 0, check.message
    assert "your model's forward gives" in check.message, check.message
    assert "language model" not in check.message, check.message  # a scorer's, said as one


# -- the judge's audit, on payloads ----------------------------------------------------------
def _payload(losses, **params) -> dict:
    return {"value": 1.0, trained.LOSSES: np.asarray(losses, float), trained.FLOAT64: 1.0,
            **{trained.PARAM + k: np.asarray(v, float) for k, v in params.items()}}


def test_the_audit_names_the_first_step_that_differs():
    ref = _payload([3.0, 2.5, 2.0], w=[1.0, 2.0])
    assert trained.audit(ref, ref) is None
    why = trained.audit(_payload([3.0, 2.6, 2.0], w=[1.0, 2.0]), ref)
    assert why is not None and "step 2" in why and "2.6" in why
    why = trained.audit(_payload([3.1, 2.5, 2.0], w=[1.0, 2.0]), ref)
    assert why is not None and "first step's loss" in why


def test_the_audit_refuses_parameters_that_training_did_not_produce():
    """Every loss agrees (the loop ran) but the returned parameters are others."""
    ref = _payload([3.0, 2.5], w=[1.0, 2.0], b=[0.5])
    why = trained.audit(_payload([3.0, 2.5], w=[1.0, 2.1], b=[0.5]), ref)
    assert why is not None and "trained w differs" in why
    why = trained.audit(_payload([3.0, 2.5], w=[1.0, 2.0]), ref)
    assert why is not None and "lack b" in why


def test_the_audit_counts_steps_and_tolerates_float32_against_float64():
    ref = _payload([3.0, 2.5, 2.0], w=[1.0, 2.0])
    why = trained.audit(_payload([3.0, 2.5], w=[1.0, 2.0]), ref)
    assert why is not None and "ran 2 steps" in why
    drifted = _payload([3.0001, 2.5002, 2.0003], w=[1.0001, 2.0002])
    assert trained.audit(drifted, ref) is not None  # float64 on both sides: too far
    drifted[trained.FLOAT64] = 0.0  # a float32 training against the float64 reference
    assert trained.audit(drifted, ref) is None


def test_a_release_judges_by_the_rule_a_submission_is_judged_by():
    """A student release: the expected payload is the release's fixture (the reference's
    metric and losses at seed 0, no parameter): the losses are audited, the threshold and
    the too-good bound apply, and the message says the reference's figure (the fixture ships
    it) and what a submission's grading adds."""
    assert trained.audit(_payload([1.0], w=[1.0]), None) is None
    check = get_registry().get("exercise", "language_models").check("window_lm.perplexity")
    assert check.release_expected and check.stored("value") and check.stored(trained.LOSSES)
    assert not check.stored(trained.PARAM + "w") and not check.stored(trained.FLOAT64)
    fixture = {"value": 131.3, trained.LOSSES: np.asarray([7.6, 7.1, 6.5])}
    good = check.judge({"unigram": 190.0, **_payload([7.6, 7.1, 6.5]), "value": 131.3},
                       fixture)
    assert good.passed and "the reference: 131.3" in good.message
    assert "a student release: judged as a submission is" in good.message
    missed = check.judge({"unigram": 190.0, **_payload([7.6, 7.1, 6.5]), "value": 150.0},
                         fixture)
    assert not missed.passed and missed.threshold == pytest.approx(1.05 * 131.3)
    assert "the reference reaches about 131 under this budget" in missed.message
    assert "needs ≤ 137.9" in missed.message, missed.message
    off = check.judge({"unigram": 190.0, **_payload([7.6, 7.2, 6.5]), "value": 131.3}, fixture)
    assert not off.passed and "training audit: the loss of training step 2" in off.message
    too_good = check.judge({"unigram": 190.0, **_payload([7.6, 7.1, 6.5]), "value": 40.0},
                           fixture)
    assert not too_good.passed and "implausibly low" in too_good.message


@pytest.mark.parametrize("topic,check_id,constant", [
    ("cnn_text", "kim_polarity.accuracy", {"value": 0.5041, "majority": 0.5041}),
    ("cnn_text", "char_tagging.unknown", {"value": 0.2513, "unknown_baseline": 0.2513}),
    ("rnn_variants", "bilstm_polarity.accuracy", {"value": 0.5041, "majority": 0.5041}),
    ("language_models", "window_lm.perplexity", {"value": 190.0, "unigram": 190.0})])
def test_a_constant_answer_that_ties_the_chance_floor_fails(topic, check_id, constant):
    """Where the reference's threshold is weaker than the chance floor, the floor decides,
    and a constant answer (the majority class for every sentence) reaches it exactly: a
    trained model must beat it, not equal it."""
    check = get_registry().get("exercise", topic).check(check_id)
    reference = {"value": constant["value"]}  # a threshold at or past the floor
    tie = check.judge(constant, reference)
    assert not tie.passed and "a trained model must beat it" in tie.message
    lower_is_better = "unigram" in constant  # a perplexity
    better = dict(constant, value=constant["value"] * (0.98 if lower_is_better else 1.02))
    assert check.judge(better, reference).passed


@pytest.mark.parametrize("topic,check_id", [
    ("language_models", "rnn_lm.perplexity"), ("language_models", "window_lm.perplexity"),
    ("language_models", "sentence_polarity.accuracy"), ("neural_networks", "pos_tagging.accuracy"),
    ("neural_networks", "window_scoring.ranking"),
    ("rnn_variants", "lstm_lm_perplexity.perplexity"), ("rnn_variants", "bilstm_polarity.accuracy"),
    ("cnn_text", "kim_polarity.accuracy"), ("cnn_text", "char_tagging.accuracy"),
    ("cnn_text", "char_tagging.unknown"), ("word_vectors", "training.heldout_loss")])
def test_a_trained_model_checks_fixture_holds_its_metric_and_losses_only(topic, check_id):
    """A release's fixture of a trained model's check holds the reference's metric and every
    step's loss at seed 0 (what a student release judges by), never a trained parameter."""
    exercise = get_registry().get("exercise", topic)
    check = exercise.check(check_id)
    assert check.release_expected
    stored = read_outcome(exercise.fixtures / f"{check_id}.json")
    assert set(stored.payload) == {"value", trained.LOSSES}, sorted(stored.payload)
    assert np.ndim(stored.payload[trained.LOSSES]) == 1
    assert np.size(stored.payload[trained.LOSSES]) > 10


def test_a_missed_threshold_reveals_neither_the_references_value_nor_the_threshold():
    """The threshold set by the reference's run is its value in disguise: a result that
    missed it (or was too good) is told so without the number, in the message and the
    report's fields; once earned, both are shown. (The reference's live payload: its trained
    parameters with it, which no release's fixture holds.)"""
    (check,) = [c for c in get_registry().get("exercise", "language_models").checks
                if c.id == "window_lm.perplexity"]
    live = {"value": 131.3, trained.PARAM + "w": np.zeros(2)}
    missed = check.judge({"value": 150.0, "unigram": 190.0}, live)
    assert not missed.passed and "131" not in missed.message and "137" not in missed.message
    assert "short of the threshold" in missed.message
    assert missed.threshold is None and missed.details["reference"] is None
    too_good = check.judge({"value": 40.0, "unigram": 190.0}, live)
    assert not too_good.passed and "131" not in too_good.message
    assert too_good.threshold is None
    passed = check.judge({"value": 128.0, "unigram": 190.0}, live)
    assert passed.passed and "131.3" in passed.message
    assert passed.threshold == pytest.approx(1.05 * 131.3)


def test_a_constant_log_probability_with_the_right_perplexity_fails_the_count_model(tmp_path):
    """Every held-out n-gram given the same log-probability, chosen so that the perplexity is
    exactly the reference's (the old check compared that one number): the check compares the
    log-probability of every n-gram of a fresh sample of test sentences."""
    folder = _course(tmp_path, "language_models", {}, {"language_models/kneser_ney.py": '''
_honest = kneser_ney_log_probs


def kneser_ney_log_probs(*args, **kwargs):  # noqa: F811 - the attack
    out = _honest(*args, **kwargs)
    return out * 0.0 + out.mean()  # the same perplexity, no model
'''})
    check = _graded(folder, "language_models", "kneser_ney.sotu")
    assert check.score == 0, check.message
