"""A backward pass must be the student's own: an autodiff engine that computes it earns
nothing (docs/security.md, "differentiation engines").

Found by an attacker: a pooling layer, a QRNN and a residual block whose forward ran in torch
and whose backward was ``torch.autograd.grad`` scored full marks on the NumPy backend (torch
was installed, visible in the sandbox and importable). Now every differentiation engine the
backend does not run on is hidden by the sandbox and refused by the import blocker; on the
torch backend, whose arrays are torch tensors, the worker turns autograd off."""

from __future__ import annotations

import os

import pytest

from nlpdojo_autograder.grading.runner import Limits, hidden_engines
from nlpdojo_autograder.runtime import code_rules, sandbox
from nlpdojo_autograder.runtime.sandbox import FORK_SERVER_ENV
from tests.grading.courses import edited_course
from tests.grading.test_mistakes_that_passed import _grade

pytestmark = [pytest.mark.seeded, pytest.mark.shared_expected]

SANDBOX_MISSING = sandbox.probe()

@pytest.fixture(autouse=True)
def _without_code_rules(monkeypatch):
    """The worker's refusal of the engines: the code rules would refuse the attacks' ``sys``
    and ``importlib`` first, so they are off here; test_code_rules.py tests them."""
    monkeypatch.setenv(code_rules.ENV, "off")

#: MaxOverTime's forward in torch with the graph kept, its backward by autograd (the attack);
#: ``{prelude}`` runs first inside forward (removing the import blocker, for one)
AUTOGRAD_POOLING = '''
def _forward(self, h, lengths):
{prelude}
    import contextlib
    import torch
    ht = torch.from_dlpack(h).clone().requires_grad_(True)
    real = (torch.arange(ht.shape[1])[None, :] < torch.from_dlpack(lengths)[:, None])[:, :, None]
    with {grad_mode}:
        out = ht.masked_fill(~real, -float("inf")).max(dim=1).values
    return self.xp.from_dlpack(out.detach().clone()), (ht, out)


def _backward(self, grad_output, cache):
    import torch
    ht, out = cache
{gradient}
    return self.xp.from_dlpack(g.detach().clone()), None


MaxOverTime.forward = _forward
MaxOverTime.backward = _backward
'''
BY_GRAD = ("    (g,) = torch.autograd.grad(out, ht, torch.from_dlpack(grad_output), "
           "retain_graph=True)")
BY_BACKWARD = ("    out.backward(torch.from_dlpack(grad_output), retain_graph=True)\n"
               "    g = ht.grad")
GRAPH_WALK = """\
    node, g = out.grad_fn, torch.from_dlpack(grad_output)
    while type(node).__name__ != "AccumulateGrad":  # down the chain, a node at a time
        grads = node(g)
        grads = grads if isinstance(grads, tuple) else (grads,)
        node, g = next((f, x) for (f, _), x in zip(node.next_functions, grads) if f is not None)"""
UNBLOCK = ("    import sys\n"
           "    sys.meta_path[:] = [f for f in sys.meta_path "
           "if type(f).__name__ != '_Blocker']")


def _earns_nothing(tmp_path, topic: str, question: str, file: str, code: str, *,
                   spared: tuple[str, ...] = ()) -> tuple[dict, str]:
    """``question`` graded on the solutions with ``code`` appended to ``file`` (of the library
    or ``topic``): every check but those whose id names one of ``spared`` (checks that never
    run the backward) earns nothing. The checks, and those checks' messages joined."""
    course = edited_course(tmp_path, ("library", topic), appended={file: code})
    checks = _grade(topic, course / topic, question)
    lost = {k: c for k, c in checks.items() if not any(name in k for name in spared)}
    assert lost and all(c.score == 0 for c in lost.values()), {
        k: (c.score, c.message) for k, c in lost.items()}
    return checks, " | ".join(c.message for c in lost.values())


def _pooling_points(tmp_path, *, prelude="    pass", gradient=BY_GRAD,
                    grad_mode="torch.enable_grad()", **options):
    code = AUTOGRAD_POOLING.format(prelude=prelude, gradient=gradient, grad_mode=grad_mode)
    course = edited_course(tmp_path, ("library", "cnn_text"),
                           appended={"library/pooling.py": code})
    return _grade("cnn_text", course / "cnn_text", "pooling", **options)


def test_torch_autograd_earns_nothing_on_the_numpy_backend(tmp_path):
    checks = _pooling_points(tmp_path)
    assert checks and sum(c.score for c in checks.values()) == 0
    for check in checks.values():
        assert "torch is not available to graded code" in check.message, check.message
        assert "backward pass is yours to write" in check.message


