"""Mistakes that used to keep full marks (issue 26, "Mistakes that keep full marks"), each
planted in an otherwise correct solution: each must lose points on its question, with a
message that names the cause. Each kind is fixed as a kind (every layer, loss, activation,
stable function...), so each holds the listed instance and at least two more."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlpdojo_autograder.grading.grade import grade
from nlpdojo_autograder.runtime import code_rules
from tests.grading.courses import edited_course, run_options

#: the course's own topics: the reference's expected outcomes are shared (tests/conftest.py)
pytestmark = pytest.mark.shared_expected

ACT, LOSSES, LAYERS = "library/activations.py", "library/losses.py", "library/layers.py"
REG = "library/regularization.py"


def _grade(topic: str, folder: Path, question: str, **options):
    result = grade([topic], submission=folder, options=run_options(
        questions=frozenset({f"{topic}.{question}"}), **options), replay_options={})
    return {c.id: c for _, c in result.checks() if c.question == question}


def _lost(tmp_path: Path, topic: str, question: str, file: str, old: str, new: str,
          *, folders: tuple[str, ...] | None = None, **options) -> dict:
    """The checks of ``question`` graded on the solutions with ``old`` replaced by ``new`` in
    ``file``; asserts that the question lost points."""
    folders = folders or (("library", topic) if file.startswith("library/") or
                          topic == "neural_networks" else (topic,))
    course = edited_course(tmp_path, folders, {file: (old, new)})
    checks = _grade(topic, course / topic, question, **options)
    assert checks, f"no checks of {question}"
    lost = {k: c for k, c in checks.items() if c.score < c.max_score}
    assert lost, f"{question} kept full marks: {[(k, c.message) for k, c in checks.items()]}"
    return lost


def _says(lost: dict, *words: str) -> None:
    messages = " | ".join(c.message for c in lost.values())
    for word in words:
        assert word in messages, messages
    assert "Traceback" not in messages, messages


# -- 1. a backward that ignores its upstream gradient ---------------------------------------------
@pytest.mark.parametrize("question,old,new", [
    # listed: the loss assumes grad_output = 1
    ("softmax_ce", "        scale = grad_output / n\n", "        scale = 1.0 / n\n"),
    # the other loss too
    ("max_margin", "return (active - onehot * violated) * (grad_output / n)  # (N, K)",
     "return (active - onehot * violated) * (1.0 / n)  # (N, K)"),
    # divides by it instead of multiplying (1.0 either way)
    ("softmax_ce", "        scale = grad_output / n\n",
     "        scale = 1.0 / (n * grad_output)\n"),
])
def test_a_loss_backward_must_scale_by_grad_output(tmp_path, question, old, new):
    lost = _lost(tmp_path, "neural_networks", question, LOSSES, old, new)
    assert f"{question}.values" in lost
    _says(lost, "grad_output=-2.5", "multiply the gradient by grad_output")


@pytest.mark.parametrize("question,old,new", [
    # every layer's backward runs with a random upstream gradient: one that ignores it fails
    ("relu", "return grad_output * self.xp.astype(x > 0, grad_output.dtype)  # (...)",
     "return (1.0 + 0.0 * grad_output) * self.xp.astype(x > 0, grad_output.dtype)  # (...)"),
    ("sigmoid", "return grad_output * y * (1.0 - y)  # (...)", "return y * (1.0 - y)  # (...)"),
])
def test_a_layer_backward_that_ignores_grad_output_loses_points(tmp_path, question, old, new):
    lost = _lost(tmp_path, "neural_networks", question, ACT, old, new)
    assert f"{question}.values" in lost and f"{question}.gradients" in lost


# -- 4. changing the caller's arrays in place -----------------------------------------------------
@pytest.mark.parametrize("question,file,old,new,words", [
    # listed: ReLU zeroes the caller's input in place
    ("relu", ACT, "        y = self.xp.maximum(x, 0.0)  # (...): one pass\n",
     "        x[x < 0] = 0.0\n        y = x  # (...)\n",
     ("ReLU.forward changed its input `input 0` in place",)),
    # a backward that scales the upstream gradient in place
    ("sigmoid", ACT, "        return grad_output * y * (1.0 - y)  # (...)\n",
     "        grad_output *= y * (1.0 - y)\n        return grad_output\n",
     ("Sigmoid.backward changed its upstream gradient (grad_output) in place",)),
    # a backward that changes the input kept in its cache
    ("leaky_relu", ACT,
     "        return self.xp.where(x > 0, grad_output, self.negative_slope * grad_output)"
     "  # (...)\n",
     "        x[x <= 0] = self.negative_slope\n        x[x > 0] = 1.0\n"
     "        return x * grad_output\n",
     ("LeakyReLU.backward changed the input `input 0` in place", "cache")),
    # a layer of layers.py: dropout's backward masks the upstream gradient in place
    ("dropout", LAYERS,
     "        return grad_output if mask is None else grad_output * mask  # (...)\n",
     "        if mask is not None:\n            grad_output *= mask\n        return grad_output\n",
     ("Dropout.backward changed its upstream gradient",)),
])
def test_a_layer_that_changes_what_it_was_given_loses_points(tmp_path, question, file, old, new,
                                                             words):
    lost = _lost(tmp_path, "neural_networks", question, file, old, new)
    _says(lost, *words, "compute a new array")


def test_a_function_that_sets_an_entry_of_a_list_it_was_given_loses_points(tmp_path):
    """Kneser-Ney relabelling the caller's counts in place (``counts[k] = ...``): the list
    is the caller's, as an array is (a student trial, 2026-12-07: 7 of 7, the values right)."""
    lost = _lost(tmp_path, "language_models", "kneser_ney", "language_models/kneser_ney.py",
                 "    bigram_keys = counts[1][0]  # (K₂,)  distinct bigrams\n",
                 "    counts[0] = continuation_counts(counts[1][0], 1, vocab_size)\n"
                 "    bigram_keys = counts[1][0]  # (K₂,)  distinct bigrams\n")
    _says(lost, "kneser_ney_log_probs() changed its argument `counts` in place",
          "compute a new array")


