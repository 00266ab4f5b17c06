"""Hints that misled (issue 26, "Hints that mislead"): each mistake is planted in an otherwise
correct reference solution and graded; the message must name the true cause and no longer say
the misleading thing. Each kind is fixed as a kind: a NaN or inf is explained by what the check
knows (and by what was found: NaN, −inf or inf), never by an overflow in exp it did not see; a
small difference is float32 arithmetic only where the numbers are float32 values; the usual
mistakes of the optimizers, of truncated BPTT and of n-gram counting are recognised by
computing them grader-side and named."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nlpdojo_autograder.authoring import CheckFailure
from nlpdojo_autograder.authoring.compare import compare_array, compare_payloads, name_the_mistake
from nlpdojo_autograder.authoring.kinds import computed_mistake, mistaken_outputs
from nlpdojo_autograder.grading.grade import grade
from tests.grading.courses import edited_course, run_options

#: the course's own topics: the reference's expected outcomes are shared (tests/conftest.py)
pytestmark = pytest.mark.shared_expected

OPTIM = "library/optim.py"
#: what a NaN or inf was answered with, whatever its cause
OVERFLOW = ("overflow in exp", "Subtract the maximum")


def _grade(topic: str, folder: Path, question: str, **options) -> dict:
    result = grade([topic], submission=folder, options=run_options(
        questions=frozenset({f"{topic}.{question}"}), **options), replay_options={})
    return {c.id: c for _, c in result.checks() if c.question == question}


def _lost(tmp_path: Path, topic: str, question: str, file: str, old: str, new: str,
          **options) -> dict:
    """The checks of ``question`` that lose points with ``old`` replaced by ``new`` in
    ``file`` of the solutions (at least one must); ``options``: of the grading."""
    folders = ("library", topic)  # the course library the topics import
    course = edited_course(tmp_path, folders, {file: (old, new)})
    checks = _grade(topic, course / topic, question, **options)
    lost = {k: c for k, c in checks.items() if c.score < c.max_score}
    assert lost, f"{question} kept full marks: {[(k, c.message) for k, c in checks.items()]}"
    return lost


def _says(lost: dict, *words: str, never: tuple[str, ...] = OVERFLOW) -> str:
    messages = " | ".join(c.message for c in lost.values())
    for word in words:
        assert word in messages, messages
    for word in (*never, "float32 arithmetic", "Traceback"):
        assert word not in messages, messages
    return messages


# -- 1. NaN and inf: what the check knows, else what was found ------------------------------------
def test_a_nan_is_not_called_an_overflow_in_exp():
    expected = np.array([0.5, -0.2, 1.0])
    message = compare_array("p", np.array([0.5, np.nan, 1.0]), expected)
    assert "NaN" in message and "0/0" in message and "[1]" in message
    assert not any(word in message for word in OVERFLOW)


def test_minus_inf_is_log_of_zero_and_inf_a_division_by_zero():
    log_p = compare_array("log_probs", np.array([-1.0, -np.inf]), np.array([-1.0, -2.0]))
    assert "−inf is usually log(0)" in log_p and "probability or count that is 0" in log_p
    inf = compare_array("x", np.array([np.inf, 1.0]), np.array([2.0, 1.0]))
    assert "division by zero" in inf and "NaN" not in inf
    for message in (log_p, inf):
        assert not any(word in message for word in OVERFLOW)


def test_a_check_that_knows_the_cause_says_it_once():
    nan = {"a": np.array([np.nan, 1.0]), "b": np.array([np.nan])}
    verdict = compare_payloads(nan, {"a": np.ones(2), "b": np.ones(1)}, rtol=1e-6, atol=0,
                               nonfinite="the bias correction divides by 1 − β⁰ = 0")
    assert verdict.message.count("the bias correction divides by 1 − β⁰ = 0") == 1
    assert verdict.message.startswith("a contains NaN where the expected values are finite")
    assert verdict.message.endswith("NaN or inf in 1 more output too (b)")


def test_a_small_difference_in_float64_numbers_is_not_called_float32():
    expected = np.array([0.1169624, 0.3, 0.5830376])
    yours = expected.copy()
    yours[0] = 0.1169622  # not a float32 value: a small term, not float32 arithmetic
    message = compare_array("p", yours, expected)
    assert "float32 arithmetic somewhere?" not in message
    assert "a small term of the formula in another place" in message
    as_float32 = expected.astype(np.float32).astype(np.float64)
    as_float32[0] = 0.11696219444274902  # a float32 value: float32 arithmetic, said so
    assert "float32 arithmetic somewhere?" in compare_array("p", as_float32, expected)


def test_adam_counting_steps_from_zero_is_told_about_the_bias_correction(tmp_path):
    """Listed: Adam at t = 0 divides by 1 − β⁰ = 0: the trajectory is told so, and the state
    check no longer asks to save state that was saved."""
    lost = _lost(tmp_path, "neural_networks", "adam", OPTIM, "t = self.steps + 1",
                 "t = self.steps")
    assert {"adam.trajectory", "adam.torch", "adam.state"} <= set(lost)
    _says(lost, "from step 1 on", "divide by 0 when t = 0", "counted from 1")
    state = lost["adam.state"].message
    assert "save every piece" not in state and "the steps themselves are wrong" in state


def test_backoff_with_gamma_zero_is_told_log_of_zero(tmp_path):
    """Listed: an unseen context that passes nothing down (γ = 0) makes P = 0, log P = −inf;
    no exp is involved."""
    lost = _lost(tmp_path, "language_models", "backoff", "language_models/backoff.py",
                 "gamma = np.where(seen, discount * lookup(ctx_keys, types, context) / safe, 1.0)",
                 "gamma = np.where(seen, discount * lookup(ctx_keys, types, context) / safe, 0.0)")
    _says(lost, "−inf", "never seen", "γ(c) = 1")


def test_kneser_ney_with_continuation_counts_of_zero_is_told_about_them(tmp_path):
    """Continuation counts keyed by the prefix (the newest id dropped) leave words never seen
    as a context at 0 in the unigram N₁₊(• w) / N₁₊(• •): −inf there was blamed on γ alone (a
    student trial); the message names the continuation counts too."""
    lost = _lost(tmp_path, "language_models", "kneser_ney", "language_models/kneser_ney.py",
                 "suffixes = higher_keys % (vocab_size ** k)  # (K,)  the oldest id dropped",
                 "suffixes = higher_keys // vocab_size")
    _says(lost, "−inf", "continuation count 0", "the continuation check", "γ(c) = 1")


def test_the_finite_property_says_what_was_found():
    from nlpdojo_autograder.authoring.kinds import property_check
    from nlpdojo_autograder.authoring.properties import finite

    check = property_check("p", "t", 1.0, lambda ctx: {}, [finite("p")], question="q")
    message = check.judge({"p": np.array([[1.0, 2.0], [-np.inf, 0.5]])}, None).message
    assert message.startswith("p at (1, 0) is NaN or inf: −inf is usually log(0)"), message
    assert not any(word in message for word in OVERFLOW)


def test_the_metric_of_a_diverged_training_lists_causes():
    from nlpdojo_autograder.authoring.kinds import metric_check

    check = metric_check("m", "t", 1.0, lambda ctx: {}, question="q", metric="accuracy",
                         threshold=0.5, budget="b")
    message = check.judge({"value": float("nan")}, None).message
    assert "training diverged" in message and "division by zero" in message
    assert "check your gradients' signs" not in message


# -- 2, 4. optimizers: the usual mistakes named by their trajectories ------------------------------
@pytest.mark.parametrize("question,old,new,named", [
    # listed: Adagrad with ε inside the square root (a small difference, "float32?" before)
    ("adagrad", "p.data = p.data - self.lr * p.grad / (xp.sqrt(total) + self.eps)",
     "p.data = p.data - self.lr * p.grad / xp.sqrt(total + self.eps)",
     "exactly that of Adagrad with ε inside the square root"),
    ("adagrad", "p.data = p.data - self.lr * p.grad / (xp.sqrt(total) + self.eps)",
     "p.data = p.data - self.lr * p.grad / (total + self.eps)",
     "exactly that of Adagrad without the square root"),
    ("adagrad", 'total = state.get("sum", 0.0) + p.grad * p.grad', "total = p.grad * p.grad",
     "exactly that of Adagrad that forgets past gradients"),
    # listed: momentum's velocity not kept
    ("momentum", 'v = p.grad if "velocity" not in state else self.momentum * state["velocity"] '
     "+ p.grad", "v = p.grad", "exactly that of momentum whose velocity is not kept"),
    ("momentum", 'state["velocity"] = v', 'state["velocity"] = p.grad',
     "exactly that of momentum that keeps the gradient instead of the velocity"),
    ("momentum", 'self.momentum * state["velocity"] + p.grad',
     'self.momentum * state["velocity"] + (1.0 - self.momentum) * p.grad',
     "exactly that of momentum with the velocity as an average"),
    # listed: RMSProp's moment reset
    ("rmsprop", 'state["square_avg"] = square_avg', "pass",
     "exactly that of RMSProp whose average is not kept between steps"),
    ("rmsprop", "+ (1.0 - self.alpha) * p.grad * p.grad", "+ p.grad * p.grad",
     "exactly that of RMSProp whose average is not leaky"),
    ("rmsprop", 'self.alpha * state.get("square_avg", 0.0) \\\n'
     "                + (1.0 - self.alpha) * p.grad * p.grad",
     '(1.0 - self.alpha) * state.get("square_avg", 0.0) \\\n'
     "                + self.alpha * p.grad * p.grad",
     "exactly that of RMSProp with α and 1 − α swapped"),
    # listed: Adam's moments reset, its bias correction off by one step
    ("adam", "if not state:  # both moments start at 0", "if True:  # reset every step",
     "exactly that of Adam whose moments are not kept between steps"),
    ("adam", "step = m / (1.0 - self.beta1 ** t)  # m̂, then α m̂ / (√v̂ + ε), in place\n"
     "            step *= self.lr\n"
     "            denominator = xp.sqrt(v / (1.0 - self.beta2 ** t))  # √v̂",
     "step = m / (1.0 - self.beta1 ** (t + 1))  # m̂, then α m̂ / (√v̂ + ε), in place\n"
     "            step *= self.lr\n"
     "            denominator = xp.sqrt(v / (1.0 - self.beta2 ** (t + 1)))  # √v̂",
     "exactly that of Adam with the bias correction one step ahead"),
])
def test_an_optimizer_mistake_is_named_by_its_trajectory(tmp_path, question, old, new, named):
    lost = _lost(tmp_path, "neural_networks", question, OPTIM, old, new)
    assert {f"{question}.trajectory", f"{question}.torch"} <= set(lost)
    for check in ("trajectory", "torch"):  # each says it, first
        assert lost[f"{question}.{check}"].message.startswith(f"Your trajectory is {named}")
    _says(lost, named)


# -- 4. truncated BPTT: the usual mistakes of the loop named by torch's losses ---------------------
RNN_LM = "language_models/rnn_lm.py"


@pytest.mark.parametrize("old,new,named", [
    # listed: the state not carried
    ("h = model.final_state(cache)  # (B, H) carried",
     "h = model.initial_state(b)  # (B, H) carried",
     "the hidden state not carried across windows"),
    ("    for _ in range(epochs):\n        h = model.initial_state(batch_size)  # (B, H)\n",
     "    h = model.initial_state(batch_size)  # (B, H)\n    for _ in range(epochs):\n",
     "the hidden state not reset at each epoch"),
    ("            opt.zero_grad()\n            scores, cache = model(x, h)",
     "            scores, cache = model(x, h)", "gradients never zeroed"),
    ("return scores, (c_emb, c_rnn, c_out, hs[:, -1, :])",
     "return scores, (c_emb, c_rnn, c_out, hs[:, 0, :])",
     "the state carried from the window's first step"),
])
def test_a_truncated_bptt_mistake_is_named_by_its_losses(tmp_path, old, new, named):
    pytest.importorskip("torch")
    # the loop's check first, the question settled once it names the mistake (the trained
    # perplexity check after it would train the model for nothing)
    lost = _lost(tmp_path, "language_models", "rnn_lm", RNN_LM, old, new,
                 until_lost={"rnn_lm": f"your training losses are exactly those of {named}"},
                 order=lambda check: check.id != "rnn_lm.truncated_bptt")
    assert "rnn_lm.truncated_bptt" in lost
    _says({"t": lost["rnn_lm.truncated_bptt"]}, f"your training losses are exactly those of "
          f"{named}")


# -- 3. n-gram counting: the commonest first mistake named, not 15 shape mismatches --------------
NGRAMS = "language_models/ngrams.py"


@pytest.mark.parametrize("old,new,named", [
    # listed: windows spanning two sentences
    ("return np.ascontiguousarray(windows[windows[:, -1] != bos], dtype=np.int64)",
     "return np.ascontiguousarray(windows, dtype=np.int64)",
     "such a window spans two sentences"),
    ("windows[windows[:, -1] != bos]", "windows[~np.any(windows == bos, axis=1)]",
     "the first words of each sentence are never predicted"),
    # count_ngrams windows the stream itself, spanning sentences
    ("    windows = ngram_windows(stream, n, bos)  # (M, n)\n",
     "    windows = np.lib.stride_tricks.sliding_window_view(stream, n)\n",
     "your counts include n-grams that end in <s>"),
    ("vocab_size ** np.arange(k - 1, -1, -1, dtype=np.int64)",
     "vocab_size ** np.arange(k, dtype=np.int64)", "the first id is the most significant digit"),
    ("ctx_keys, ctx_counts = np.unique(ngram_keys(windows[:, :-1], vocab_size),",
     "ctx_keys, ctx_counts = np.unique(ngram_keys(\n"
     "        np.lib.stride_tricks.sliding_window_view(stream, n - 1), vocab_size),",
     "C(c) counts c as the context of a predicted token"),
])
def test_an_ngram_counting_mistake_is_named(tmp_path, old, new, named):
    lost = _lost(tmp_path, "language_models", "ngram_counts", NGRAMS, old, new)
    messages = _says(lost, named)
    assert "has shape" not in messages  # the cause, not a list of shape mismatches


# -- 4. layers of cnn_text: padding, masks and gradients that are assigned ---------------------
POOLING = "library/pooling.py"


def test_a_kmax_that_keeps_the_padding_mask_is_told_padding_not_log_of_zero(tmp_path):
    """A sentence shorter than k: the slots it cannot fill keep the −inf that masked the
    padding; the message says so, not that a probability was logged at 0."""
    lost = _lost(tmp_path, "cnn_text", "kmax_pooling", POOLING,
                 "return xp.where(valid, values, xp.zeros_like(values)), (kept, valid, t_steps)",
                 "return values, (kept, valid, t_steps)")
    _says(lost, "−inf", "padded position that was kept", "lengths[b] < k",
          never=(*OVERFLOW, "usually log(0)", "scatter-add"))


def test_an_index_past_an_axis_end_is_told_as_a_length_mistake(tmp_path):
    """A convolution that forgot its padding reads past the time axis at stride 2 (a student
    trial saw NumPy's words alone): the message keeps them and says what kind of mistake it
    is."""
    lost = _lost(tmp_path, "cnn_text", "conv1d", "library/conv.py",
                 "padded = xp.concat([zeros, x, zeros], axis=1) if p else x  # (B, T + 2p, D)",
                 "padded = x")
    _says(lost, "out of bounds for axis", "an index past the end of that axis",
          "a padding not added")


def test_a_max_whose_gradient_reaches_every_position_is_told_a_mask_is_missed(tmp_path):
    """The gradient of a max sent to the positions that lost: every wrong entry is one whose
    true gradient is 0, said as such, with no word of repeated embedding rows."""
    lost = _lost(tmp_path, "cnn_text", "pooling", POOLING,
                 "won = positions == winner[:, None, :]",
                 "won = positions >= 0 * winner[:, None, :]")
    _says(lost, "where the expected one is 0, and right at the others",
          "where the true one is 0", "a mask missed in backward", never=(
              *OVERFLOW, "scatter-add", "a word occurring twice"))


@pytest.mark.parametrize(("old", "new", "mode"), [
    ("self.bias.grad += xp.sum(grads, axis=0)", "self.bias.grad = xp.sum(grads, axis=0)",
     "full"),
    ("self.weight.grad += xp.reshape(", "self.weight.grad = xp.reshape(", "sampled")],
    ids=["bias", "weight"])
def test_a_gradient_assigned_on_every_call_is_told_to_add_not_keep_state(tmp_path, old, new,
                                                                         mode):
    """``bias.grad =`` instead of ``+=``: right after one call, wrong after two; the repeated
    check's hint names the assignment beside state kept on self, the accumulate check names it
    alone. The weight (more entries than the repeated check's random directions) is
    differenced along those directions only there, the bias (4 entries) coordinate by
    coordinate: either way the check catches it."""
    lost = _lost(tmp_path, "cnn_text", "conv1d", "library/conv.py", old, new)
    assert {k.split("_")[0] for k in lost} == {"conv1d.repeated", "conv1d.accumulate"}, lost
    name = "bias" if "bias" in old else "weight"
    for check_id, check in lost.items():
        if "repeated" in check_id:
            (theirs,) = [g for g in check.details["gradients"]
                         if g["name"] == name and not g["passed"]]
            assert theirs["mode"] == mode, theirs
    _says({k: c for k, c in lost.items() if "repeated" in k},
          "a parameter's gradient assigned instead of added",
          "p.grad = p.grad + g, or p.grad += g; never p.grad = g")
    _says({k: c for k, c in lost.items() if "accumulate" in k}, "never be overwritten")


@pytest.mark.parametrize(("question", "file", "old", "new", "named"), [
    ("conv1d", "library/conv.py",
     "out = xp.matmul(rows, xp.reshape(self.weight.data, (k_size * d, f)))",
     "out = xp.matmul(rows, xp.reshape(xp.flip(self.weight.data, axis=0), (k_size * d, f)))",
     "the kernel flipped"),
    ("pooling", POOLING,
     "masked = xp.where(real[:, :, None], h, xp.full_like(h, -xp.inf))  # (B, T, F)",
     "masked = h  # (B, T, F)", "the padded positions ranked too"),
    ("kmax_pooling", POOLING,
     "masked = xp.where(real, h, xp.full_like(h, -xp.inf))  # (B, T, F)",
     "masked = h  # (B, T, F)", "the padded positions ranked too"),
], ids=["kernel-flipped", "max-padding", "kmax-padding"])
def test_a_mistake_seen_only_with_the_inputs_is_named(tmp_path, question, file, old, new,
                                                      named):
    """Mistakes that the expected outputs alone cannot recognise (a flipped kernel, the
    padding let into a max) are computed by the grader on the check's own inputs, in torch,
    and named by the values and torch checks; the rest of each message is unchanged."""
    lost = _lost(tmp_path, "cnn_text", question, file, old, new)
    says = f"your outputs are exactly those of {named}"
    naming = {k for k, c in lost.items() if says in c.message.lower()}
    assert any(".values" in k for k in naming) and any(".torch" in k for k in naming), lost
    _says(lost, "differ")


def test_a_wrong_output_shape_is_told_as_such_by_the_torch_and_gradient_checks(tmp_path):
    """An off-by-one output length (the ``+ 1`` of the formula left out) was reported by the
    gradient and torch checks as torch's own broadcasting error ("The size of tensor a (5)
    must match the size of tensor b (4)"), on the NumPy backend too."""
    pytest.importorskip("torch")
    lost = _lost(tmp_path, "cnn_text", "conv1d", "library/conv.py",
                 "    return (length + 2 * padding - dilation * (kernel_size - 1) - 1) "
                 "// stride + 1",
                 "    return (length + 2 * padding - dilation * (kernel_size - 1) - 1) // stride")
    for check in lost.values():
        assert "The size of tensor" not in check.message, (check.id, check.message)
    torch_checks = [c for k, c in lost.items() if ".torch" in k or ".gradients" in k]
    assert any("of your forward has shape" in c.message and "the true forward's" in c.message
               for c in torch_checks), [c.message for c in torch_checks]


def test_a_wrong_output_shape_is_told_in_a_student_release_without_torch(tmp_path):
    """A student release's grading (no reference process) takes the true output shapes from
    the values check's expected outputs (the fixture), not from the layer's torch forward,
    whose import alone cost a release's grading ~1.3 CPU-s: the same off-by-one length is told
    as a shape by every values check, with torch installed or not."""
    lost = _lost(tmp_path, "cnn_text", "conv1d", "library/conv.py",
                 "    return (length + 2 * padding - dilation * (kernel_size - 1) - 1) "
                 "// stride + 1",
                 "    return (length + 2 * padding - dilation * (kernel_size - 1) - 1) // stride",
                 use_reference=False)
    values = [c for k, c in lost.items() if ".values" in k]
    assert values and all("of your forward has shape" in c.message
                          and "the true forward's" in c.message for c in values), \
        [(c.id, c.message) for c in values]


def test_a_forward_of_the_wrong_shape_is_not_blamed_on_the_backward(tmp_path):
    """The max taken over the features instead of time returns (B, T), not (B, F): every
    check said "MaxOverTime.backward's gradient of h has shape (4, 6, 6)", sending the student
    to a backward that was right. Where the layer has a torch forward, its output shape is
    compared before the backward runs."""
    pytest.importorskip("torch")
    course = edited_course(tmp_path, ("library", "cnn_text"), {
        "library/pooling.py": (
            "        winner = xp.argmax(masked, axis=1)  # (B, F): the first position of the "
            "maximum\n"
            "        pooled = xp.take_along_axis(masked, winner[:, None, :], axis=1)[:, 0, :]  "
            "# (B, F)\n",
            "        winner = xp.argmax(masked, axis=2)\n"
            "        pooled = xp.max(masked, axis=2)\n")})
    checks = _grade("cnn_text", course / "cnn_text", "pooling")
    lost = [c for c in checks.values() if c.score < c.max_score]
    assert len(lost) == len(checks)
    for check in lost:
        assert "backward" not in check.message, (check.id, check.message)
    assert any("the output of your forward has shape (4, 6)" in c.message
               and "has shape (4, 3)" in c.message for c in lost), [c.message for c in lost]


def test_a_fault_two_oracles_find_is_said_once(tmp_path):
    """A bias gradient never written: central differences and autograd both find dL/dbias
    wrong, in the same words, and the message said it twice."""
    lost = _lost(tmp_path, "cnn_text", "conv1d", "library/conv.py",
                 "        self.bias.grad += xp.sum(grads, axis=0)  # (F,)",
                 "        pass")
    gradients = [c for k, c in lost.items() if k.startswith("conv1d.gradients")]
    assert gradients
    for check in gradients:
        first = check.message.split(". ")[0]
        assert check.message.count(first) == 1, check.message


def test_a_mask_multiplied_in_is_told_as_such_not_as_k_max_slots(tmp_path):
    """A max over time masked as h · m + (−inf) · (1 − m) gives NaN (0 · −inf); the hint
    spoke of k-max pooling's slots (lengths[b] < k), which a max over time has none of."""
    lost = _lost(tmp_path, "cnn_text", "pooling", "library/pooling.py",
                 "        masked = xp.where(real[:, :, None], h, xp.full_like(h, -xp.inf))",
                 "        m = xp.astype(real, h.dtype)[:, :, None]\n"
                 "        masked = h * m + (-xp.inf) * (1.0 - m)")
    messages = " | ".join(c.message for c in lost.values())
    assert "0 · (−inf) is NaN" in messages and "xp.where" in messages, messages
    assert "lengths[b] < k" not in messages, messages


def test_windows_flattened_in_the_other_order_are_named(tmp_path):
    """Windows gathered as (D, K) before flattening (the classic im2col slip) were told only
    "40 of 40 entries differ ... (ratio -1.33615)"."""
    pytest.importorskip("torch")
    lost = _lost(tmp_path, "cnn_text", "conv1d", "library/conv.py",
                 "        rows = xp.reshape(windows, (b * t_out, k_size * d))  # (B·T_out, K·D): "
                 "a window a row",
                 "        rows = xp.reshape(xp.permute_dims(xp.reshape(\n"
                 "            windows, (b, t_out, k_size, d)), (0, 1, 3, 2)),\n"
                 "            (b * t_out, k_size * d))")
    values = [c for k, c in lost.items() if k.startswith("conv1d.values")]
    assert values
    for check in values:
        assert "each window flattened in the other order" in check.message, check.message


def test_a_mistake_is_named_only_where_it_can_be_told_from_the_right_answer():
    """``name_the_mistake``: the right answer is never named a mistake, not even where a
    mistake gives the right result on the drawn inputs (it is skipped there); a wrong answer
    equal to a visible mistake is named."""
    right, hidden, visible = np.array([1.0, 2.0]), np.array([1.0, 2.0]), np.array([1.0, 3.0])
    mistakes = {"a hidden mistake": lambda: hidden, "a visible mistake": lambda: visible}
    name_the_mistake(right, right, mistakes, what="f: your results")  # nothing raised
    name_the_mistake(np.array([0.0, 0.0]), right, mistakes, what="f: your results")
    with pytest.raises(CheckFailure, match="f: your results are exactly those of a visible"):
        name_the_mistake(visible.copy(), right, mistakes, what="f: your results")


def test_a_layers_mistake_that_gives_the_right_outputs_is_never_named():
    """A layer's named forward mistake whose outputs equal the right ones on the check's
    inputs (the character CNN's ReLU left out before a max whose values are all positive)
    is not named when the failure is elsewhere (a gradient): every backward bug of
    cnn_text.char_cnn was told "your outputs are exactly those of no ReLU after the
    convolution". Where the mistake's outputs differ from the right ones, it is named."""
    right = {"output": np.array([1.0, 2.0]), "grad w": np.array([3.0])}
    mine = {"output": np.array([1.0, 2.0]), "grad w": np.array([0.0])}  # a backward bug
    hidden = {"output": np.array([1.0, 2.0])}  # the mistake's forward, equal here
    actual = {**mine, **mistaken_outputs(0, hidden)}
    assert computed_mistake(mine, actual, ["no ReLU"], rtol=1e-9, atol=0, right=right) is None
    shown = {"output": np.array([1.0, -2.0])}  # where it differs, and mine is it
    mine = {"output": np.array([1.0, -2.0]), "grad w": np.array([3.0])}
    actual = {**mine, **mistaken_outputs(0, shown)}
    assert computed_mistake(mine, actual, ["no ReLU"], rtol=1e-9, atol=0,
                            right=right) == "no ReLU"


def test_a_training_mode_dropout_mistake_costs_the_dropout_check_alone(tmp_path):
    """The window classifier's run at scale is in training mode: a dropout not
    back-propagated cost the eval-mode check too, told as a size written in (a student trial);
    the eval-mode check is not gated by it now."""
    lost = _lost(tmp_path, "neural_networks", "window_classifier", "neural_networks/window.py",
                 "grad_a = self.dropout.backward(grad_kept, c_drop)  # (N, H)",
                 "grad_a = grad_kept")
    assert set(lost) == {"window_classifier.dropout"}, {k: c.message for k, c in lost.items()}


def test_an_input_gradient_wrong_costs_the_value_checks_not_the_accumulation_check(tmp_path):
    """An RNN cell's dL/dh_prev without its transpose: the values and gradient checks lose
    their points; the accumulation check, which judges the parameters' gradients (right
    here), lost its points too in CI only, told as a size written in at scale (a student
    trial). It keeps them now, and an answer pasted from the fixtures, wrong at scale in its
    output, still earns nothing there (test_no_points_without_work)."""
    lost = _lost(tmp_path, "language_models", "rnn_cell", "library/rnn.py",
                 "xp.matmul(grad_z, xp.matrix_transpose(self.weight_h.data))",
                 "xp.matmul(grad_z, self.weight_h.data)")
    assert "rnn_cell.values" in lost and "rnn_cell.gradients" in lost
    assert "rnn_cell.accumulate" not in lost, lost["rnn_cell.accumulate"].message


def test_a_kmax_by_a_sort_that_is_not_stable_loses_the_ties_check(tmp_path):
    """k-max pooling with ``stable=False`` kept 1.5 of 1.5 (a student trial): the ties case
    had 6 positions; it has 24 now. Where NumPy's default sort keeps equal values in order
    on these features (it reorders them where it is vectorized, on AVX-512), the code is
    right on that machine and there is nothing to catch."""
    from nlpdojo_course.cnn_text import pooling
    rows = pooling._features(np.random.default_rng(0), ties=True)  # (B, T, F)
    default = np.argsort(-rows, axis=1)
    if np.array_equal(default, np.argsort(-rows, axis=1, stable=True)):
        pytest.skip("NumPy's default argsort keeps equal values in order on this machine")
    lost = _lost(tmp_path, "cnn_text", "kmax_pooling", "library/pooling.py",
                 "order = xp.argsort(-masked, axis=1, stable=True)",
                 "order = xp.argsort(-masked, axis=1, stable=False)")
    assert set(lost) == {"kmax_pooling.ties"}, {k: c.message for k, c in lost.items()}
    _says(lost, "the first position wins", "stable=True")


def test_a_wrapper_of_layers_is_told_its_own_recipe_not_the_step_by_step_unroll(tmp_path):
    """A Bidirectional whose right-to-left outputs are not flipped back was told how a
    step-by-step unroll works (each step's cell, backpropagation through time): a wrapper of
    whole layers is told its own recipe (an rnn_variants student trial)."""
    from nlpdojo_autograder.authoring.builders.sequence import UNROLL_RECIPE
    from nlpdojo_course.rnn_variants.sequences import BIDIRECTIONAL_RECIPE

    lost = _lost(tmp_path, "rnn_variants", "bidirectional", "library/deep_rnn.py",
                 "xp.concat([left, xp.flip(right, axis=1)], axis=-1)",
                 "xp.concat([left, right], axis=-1)")
    assert "bidirectional.values" in lost, lost
    _says({"values": lost["bidirectional.values"]}, BIDIRECTIONAL_RECIPE,
          never=(UNROLL_RECIPE,))


def test_a_velocity_updated_in_place_from_the_first_steps_gradient_keeps_its_points(tmp_path):
    """Momentum whose velocity is the first step's p.grad, then updated in place (v *= μ;
    v += g), is right in a training, whose every step's p.grad is a new array; the optimizer
    checks handed the grader's own gradient arrays to it, so the in-place update changed the
    gradients the state check's later runs took again: 0.3 lost, told to save its state (a
    student trial). Each step's gradient is a copy now."""
    course = edited_course(tmp_path, ("library", "neural_networks"), {"library/optim.py": (
        'v = p.grad if "velocity" not in state else self.momentum * state["velocity"] + p.grad\n'
        '            state["velocity"] = v',
        'if "velocity" not in state:\n'
        '                state["velocity"] = p.grad\n'
        '            else:\n'
        '                state["velocity"] *= self.momentum\n'
        '                state["velocity"] += p.grad\n'
        '            v = state["velocity"]')})
    checks = _grade("neural_networks", course / "neural_networks", "momentum")
    assert checks and all(c.score == c.max_score for c in checks.values()), \
        {k: c.message for k, c in checks.items() if c.score < c.max_score}


def test_top_k_probabilities_not_renormalised_are_named(tmp_path):
    """tempered_probs that keeps the top k of the full softmax without renormalising was
    shown the differing entries alone (a student trial): the values check names it."""
    lost = _lost(tmp_path, "language_models", "sampling", "language_models/sampling.py",
                 "        scores = np.where(scores >= kth, scores, -np.inf)  # (B, V)\n"
                 "    z = scores / temperature  # (B, V)\n"
                 "    e = np.exp(z - np.max(z, axis=1, keepdims=True))  # (B, V)  0 where masked\n"
                 "    return e / np.sum(e, axis=1, keepdims=True)\n",
                 "        kept = scores >= kth\n"
                 "    else:\n"
                 "        kept = np.ones(scores.shape, dtype=bool)\n"
                 "    z = scores / temperature\n"
                 "    e = np.exp(z - np.max(z, axis=1, keepdims=True))\n"
                 "    return np.where(kept, e, 0.0) / np.sum(e, axis=1, keepdims=True)\n")
    _says({"values": lost["sampling.values"]}, "without renormalising")