@pytest.mark.skipif(SANDBOX_MISSING is not None, reason=f"no OS sandbox: {SANDBOX_MISSING}")
def test_removing_the_import_blocker_does_not_give_torch_back(tmp_path):
    """The blocker is defence in depth; in the sandbox torch's folder is empty."""
    checks = _pooling_points(tmp_path, prelude=UNBLOCK,
                             limits=Limits(isolation="sandbox"))
    assert checks and sum(c.score for c in checks.values()) == 0
    assert all("has no attribute" in c.message for c in checks.values()), [
        c.message for c in checks.values()]


@pytest.mark.parametrize("grad_mode,gradient", [
    ("torch.enable_grad()", BY_GRAD),
    ("contextlib.nullcontext()", BY_GRAD),
    ("contextlib.nullcontext()", BY_BACKWARD),
    # grad mode turned on in C++ (an attacker's: a graph built there, walked by calling its
    # grad_fn nodes, computed Linear's, the LSTM's and the GRU's backward: 11.5 of 11.5)
    ("torch.inference_mode(False)", GRAPH_WALK),
], ids=["enable_grad", "autograd.grad", "backward", "inference_mode(False)"])
def test_autograd_earns_nothing_on_the_torch_backend(tmp_path, grad_mode, gradient):
    pytest.importorskip("torch")
    checks = _pooling_points(tmp_path, gradient=gradient, grad_mode=grad_mode,
                             backend="torch")
    assert checks and sum(c.score for c in checks.values()) == 0
    for check in checks.values():
        assert "torch's autograd is not available to graded code" in check.message, (
            check.message)


#: the forward's graph built in a new thread, where grad mode was on (it is each thread's
#: own), and walked by its nodes in backward (an attacker's: soft sign 1 of 1 on torch)
THREADED_POOLING = AUTOGRAD_POOLING.replace(
    "    with {grad_mode}:\n"
    "        out = ht.masked_fill(~real, -float(\"inf\")).max(dim=1).values\n",
    "    import threading\n    box = {{}}\n\n    def work():\n"
    "        box[\"out\"] = ht.masked_fill(~real, -float(\"inf\")).max(dim=1).values\n\n"
    "    worker = threading.Thread(target=work)\n    worker.start()\n    worker.join()\n"
    "    out = box[\"out\"]\n")


def test_a_graph_built_in_a_new_thread_earns_nothing_on_the_torch_backend(tmp_path):
    pytest.importorskip("torch")
    assert THREADED_POOLING != AUTOGRAD_POOLING
    code = THREADED_POOLING.format(prelude="    pass", gradient=GRAPH_WALK)
    course = edited_course(tmp_path, ("library", "cnn_text"),
                           appended={"library/pooling.py": code})
    checks = _grade("cnn_text", course / "cnn_text", "pooling", backend="torch")
    backward = {k: c for k, c in checks.items()
                if k.split(".")[-1] in ("gradients", "repeated", "hidden")}
    assert backward and all(c.score == 0 for c in backward.values()), [
        (k, c.score, c.message) for k, c in backward.items()]


def test_the_engines_hidden_depend_on_the_backend():
    on_numpy = {name for name, _ in hidden_engines("numpy")}
    assert {"torch", "jax", "autograd", "sympy", "scipy.differentiate"} <= on_numpy
    on_torch = {name for name, _ in hidden_engines("torch")}
    assert "torch" not in on_torch and {"jax", "scipy.differentiate"} <= on_torch
    pytest.importorskip("torch")
    folders = {name: path for name, path in hidden_engines("numpy")}
    assert folders["torch"] is not None and folders["torch"].name == "torch"


#: an attacker's LSTM cell: the reference's forward, the backward by central differences of
#: it, each input column perturbed for every row at once (so nothing grows with the batch),
#: each parameter one coordinate at a time; ``{when_traced}`` runs first in backward
NUMERICAL_LSTM = '''
def _numerical_backward(self, grad_state, cache):
    xp = self.xp
{when_traced}
    x, h_prev, c_prev = cache[0], cache[1], cache[2]
    grad_h, grad_c = grad_state

    def rows(x, h_prev, c_prev):  # (B,): each row's Σ grad ⊙ output
        (h, c), _ = self.forward(x, (h_prev, c_prev))
        return xp.sum(grad_h * h, axis=1) + xp.sum(grad_c * c, axis=1)

    eps, arrays, grads = 1e-6, [x, h_prev, c_prev], []
    for i, a in enumerate(arrays):
        columns = []
        for j in range(a.shape[1]):
            e = eps * xp.astype(xp.arange(a.shape[1]) == j, a.dtype)[None, :]
            up, down = list(arrays), list(arrays)
            up[i], down[i] = a + e, a - e
            columns.append((rows(*up) - rows(*down)) / (2 * eps))
        grads.append(xp.stack(columns, axis=1))
    for p in (self.weight_x, self.weight_h, self.bias):
        base, flat = p.data, []
        for q in range(base.size):
            e = eps * xp.reshape(xp.astype(xp.arange(base.size) == q, base.dtype), base.shape)
            p.data = base + e
            up = xp.sum(rows(*arrays))
            p.data = base - e
            flat.append((up - xp.sum(rows(*arrays))) / (2 * eps))
        p.data = base
        p.grad += xp.reshape(xp.stack(flat), base.shape)
    return grads[0], (grads[1], grads[2])


LSTMCell.backward = _numerical_backward
'''
#: the same, with a cheap wrong backward where it notices the line counter's tracer
ONLY_WHEN_UNTRACED = ('''    import sys
    if sys.gettrace() is not None:
        return (xp.zeros_like(cache[0]), (xp.zeros_like(cache[1]), xp.zeros_like(cache[2])))''')