@pytest.mark.parametrize("new", [
    # listed: the keys in int32 (a student trial, 2026-12-07: 3 of 3, and add_delta's 6)
    "    powers = vocab_size ** np.arange(k - 1, -1, -1, dtype=np.int32)\n"
    "    return windows.astype(np.int32) @ powers\n",
    "    return (windows @ (vocab_size ** np.arange(k - 1, -1, -1))).astype(np.int32)\n",
])
def test_n_gram_keys_that_wrap_around_lose_points(tmp_path, new):
    lost = _lost(tmp_path, "language_models", "ngram_counts", "language_models/ngrams.py",
                 "    powers = vocab_size ** np.arange(k - 1, -1, -1, dtype=np.int64)  # (k,)  "
                 "V^(k−1) … V^0\n    return windows.astype(np.int64) @ powers  # (M,)\n", new)
    _says(lost, "your keys are not those of int64 arithmetic", "compute the keys in int64")


# -- 5. a Python number where the contract says an array ------------------------------------------
@pytest.mark.parametrize("old,new", [
    ("    return penalty, grads\n", "    return float(penalty), grads\n"),  # listed
    ("    return penalty, grads\n", "    return penalty.item(), grads\n"),
])
def test_l2_penalty_as_a_python_number_loses_points(tmp_path, old, new):
    lost = _lost(tmp_path, "neural_networks", "l2", REG, old, new)
    _says(lost, "l2_penalty returned the penalty as a Python number", "0-d array")


def test_a_batch_loss_as_a_python_float_loses_points(tmp_path):
    lost = _lost(tmp_path, "word_vectors", "sgns_batch", "word_vectors/negative_sampling.py",
                 "    loss = -(xp.sum(log_sigmoid(s_o)) + xp.sum(log_sigmoid(-s_k)))\n",
                 "    loss = float(-(xp.sum(log_sigmoid(s_o)) + xp.sum(log_sigmoid(-s_k))))\n")
    _says(lost, "sgns_batch_loss_and_gradients returned its loss as a Python number")


# -- 3. numerically stable functions: no inf or nan on the way ------------------------------------
SIGMOID_LINES = ("        e = xp.exp(-xp.abs(x))  # (...)  in (0, 1]\n"
                 "        y = xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))  # (...)\n")


