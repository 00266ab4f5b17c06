"""An LSTM (or GRU) language model trained with truncated BPTT and gradient clipping (CS224n
lecture 7; Zaremba, Sutskever and Vinyals 2014, "Recurrent neural network regularization";
Merity et al. 2018 for the same recipe with more regularisation).

    e⁽ᵗ⁾ = dropout(E x⁽ᵗ⁾),   (h⁽ᵗ⁾, c⁽ᵗ⁾) = LSTM(e⁽ᵗ⁾, (h⁽ᵗ⁻¹⁾, c⁽ᵗ⁻¹⁾)),
    ŷ⁽ᵗ⁾ = softmax(dropout(h⁽ᵗ⁾) U + b)

It is the RNN language model of topic ``language_models`` with the tanh cell replaced by a
gated one, and two things that make a gated LM train well (Zaremba et al.): dropout on the
non-recurrent connections only (the embeddings going in and the states going out, never the
state carried from step to step), and the gradient of every window clipped by its global norm
before the optimizer's step. The state carried from window to window is the whole state: for
an LSTM both h and the cell state c.

Every piece is the course library's: your :class:`~..library.layers.Embedding`,
:class:`~..library.layers.Dropout`, :class:`~..library.recurrent.LSTM` (of your ``LSTMCell``)
or :class:`~..library.recurrent.GRU`, :class:`~..library.layers.Linear`,
:class:`~..library.losses.SoftmaxCrossEntropy`, :func:`~..library.clipping.clip_gradients` and
the optimizers; the training windows are cut by the given :func:`stream_windows`, the layout
of your ``bptt_windows`` of ``language_models`` (B streams, windows of T, the targets shifted by
one).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from nlpdojo.backend import Array, Backend
from nlpdojo.module import Module

from ..library import (
    GRU,
    LSTM,
    SGD,
    Adagrad,
    Adam,
    Dropout,
    Embedding,
    Linear,
    Momentum,
    Recurrent,
    RMSProp,
    RNNCell,
    SoftmaxCrossEntropy,
    Stacked,
    clip_gradients,
)


def stream_windows(ids: np.ndarray, batch_size: int, bptt: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """The windows of a token stream (given: the layout of ``language_models``'s
    ``bptt_windows``): B = ``batch_size`` streams of contiguous text, K windows of
    T = ``bptt`` steps, targets the inputs shifted by one; (K, B, T) inputs and targets."""
    ids = np.asarray(ids, dtype=np.int64)
    length = len(ids) // batch_size
    streams = ids[:length * batch_size].reshape(batch_size, length)  # (B, L)
    k = (length - 1) // bptt
    inputs = streams[:, :k * bptt].reshape(batch_size, k, bptt)  # (B, K, T)
    targets = streams[:, 1:k * bptt + 1].reshape(batch_size, k, bptt)  # (B, K, T)
    return inputs.transpose(1, 0, 2), targets.transpose(1, 0, 2)  # (K, B, T) x2


#: the library's optimizers by name
OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adagrad": Adagrad, "rmsprop": RMSProp,
              "adam": Adam}


def tanh_rnn(backend: Backend, input_size: int, hidden_size: int, *, seed: int = 0) -> Recurrent:
    """The tanh RNN of ``language_models`` (your ``RNNCell``) as a ``Recurrent``, state h: the
    baseline the gated cells are compared with, and the one whose gradients explode."""
    return Recurrent(backend, RNNCell(backend, input_size, hidden_size, seed=seed))


#: the recurrent layers the LM may use
CELLS = {"lstm": LSTM, "gru": GRU, "rnn": tanh_rnn}


class GatedLM(Module):
    """Next-token scores (B, T, V) of B streams of T token ids from the state the window starts
    from: embedding → dropout → the library's ``LSTM`` (``cell="lstm"``, state ``(h, c)``),
    ``GRU`` (``cell="gru"``, state h) or tanh RNN (``cell="rnn"``, state h, for comparison) →
    dropout → Linear at every step (one call on all B·T states). ``dropout``: the probability of
    both dropout layers (0: none). ``num_layers`` > 1: the library's ``Stacked`` layers of that
    cell (the same dropout between them, ``connection`` "none", "residual" or "highway" around
    the layers above the first), each carrying its own state: the state is then a list with
    one per layer.

    ``forward(ids, state0) -> (scores, cache)``; ``backward(grad_scores, cache) ->
    (None, dL/dstate0)`` (token ids have no gradient); :meth:`final_state` reads the state
    after the last step from a forward pass's cache, the state the next window starts from.
    """

    def __init__(self, backend: Backend, vocab_size: int, embedding_dim: int,
                 hidden_size: int, *, cell: str = "lstm", dropout: float = 0.0,
                 num_layers: int = 1, connection: str = "none", seed: int = 0) -> None:
        super().__init__(backend)
        if cell not in CELLS:
            raise ValueError(f"unknown cell {cell!r}; choose one of {sorted(CELLS)}")
        self.cell, self.hidden_size, self.num_layers = cell, hidden_size, num_layers
        self.embedding = Embedding(backend, vocab_size, embedding_dim, seed=seed, std=0.1)
        self.dropout_in = Dropout(backend, dropout, seed=seed + 11)
        if num_layers == 1:
            if connection != "none":
                raise ValueError(f"connection {connection!r} goes between stacked layers: "
                                 "give num_layers of 2 or more")
            self.rnn = CELLS[cell](backend, embedding_dim, hidden_size, seed=seed + 1)
        else:  # layers that carry a state each, dropout between them
            self.rnn = Stacked(backend, embedding_dim, hidden_size, num_layers,
                               layer=CELLS[cell], dropout=dropout, connection=connection,
                               seed=seed + 1)
        self.dropout_out = Dropout(backend, dropout, seed=seed + 12)
        self.output = Linear(backend, hidden_size, vocab_size, seed=seed + 3)

    def initial_state(self, batch_size: int) -> Any:
        """The zero state of ``batch_size`` streams: (h, c) for an LSTM, else h; each (B, H);
        for stacked layers a list of one per layer."""
        h = self.xp.zeros((batch_size, self.hidden_size), dtype=self.backend.default_dtype,
                          device=self.backend.device)
        state = (h, self.xp.zeros_like(h)) if self.cell == "lstm" else h
        return [state] * self.num_layers if isinstance(self.rnn, Stacked) else state

    def forward(self, ids: Array, state0: Any) -> tuple[Array, tuple]:
        # ids: (B, T) token ids; state0: (h, c), each (B, H), or h (B, H)
        xp = self.xp
        ### BEGIN SOLUTION lstm_lm
        b, t_steps = ids.shape
        vectors, c_emb = self.embedding(ids)  # (B, T, D)
        vectors, c_in = self.dropout_in(vectors)  # (B, T, D)
        hs, c_rnn = self.rnn(vectors, state0)  # (B, T, H)
        hs, c_drop = self.dropout_out(hs)  # (B, T, H)
        scores, c_out = self.output(xp.reshape(hs, (b * t_steps, self.hidden_size)))  # (B·T, V)
        scores = xp.reshape(scores, (b, t_steps, scores.shape[-1]))  # (B, T, V)
        return scores, (c_emb, c_in, c_rnn, c_drop, c_out)
        ### END SOLUTION

    def backward(self, grad_output: Array, cache: tuple) -> tuple[None, Any]:
        # grad_output: (B, T, V); returns (None, dL/dstate0 in the state's structure)
        xp = self.xp
        ### BEGIN SOLUTION lstm_lm
        c_emb, c_in, c_rnn, c_drop, c_out = cache
        b, t_steps, v = grad_output.shape
        grad_hs = self.output.backward(xp.reshape(grad_output, (b * t_steps, v)), c_out)
        grad_hs = self.dropout_out.backward(
            xp.reshape(grad_hs, (b, t_steps, self.hidden_size)), c_drop)  # (B, T, H)
        grad_vectors, grad_state0 = self.rnn.backward(grad_hs, c_rnn)  # (B, T, D), state
        self.embedding.backward(self.dropout_in.backward(grad_vectors, c_in), c_emb)
        return None, grad_state0
        ### END SOLUTION

    def final_state(self, cache: tuple) -> Any:
        """The state after the last step of the forward pass whose cache this is: (h, c) for an
        LSTM, else h."""
        ### BEGIN SOLUTION lstm_lm
        return self.rnn.final_state(cache[2])
        ### END SOLUTION


def train_gated_lm(backend: Backend, model: GatedLM, ids: np.ndarray, *, batch_size: int = 20,
                   bptt: int = 35, optimizer: str = "sgd", lr: float = 1.0,
                   clip: float | None = 5.0, epochs: int = 1, max_windows: int | None = None,
                   on_step: Callable[[int, float], None] | None = None) -> list[float]:
    """Truncated BPTT over ``ids`` (N,), as ``train_rnn_lm`` of ``language_models``, with the
    gradient clipped: per epoch the state starts at zero, and for each window of
    ``stream_windows`` in order (at most ``max_windows``): zero the gradients, forward from the
    carried state, the mean cross-entropy over all B·T predictions, backward, the gradient of
    every parameter clipped together to global norm ``clip`` (None: not clipped), one optimizer
    step, and the window's final state carried to the next window (for an LSTM, h *and* c).
    Returns the training loss of every step (host floats)."""
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose one of {sorted(OPTIMIZERS)}")
    xp = backend.xp
    inputs, targets = stream_windows(ids, batch_size, bptt)  # (K, B, T) x2
    loss_fn = SoftmaxCrossEntropy(backend)
    opt = OPTIMIZERS[optimizer](model.parameters(), lr=lr)
    losses: list[float] = []
    for _ in range(epochs):
        state = model.initial_state(batch_size)  # zeros: (h, c) or h
        for k in range(len(inputs) if max_windows is None else min(max_windows, len(inputs))):
            x, y = backend.asarray(inputs[k]), backend.asarray(targets[k])  # (B, T) x2
            # one step: sets `loss` (the window's mean cross-entropy, a 0-d array) and `state`
            # (the state the next window starts from)
            ### BEGIN SOLUTION lstm_lm
            opt.zero_grad()
            scores, cache = model(x, state)  # (B, T, V)
            b, t_steps, v = scores.shape
            loss, c_loss = loss_fn(xp.reshape(scores, (b * t_steps, v)),
                                   xp.reshape(y, (b * t_steps,)))
            model.backward(xp.reshape(loss_fn.backward(1.0, c_loss), (b, t_steps, v)), cache)
            if clip is not None:
                clip_gradients(model.parameters(), clip)  # one norm over every parameter
            opt.step()
            state = model.final_state(cache)  # carried: the gradient stops at the border
            ### END SOLUTION
            losses.append(float(loss))
            if on_step is not None:
                on_step(len(losses), losses[-1])
    return losses
