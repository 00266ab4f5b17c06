"""An RNN language model trained with truncated backpropagation through time (CS224n lecture 6,
"RNN language models" and "Training an RNN language model"; Mikolov et al. 2010; the batching
of Zaremba et al. 2014 and PyTorch's ``word_language_model`` example).

    e⁽ᵗ⁾ = E x⁽ᵗ⁾,   h⁽ᵗ⁾ = tanh(h⁽ᵗ⁻¹⁾ W_h + e⁽ᵗ⁾ W_e + b₁),   ŷ⁽ᵗ⁾ = softmax(h⁽ᵗ⁾ U + b₂)

The loss of a window is the cross-entropy averaged over every step of every stream,
J = (1/BT) Σ_b Σ_t −log ŷ⁽ᵗ⁾[x⁽ᵗ⁺¹⁾], and perplexity is exp(J).

Training over a long corpus (truncated BPTT): the token stream is cut into B parallel streams
(rows of contiguous text), and each row into windows of T steps; the input of a window is
``streams[:, t:t+T]`` and its target the same window shifted by one token. The hidden state at
the end of one window is where the next window starts (the text goes on), but the gradient
stops at the window's border: backward never goes into the previous window, whose caches are
gone (in autograd frameworks this is ``h.detach()``).

Every piece comes from the course library: your :class:`~..library.layers.Embedding`,
:class:`~..library.rnn.RNN` (of your ``RNNCell``), :class:`~..library.layers.Linear`,
:class:`~..library.losses.SoftmaxCrossEntropy` and optimizers.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nlpdojo.backend import Array, Backend
from nlpdojo.module import Module

from ..library import (
    RNN,
    SGD,
    Adagrad,
    Adam,
    Embedding,
    Linear,
    Momentum,
    RMSProp,
    SoftmaxCrossEntropy,
)

#: the library's optimizers by name
OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adagrad": Adagrad, "rmsprop": RMSProp,
              "adam": Adam}


class RNNLM(Module):
    """Next-token scores (B, T, V) of B streams of T token ids, from the hidden state h0 (B, H)
    the window starts from: embedding → the library's :class:`~..library.rnn.RNN` over the T
    steps → Linear at every step (one call on all B·T states).

    ``forward(ids, h0) -> (scores, cache)``; ``backward(grad_scores, cache) -> (None, dL/dh0)``
    (token ids have no gradient); :meth:`final_state` reads h⁽ᵀ⁾ from a forward pass's cache,
    the state the next window starts from. Backward runs the three layers in reverse; the
    RNN's backward does the backpropagation through time.
    """

    def __init__(self, backend: Backend, vocab_size: int, embedding_dim: int,
                 hidden_size: int, *, seed: int = 0) -> None:
        super().__init__(backend)
        self.hidden_size = hidden_size
        self.embedding = Embedding(backend, vocab_size, embedding_dim, seed=seed, std=0.1)
        self.rnn = RNN(backend, embedding_dim, hidden_size, seed=seed + 1)
        self.output = Linear(backend, hidden_size, vocab_size, seed=seed + 3)

    def initial_state(self, batch_size: int) -> Array:
        """h⁽⁰⁾ = 0 for ``batch_size`` streams, (B, H)."""
        return self.xp.zeros((batch_size, self.hidden_size), dtype=self.backend.default_dtype,
                             device=self.backend.device)

    def forward(self, ids: Array, h0: Array) -> tuple[Array, tuple]:
        # ids: (B, T) token ids; h0: (B, H)
        xp = self.xp
        raise NotImplementedError("rnn_lm: not implemented yet — replace this line with your code")

    def backward(self, grad_output: Array, cache: tuple) -> tuple[None, Array]:
        # grad_output: (B, T, V); returns (None, dL/dh0 (B, H))
        xp = self.xp
        raise NotImplementedError("rnn_lm: not implemented yet — replace this line with your code")

    def final_state(self, cache: tuple) -> Array:
        """h⁽ᵀ⁾ (B, H), the last hidden state of the forward pass whose cache this is."""
        raise NotImplementedError("rnn_lm: not implemented yet — replace this line with your code")


def bptt_windows(ids: np.ndarray, batch_size: int, bptt: int) -> tuple[np.ndarray, np.ndarray]:
    """The training windows of a token stream ``ids`` (N,): ``(inputs, targets)``, each
    (K, B, T) int64, vectorized (no Python loop).

    The stream is cut into B = ``batch_size`` rows of L = N // B contiguous tokens (the
    N mod B trailing tokens dropped): row b is ``ids[b·L:(b+1)·L]``. Window k of row b holds
    the inputs ``row[kT:(k+1)T]`` and, as targets, the next token of each: ``row[kT+1:(k+1)T+1]``;
    K = (L − 1) // T whole windows (the rest of each row is dropped; the last token of a row
    is only ever a target).
    """
    ids = np.asarray(ids, dtype=np.int64)
    raise NotImplementedError("rnn_lm: not implemented yet — replace this line with your code")


def train_rnn_lm(backend: Backend, model: RNNLM, ids: np.ndarray, *, batch_size: int = 20,
                 bptt: int = 20, optimizer: str = "sgd", lr: float = 0.7, epochs: int = 1,
                 max_windows: int | None = None,
                 on_step: Callable[[int, float], None] | None = None) -> list[float]:
    """Truncated BPTT over ``ids`` (N,) with the library's ``optimizer``: per epoch, the hidden
    state starts at zero, and for each window of :func:`bptt_windows` in order (at most
    ``max_windows``): zero the gradients, forward from the carried state, the mean
    cross-entropy over all B·T predictions, backward (dL/dh0 is dropped: the gradient stops at
    the window's border), one optimizer step, and the window's final state carried to the
    next window. Returns the training loss of every step (host floats).

    SGD is the default: with Adam this small tanh RNN's recurrent weights grew until its state
    dynamics were chaotic (see the README); gradient clipping, the usual cure,
    comes with the next lecture."""
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose one of {sorted(OPTIMIZERS)}")
    xp = backend.xp
    inputs, targets = bptt_windows(ids, batch_size, bptt)  # (K, B, T) x2
    loss_fn = SoftmaxCrossEntropy(backend)
    opt = OPTIMIZERS[optimizer](model.parameters(), lr=lr)
    losses: list[float] = []
    for _ in range(epochs):
        h = model.initial_state(batch_size)  # (B, H)
        for k in range(len(inputs) if max_windows is None else min(max_windows, len(inputs))):
            x, y = backend.asarray(inputs[k]), backend.asarray(targets[k])  # (B, T) x2
            # one step of truncated BPTT: sets `loss` (this window's mean cross-entropy, a 0-d
            # array) and `h` (the state the next window starts from)
            raise NotImplementedError("rnn_lm: not implemented yet — replace this line with your code")
            losses.append(float(loss))
            if on_step is not None:
                on_step(len(losses), losses[-1])
    return losses