@pytest.mark.parametrize("new", [
    "        y = 1.0 / (1.0 + xp.exp(-x))  # (...)\n",  # listed: the textbook formula
    # both branches of where are computed: e^800 overflows in the one discarded
    "        y = xp.where(x >= 0, 1.0 / (1.0 + xp.exp(-x)), xp.exp(x) / (1.0 + xp.exp(x)))\n",
])
def test_a_sigmoid_that_overflows_on_the_way_loses_points(tmp_path, new):
    lost = _lost(tmp_path, "neural_networks", "sigmoid", ACT, SIGMOID_LINES, new)
    assert set(lost) == {"sigmoid.stability"}, {k: c.message for k, c in lost.items()}
    _says(lost, "FloatingPointError: overflow", "activations.py line", "xp.where discards")


def test_a_softmax_that_overflows_on_the_way_loses_points(tmp_path):
    """softmax_i = 1 / Σ_j e^(x_j − x_i): right, and finite, after e^(1e4) = inf on the way."""
    lost = _lost(tmp_path, "word_vectors", "softmax", "word_vectors/softmax.py",
                 "    shifted = x - xp.max(x, axis=-1, keepdims=True)  # (..., N), max 0 per row:"
                 " exp <= 1\n    exps = xp.exp(shifted)  # (..., N)\n"
                 "    return exps / xp.sum(exps, axis=-1, keepdims=True)  # (..., N)\n",
                 "    diffs = x[..., None, :] - x[..., :, None]  # (..., N, N) x_j - x_i\n"
                 "    return 1.0 / xp.sum(xp.exp(diffs), axis=-1)\n")
    assert set(lost) == {"softmax.stability"}, {k: c.message for k, c in lost.items()}
    _says(lost, "FloatingPointError: overflow", "softmax.py line")


# -- 2. activations exactly at their kinks --------------------------------------------------------
@pytest.mark.parametrize("question,old,new,convention", [
    # listed: ReLU'(0) = 1
    ("relu", "return grad_output * self.xp.astype(x > 0, grad_output.dtype)",
     "return grad_output * self.xp.astype(x >= 0, grad_output.dtype)", "relu'(0) = 0"),
    ("leaky_relu",
     "return self.xp.where(x > 0, grad_output, self.negative_slope * grad_output)",
     "return self.xp.where(x >= 0, grad_output, self.negative_slope * grad_output)",
     "leaky'(0) = k"),
    ("hard_tanh", "inside = (x > -1.0) & (x < 1.0)", "inside = (x >= -1.0) & (x <= 1.0)",
     "hardtanh'(-1) = hardtanh'(1) = 0"),
])
def test_an_activation_off_its_convention_at_a_kink_loses_points(tmp_path, question, old, new,
                                                                convention):
    lost = _lost(tmp_path, "neural_networks", question, ACT, old, new)
    assert f"{question}.kinks" in lost
    _says(lost, convention, "exactly at the kinks")


# -- 9. a verdict that depends on the draw: ε inside the square root ------------------------------
OPTIM = "library/optim.py"


@pytest.mark.parametrize("question,old,new,name", [
    # listed: Adagrad
    ("adagrad", "p.data = p.data - self.lr * p.grad / (xp.sqrt(total) + self.eps)",
     "p.data = p.data - self.lr * p.grad / xp.sqrt(total + self.eps)", "Adagrad"),
    ("rmsprop", "p.data = p.data - self.lr * p.grad / (xp.sqrt(square_avg) + self.eps)",
     "p.data = p.data - self.lr * p.grad / xp.sqrt(square_avg + self.eps)", "RMSProp"),
    ("adam", "denominator = xp.sqrt(v / (1.0 - self.beta2 ** t))  # √v̂\n"
     "            denominator += self.eps",
     "denominator = xp.sqrt(v / (1.0 - self.beta2 ** t) + self.eps)  # √(v̂ + ε)", "Adam"),
])
@pytest.mark.parametrize("seed", [0, 1, 7])
def test_eps_inside_the_square_root_loses_points_on_every_draw(tmp_path, question, old, new,
                                                               name, seed):
    """The optimizer checks add a parameter with fixed tiny gradients (1e-7..1e-3), where
    √(G + ε) and √G + ε differ by orders of magnitude: caught whatever the draw (it was caught
    on some draws only), and named by its trajectory."""
    lost = _lost(tmp_path, "neural_networks", question, OPTIM, old, new, input_seed=seed)
    assert {f"{question}.trajectory", f"{question}.torch"} <= set(lost)
    _says(lost, f"exactly that of {name} with ε inside the square root")