@pytest.mark.parametrize("when_traced", ["", ONLY_WHEN_UNTRACED], ids=["always", "untraced"])
def test_a_backward_by_numerical_differentiation_earns_nothing(tmp_path, when_traced):
    """An attacker's LSTM and GRU cells with backwards by central differences scored 8.5 of
    8.5 (values, gradients, repeated, accumulate, torch, hidden): the differences agree with
    the reference to 1e-10, and perturbing a column for all rows at once kept the line count
    from growing with the batch. Such a backward runs the forward's lines again for every
    coordinate it perturbs: every check that runs the backward compares its lines with the
    forward's, and the gradients of that counted run with an uncounted one's."""
    course = edited_course(tmp_path, ("library", "rnn_variants"), appended={
        "library/gated.py": NUMERICAL_LSTM.format(when_traced=when_traced)})
    checks = _grade("rnn_variants", course / "rnn_variants", "lstm_cell")
    backward = {k: c for k, c in checks.items() if "forget_bias" not in k}
    assert backward and all(c.score == 0 for c in backward.values()), {
        k: (c.score, c.message) for k, c in backward.items()}
    said = "numerical differentiation" if not when_traced else "other gradients"
    assert any(said in c.message for c in backward.values()), {
        k: c.message for k, c in backward.items()}


#: an attacker's LSTM cell (issue 23, a later round): the forward written to broadcast over a
#: leading axis of K stacked copies, and the backward by complex-step derivatives of it, every
#: input column (all rows at once) and every parameter entry perturbed by 1e-30 i in ONE
#: stacked forward: exact to rounding, and no Python line grows with K (10 of 10 points on the
#: LSTM cell, the GRU cell and the highway connection, before ``at_scale``)
COMPLEX_STEP_LSTM = '''
from array_api_compat import device as _device


def _cs_vjp(xp, f, rows, params, grads, step=1e-30):
    vs = list(rows) + list(params)
    sizes = [v.shape[-1] for v in rows] + [math.prod(p.shape) for p in params]
    K = sum(sizes)
    eye = xp.astype(xp.eye(K, dtype=xp.float64, device=_device(vs[0])), xp.complex128)
    stacks, offs, off = [], [], 0
    for i, (v, n) in enumerate(zip(vs, sizes)):
        c, e = xp.astype(v, xp.complex128), eye[:, off:off + n]
        shape = (K, *([1] * (v.ndim - 1)), n) if i < len(rows) else (K, *v.shape)
        stacks.append(c[None, ...] + (1j * step) * xp.reshape(e, shape))
        offs.append(off)
        off += n
    outs = f(*stacks)
    per = xp.sum(sum(xp.imag(o) / step * g[None, ...] for o, g in zip(outs, grads)), axis=-1)
    out = []
    for i, (v, n, o) in enumerate(zip(vs, sizes, offs)):
        block = per[o:o + n, ...]
        if i < len(rows):
            out.append(xp.permute_dims(block, (*range(1, block.ndim), 0)))
        else:
            out.append(xp.reshape(xp.sum(xp.reshape(block, (n, -1)), axis=-1), v.shape))
    return out


def _sigmoid(xp, a):
    return 0.5 * (1.0 + xp.tanh(0.5 * a))


def _lstm_f(xp, H):
    def f(x, h, c, wx, wh, b):
        a = xp.matmul(x, wx) + xp.matmul(h, wh) + xp.expand_dims(b, axis=-2)
        i = _sigmoid(xp, a[..., :H])
        fg = _sigmoid(xp, a[..., H:2 * H])
        g = xp.tanh(a[..., 2 * H:3 * H])
        o = _sigmoid(xp, a[..., 3 * H:])
        c2 = fg * c + i * g
        return o * xp.tanh(c2), c2
    return f


def _stacked_forward(self, x, state):
    h, c = _lstm_f(self.xp, self.hidden_size)(x, *state, self.weight_x.data,
                                              self.weight_h.data, self.bias.data)
    return (h, c), (x, *state)


def _complex_step_backward(self, grad_state, cache):
    xp = self.xp
    ps = [self.weight_x, self.weight_h, self.bias]
    gx, gh, gc, *gp = _cs_vjp(xp, _lstm_f(xp, self.hidden_size), list(cache),
                             [p.data for p in ps], list(grad_state))
    for p, g in zip(ps, gp):
        p.grad += xp.astype(g, p.data.dtype)
    return xp.astype(gx, cache[0].dtype), (xp.astype(gh, cache[0].dtype),
                                           xp.astype(gc, cache[0].dtype))


LSTMCell.forward = _stacked_forward
LSTMCell.backward = _complex_step_backward
'''


