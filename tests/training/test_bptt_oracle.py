"""The training kit's torch oracle of truncated BPTT (autograder/training/bptt_oracle.py), the
one both language-model topics name a loop's mistakes with: every switch changes the losses
(a switch that did nothing would name a mistake the student did not make), and a cell it does
not know is refused."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

import torch  # noqa: E402 - after the skip

from nlpdojo_autograder.training import truncated_bptt_losses  # noqa: E402
from nlpdojo_autograder.training.bptt_oracle import TorchAdam  # noqa: E402

V, D, H = 9, 3, 4


def _init(cell: str, rng: np.random.Generator) -> dict[str, np.ndarray]:
    width = H if cell == "rnn" else 4 * H
    return {"embedding.weight": rng.normal(size=(V, D)),
            f"rnn.cell.weight_{'e' if cell == 'rnn' else 'x'}": 0.5 * rng.normal(size=(D, width)),
            "rnn.cell.weight_h": 0.5 * rng.normal(size=(H, width)),
            "rnn.cell.bias": rng.normal(size=width),
            "output.weight": rng.normal(size=(H, V)), "output.bias": rng.normal(size=V)}


@pytest.mark.parametrize(("cell", "switch"), [
    ("rnn", {"carry": False}), ("rnn", {"shift": 0}), ("rnn", {"reset": False}),
    ("rnn", {"accumulate": True}), ("rnn", {"carried": "first"}),
    ("rnn", {"optimizer": "adam", "fresh": True}),
    ("lstm", {"carry_cell": False}), ("lstm", {"carry": False}), ("lstm", {"clip": None}),
])
def test_every_switch_changes_the_losses(cell, switch):
    rng = np.random.default_rng(3)
    init, train = _init(cell, rng), rng.integers(0, V, 90)
    settings = {"batch_size": 3, "bptt": 4, "lr": 0.4, "epochs": 2, "clip": 0.1,
                **({"optimizer": "adam"} if "fresh" in switch else {})}
    right = truncated_bptt_losses(train, init, cell=cell, **settings)
    wrong = truncated_bptt_losses(train, init, cell=cell, **{**settings, **switch})
    assert right.shape == ((90 // 3 - 1) // 4 * 2,)
    assert np.all(np.isfinite(right)) and not np.allclose(right, wrong)


def test_a_cell_it_does_not_know_is_refused():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="cell 'gru': one of rnn, lstm"):
        truncated_bptt_losses(rng.integers(0, V, 30), _init("rnn", rng), cell="gru",
                              batch_size=3, bptt=4, lr=0.1, epochs=1)


def test_the_oracles_adam_steps_as_torch_optim_adam_does():
    """The oracle's Adam, written out so that no grading imports torch's compiler, against
    ``torch.optim.Adam`` itself: 30 steps on gradients of both signs and scales, bitwise."""
    rng = np.random.default_rng(5)
    start = [rng.normal(size=(4, 3)), rng.normal(size=7)]
    ours = [torch.tensor(a, requires_grad=True) for a in start]
    theirs = [torch.tensor(a, requires_grad=True) for a in start]
    adam, reference = TorchAdam(ours, lr=0.05), torch.optim.Adam(theirs, lr=0.05)
    for step in range(30):
        grads = [torch.tensor(rng.normal(scale=10.0 ** (step % 5 - 2), size=a.shape))
                 for a in start]
        for p, q, g in zip(ours, theirs, grads, strict=True):
            p.grad, q.grad = g.clone(), g.clone()
        adam.step()
        reference.step()
        for p, q in zip(ours, theirs, strict=True):
            assert torch.equal(p.detach(), q.detach()), step
