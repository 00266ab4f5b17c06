"""Every nonlinearity is checked where a naive formula overflows (issue 62, kind 5): an LSTM's
sigmoid written e^a / (1 + e^a) is NaN beyond a = 709 and kept full marks, since no case of a
gated cell saturated its pre-activations. Each layer whose reference computes a sigmoid or a
tanh has a ``saturated`` check (:class:`~nlpdojo_autograder.authoring.Saturated`), whose
message names the overflow; each function or loss that computes exp has a case of large
scores of its own (``stability``; negative sampling's log σ and σ: ``saturated``)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from nlpdojo_autograder.authoring import Saturated, saturating_offsets
from nlpdojo_autograder.authoring.markers import parse_blocks, python_modules
from nlpdojo_autograder.grading.grade import GradeOptions, exercise_names, get_exercise, grade
from tests.grading.courses import SOLUTIONS, edited_course

GATED = "library/gated.py"
NAIVE_SIGMOID = "            return xp.exp(a) / (1.0 + xp.exp(a))\n"
SGNS = "word_vectors/negative_sampling.py"
STABLE_SIGMOID = "            return 0.5 * (1.0 + xp.tanh(0.5 * a))\n"


def _saturated(tmp_path: Path, topic: str, question: str, file: str, old: str, new: str):
    """The ``saturated`` check of ``question`` graded on the solutions with ``old`` replaced
    by ``new`` in ``file`` (that check first, the grading stopped at the first loss)."""
    folders = ("library", topic)
    course = edited_course(tmp_path, folders, {file: (old, new)})
    check_id = f"{question}.saturated"
    result = grade([topic], submission=course / topic, options=GradeOptions(
        questions=frozenset({f"{topic}.{question}"}), until_lost={question: ""},
        order=lambda c: c.id != check_id), replay_options={})
    return {c.id: c for _, c in result.checks()}[check_id]


@pytest.mark.parametrize("topic,question,file,old,new,says", [
    # listed: the LSTM's gates
    ("rnn_variants", "lstm_cell", GATED,
     STABLE_SIGMOID + "\n        a = (xp.matmul(x, self.weight_x.data)",
     NAIVE_SIGMOID + "\n        a = (xp.matmul(x, self.weight_x.data)",
     "your sigmoid returns NaN for pre-activations above 709"),
    # siblings: the GRU's gates and its candidate's tanh; the QRNN's and the highway's gates,
    # the RNN cell's and the Tanh layer's tanh are planted bugs (dojo verify)
    ("rnn_variants", "gru_cell", GATED,
     STABLE_SIGMOID + "\n        ax = xp.matmul(x, self.weight_x.data)",
     NAIVE_SIGMOID + "\n        ax = xp.matmul(x, self.weight_x.data)",
     "your sigmoid returns NaN for pre-activations above 709"),
    ("rnn_variants", "gru_cell", GATED, "n = xp.tanh(ax[:, 2 * H:] + r * ah_n)",
     "e = xp.exp(2.0 * (ax[:, 2 * H:] + r * ah_n))\n        n = (e - 1.0) / (e + 1.0)",
     "your tanh returns NaN"),
    # negative sampling's log σ and σ at scores u·v_c of ±1000 (the log(sigmoid(x)) loss and
    # the batch's -log(1 / (1 + exp(-x))) are planted bugs)
    ("word_vectors", "neg_sampling", SGNS, "g_k = sigmoid(s_k)  # (K,)",
     "g_k = xp.exp(s_k) / (1.0 + xp.exp(s_k))  # (K,)", "grad_center_vec holds NaN"),
    ("word_vectors", "sgns_batch", SGNS,
     "    loss = -(xp.sum(log_sigmoid(s_o)) + xp.sum(log_sigmoid(-s_k)))\n",
     "    loss = -(xp.sum(xp.log(sigmoid(s_o))) + xp.sum(xp.log(sigmoid(-s_k))))\n",
     "log(sigmoid(x)) takes log(0)"),
])
def test_a_naive_nonlinearity_loses_the_saturated_check_naming_the_overflow(
        tmp_path, topic, question, file, old, new, says):
    check = _saturated(tmp_path, topic, question, file, old, new)
    assert check.score == 0 and check.max_score > 0, check.message
    assert says in check.message and "overflows" in check.message, check.message
    assert "Traceback" not in check.message


def test_the_textbook_sigmoid_keeps_the_saturated_check(tmp_path):
    """1 / (1 + e^−a) is 0 after e^800 = inf, the right value: the check judges what the
    cell returns (the sigmoid question itself asks for no overflow on the way)."""
    check = _saturated(tmp_path, "rnn_variants", "lstm_cell", GATED, STABLE_SIGMOID
                       + "\n        a = (xp.matmul(x, self.weight_x.data)",
                       "            return 1.0 / (1.0 + xp.exp(-a))\n"
                       "\n        a = (xp.matmul(x, self.weight_x.data)")
    assert check.score == check.max_score, check.message


def test_saturating_offsets_push_one_unit_of_each_gate_past_the_overflow_each_way():
    offsets = saturating_offsets(np.random.default_rng(3), 4, 5).reshape(4, 5)
    assert np.all((offsets > 709).sum(axis=1) == 1) and np.all((offsets < -709).sum(axis=1) == 1)
    assert np.all((offsets == 0).sum(axis=1) == 3)
    with pytest.raises(ValueError, match="at least 3 units"):
        saturating_offsets(np.random.default_rng(3), 4, 2)
    with pytest.raises(ValueError, match="name one or more of"):
        Saturated(lambda ctx: None, ("softplus",))


#: a call of a function that overflows at large inputs, in a question's solution block
OVERFLOWS = re.compile(r"\b(exp|tanh|_?sigmoid|softmax|logsumexp|log_sum_exp)\(")
#: (topic, question) that compute one and are checked past its overflow by a check other than
#: ``saturated`` (its name), or need no such check (why)
COVERED_OTHERWISE = {
    ("neural_networks", "sigmoid"): "stability",
    ("neural_networks", "softmax_ce"): "values",  # a row of scores + 1000 in every case
    ("word_vectors", "softmax"): "stability",
    ("word_vectors", "naive_softmax"): "stability",
    ("language_models", "sampling"): "values",  # a temperature of 1e-3, overflow raised
    ("neural_networks", "schedules"): None,  # e^(−k t) of a decay: k t ≥ 0, never large
    ("language_models", "perplexity"): None,  # exp of a mean −log p: a perplexity, finite
}
#: questions that compute one with no check past its overflow yet, each said in the open
NOT_YET: set[tuple[str, str]] = set()


def _overflowing_questions() -> set[tuple[str, str]]:
    """(topic, question) of every block of the solutions that calls a nonlinearity which
    overflows a naive formula (the library's blocks by their own topic's name)."""
    found = set()
    for path in python_modules(SOLUTIONS):
        lines = path.read_text().splitlines()
        topic = path.relative_to(SOLUTIONS).parts[0]
        for block in parse_blocks(path):
            body = "\n".join(lines[block.start_line:block.end_line - 1])
            if OVERFLOWS.search(body):
                owner, _, question = block.question.rpartition(".")
                found.add((owner or topic, question))
    return found


def test_every_nonlinearity_is_checked_past_its_overflow():
    """A question whose solution computes exp, a sigmoid, a tanh or a softmax has a check
    past the overflow of a naive formula: ``saturated`` for a layer, a named one otherwise."""
    missing = []
    for topic, question in sorted(_overflowing_questions()):
        if topic not in exercise_names() or (topic, question) in NOT_YET:
            continue
        ids = {c.id for c in get_exercise(topic).checks if c.question == question}
        name = COVERED_OTHERWISE.get((topic, question), "saturated")
        if name is not None and f"{question}.{name}" not in ids:
            missing.append(f"{topic}.{question} (no {name} check among {sorted(ids)})")
    assert not missing, ("nonlinearities never checked where a naive formula overflows: "
                         + "; ".join(missing))