def test_a_backward_by_stacked_complex_steps_earns_nothing(tmp_path):
    """The stacked complex-step backward gives the reference's gradients to rounding at the
    checks' sizes (a few dozen numbers) and runs few lines; at the cell's size at scale
    (525,312 parameters) its K copies do not fit the worker's memory, while the reference's
    backward takes milliseconds: every check that runs the backward fails, saying why."""
    checks, said = _earns_nothing(tmp_path, "rnn_variants", "lstm_cell", "library/gated.py",
                                  COMPLEX_STEP_LSTM, spared=("forget_bias",))
    assert said.count("At this size gradients derived with the chain rule") == \
        len(checks) - 1, said
    assert checks["lstm_cell.forget_bias"].score == checks["lstm_cell.forget_bias"].max_score


#: word2vec's pair loss with gradients by stacked complex steps of the loss: every coordinate
#: of the center vector and the outside vectors perturbed in one forward (the LSTM attack's
#: helper, applied to a function that returns its gradients)
COMPLEX_STEP_NAIVE_SOFTMAX = '''
import numpy as _np


def _loss(v, U, o):  # v (..., D), U (..., V, D): -log softmax(U v)[o]
    s = _np.sum(U * v[..., None, :], axis=-1)  # (..., V)
    m = _np.max(s.real, axis=-1, keepdims=True)
    return _np.log(_np.sum(_np.exp(s - m), axis=-1)) + m[..., 0] - s[..., o]


def naive_softmax_loss_and_gradient(center_vec, outside_idx, outside_vectors):
    xp = array_namespace(center_vec)
    v, U = _np.asarray(center_vec), _np.asarray(outside_vectors)
    (V, D), K = U.shape, U.size + v.size
    eye = _np.eye(K) * 1e-30j  # (K, K)
    grads = _loss(v[None] + eye[:, :D], U[None] + eye[:, D:].reshape(K, V, D),
                  outside_idx).imag / 1e-30  # (K,)
    return (xp.asarray(_loss(v, U, outside_idx)), xp.asarray(grads[:D]),
            xp.asarray(grads[D:].reshape(V, D)))
'''


def test_word2vec_gradients_by_stacked_complex_steps_earn_nothing(tmp_path):
    """The same attack on a function that returns its gradients (word2vec's pair loss, D + VD
    coordinates at the checks' size): at scale (V = 8,192, D = 128) the stacked copies need
    10^12 numbers; every check of the question fails (those its own judge would pass, saying
    why; the values check fails its strict pass first: the attack leaves the namespace)."""
    course = edited_course(tmp_path, ("word_vectors",), appended={
        "word_vectors/naive_softmax.py": COMPLEX_STEP_NAIVE_SOFTMAX})
    checks = _grade("word_vectors", course / "word_vectors", "naive_softmax")
    assert checks and all(c.score == 0 for c in checks.values()), {
        k: (c.score, c.message) for k, c in checks.items()}
    said = {k for k, c in checks.items()
            if "At this size gradients derived with the chain rule" in c.message}
    assert "naive_softmax.gradient" in said, {k: c.message for k, c in checks.items()}


#: an attacker's max pooling over time: the backward by central differences of the forward,
#: one coordinate at a time, and a forward that runs a loop doing nothing, so that the
#: backward's lines stayed within a multiple of the forward's own (1.5 of 1.5 on pooling and
#: k-max pooling, 0.5 of 0.5 on the residual connection)
PADDED_POOLING = '''
_true_forward = MaxOverTime.forward


def _padded_forward(self, h, lengths):
    burnt = 0
    for _ in range(300):  # lines that do nothing
        burnt += 1
    return _true_forward(self, h, lengths)


def _numerical_backward(self, grad_output, cache):
    xp = self.xp
    h, lengths = cache[-2], cache[-1]
    flat = xp.reshape(h, (-1,))
    grad = xp.zeros_like(flat)
    for j in range(flat.shape[0]):
        e = xp.astype(xp.arange(flat.shape[0]) == j, h.dtype) * 1e-6
        up, _ = _true_forward(self, xp.reshape(flat + e, h.shape), lengths)
        down, _ = _true_forward(self, xp.reshape(flat - e, h.shape), lengths)
        grad[j] = xp.sum((up - down) * grad_output) / 2e-6
    return xp.reshape(grad, h.shape), None


def _keeping_inputs(self, h, lengths):
    out, cache = _padded_forward(self, h, lengths)
    return out, (cache, h, lengths)


MaxOverTime.forward = _keeping_inputs
MaxOverTime.backward = _numerical_backward
'''


