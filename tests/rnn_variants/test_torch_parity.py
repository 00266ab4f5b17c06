"""Parity of topic ``rnn_variants``' reference with PyTorch, float64, on every device (CUDA
skipped cleanly where there is none): the course library's LSTM and GRU cells against
``torch.nn.LSTMCell`` and ``torch.nn.GRUCell`` with torch's own initial weights copied in
(output state, and the gradient of the input, of each state array and of every parameter),
the LSTM's initial forget-gate bias, and ``clip_grad_norm`` against
``torch.nn.utils.clip_grad_norm_`` above, below and at zero norm."""

from __future__ import annotations

import numpy as np
import pytest

from nlpdojo.module import Module, Parameter
from nlpdojo_solutions.library import clipping, gated

torch = pytest.importorskip("torch")

B, D, H = 4, 3, 5



def _np(backend, x) -> np.ndarray:
    return np.asarray(backend.to_numpy(x), dtype=np.float64)


def _close(actual, expected) -> None:
    if hasattr(expected, "detach"):
        expected = expected.detach().cpu().numpy()
    np.testing.assert_allclose(actual, expected, rtol=1e-10, atol=1e-12)


def _copy(backend, cell: Module, ref, names: dict[str, str]) -> None:
    """Each of the cell's parameters from torch's (transposed where it is a matrix)."""
    for ours, theirs in names.items():
        value = getattr(ref, theirs).detach().numpy()
        getattr(cell, ours).data = backend.asarray(value.T if value.ndim == 2 else value)


def test_lstm_cell_matches_torch_lstm_cell(backend):
    rng = np.random.default_rng(0)
    ref = torch.nn.LSTMCell(D, H).double()
    with torch.no_grad():
        ref.bias_ih += ref.bias_hh  # one bias in the library: torch's two added
        ref.bias_hh.zero_()
    cell = gated.LSTMCell(backend, D, H)
    _copy(backend, cell, ref, {"weight_x": "weight_ih", "weight_h": "weight_hh",
                               "bias": "bias_ih"})
    x, h0, c0 = rng.standard_normal((B, D)), np.tanh(rng.standard_normal((B, H))), \
        rng.standard_normal((B, H))
    gh, gc = rng.standard_normal((B, H)), rng.standard_normal((B, H))
    (h, c), cache = cell(backend.asarray(x), (backend.asarray(h0), backend.asarray(c0)))
    grad_x, (grad_h0, grad_c0) = cell.backward((backend.asarray(gh), backend.asarray(gc)), cache)
    tx, th, tc = (torch.tensor(a, requires_grad=True) for a in (x, h0, c0))
    th1, tc1 = ref(tx, (th, tc))
    ((th1 * torch.as_tensor(gh)).sum() + (tc1 * torch.as_tensor(gc)).sum()).backward()
    _close(_np(backend, h), th1)
    _close(_np(backend, c), tc1)
    for ours, theirs in ((grad_x, tx.grad), (grad_h0, th.grad), (grad_c0, tc.grad),
                         (cell.weight_x.grad, ref.weight_ih.grad.T),
                         (cell.weight_h.grad, ref.weight_hh.grad.T),
                         (cell.bias.grad, ref.bias_ih.grad)):
        _close(_np(backend, ours), theirs)


def test_gru_cell_matches_torch_gru_cell(backend):
    rng = np.random.default_rng(1)
    ref = torch.nn.GRUCell(D, H).double()
    cell = gated.GRUCell(backend, D, H)
    _copy(backend, cell, ref, {"weight_x": "weight_ih", "weight_h": "weight_hh",
                               "bias_x": "bias_ih", "bias_h": "bias_hh"})
    x, h0, g = rng.standard_normal((B, D)), np.tanh(rng.standard_normal((B, H))), \
        rng.standard_normal((B, H))
    h, cache = cell(backend.asarray(x), backend.asarray(h0))
    grad_x, grad_h0 = cell.backward(backend.asarray(g), cache)
    tx, th = (torch.tensor(a, requires_grad=True) for a in (x, h0))
    out = ref(tx, th)
    (out * torch.as_tensor(g)).sum().backward()
    _close(_np(backend, h), out)
    for ours, theirs in ((grad_x, tx.grad), (grad_h0, th.grad),
                         (cell.weight_x.grad, ref.weight_ih.grad.T),
                         (cell.weight_h.grad, ref.weight_hh.grad.T),
                         (cell.bias_x.grad, ref.bias_ih.grad),
                         (cell.bias_h.grad, ref.bias_hh.grad)):
        _close(_np(backend, ours), theirs)


