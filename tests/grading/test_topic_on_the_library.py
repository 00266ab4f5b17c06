"""A topic built on the course library, added by touching only its own folders and one library
file (issue 24, "done when"): a cell with a gradient check and a torch check, in a new library
file that the library re-exports with no edit (``__all__ = ["MGUCell"]``), and, in the topic's
own folder, a bidirectional unroll of it that imports the cell and the library's RNN from one
place (``from ..library import RNN, MGUCell``), checked over the grader's stand-in cells, that
requires the cell and an earlier topic's question (the library's RNN, from
``language_models``). It releases (the notebook holds the library file as a cell and binds RNN
from library/), grades (stubs 0, reference full marks) and verifies strictly.

The commands run in processes whose ``nlpdojo_solutions`` and ``nlpdojo_course`` are copies in
a temporary folder (``PYTHONPATH`` comes before the editable install's finder), so the
checkout is never written to.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tests.grading.test_new_topic import course, run  # noqa: F401 - the fixture

#: the one library file: the minimal gated unit (Zhou et al. 2016)
MGU_LIBRARY = '''"""The minimal gated unit (Zhou et al. 2016, "Minimal gated unit for
recurrent neural networks"): one forget gate f, used both to reset the state seen by the
candidate and to mix the candidate into the state (a GRU with its two gates tied).
"""

from __future__ import annotations

from nlpdojo.module import Module, Parameter

from .init import xavier_uniform

__all__ = ["MGUCell"]


class MGUCell(Module):
    """f = σ(x W_xf + h W_hf + b_f); n = tanh(x W_xn + (f ⊙ h) W_hn + b_n);
    h' = (1 − f) ⊙ h + f ⊙ n, for x (B, D) and h (B, H)."""

    def __init__(self, backend, input_size: int, hidden_size: int, *, seed: int = 0) -> None:
        super().__init__(backend)
        d, h = input_size, hidden_size
        self.weight_xf = Parameter(xavier_uniform(backend, d, h, seed=seed), "weight_xf")
        self.weight_hf = Parameter(xavier_uniform(backend, h, h, seed=seed + 1), "weight_hf")
        self.weight_xn = Parameter(xavier_uniform(backend, d, h, seed=seed + 2), "weight_xn")
        self.weight_hn = Parameter(xavier_uniform(backend, h, h, seed=seed + 3), "weight_hn")
        zeros = self.xp.zeros((h,), dtype=backend.default_dtype, device=backend.device)
        self.bias_f = Parameter(zeros, "bias_f")
        self.bias_n = Parameter(self.xp.zeros_like(zeros), "bias_n")

    def forward(self, x, h):
        xp = self.xp
        ### BEGIN SOLUTION toy_mgu.mgu_cell
        f = 1.0 / (1.0 + xp.exp(-(xp.matmul(x, self.weight_xf.data)
                                  + xp.matmul(h, self.weight_hf.data) + self.bias_f.data)))
        n = xp.tanh(xp.matmul(x, self.weight_xn.data) + xp.matmul(f * h, self.weight_hn.data)
                    + self.bias_n.data)  # (B, H)
        return (1.0 - f) * h + f * n, (x, h, f, n)
        ### END SOLUTION

    def backward(self, grad_output, cache):
        xp = self.xp
        ### BEGIN SOLUTION toy_mgu.mgu_cell
        x, h, f, n = cache
        t = xp.matrix_transpose
        grad_an = grad_output * f * (1.0 - n * n)  # (B, H): n's pre-activation
        self.weight_xn.grad = self.weight_xn.grad + xp.matmul(t(x), grad_an)
        self.weight_hn.grad = self.weight_hn.grad + xp.matmul(t(f * h), grad_an)
        self.bias_n.grad = self.bias_n.grad + xp.sum(grad_an, axis=0)
        grad_fh = xp.matmul(grad_an, t(self.weight_hn.data))  # dL/d(f ⊙ h)
        grad_f = grad_output * (n - h) + grad_fh * h
        grad_af = grad_f * f * (1.0 - f)  # f's pre-activation
        self.weight_xf.grad = self.weight_xf.grad + xp.matmul(t(x), grad_af)
        self.weight_hf.grad = self.weight_hf.grad + xp.matmul(t(h), grad_af)
        self.bias_f.grad = self.bias_f.grad + xp.sum(grad_af, axis=0)
        grad_x = xp.matmul(grad_an, t(self.weight_xn.data)) + xp.matmul(
            grad_af, t(self.weight_xf.data))
        grad_h = grad_output * (1.0 - f) + grad_fh * f + xp.matmul(
            grad_af, t(self.weight_hf.data))
        return grad_x, grad_h
        ### END SOLUTION
'''

#: the topic's own module: a bidirectional RNN of the cell (CS224n lecture 7), the library's
#: RNN left to right and right to left, states concatenated
BIMGU_TOPIC = '''"""A bidirectional RNN of minimal gated units (CS224n lecture 7): the library's
RNN of MGU cells left to right and right to left, states concatenated."""

from __future__ import annotations

from nlpdojo.module import Module

from ..library import RNN, MGUCell


class BiMGU(Module):
    """Left-to-right and right-to-left RNNs of MGU cells from zero states, their states
    concatenated per position: (B, T, 2H) for xs (B, T, D)."""

    def __init__(self, backend, input_size: int, hidden_size: int, *, seed: int = 0) -> None:
        super().__init__(backend)
        self.hidden_size = hidden_size
        self.forward_rnn = RNN(backend, input_size, hidden_size, seed=seed)
        self.forward_rnn.cell = MGUCell(backend, input_size, hidden_size, seed=seed)
        self.backward_rnn = RNN(backend, input_size, hidden_size, seed=seed + 10)
        self.backward_rnn.cell = MGUCell(backend, input_size, hidden_size, seed=seed + 10)

    def forward(self, xs):
        xp = self.xp
        h0 = xp.zeros((xs.shape[0], self.hidden_size), dtype=xs.dtype, device=xs.device)
        ### BEGIN SOLUTION bimgu
        left, left_cache = self.forward_rnn(xs, h0)  # (B, T, H)
        right, right_cache = self.backward_rnn(xp.flip(xs, axis=1), h0)
        return xp.concat([left, xp.flip(right, axis=1)], axis=-1), (left_cache, right_cache)
        ### END SOLUTION

    def backward(self, grad_output, cache):
        xp, h = self.xp, self.hidden_size
        ### BEGIN SOLUTION bimgu
        left_cache, right_cache = cache
        grad_left, _ = self.forward_rnn.backward(grad_output[..., :h], left_cache)
        grad_right, _ = self.backward_rnn.backward(xp.flip(grad_output[..., h:], axis=1),
                                                   right_cache)
        return grad_left + xp.flip(grad_right, axis=1)
        ### END SOLUTION
'''

#: the topic's grading folder: its two questions
QUESTIONS = '''"""Topic ``toy_mgu``: a gated cell and a bidirectional RNN of it, on the course
library."""

from __future__ import annotations

import numpy as np

from nlpdojo_autograder.authoring import (
    LayerCase,
    Question,
    bug,
    layer_checks,
    sequence_checks,
    stand_in_cell,
    torch_check,
)

MGU = "..library.mgu"
BIMGU_MODULE = "bimgu"
B, T, D, H = 3, 4, 2, 3


def _cell_at(b, d, h, std=1.0):
    def case(ctx):
        rng = ctx.rng()
        shapes = {"weight_xf": (d, h), "weight_hf": (h, h), "weight_xn": (d, h),
                  "weight_hn": (h, h), "bias_f": (h,), "bias_n": (h,)}
        return LayerCase(args=(ctx.backend, d, h), names=("x", "h"), differentiable=(0, 1),
                         params={k: std * rng.standard_normal(s) for k, s in shapes.items()},
                         inputs=lambda r: (r.standard_normal((b, d)),
                                           np.tanh(r.standard_normal((b, h)))))
    return case


_cell = _cell_at(B, D, H)
#: 262,656 parameters: a backward by numerical differentiation cannot finish there
CELL_AT_SCALE = _cell_at(8, 256, 256, std=256 ** -0.5)


def _torch_cell(p, x, h):
    import torch

    f = torch.sigmoid(x @ p["weight_xf"] + h @ p["weight_hf"] + p["bias_f"])
    n = torch.tanh(x @ p["weight_xn"] + (f * h) @ p["weight_hn"] + p["bias_n"])
    return (1 - f) * h + f * n


def _bidirectional(ctx, kind, sizes=(B, T, D, H)):
    b, t, d, h = sizes
    return LayerCase(args=(ctx.backend, d, h), params={}, names=("xs",),
                     inputs=lambda r: (r.standard_normal((b, t, d)),),
                     cells={"forward_rnn.cell": stand_in_cell(kind, d, h),
                            "backward_rnn.cell": stand_in_cell(kind, d, h)})


MGU_CELL = Question(
    "mgu_cell", "The minimal gated unit", code="library/mgu",
    checks=[*layer_checks("mgu_cell", MGU, "MGUCell", _cell, title="MGUCell", points=2.0,
                          torch=_torch_cell, at_scale=CELL_AT_SCALE),
            torch_check("mgu_cell", MGU, "MGUCell", _cell, torch=_torch_cell,
                        title="MGUCell against the same cell in torch", points=1.0,
                        at_scale=CELL_AT_SCALE)],
    planted_bugs=[bug("forget gate derivative missing", MGU,
                      "grad_af = grad_f * f * (1.0 - f)", "grad_af = grad_f", "mgu_cell")],
    requires=("neural_networks.xavier",))

BIMGU = Question(
    "bimgu", "A bidirectional RNN of MGU cells", code="bimgu",
    checks=sequence_checks("bimgu", BIMGU_MODULE, "BiMGU", _bidirectional, title="BiMGU",
                           points=2.0,  # 131,072 inputs at scale, over stand-in cells
                           at_scale=lambda ctx, kind: _bidirectional(ctx, kind, (4, 64, 512, 64))),
    planted_bugs=[bug("right-to-left states not re-reversed", BIMGU_MODULE,
                      "xp.concat([left, xp.flip(right, axis=1)], axis=-1)",
                      "xp.concat([left, right], axis=-1)", "bimgu")],
    requires=("mgu_cell", "language_models.rnn"))

QUESTIONS = [MGU_CELL, BIMGU]
'''

README = """# A gated cell, both ways

*topic id `toy_mgu`*

## Questions

1. **`mgu_cell`**: the minimal gated unit's forward and backward (`library/mgu.py`).
2. **`bimgu`**: a bidirectional RNN of it, on the library's `RNN` (`bimgu.py`).
"""


def _tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and "__pycache__" not in p.parts
            and "fixtures" not in p.parts}


def test_a_topic_on_the_library_touches_its_folders_and_one_library_file(course, tmp_path):  # noqa: F811
    packages, env = course
    solutions, course_dir = packages / "nlpdojo_solutions", packages / "nlpdojo_course"
    before = _tree(packages)
    made = run(env, tmp_path, "dojo", "new", "topic", "toy_mgu", "--title", "A gated cell",
               "--order", "7", "--solutions", str(solutions), "--course", str(course_dir))
    assert made.returncode == 0, made.stderr
    (solutions / "toy_mgu" / "scale.py").unlink()
    (solutions / "toy_mgu" / "README.md").write_text(README, encoding="utf-8")
    (solutions / "library" / "mgu.py").write_text(MGU_LIBRARY, encoding="utf-8")
    (solutions / "toy_mgu" / "bimgu.py").write_text(BIMGU_TOPIC, encoding="utf-8")
    (course_dir / "toy_mgu" / "questions.py").write_text(QUESTIONS, encoding="utf-8")
    after = _tree(packages)
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    assert {p.split("/")[1] if p.split("/")[1] != "library" else p for p in changed} == {
        "toy_mgu", "nlpdojo_solutions/library/mgu.py"}, changed

    exercises = tmp_path / "exercises"
    released = run(env, tmp_path, "dojo", "release", "toy_mgu", "--solutions", str(solutions),
                   "--output", str(exercises))
    assert released.returncode == 0, released.stdout + released.stderr
    stub = (exercises / "library" / "mgu.py").read_text()
    assert "NotImplementedError" in stub and "grad_af" not in stub
    assert "xp.flip" not in (exercises / "toy_mgu" / "bimgu.py").read_text()
    nb = json.loads((exercises / "toy_mgu" / "toy_mgu.ipynb").read_text())
    assert nb["metadata"]["nlpdojo"]["modules"] == ["library.mgu", "bimgu"]
    cells = {c["metadata"]["nlpdojo"]["module"]: c for c in nb["cells"]
             if "nlpdojo" in c["metadata"]}
    assert cells["bimgu"]["metadata"]["nlpdojo"]["imports"] == [
        "from ..library import RNN, MGUCell"]
    setup = "".join(next(c["source"] for c in nb["cells"] if c["id"] == "nlpdojo-setup"))
    assert "RNN = _library.rnn.RNN" in setup and "MGUCell =" not in setup  # the cell's

    verified = run(env, tmp_path, "dojo", "verify", "toy_mgu", "--strict", "--backend",
                   "numpy")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    # + library, baseline, 2 bugs, language_models' bugs in library/rnn.py (they cost nothing
    # here: bimgu requires language_models.rnn, whose reference stands in)
    assert "verification steps passed" in verified.stdout.splitlines()[-1], verified.stdout

    # the requirement forgotten: a student's mistake in their RNN would cost points on bimgu
    # too, which --strict now says (an instructor's finding: it passed)
    questions = course_dir / "toy_mgu" / "questions.py"
    questions.write_text(QUESTIONS.replace('requires=("mgu_cell", "language_models.rnn")',
                                           'requires=("mgu_cell",)'), encoding="utf-8")
    forgot = run(env, tmp_path, "dojo", "verify", "toy_mgu", "--strict", "--backend", "numpy")
    assert forgot.returncode == 1, forgot.stdout + forgot.stderr
    assert "FAIL toy_mgu: language_models's planted bug" in forgot.stdout, forgot.stdout
    assert "declare requires=(..., 'language_models.rnn') on bimgu" in forgot.stdout
    # ... unless the checks run the student's own RNN on purpose (own_code, as a training
    # check does): then losing points there is by design, and the step says so
    questions.write_text(QUESTIONS.replace(
        'requires=("mgu_cell", "language_models.rnn")', 'requires=("mgu_cell",)').replace(
        "points=2.0,  # 131,072", 'points=2.0, own_code=("language_models.rnn",),  # 131,072'),
        encoding="utf-8")
    own = run(env, tmp_path, "dojo", "verify", "toy_mgu", "--strict", "--backend", "numpy")
    assert own.returncode == 0, own.stdout + own.stderr
    assert "which run the student's own language_models.rnn on purpose (own_code)" in (
        own.stdout), own.stdout
    questions.write_text(QUESTIONS, encoding="utf-8")

    stubs = run(env, tmp_path, "grade", "toy_mgu", "--submission", str(exercises),
                "--format", "json")
    solved = run(env, tmp_path, "grade", "toy_mgu", "--solutions", "--format", "json")
    assert json.loads(stubs.stdout)["score"] == 0, stubs.stdout[-2000:]
    report = json.loads(solved.stdout)
    assert report["score"] == report["max_score"] == 5.0, solved.stdout[-3000:]
    checks = {c["id"]: c for e in report["exercises"] for c in e["checks"]}
    assert "mgu_cell.torch" in checks and "bimgu.gradients" in checks
