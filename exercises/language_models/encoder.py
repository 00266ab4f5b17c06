"""RNNs as sentence encoders, and a sentence classifier on one (CS224n lecture 6, "RNNs can be
used for sentence classification": the sentence encoding is the final hidden state, or, "usually
better", the element-wise max or mean of all hidden states; Kim 2014's MR polarity task).

A batch of sentences of different lengths is padded to the longest: ``ids`` (B, T) with
``lengths`` (B,) the number of real tokens of each row (at least 1). The RNN runs over all T
steps, but pooling looks only at a row's real steps t < length:

    final:  s = h⁽ˡᵉⁿᵍᵗʰ⁻¹⁾                         (the state after the last real token)
    mean:   s = (1/length) Σ_{t<length} h⁽ᵗ⁾
    max:    s_j = max_{t<length} h⁽ᵗ⁾_j              (per hidden unit j)

Each pooling is a weighted sum of the states, s = Σ_t w⁽ᵗ⁾ ⊙ h⁽ᵗ⁾, with weights that are zero on
padding, so its backward is dL/dh⁽ᵗ⁾ = w⁽ᵗ⁾ ⊙ dL/ds (max: w is 1 where the unit's maximum was,
0 elsewhere). The padded steps get no gradient from the pooling, and since no real step depends
on them, backpropagation through time over all T steps is exact.
"""

from __future__ import annotations

from nlpdojo.backend import Array, Backend
from nlpdojo.module import Module

from ..library import Embedding, Linear, RNNCell

POOLINGS = ("final", "max", "mean")


class RNNEncoder(Module):
    """Sentences (B, T) of token ids, with their ``lengths`` (B,), to vectors (B, H):
    the library's :class:`~..library.layers.Embedding`, the :class:`~..library.rnn.RNNCell`
    applied T times from h⁽⁰⁾ = 0, and ``pooling`` over each row's real steps.

    ``forward(ids, lengths) -> (s, cache)``; ``backward(dL/ds, cache) -> (None, None)`` (token
    ids and lengths have no gradient); it adds into the embedding's and the cell's gradients.
    """

    def __init__(self, backend: Backend, vocab_size: int, embedding_dim: int,
                 hidden_size: int, *, pooling: str = "mean", seed: int = 0) -> None:
        super().__init__(backend)
        if pooling not in POOLINGS:
            raise ValueError(f"unknown pooling {pooling!r}; choose one of {POOLINGS}")
        self.pooling, self.hidden_size = pooling, hidden_size
        self.embedding = Embedding(backend, vocab_size, embedding_dim, seed=seed, std=0.1)
        self.cell = RNNCell(backend, embedding_dim, hidden_size, seed=seed + 1)

    def forward(self, ids: Array, lengths: Array) -> tuple[Array, tuple]:
        # ids: (B, T) token ids, padded; lengths: (B,) real tokens per row, 1 <= length <= T
        xp = self.xp
        raise NotImplementedError("sentence_encoder: not implemented yet — replace this line with your code")

    def backward(self, grad_output: Array, cache: tuple) -> tuple[None, None]:
        # grad_output: (B, H) = dL/ds; returns (None, None): ids and lengths have no gradient
        xp = self.xp
        raise NotImplementedError("sentence_encoder: not implemented yet — replace this line with your code")


class SentenceClassifier(Module):
    """Class scores (B, C) of padded sentences: the :class:`RNNEncoder`'s sentence vectors
    through a :class:`~..library.layers.Linear` layer (softmax and the loss come after).

    ``forward(ids, lengths) -> (scores, cache)``;
    ``backward(dL/dscores, cache) -> (None, None)``.
    """

    def __init__(self, backend: Backend, vocab_size: int, embedding_dim: int,
                 hidden_size: int, num_classes: int, *, pooling: str = "mean",
                 seed: int = 0) -> None:
        super().__init__(backend)
        self.encoder = RNNEncoder(backend, vocab_size, embedding_dim, hidden_size,
                                  pooling=pooling, seed=seed)
        self.output = Linear(backend, hidden_size, num_classes, seed=seed + 5)

    def forward(self, ids: Array, lengths: Array) -> tuple[Array, tuple]:
        # ids: (B, T); lengths: (B,)
        raise NotImplementedError("sentence_classifier: not implemented yet — replace this line with your code")

    def backward(self, grad_output: Array, cache: tuple) -> tuple[None, None]:
        # grad_output: (B, C); returns (None, None)
        raise NotImplementedError("sentence_classifier: not implemented yet — replace this line with your code")