def test_a_new_lstm_starts_with_a_forget_gate_bias_of_one(backend):
    bias = _np(backend, gated.LSTMCell(backend, D, H).bias.data)
    np.testing.assert_array_equal(bias, np.r_[np.zeros(H), np.ones(H), np.zeros(2 * H)])


@pytest.mark.parametrize(("scale", "max_norm"), [(2.0, 1.0), (0.05, 5.0), (0.0, 1.0)],
                         ids=["above", "below", "zeros"])
def test_clip_grad_norm_matches_torch_clip_grad_norm_(backend, scale, max_norm):
    rng = np.random.default_rng(2)
    grads = [scale * rng.standard_normal(s) for s in ((4, 3), (3,), (2, 5))]
    clipped, norm = clipping.clip_grad_norm([backend.asarray(g) for g in grads], max_norm)
    params = [torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.float64)) for g in grads]
    for p, g in zip(params, grads, strict=True):
        p.grad = torch.tensor(g)
    expected = torch.nn.utils.clip_grad_norm_(params, max_norm)
    _close(float(_np(backend, norm)), expected)
    for ours, p in zip(clipped, params, strict=True):
        _close(_np(backend, ours), p.grad)


def test_clip_gradients_clips_a_models_gradients_in_place_and_refuses_none(backend):
    class Two(Module):
        def __init__(self):
            super().__init__(backend)
            self.a = Parameter(backend.asarray(np.zeros((2, 2))), "a")
            self.b = Parameter(backend.asarray(np.zeros(2)), "b")

    model = Two()
    with pytest.raises(ValueError, match="no parameter has a gradient; call backward first"):
        clipping.clip_gradients([], 1.0)
    model.a.grad = backend.asarray(np.full((2, 2), 3.0))
    model.b.grad = backend.asarray(np.full(2, 4.0))
    norm = clipping.clip_gradients(model.parameters(), 1.0)
    assert float(_np(backend, norm)) == pytest.approx(np.sqrt(4 * 9 + 2 * 16))
    total = np.sqrt(sum(float(np.sum(_np(backend, p.grad) ** 2)) for p in model.parameters()))
    assert total == pytest.approx(1.0, rel=1e-5)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_a_recurrent_layer_matches_torch_over_a_sequence(backend, kind):
    """``LSTM``/``GRU`` (``Recurrent`` over a gated cell) against ``torch.nn.LSTM``/``GRU``,
    one layer, batch first: every output, the final state, dL/dxs, dL/d(state0) and every
    parameter's gradient summed over the steps."""
    from nlpdojo_solutions.library import recurrent

    rng = np.random.default_rng(3)
    t_steps = 6
    if kind == "lstm":
        ref = torch.nn.LSTM(D, H, batch_first=True).double()
        with torch.no_grad():
            ref.bias_ih_l0 += ref.bias_hh_l0
            ref.bias_hh_l0.zero_()
        layer = recurrent.LSTM(backend, D, H)
        names = {"weight_x": "weight_ih_l0", "weight_h": "weight_hh_l0", "bias": "bias_ih_l0"}
    else:
        ref = torch.nn.GRU(D, H, batch_first=True).double()
        layer = recurrent.GRU(backend, D, H)
        names = {"weight_x": "weight_ih_l0", "weight_h": "weight_hh_l0",
                 "bias_x": "bias_ih_l0", "bias_h": "bias_hh_l0"}
    _copy(backend, layer.cell, ref, names)
    xs, g = rng.standard_normal((B, t_steps, D)), rng.standard_normal((B, t_steps, H))
    state = ((np.tanh(rng.standard_normal((B, H))), rng.standard_normal((B, H)))
             if kind == "lstm" else np.tanh(rng.standard_normal((B, H))))
    sent = (tuple(backend.asarray(s) for s in state) if kind == "lstm"
            else backend.asarray(state))
    out, cache = layer(backend.asarray(xs), sent)
    grad_xs, grad_state = layer.backward(backend.asarray(g), cache)
    txs = torch.tensor(xs, requires_grad=True)
    tstate = tuple(torch.tensor(s[None], requires_grad=True) for s in
                   (state if kind == "lstm" else (state,)))
    tout, tfinal = ref(txs, tstate if kind == "lstm" else tstate[0])
    (tout * torch.as_tensor(g)).sum().backward()
    _close(_np(backend, out), tout)
    final = layer.final_state(cache)
    for ours, theirs in zip(final if kind == "lstm" else (final,),
                            tfinal if kind == "lstm" else (tfinal,), strict=True):
        _close(_np(backend, ours), theirs[0])
    _close(_np(backend, grad_xs), txs.grad)
    for ours, theirs in zip(grad_state if kind == "lstm" else (grad_state,), tstate,
                            strict=True):
        _close(_np(backend, ours), theirs.grad[0])
    for ours, theirs in names.items():
        grad = getattr(ref, theirs).grad
        _close(_np(backend, getattr(layer.cell, ours).grad), grad.T if grad.ndim == 2 else grad)