def test_a_forward_padded_with_idle_lines_does_not_pay_for_a_numerical_backward(tmp_path):
    """The backward's lines are measured against the reference's forward on the same call,
    which the submission cannot pad."""
    course = edited_course(tmp_path, ("library", "cnn_text"),
                           appended={"library/pooling.py": PADDED_POOLING})
    checks = _grade("cnn_text", course / "cnn_text", "pooling")
    backward = {k: c for k, c in checks.items() if c.score < c.max_score}
    assert backward and sum(c.score for c in checks.values()) == 0, {
        k: (c.score, c.message) for k, c in checks.items()}
    assert all("where the reference's forward runs" in c.message
               for c in backward.values()), {k: c.message for k, c in backward.items()}


#: a Conv1d whose backward is the chain rule's at the checks' sizes and loops at scale (where
#: an attacker's differences perturbed a row's coordinates and the parameters' rows block by
#: block: the LSTM and GRU cells and the convolution passed at scale in 6-13 s); here the
#: loop at scale does nothing but run, which is what the rule counts
LOOPS_AT_SCALE = '''
_chain_rule_backward = Conv1d.backward


def _backward(self, grad_output, cache):
    if self.weight.data.size > 50_000:  # the case at scale
        burnt = 0
        for _ in range(5_000):
            burnt += 1
    return _chain_rule_backward(self, grad_output, cache)


Conv1d.backward = _backward
'''


def test_a_loop_that_runs_only_at_scale_fails_on_its_lines_there(tmp_path):
    course = edited_course(tmp_path, ("library", "cnn_text"),
                           appended={"library/conv.py": LOOPS_AT_SCALE})
    checks = _grade("cnn_text", course / "cnn_text", "conv1d")
    assert checks and sum(c.score for c in checks.values()) == 0, {
        k: (c.score, c.message) for k, c in checks.items()}
    said = " | ".join(c.message for c in checks.values())
    assert "At scale" in said and "lines of Python where the reference's ran" in said, said


#: a Conv1d written with torch's kernels reached through the backend's namespace: the forward
#: ``xp.conv1d``, the backward torch.nn.grad's (an attacker's, with ``import torch``: the
#: convolution 3 of 3 on the torch backend; the code rules refuse that import there, and
#: the worker takes torch's own names out of the namespace, tested here with the rules off)
TORCH_KERNELS_CONV = '''
def _forward(self, x):
    xp = self.xp
    out = xp.conv1d(xp.permute_dims(x, (0, 2, 1)), xp.permute_dims(self.weight.data, (2, 1, 0)),
                    self.bias.data, stride=self.stride, padding=self.padding,
                    dilation=self.dilation)
    return xp.permute_dims(out, (0, 2, 1)), (x,)


def _backward(self, grad_output, cache):
    xp = self.xp
    (x,) = cache
    w = xp.permute_dims(self.weight.data, (2, 1, 0))
    g = xp.permute_dims(grad_output, (0, 2, 1))
    kw = dict(stride=self.stride, padding=self.padding, dilation=self.dilation)
    xt = xp.permute_dims(x, (0, 2, 1))
    self.weight.grad += xp.permute_dims(xp.nn.grad.conv1d_weight(xt, w.shape, g, **kw),
                                        (2, 1, 0))
    self.bias.grad += xp.sum(g, axis=(0, 2))
    return xp.permute_dims(xp.nn.grad.conv1d_input(xt.shape, w, g, **kw), (0, 2, 1))


Conv1d.forward = _forward
Conv1d.backward = _backward
'''


#: the same kernels through torch itself, which the namespace's linalg module imports (an
#: attacker's, after the namespace lost torch's top-level names: 5.5 of 5.5 again)
THROUGH_LINALG = (TORCH_KERNELS_CONV
                  .replace("    xp = self.xp\n", "    xp = self.xp.linalg.torch\n")
                  .replace("xp.permute_dims(", "self.xp.permute_dims(")
                  .replace("xp.conv1d(", "xp.nn.functional.conv1d(")
                  .replace("xp.sum(", "self.xp.sum("))


@pytest.mark.parametrize("code,said", [
    (TORCH_KERNELS_CONV, "has no attribute 'conv1d'"),
    (THROUGH_LINALG, "has no attribute 'torch'")], ids=["namespace", "through linalg"])