# -- 7. top-k that drops ties at the k-th score ---------------------------------------------------
TOP_K = ("        kth = -np.partition(-scores, top_k - 1, axis=1)[:, top_k - 1:top_k]  # (B, 1)\n"
         "        scores = np.where(scores >= kth, scores, -np.inf)  # (B, V)\n")


@pytest.mark.parametrize("new", [
    # listed: the k indices argsort picks
    "        keep = np.argsort(scores, axis=1)[:, -top_k:]\n"
    "        kept = np.full_like(scores, -np.inf)\n"
    "        np.put_along_axis(kept, keep, np.take_along_axis(scores, keep, axis=1), 1)\n"
    "        scores = kept\n",
    # the k indices argpartition picks
    "        keep = np.argpartition(-scores, top_k - 1, axis=1)[:, :top_k]\n"
    "        mask = np.zeros(scores.shape, bool)\n"
    "        np.put_along_axis(mask, keep, True, 1)\n"
    "        scores = np.where(mask, scores, -np.inf)\n",
    # ranks from a double argsort: one rank per word, ties broken by position
    "        ranks = np.argsort(np.argsort(-scores, axis=1, kind='stable'), axis=1)\n"
    "        scores = np.where(ranks < top_k, scores, -np.inf)\n",
])
def test_top_k_that_drops_ties_loses_points(tmp_path, new):
    lost = _lost(tmp_path, "language_models", "sampling", "language_models/sampling.py",
                 TOP_K, new)
    assert "sampling.values" in lost
    _says(lost, "ties with the k-th largest", "ties at the border are all kept")


def test_sample_next_with_its_own_top_k_that_drops_ties_loses_points(tmp_path):
    """The same mistake in ``sample_next`` itself, its ``tempered_probs`` right: the draws on a
    tied row never reach the dropped words."""
    lost = _lost(tmp_path, "language_models", "sampling", "language_models/sampling.py",
                 "    probs = tempered_probs(scores, temperature, top_k)  # (B, V)\n",
                 "    probs = tempered_probs(scores, temperature, None)  # (B, V)\n"
                 "    if top_k is not None and top_k < probs.shape[1]:\n"
                 "        keep = np.argsort(-probs, axis=1, kind='stable')[:, :top_k]\n"
                 "        mask = np.zeros(probs.shape, bool)\n"
                 "        np.put_along_axis(mask, keep, True, 1)\n"
                 "        probs = np.where(mask, probs, 0.0)\n")
    assert set(lost) == {"sampling.frequencies"}
    _says(lost, "was never drawn", "ties with the k-th largest")


# -- 8. a training loop that loses its optimizer's state ------------------------------------------
STEP = "            opt.zero_grad()\n            scores, cache = model(x, h)  # (B, T, V)\n"


@pytest.mark.parametrize("new,words", [
    # listed: a new optimizer every window
    ("            opt = OPTIMIZERS[optimizer](model.parameters(), lr=lr)\n" + STEP,
     "a new optimizer made for every window"),
    # an SGD of its own, whatever `optimizer` says
    ("            opt = SGD(model.parameters(), lr=lr)\n" + STEP, "plain SGD though"),
    # the parameters updated by hand: opt.step() never called
    (STEP, "plain SGD though"),
])
def test_a_loop_that_loses_the_optimizers_state_loses_points(tmp_path, new, words):
    old = STEP
    if new == STEP:  # the third: replace the step itself
        old, new = "            opt.step()\n", (
            "            for p in model.parameters():\n"
            "                p.data = p.data - lr * p.grad\n")
    # the loop's check first, the question settled once it names the mistake (the trained
    # perplexity check after it would train the model for nothing)
    lost = _lost(tmp_path, "language_models", "rnn_lm", "language_models/rnn_lm.py", old, new,
                 folders=("language_models", "library"), until_lost={"rnn_lm": words},
                 order=lambda check: check.id != "rnn_lm.truncated_bptt")
    assert "rnn_lm.truncated_bptt" in lost
    _says(lost, words)


GATED_STEP = ("            opt.zero_grad()\n"
              "            scores, cache = model(x, state)  # (B, T, V)\n")


def test_the_gated_lms_loop_that_loses_the_optimizers_state_loses_points(tmp_path):
    """The same mistake in rnn_variants' ``train_gated_lm``: its check runs Adam too."""
    lost = _lost(tmp_path, "rnn_variants", "lstm_lm", "rnn_variants/lstm_lm.py", GATED_STEP,
                 "            opt = OPTIMIZERS[optimizer](model.parameters(), lr=lr)\n"
                 + GATED_STEP, folders=("rnn_variants", "library"))
    assert set(lost) == {"lstm_lm.clipped_windows"}
    _says(lost, "a new optimizer made for every window")