def test_two_bidirectional_lstm_layers_match_torch(backend):
    """Two ``Bidirectional`` LSTM layers, the second reading the first's (B, T, 2H), against
    ``torch.nn.LSTM(num_layers=2, bidirectional=True)`` with its weights copied per layer and
    direction: outputs, dL/dxs and every parameter's gradient."""
    from nlpdojo_solutions.library import deep_rnn, recurrent

    rng = np.random.default_rng(4)
    t_steps = 5
    ref = torch.nn.LSTM(D, H, num_layers=2, bidirectional=True, batch_first=True).double()
    layers = [deep_rnn.Bidirectional(backend, D, H, layer=recurrent.LSTM),
              deep_rnn.Bidirectional(backend, 2 * H, H, layer=recurrent.LSTM)]
    with torch.no_grad():
        for name, p in ref.named_parameters():
            if name.startswith("bias_ih"):
                p += getattr(ref, name.replace("bias_ih", "bias_hh"))
            elif name.startswith("bias_hh"):
                p.zero_()
    for k, layer in enumerate(layers):
        for suffix, rnn in (("", layer.forward_rnn), ("_reverse", layer.backward_rnn)):
            _copy(backend, rnn.cell, ref, {"weight_x": f"weight_ih_l{k}{suffix}",
                                           "weight_h": f"weight_hh_l{k}{suffix}",
                                           "bias": f"bias_ih_l{k}{suffix}"})
    xs, g = rng.standard_normal((B, t_steps, D)), rng.standard_normal((B, t_steps, 2 * H))
    zeros = (backend.asarray(np.zeros((B, H))), backend.asarray(np.zeros((B, H))))
    hidden, cache0 = layers[0](backend.asarray(xs), zeros)
    out, cache1 = layers[1](hidden, zeros)
    grad_hidden, _ = layers[1].backward(backend.asarray(g), cache1)
    grad_xs, _ = layers[0].backward(grad_hidden, cache0)
    txs = torch.tensor(xs, requires_grad=True)
    tout, _ = ref(txs)
    (tout * torch.as_tensor(g)).sum().backward()
    _close(_np(backend, out), tout)
    _close(_np(backend, grad_xs), txs.grad)
    for k, layer in enumerate(layers):
        for suffix, rnn in (("", layer.forward_rnn), ("_reverse", layer.backward_rnn)):
            _close(_np(backend, rnn.cell.weight_x.grad),
                   getattr(ref, f"weight_ih_l{k}{suffix}").grad.T)
            _close(_np(backend, rnn.cell.weight_h.grad),
                   getattr(ref, f"weight_hh_l{k}{suffix}").grad.T)
            _close(_np(backend, rnn.cell.bias.grad), getattr(ref, f"bias_ih_l{k}{suffix}").grad)


def test_a_stacked_gru_matches_torch_and_drops_out_between_layers_only(backend):
    """``Stacked`` GRU layers against ``torch.nn.GRU(num_layers=3)``: equal without dropout
    (outputs, dL/dxs, every gradient); with dropout in eval mode equal too, and in training
    the top layer's outputs are not masked (dropout is between the layers only)."""
    from nlpdojo_solutions.library import deep_rnn

    rng = np.random.default_rng(5)
    t_steps = 4
    ref = torch.nn.GRU(D, H, num_layers=3, batch_first=True).double()
    stack = deep_rnn.Stacked(backend, D, H, 3)
    for k, layer in enumerate(stack.layers):
        _copy(backend, layer.cell, ref, {"weight_x": f"weight_ih_l{k}",
                                         "weight_h": f"weight_hh_l{k}",
                                         "bias_x": f"bias_ih_l{k}", "bias_h": f"bias_hh_l{k}"})
    xs, g = rng.standard_normal((B, t_steps, D)), rng.standard_normal((B, t_steps, H))
    h0 = np.tanh(rng.standard_normal((B, H)))
    out, cache = stack(backend.asarray(xs), backend.asarray(h0))
    grad_xs, grad_h0 = stack.backward(backend.asarray(g), cache)
    txs, th0 = torch.tensor(xs, requires_grad=True), torch.tensor(np.stack([h0] * 3),
                                                                  requires_grad=True)
    tout, _ = ref(txs, th0)
    (tout * torch.as_tensor(g)).sum().backward()
    _close(_np(backend, out), tout)
    _close(_np(backend, grad_xs), txs.grad)
    _close(_np(backend, grad_h0), th0.grad.sum(0))  # every layer starts from the same state0
    for k, layer in enumerate(stack.layers):
        _close(_np(backend, layer.cell.weight_h.grad), getattr(ref, f"weight_hh_l{k}").grad.T)
    dropped = deep_rnn.Stacked(backend, D, H, 3, dropout=0.5)
    dropped.load_state_dict(stack.state_dict())
    dropped.eval()
    _close(_np(backend, dropped(backend.asarray(xs), backend.asarray(h0))[0]), tout)
    dropped.train()
    _, train_cache = dropped(backend.asarray(xs), backend.asarray(h0))
    assert [c[2] is not None for c in train_cache[0]] == [True, True, False]