def test_torchs_kernels_are_not_in_the_namespace_on_the_torch_backend(tmp_path, code, said):
    pytest.importorskip("torch")
    assert code.count("linalg.torch") in (0, 2)
    course = edited_course(tmp_path, ("library", "cnn_text"),
                           appended={"library/conv.py": code})
    checks = _grade("cnn_text", course / "cnn_text", "conv1d", backend="torch")
    assert checks and sum(c.score for c in checks.values()) == 0, [
        (k, c.score, c.message) for k, c in checks.items()]
    messages = " | ".join(c.message for c in checks.values())
    assert said in messages, messages


#: an attacker's LSTM cell (the eighth review's): central differences grouped by the cell's
#: structure, each (row, gate block) of a weight for every unit at once and each input column
#: for every row at once, stacked into chunks of one broadcasting forward. Right to 1e-10 at
#: every size, a few dozen lines at any size (the line count at scale did not see it), and
#: within the time limit at scale (about 2,300 perturbed forwards): 4.5 of 4.5 before the
#: run at scale was timed
STRUCTURED_DIFFERENCES_LSTM = '''
def _lstm_f(xp, x, hp, cp, wx, wh, b, H):
    a = xp.matmul(x, wx) + xp.matmul(hp, wh) + (b[:, None, :] if b.ndim == 2 else b)
    s = 0.5 * (1.0 + xp.tanh(0.5 * a))
    c = s[..., H:2 * H] * cp + s[..., :H] * xp.tanh(a[..., 2 * H:3 * H])
    return s[..., 3 * H:] * xp.tanh(c), c


def _forward(self, x, state):
    h, c = _lstm_f(self.xp, x, *state, self.weight_x.data, self.weight_h.data,
                   self.bias.data, self.hidden_size)
    return (h, c), (x, *state)


def _backward(self, grad_state, cache):
    xp, (grad_h, grad_c), (x, hp, cp) = self.xp, grad_state, cache
    H, wx, wh, b = self.hidden_size, self.weight_x.data, self.weight_h.data, self.bias.data
    eps = 1e-5

    def diff(plus, minus):  # (S, B, H): each stacked perturbation's Σ grad · Δoutput
        (hq, cq), (hm, cm) = _lstm_f(xp, *plus, H), _lstm_f(xp, *minus, H)
        return ((hq - hm) * grad_h + (cq - cm) * grad_c) / (2 * eps)

    def rows(w, place):  # (row, gate block) of w for every unit at once, rows in chunks
        n, out, R = max(1, 2 ** 22 // (w.shape[0] * H)), [], w.shape[0]
        for r0 in range(0, R, n):
            r = xp.arange(r0, min(R, r0 + n))
            s = xp.arange(4 * r.shape[0])
            m = ((xp.arange(R)[None, :, None] == r[s // 4][:, None, None])
                 & (xp.arange(4 * H)[None, None, :] // H == (s % 4)[:, None, None]))
            d = diff(place(xp.where(m, w + eps, w)), place(xp.where(m, w - eps, w)))
            out.append(xp.reshape(xp.sum(d, axis=1), (r.shape[0], 4 * H)))
        return xp.concat(out, axis=0)

    self.weight_x.grad += rows(wx, lambda w: (x, hp, cp, w, wh, b))
    self.weight_h.grad += rows(wh, lambda w: (x, hp, cp, wx, w, b))
    mb = xp.astype(xp.arange(4 * H)[None, None, :] // H == xp.arange(4)[:, None, None],
                   b.dtype)
    self.bias.grad += xp.reshape(xp.sum(diff((x, hp, cp, wx, wh, b + eps * mb),
                                             (x, hp, cp, wx, wh, b - eps * mb)), axis=1),
                                 (4 * H,))
    mx = xp.astype(xp.arange(x.shape[1])[:, None, None] == xp.arange(x.shape[1]), x.dtype)
    mh = xp.astype(xp.arange(H)[:, None, None] == xp.arange(H), x.dtype)
    gx = xp.matrix_transpose(xp.sum(diff((x + eps * mx, hp, cp, wx, wh, b),
                                         (x - eps * mx, hp, cp, wx, wh, b)), axis=2))
    gh = xp.matrix_transpose(xp.sum(diff((x, hp + eps * mh, cp, wx, wh, b),
                                         (x, hp - eps * mh, cp, wx, wh, b)), axis=2))
    return gx, (gh, diff((x, hp, cp + eps, wx, wh, b), (x, hp, cp - eps, wx, wh, b)))


LSTMCell.forward = _forward
LSTMCell.backward = _backward
'''