# -- 6. Python loops over the batch or its tokens in a layer --------------------------------------
@pytest.mark.parametrize("question,file,old,new", [
    # listed: a loop over the rows of the batch in a forward
    ("affine", LAYERS, "        z = self.xp.matmul(x, self.weight.data)  # (N, D_out)\n",
     "        z = self.xp.stack([self.xp.matmul(x[i], self.weight.data)\n"
     "                           for i in range(x.shape[0])])  # (N, D_out)\n"),
    # a loop over the tokens in a backward
    ("embedding", LAYERS,
     "        self.backend.scatter_add(self.weight.grad, flat, xp.reshape(grad_output, (-1, d)))\n",
     "        g = xp.reshape(grad_output, (-1, d))\n"
     "        for i in range(flat.shape[0]):\n"
     "            self.weight.grad[int(flat[i]), :] += g[i, :]\n"),
    # an activation's backward row by row
    ("relu", ACT,
     "        return grad_output * self.xp.astype(x > 0, grad_output.dtype)  # (...)\n",
     "        return self.xp.stack([self.xp.where(x[i] > 0, grad_output[i], 0.0 * grad_output[i])"
     "\n                              for i in range(x.shape[0])])\n"),
])
def test_a_python_loop_over_the_batch_in_a_layer_loses_points(tmp_path, question, file, old,
                                                             new):
    lost = _lost(tmp_path, "neural_networks", question, file, old, new)
    assert f"{question}.values" in lost
    _says(lost, "a Python loop over the batch or its tokens",
          "lines of Python in all for a batch of")


def test_a_python_loop_over_the_classes_in_a_loss_loses_points(tmp_path):
    """A softmax cross-entropy whose max runs a column at a time: the batch rule never varied
    the classes (an attacker's, 2 of 2); in a language model they are the vocabulary."""
    lost = _lost(tmp_path, "neural_networks", "softmax_ce", LOSSES,
                 "            shifted = block - xp.max(block, axis=1, keepdims=True)  # (R, C)\n",
                 "            top = block[:, 0]\n"
                 "            for k in range(1, c):\n"
                 "                top = xp.maximum(top, block[:, k])\n"
                 "            shifted = block - top[:, None]  # (R, C)\n")
    assert "softmax_ce.values" in lost
    _says(lost, "a Python loop over the classes", "for 5 classes and")


def test_a_python_loop_over_the_features_in_a_layer_loses_points(tmp_path):
    """MaxOverTime's argmax a filter at a time: the batch and time rules never varied the
    filters (an attacker's, 1.5 of 1.5); a layer without parameters has no case at scale."""
    lost = _lost(tmp_path, "cnn_text", "pooling", "library/pooling.py",
                 "        winner = xp.argmax(masked, axis=1)  # (B, F): the first position of "
                 "the maximum\n",
                 "        winner = xp.stack([xp.argmax(masked[:, :, j], axis=1)\n"
                 "                           for j in range(h.shape[2])], axis=1)  # (B, F)\n",
                 folders=("cnn_text", "library"))
    assert "pooling.values" in lost
    _says(lost, "a Python loop over the features", "features and")


def test_a_function_that_changes_an_array_inside_its_argument_loses_points(tmp_path):
    """Beyond layers: the arrays inside a dict or list argument (l2_penalty's parameters by
    name) must be left unchanged too; the gradient made by scaling the weight in place."""
    lost = _lost(tmp_path, "neural_networks", "l2", REG,
                 "            grads[name] = 2.0 * lam * w  # (same shape as w)\n",
                 "            w *= 2.0 * lam\n            grads[name] = w\n")
    _says(lost, "l2_penalty() changed its argument `params['embedding.weight']` in place")