@pytest.mark.parametrize("connection", ["residual", "highway"])
def test_a_stacked_gru_with_connections_matches_the_same_stack_in_torch(backend, connection):
    """``Stacked(connection=...)`` against three ``torch.nn.GRU`` layers with the connection
    written in torch around the upper two (u + y; t ⊙ y + (1 − t) ⊙ u with t = σ(u W + b)):
    outputs, dL/dxs, dL/dh0 and the connections' gradients."""
    from nlpdojo_solutions.library import deep_rnn

    rng = np.random.default_rng(6)
    t_steps = 4
    stack = deep_rnn.Stacked(backend, D, H, 3, connection=connection)
    refs = [torch.nn.GRU(D if k == 0 else H, H, batch_first=True).double() for k in range(3)]
    for layer, ref in zip(stack.layers, refs, strict=True):
        _copy(backend, layer.cell, ref, {"weight_x": "weight_ih_l0", "weight_h": "weight_hh_l0",
                                         "bias_x": "bias_ih_l0", "bias_h": "bias_hh_l0"})
    gates = {}
    for k, conn in enumerate(stack.connections):
        if isinstance(conn, deep_rnn.Highway):
            conn.weight.data = backend.asarray(rng.standard_normal((H, H)))
            gates[k] = {n: torch.tensor(_np(backend, getattr(conn, n).data), requires_grad=True)
                        for n in ("weight", "bias")}
    xs, g = rng.standard_normal((B, t_steps, D)), rng.standard_normal((B, t_steps, H))
    h0 = np.tanh(rng.standard_normal((B, H)))
    out, cache = stack(backend.asarray(xs), backend.asarray(h0))
    grad_xs, grad_h0 = stack.backward(backend.asarray(g), cache)
    txs, th0 = torch.tensor(xs, requires_grad=True), torch.tensor(h0[None], requires_grad=True)
    tout = txs
    for k, ref in enumerate(refs):
        u, (y, _) = tout, ref(tout, th0)
        if k == 0:
            tout = y
        elif connection == "residual":
            tout = u + y
        else:
            t = torch.sigmoid(u @ gates[k]["weight"] + gates[k]["bias"])
            tout = t * y + (1 - t) * u
    (tout * torch.as_tensor(g)).sum().backward()
    _close(_np(backend, out), tout)
    _close(_np(backend, grad_xs), txs.grad)
    _close(_np(backend, grad_h0), th0.grad[0])
    for k, tensors in gates.items():
        for name, tensor in tensors.items():
            _close(_np(backend, getattr(stack.connections[k], name).grad), tensor.grad)


