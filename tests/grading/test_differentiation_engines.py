"""A backward pass must be the student's own: an autodiff engine that computes it earns
nothing (docs/security.md, "differentiation engines").

Found by an attacker: a pooling layer, a QRNN and a residual block whose forward ran in torch
and whose backward was ``torch.autograd.grad`` scored full marks on the NumPy backend (torch
was installed, visible in the sandbox and importable). Now every differentiation engine the
backend does not run on is hidden by the sandbox and refused by the import blocker; on the
torch backend, whose arrays are torch tensors, the worker turns autograd off."""

from __future__ import annotations

import pytest

from nlpdojo_autograder.grading.runner import Limits, hidden_engines
from nlpdojo_autograder.runtime import sandbox
from tests.grading.courses import edited_course
from tests.grading.test_mistakes_that_passed import _grade

pytestmark = pytest.mark.seeded

SANDBOX_MISSING = sandbox.probe()

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
UNBLOCK = ("    import sys\n"
           "    sys.meta_path[:] = [f for f in sys.meta_path "
           "if type(f).__name__ != '_Blocker']")


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
], ids=["enable_grad", "autograd.grad", "backward"])
def test_autograd_earns_nothing_on_the_torch_backend(tmp_path, grad_mode, gradient):
    pytest.importorskip("torch")
    checks = _pooling_points(tmp_path, gradient=gradient, grad_mode=grad_mode,
                             backend="torch")
    assert checks and sum(c.score for c in checks.values()) == 0
    for check in checks.values():
        assert "torch's autograd is not available to graded code" in check.message, (
            check.message)


def test_the_engines_hidden_depend_on_the_backend():
    on_numpy = {name for name, _ in hidden_engines("numpy")}
    assert {"torch", "jax", "autograd", "sympy", "scipy.differentiate"} <= on_numpy
    on_torch = {name for name, _ in hidden_engines("torch")}
    assert "torch" not in on_torch and {"jax", "scipy.differentiate"} <= on_torch
    pytest.importorskip("torch")
    folders = {name: path for name, path in hidden_engines("numpy")}
    assert folders["torch"] is not None and folders["torch"].name == "torch"