# -- on torch: the same detectors (no NumPy warnings there; arrays are tensors) -------------------
@pytest.mark.torch
@pytest.mark.parametrize("question,file,old,new,check,words", [
    ("sigmoid", ACT, SIGMOID_LINES, "        y = 1.0 / (1.0 + xp.exp(-x))  # (...)\n",
     "sigmoid.stability", "overflow or invalid value in torch exp"),
    ("relu", ACT, "        y = self.xp.maximum(x, 0.0)  # (...): one pass\n",
     "        x[x < 0] = 0.0\n        y = x  # (...)\n", "relu.values",
     "ReLU.forward changed its input"),
    ("softmax_ce", LOSSES, "        scale = grad_output / n\n", "        scale = 1.0 / n\n",
     "softmax_ce.values", "multiply the gradient by grad_output"),
])
def test_the_detectors_work_on_torch(tmp_path, question, file, old, new, check, words):
    pytest.importorskip("torch")
    lost = _lost(tmp_path, "neural_networks", question, file, old, new, backend="torch")
    assert check in lost
    _says(lost, words)


@pytest.mark.parametrize("question,old,new", [
    # the true scores picked row by row
    ("max_margin",
     "        true = xp.sum(prediction * onehot, axis=1, keepdims=True)  # (N, 1)\n",
     "        true = xp.stack([prediction[i, int(target[i])] for i in range(n)])[:, None]\n"),
    # the one-hot subtracted row by row in backward
    ("softmax_ce",
     "        self.backend.scatter_add(grad, rows + xp.reshape(index, (n,)), ones, alpha=-1.0)\n",
     "        for i in range(n):\n"
     "            grad[i * c + int(index[i, 0]), 0] -= scale\n"),
])
def test_a_python_loop_over_the_batch_in_a_loss_loses_points(tmp_path, question, old, new):
    lost = _lost(tmp_path, "neural_networks", question, LOSSES, old, new)
    assert f"{question}.values" in lost
    _says(lost, "a Python loop over the batch", "lines of Python in all for a batch of")


def test_the_torch_overflow_guard_does_not_judge_uninitialised_memory():
    """``empty_like`` computes nothing: its memory may hold a NaN (deterministically so with
    torch's deterministic algorithms, which fill it with NaN), and a layer that allocates with
    it before writing must not be told it overflowed (softmax cross-entropy's backward on the
    torch backend was, on some runs); an operation that does make NaN of finite inputs still
    raises."""
    torch = pytest.importorskip("torch")
    from nlpdojo_autograder.runtime import probes

    x = torch.ones(4, dtype=torch.float64)
    before = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        with probes._torch_finite():
            filled = torch.empty_like(x)
            assert torch.isnan(filled).all()  # what deterministic mode writes there
            with pytest.raises(FloatingPointError, match="torch log"):
                torch.log(x - 1.0)
    finally:
        torch.use_deterministic_algorithms(before)


def test_a_list_of_arrays_where_one_array_is_promised_loses_points(tmp_path):
    """Rows returned one by one matched the reference once NumPy had stacked them (full
    marks for max_norm), and the given training loop then failed on the list."""
    old = "    return weight * xp.clip(limit / (norms + 1e-12), max=1.0)"
    new = ("    out = weight * xp.clip(limit / (norms + 1e-12), max=1.0)\n"
           "    return [out[i, :] for i in range(out.shape[0])]  #")
    lost = _lost(tmp_path, "cnn_text", "max_norm", "library/constraints.py", old, new)
    _says(lost, "is a Python list of", "arrays, not one array", "xp.stack")


#: k-max pooling by Python loops over rows, filters and positions, compiled under a file name
#: outside the course folder (an attacker's: the line counter traced only frames whose file
#: lay under it, so these loops counted nothing and the values checks passed)
BORROWED_NAME_LOOPS = '''
_SRC = """
def kmax_forward(xp, h, lengths, k):
    b, t_steps, f = h.shape
    out, picks = [], []
    for i in range(b):
        n = int(lengths[i])
        row_out, row_picks = [], []
        for j in range(f):
            vals = [float(h[i, t, j]) for t in range(n)]
            kept = sorted(sorted(range(n), key=lambda t: (-vals[t], t))[:k])
            row_picks.append(kept)
            row_out.append([vals[t] for t in kept] + [0.0] * (k - len(kept)))
        out.append([[row_out[j][r] for j in range(f)] for r in range(k)])
        picks.append(row_picks)
    return xp.asarray(out, dtype=h.dtype, device=h.device), (picks, t_steps)


def kmax_backward(xp, g, cache):
    picks, t_steps = cache
    b, k, f = g.shape
    grad = [[[0.0] * f for _ in range(t_steps)] for _ in range(b)]
    for i in range(b):
        for j in range(f):
            for r, t in enumerate(picks[i][j]):
                grad[i][t][j] += float(g[i, r, j])
    return xp.asarray(grad, dtype=g.dtype, device=g.device)
"""
_LOOPS = {}
exec(compile(_SRC, "/usr/lib/python3/loops.py", "exec"), _LOOPS)
KMaxPooling.forward = lambda self, h, lengths: _LOOPS["kmax_forward"](self.xp, h, lengths,
                                                                       self.k)
KMaxPooling.backward = lambda self, g, cache: (_LOOPS["kmax_backward"](self.xp, g, cache),
                                               None)
'''


