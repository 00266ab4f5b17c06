"""Bad input a student will produce, and the message that says what to do: a Linear layer fed
the wrong shape (an unconcatenated window, a transposed batch) or integer ids, an Embedding fed
floats, a layer whose __init__ forgot super().__init__(backend), and a Dropout that stays on in
eval mode (the grader's hint)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from nlpdojo.module import Module
from nlpdojo.selection import load_backend
from nlpdojo_autograder.grading.grade import GradeOptions, grade
from nlpdojo_solutions.library.layers import Embedding, Linear

SOLUTIONS = Path(__file__).resolve().parents[2] / "solutions"


@pytest.fixture
def be():
    return load_backend("numpy", None, "float64")


def test_linear_says_to_concatenate_a_window_of_vectors(be):
    layer = Linear(be, 5 * 3, 4)
    with pytest.raises(ValueError, match=r"takes a batch of rows \(N, 15\)") as info:
        layer(np.zeros((2, 5, 3)))
    assert "xp.reshape(x, (x.shape[0], -1)) gives (2, 15)" in str(info.value)


def test_linear_suspects_a_transposed_batch(be):
    with pytest.raises(ValueError, match=r"got shape \(6, 2\).*transposed"):
        Linear(be, 6, 3)(np.zeros((6, 2)))


def test_linear_sends_token_ids_to_an_embedding(be):
    with pytest.raises(TypeError, match="int64.*go through an Embedding first"):
        Linear(be, 3, 2)(np.arange(6).reshape(2, 3))


def test_right_input_passes_the_checks(be):
    out, _ = Linear(be, 3, 2)(np.ones((4, 3)))
    assert out.shape == (4, 2)


def test_embedding_wants_integer_ids(be):
    with pytest.raises(TypeError, match="as integers"):
        Embedding(be, 10, 3)(np.array([[1.0, 2.0]]))


def test_a_layer_without_super_init_says_so(be):
    class Forgot(Module):
        def __init__(self, backend):
            self.scale = 2.0

        def forward(self, x):
            return self.xp.asarray(x) * self.scale, ()

    layer = Forgot(be)
    with pytest.raises(AttributeError, match=r"super\(\).__init__\(backend\)"):
        layer(np.ones(3))
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = layer.nothing
    assert not hasattr(layer, "nothing")


def test_dropout_left_on_in_eval_mode_is_told_about_model_eval(tmp_path):
    for name in ("library", "neural_networks"):
        shutil.copytree(SOLUTIONS / name, tmp_path / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    layers = tmp_path / "library" / "layers.py"
    layers.write_text(layers.read_text().replace("if not self.training or self.p == 0.0:",
                                                 "if self.p == 0.0:"))
    result = grade(["neural_networks"], submission=tmp_path / "neural_networks",
                   options=GradeOptions(questions=frozenset({"neural_networks.dropout"})),
                   replay_options={})
    checks = {c.id: c for _, c in result.checks()}
    assert checks["dropout.eval"].score == 0
    assert "model.eval()" in checks["dropout.eval"].message
    assert checks["dropout.values"].passed  # training mode is right
    # eval mode is half of what dropout teaches: it costs about a quarter of the question
    lost = sum(c.max_score - c.score for c in checks.values() if c.question.endswith("dropout"))
    assert 0.5 <= lost < 1.0, lost
