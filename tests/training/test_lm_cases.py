"""The training kit's statement of the course's recurrent language models
(autograder/training/lm_cases.py, loop_runs.py's draws, bptt_oracle.py's torch forward): the
parameters it names are the reference models' own, in their order; the loop check's draws
are the shapes it names; the torch forward is ``torch.nn``'s recurrent layers with the same
weights."""

from __future__ import annotations

import numpy as np
import pytest

from nlpdojo.selection import load_backend
from nlpdojo_autograder.training import lm_shapes, loop_draws, torch_lm
from nlpdojo_autograder.training.loop_runs import HELD_OUT, LOOP, SIZES, STREAM

V, D, H, B, T = 7, 3, 4, 2, 5


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_the_shapes_are_the_reference_models_parameters_in_order(cell):
    from nlpdojo_solutions.language_models.rnn_lm import RNNLM
    from nlpdojo_solutions.rnn_variants.lstm_lm import GatedLM

    backend = load_backend("numpy", "cpu", "float64")
    model = RNNLM(backend, V, D, H) if cell == "rnn" else GatedLM(backend, V, D, H, cell=cell,
                                                                  num_layers=1)
    held = [(name, tuple(np.shape(np.asarray(p.data)))) for name, p in model.named_parameters()]
    assert held == list(lm_shapes(cell, V, D, H).items())


def test_a_cell_it_does_not_know_is_refused():
    with pytest.raises(ValueError, match="cell 'mgu': one of rnn, lstm, gru"):
        lm_shapes("mgu", V, D, H)


@pytest.mark.parametrize("held_out", [False, True])
def test_the_loop_draws_follow_the_shapes(held_out):
    train, test, init = loop_draws(np.random.default_rng(1), "lstm", held_out=held_out)
    assert train.shape == (LOOP["batch_size"] * STREAM,) and train.max() < SIZES["vocab"]
    assert (test is not None and test.shape == (HELD_OUT,)) if held_out else test is None
    assert {k: v.shape for k, v in init.items()} == lm_shapes("lstm", **SIZES)
    assert not init["rnn.cell.bias"].any() and not init["output.bias"].any()
    again = loop_draws(np.random.default_rng(1), "lstm", held_out=held_out)[2]
    assert all(np.array_equal(init[k], again[k]) for k in init)


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_the_torch_forward_is_torchs_recurrent_layer(cell):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    p = {name: torch.tensor(rng.standard_normal(shape))
         for name, shape in lm_shapes(cell, V, D, H).items()}
    ids = torch.as_tensor(rng.integers(0, V, (B, T)))
    h0 = torch.tensor(np.tanh(rng.standard_normal((B, H))))
    c0 = torch.tensor(rng.standard_normal((B, H)))
    layer = (torch.nn.RNN(D, H, batch_first=True) if cell == "rnn" else
             torch.nn.LSTM(D, H, batch_first=True)).double()
    with torch.no_grad():
        layer.weight_ih_l0.copy_(p[f"rnn.cell.weight_{'e' if cell == 'rnn' else 'x'}"].T)
        layer.weight_hh_l0.copy_(p["rnn.cell.weight_h"].T)
        layer.bias_ih_l0.copy_(p["rnn.cell.bias"])
        layer.bias_hh_l0.zero_()
    state = h0[None] if cell == "rnn" else (h0[None], c0[None])
    hs, _ = layer(p["embedding.weight"][ids], state)  # (B, T, H)
    expected = hs @ p["output.weight"] + p["output.bias"]  # (B, T, V)
    ours = torch_lm(cell)(p, ids, h0 if cell == "rnn" else (h0, c0))
    np.testing.assert_allclose(ours.detach().numpy(), expected.detach().numpy(),
                               rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="cell 'gru': one of rnn, lstm"):
        torch_lm("gru")