def test_loops_compiled_under_a_borrowed_file_name_are_counted(tmp_path, monkeypatch):
    """The counter behind the code rules (which refuse ``compile`` before anything runs)."""
    monkeypatch.setenv(code_rules.ENV, "off")
    course = edited_course(tmp_path, ("library", "cnn_text"),
                           appended={"library/pooling.py": BORROWED_NAME_LOOPS})
    checks = _grade("cnn_text", course / "cnn_text", "kmax_pooling")
    assert checks["kmax_pooling.values"].score == 0, checks["kmax_pooling.values"].message
    assert "lines of Python in all for a batch of" in checks["kmax_pooling.values"].message
    assert checks["kmax_pooling.gradients"].score > 0  # right gradients: only the loops lose


def test_a_backward_wrong_only_where_windows_overlap_is_told_so_at_scale(tmp_path):
    """A student trial: a convolution's backward that assigns the taps' gradients where
    overlapping windows add up passes a case whose windows do not overlap, and its run at
    scale said only that gradients were found numerically; it says the likelier cause
    first now."""
    lost = _lost(tmp_path, "cnn_text", "conv1d", LAYERS.replace("layers", "conv"),
                 "            grad_padded[:, start:start + last:self.stride, :] += "
                 "grad_windows[:, :, k, :]\n",
                 "            grad_padded[:, start:start + last:self.stride, :] = "
                 "grad_windows[:, :, k, :]\n", folders=("library", "cnn_text"))
    told = [c.message for c in lost.values() if c.message.startswith("At scale")]
    assert told and all("The check's own case matched" in m and
                        "gradient of the input differs" in m for m in told), told


def test_a_running_statistics_mistake_costs_the_running_check_alone(tmp_path):
    """Keras's momentum convention in batch norm's running averages: a student trial lost
    the training values check and its hidden twin too, for outputs in eval mode, under a
    title that says training (one mistake, three checks' points); the running check, which
    names it, is the one to lose now."""
    course = edited_course(tmp_path, ("library", "cnn_text"), {"library/normalization.py": (
        "            self.running_mean = (1 - self.momentum) * self.running_mean + "
        "self.momentum * mean\n",
        "            self.running_mean = self.momentum * self.running_mean + "
        "(1 - self.momentum) * mean\n")})
    checks = _grade("cnn_text", course / "cnn_text", "batch_norm")
    lost = sorted(k for k, c in checks.items() if c.score < c.max_score)
    assert lost == ["batch_norm.running"], {k: checks[k].message for k in lost}


@pytest.mark.parametrize("new", [
    # listed: b left among the candidates (a student trial, 2026-12-07: 2 of 2)
    "        scores[rows, a] = scores[rows, c] = -np.inf\n",
    "        scores[rows, b] = scores[rows, c] = -np.inf\n",  # a left among them
])
def test_an_analogy_that_leaves_a_question_word_among_the_answers_loses_points(tmp_path, new):
    _lost(tmp_path, "word_vectors", "analogy", "word_vectors/evaluate.py",
          "        scores[rows, a] = scores[rows, b] = scores[rows, c] = -np.inf"
          "  # exclude the question\n", new)


def test_a_dense_co_occurrence_matrix_loses_points(tmp_path):
    """The docstring's sparse matrix returned dense (a student trial: 3 of 3; 835 MB at the
    training's vocabulary)."""
    lost = _lost(tmp_path, "word_vectors", "count_svd", "word_vectors/count_based.py",
                 "    return counts.tocsr()  # (V, V), the conversion sums duplicate (row, col) "
                 "entries\n", "    return counts.toarray()\n")
    _says(lost, "cooccurrence_matrix returned a dense", "scipy.sparse.csr_matrix")