def test_a_stacked_lstm_with_a_state_per_layer_matches_torch(backend):
    """``Stacked`` LSTM layers given one state per layer (a list, torch's ``h0[k]``, ``c0[k]``)
    against ``torch.nn.LSTM(num_layers=2)``: outputs, dL/dxs, dL/dh0 and dL/dc0 of each layer
    (a list again), and ``final_state`` against torch's ``(h_n[k], c_n[k])``: what a stacked
    language model carries from one window to the next."""
    from nlpdojo_solutions.library import deep_rnn, recurrent

    rng = np.random.default_rng(6)
    t_steps, layers = 4, 2
    ref = torch.nn.LSTM(D, H, num_layers=layers, batch_first=True).double()
    with torch.no_grad():
        for k in range(layers):
            getattr(ref, f"bias_ih_l{k}").add_(getattr(ref, f"bias_hh_l{k}"))
            getattr(ref, f"bias_hh_l{k}").zero_()
    stack = deep_rnn.Stacked(backend, D, H, layers, layer=recurrent.LSTM)
    for k, layer in enumerate(stack.layers):
        _copy(backend, layer.cell, ref, {"weight_x": f"weight_ih_l{k}",
                                         "weight_h": f"weight_hh_l{k}", "bias": f"bias_ih_l{k}"})
    xs, g = rng.standard_normal((B, t_steps, D)), rng.standard_normal((B, t_steps, H))
    h0, c0 = np.tanh(rng.standard_normal((layers, B, H))), rng.standard_normal((layers, B, H))
    state0 = [(backend.asarray(h0[k]), backend.asarray(c0[k])) for k in range(layers)]
    out, cache = stack(backend.asarray(xs), state0)
    grad_xs, grad_state0 = stack.backward(backend.asarray(g), cache)
    txs, th0, tc0 = (torch.tensor(a, requires_grad=True) for a in (xs, h0, c0))
    tout, (h_n, c_n) = ref(txs, (th0, tc0))
    (tout * torch.as_tensor(g)).sum().backward()
    _close(_np(backend, out), tout)
    _close(_np(backend, grad_xs), txs.grad)
    assert isinstance(grad_state0, list) and len(grad_state0) == layers
    for k, ((grad_h, grad_c), (h, c)) in enumerate(zip(grad_state0, stack.final_state(cache),
                                                       strict=True)):
        _close(_np(backend, grad_h), th0.grad[k])
        _close(_np(backend, grad_c), tc0.grad[k])
        _close(_np(backend, h), h_n[k])
        _close(_np(backend, c), c_n[k])
    with pytest.raises(ValueError, match="one per layer"):
        stack(backend.asarray(xs), state0[:1])


@pytest.mark.parametrize("shared", [False, True], ids=["a-state-per-layer", "one-state"])
def test_a_densely_connected_gru_stack_matches_the_same_stack_in_torch(backend, shared):
    """``DenselyConnected`` against three ``torch.nn.GRU`` layers, layer k reading
    ``torch.cat([xs, y_0, ..., y_{k−1}], -1)`` (Huang et al. 2017's dense connectivity):
    outputs (the top layer's), dL/dxs, dL/dh0 (one per layer, or their sum for one shared
    state), every layer's input weights' gradient and ``final_state``."""
    from nlpdojo_solutions.library import deep_rnn

    rng = np.random.default_rng(7)
    t_steps, layers = 4, 3
    stack = deep_rnn.DenselyConnected(backend, D, H, layers)
    refs = [torch.nn.GRU(D + k * H, H, batch_first=True).double() for k in range(layers)]
    for layer, ref in zip(stack.layers, refs, strict=True):
        _copy(backend, layer.cell, ref, {"weight_x": "weight_ih_l0", "weight_h": "weight_hh_l0",
                                         "bias_x": "bias_ih_l0", "bias_h": "bias_hh_l0"})
    xs, g = rng.standard_normal((B, t_steps, D)), rng.standard_normal((B, t_steps, H))
    h0 = np.tanh(rng.standard_normal((layers, B, H)))
    state0 = backend.asarray(h0[0]) if shared else [backend.asarray(h) for h in h0]
    out, cache = stack(backend.asarray(xs), state0)
    grad_xs, grad_state0 = stack.backward(backend.asarray(g), cache)
    txs = torch.tensor(xs, requires_grad=True)
    th0 = torch.tensor(h0[:1] if shared else h0, requires_grad=True)  # (1 or L, B, H)
    features, finals = [txs], []
    for k, ref in enumerate(refs):
        y, h_n = ref(torch.cat(features, -1), th0[0 if shared else k][None])
        features.append(y)
        finals.append(h_n[0])
    (features[-1] * torch.as_tensor(g)).sum().backward()
    _close(_np(backend, out), features[-1])
    _close(_np(backend, grad_xs), txs.grad)
    if shared:
        _close(_np(backend, grad_state0), th0.grad[0])
    else:
        assert isinstance(grad_state0, list) and len(grad_state0) == layers
        for k, grad_h in enumerate(grad_state0):
            _close(_np(backend, grad_h), th0.grad[k])
    for layer, ref in zip(stack.layers, refs, strict=True):
        _close(_np(backend, layer.cell.weight_x.grad), ref.weight_ih_l0.grad.T)
    for final, expected in zip(stack.final_state(cache), finals, strict=True):
        _close(_np(backend, final), expected)
    with pytest.raises(ValueError, match="one per layer"):
        stack(backend.asarray(xs), [backend.asarray(h0[0])])
    with pytest.raises(ValueError, match="at least one layer"):
        deep_rnn.DenselyConnected(backend, D, H, 0)