def test_structured_differences_at_scale_fail_on_their_cpu_time(tmp_path, monkeypatch):
    """The structured, stacked central differences agree with the reference at every size and
    run few lines at scale; what they cannot hide is their work there: a forward per group of
    coordinates, hundreds of times the reference's CPU time on the same call (the worker's
    CPU time as the grader reads it from ``/proc``). Every worker started by bubblewrap (the
    next test's forked by the fork server: their CPU time is read through another process)."""
    monkeypatch.setenv(FORK_SERVER_ENV, "off")
    checks, said = _earns_nothing(tmp_path, "rnn_variants", "lstm_cell", "library/gated.py",
                                  STRUCTURED_DIFFERENCES_LSTM, spared=("forget_bias",))
    assert "was stopped after" in said and "s of CPU time where the reference's took" in said, \
        said  # (at its cap, a quarter past what it may use: not its whole run)
    assert checks["lstm_cell.forget_bias"].score == checks["lstm_cell.forget_bias"].max_score


#: an attacker's Linear (a second review of the timed run at scale): the backward runs the
#: forward on bumps, grouped where coordinates reach separate outputs (a row of W for every
#: output at once, an input column for every row at once); the layer is affine, so the
#: forward on a bump is exactly the change it makes. Few lines, exact, and at a batch of 16
#: rows 0.39 s of CPU at scale, under the 1 s floor (3 of 3); the case at scale now has a
#: batch where the reference's arithmetic, not the fixed cost of a call, is what it is timed by
FORWARD_ON_BUMPS_LINEAR = '''
def _apply(self, x, weight, bias):
    return self.xp.matmul(x, weight) + bias


def _forward(self, x):
    return _apply(self, x, self.weight.data, self.bias.data), (x,)


def _backward(self, grad_output, cache):
    xp, (x,), g = self.xp, cache, grad_output
    w, bias = self.weight.data, self.bias.data
    d_in, d_out = w.shape
    self.bias.grad += xp.sum((_apply(self, x, w, bias + 1.0) - _apply(self, x, w, bias)) * g,
                             axis=0)
    rows_grad = []
    for j0 in range(0, d_in, 64):  # a row of W for every output at once, 64 rows a chunk
        rows = xp.arange(j0, min(d_in, j0 + 64))
        n = rows.shape[0]
        bump = xp.zeros((d_in, n, d_out), dtype=w.dtype)
        bump[rows, xp.arange(n), :] = 1.0
        dy = xp.reshape(_apply(self, x, xp.reshape(bump, (d_in, n * d_out)), 0.0),
                        (x.shape[0], n, d_out))
        rows_grad.append(xp.sum(dy * g[:, None, :], axis=0))
    self.weight.grad += xp.concat(rows_grad, axis=0)
    eye = xp.astype(xp.arange(d_in)[:, None] == xp.arange(d_in)[None, :], w.dtype)
    bumped = xp.broadcast_to(eye[:, None, :], (d_in, x.shape[0], d_in))  # column i of every row
    dy = xp.reshape(_apply(self, xp.reshape(bumped, (-1, d_in)), w, 0.0),
                    (d_in, x.shape[0], d_out))
    return xp.matrix_transpose(xp.sum(dy * g[None], axis=2))  # (N, D_in)


Linear.forward = _forward
Linear.backward = _backward
'''


def test_a_linear_layer_by_forwards_on_bumps_fails_on_its_cpu_time(tmp_path, monkeypatch):
    """Every worker forked by the fork server where it can (root): its CPU time is read through
    its parent, the server's child (runtime/forkserver.py)."""
    if os.getuid() == 0 and sandbox.probe() is None:
        monkeypatch.setenv(FORK_SERVER_ENV, "always")
    _, said = _earns_nothing(tmp_path, "neural_networks", "affine", "library/layers.py",
                             FORWARD_ON_BUMPS_LINEAR)
    assert "was stopped after" in said and "s of CPU time where the reference's took" in said, \
        said


#: a third review's Kim CNN: no chain rule through the wiring, only forwards on bumps (a row
#: of the output layer for every class, a filter bank's row for every filter, each word's
#: embedding row at all its occurrences; the network is piecewise linear in each bump), 3 of
#: 3 in 0.04-0.22 s at a case at scale of 3 sentences; at 256 sentences it runs out of memory
#: (chunked, a forward per distinct word's row and coordinate)
FORWARD_ON_BUMPS_KIM = '''
_plain_forward = SentenceCNN.forward


def _forward(self, ids, lengths):
    scores, cache = _plain_forward(self, ids, lengths)
    return scores, (*cache, ids, lengths)


def _backward(self, grad_output, cache):
    from array_api_compat import device
    xp, c_drop, (ids, lengths) = self.xp, cache[3], cache[-2:]
    g, h, dev, dt = grad_output, 1e-5, device(grad_output), grad_output.dtype
    raw, _ = self.embedding(ids)
    bsz, t, d = raw.shape
    real = xp.arange(t, device=dev)[None, :] < lengths[:, None]
    realf = xp.astype(real, dt)[None, :, :, None]
    Ws, bs = [c.weight.data for c in self.convs], [c.bias.data for c in self.convs]
    Wo, bo = self.output.weight.data, self.output.bias.data

    def pool(vec, W, b, k):  # vec (N|1, B, T, D), W (N|1, k, D, F), b (N|1, F) -> (N, B, F)
        z = xp.zeros((vec.shape[0], bsz, k - 1, d), dtype=dt, device=dev)
        xpad, to = xp.concat([z, vec, z], axis=2), t + k - 1
        win = xp.stack([xpad[:, :, i:i + to, :] for i in range(k)], axis=3)
        a = xp.matmul(xp.reshape(win, (vec.shape[0], bsz * to, k * d)),
                      xp.reshape(W, (W.shape[0], k * d, W.shape[-1])))
        a = xp.maximum(xp.reshape(a, (a.shape[0], bsz, to, W.shape[-1]))
                       + b[:, None, None, :], 0.0)
        ok = xp.arange(to, device=dev)[None, :] < (lengths + k - 1)[:, None]
        return xp.max(xp.where(ok[None, :, :, None], a, -xp.inf), axis=2)

    vec0 = (raw * realf[0])[None]
    pooled0 = xp.concat([pool(vec0, W[None], b[None], k)[0] for k, W, b
                         in zip(self.widths, Ws, bs)], axis=-1)
    mask = c_drop[0] if c_drop[0] is not None else xp.ones(pooled0.shape, dtype=dt,
                                                           device=dev)

    def scores(feat, W=Wo, b=bo):  # feat (N, B, nF) -> (N, B, C)
        return xp.matmul(feat * mask, W) + b

    nf = pooled0.shape[1]
    eye = xp.eye(nf, dtype=dt, device=dev)
    d_pool = scores(pooled0 + h * eye[:, None, :]) - scores(pooled0 - h * eye[:, None, :])
    g_pool = xp.matrix_transpose(xp.sum(d_pool * g, axis=-1)) / (2 * h)  # (B, nF)
    eyeo = eye[:, :, None] * xp.ones((1, 1, Wo.shape[1]), dtype=dt, device=dev)
    d_wo = scores(pooled0[None], Wo + h * eyeo, bo[None, None]) - \\
        scores(pooled0[None], Wo - h * eyeo, bo[None, None])  # (nF, B, C)
    self.output.weight.grad += xp.sum(d_wo * g, axis=1) / (2 * h)
    self.output.bias.grad += xp.sum((scores(pooled0, Wo, bo + h) -
                                     scores(pooled0, Wo, bo - h)) * g, axis=0) / (2 * h)
    for j, (conv, k, W, b) in enumerate(zip(self.convs, self.widths, Ws, bs)):
        gp = g_pool[:, j * self.filters:(j + 1) * self.filters]
        n, f = k * d, W.shape[2]
        bump = h * xp.reshape(xp.eye(n, dtype=dt, device=dev), (n, k, d, 1)) * \\
            xp.ones((1, 1, 1, f), dtype=dt, device=dev)
        dW = pool(vec0, W + bump, b[None], k) - pool(vec0, W - bump, b[None], k)
        conv.weight.grad += xp.reshape(xp.sum(dW * gp, axis=1), W.shape) / (2 * h)
        db = pool(vec0, W[None], b[None] + h, k) - pool(vec0, W[None], b[None] - h, k)
        conv.bias.grad += xp.sum(db * gp, axis=(0, 1)) / (2 * h)
    uniq = xp.unique_values(xp.reshape(ids, (-1,)))  # each word's row, at all its places
    u = uniq.shape[0]
    onehot = xp.astype(ids[None, :, :] == uniq[:, None, None], dt)  # (U, B, T)
    bumpv = h * xp.reshape(onehot[:, None, :, :, None] *
                           xp.eye(d, dtype=dt, device=dev)[None, :, None, None, :],
                           (u * d, bsz, t, d))

    def full(v):
        return scores(xp.concat([pool(v * realf, W[None], b[None], k) for k, W, b
                                 in zip(self.widths, Ws, bs)], axis=-1))

    dv = full(raw[None] + bumpv) - full(raw[None] - bumpv)  # (U·D, B, C)
    g_rows = xp.reshape(xp.sum(dv * g, axis=(1, 2)), (u, d)) / (2 * h)
    self.backend.scatter_add(self.embedding.weight.grad, uniq, g_rows)
    return None, None


SentenceCNN.forward = _forward
SentenceCNN.backward = _backward
'''


def test_kims_cnn_by_forwards_on_bumps_fails_at_scale(tmp_path):
    """At 3 sentences the case at scale's reference run was the fixed cost of a call and the
    1 s floor was the allowance; at 256 the bumps cost far more than the chain rule."""
    _, said = _earns_nothing(tmp_path, "cnn_text", "kim_cnn", "cnn_text/kim_cnn.py",
                             FORWARD_ON_BUMPS_KIM)
    assert "at scale" in said.lower(), said
