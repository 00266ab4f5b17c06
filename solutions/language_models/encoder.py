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
        ### BEGIN SOLUTION sentence_encoder
        b, t_steps = ids.shape
        vectors, c_emb = self.embedding(ids)  # (B, T, D)
        h = xp.zeros((b, self.hidden_size), dtype=vectors.dtype, device=self.backend.device)
        states, c_cells = [], []
        for t in range(t_steps):  # the loop over time is inherent: h⁽ᵗ⁾ needs h⁽ᵗ⁻¹⁾
            h, c = self.cell(vectors[:, t, :], h)  # (B, H)
            states.append(h)
            c_cells.append(c)
        hs = xp.stack(states, axis=1)  # (B, T, H)
        steps = xp.arange(t_steps, device=self.backend.device)  # (T,)
        real = steps[None, :] < lengths[:, None]  # (B, T) bool: not padding
        if self.pooling == "final":
            last = steps[None, :] == lengths[:, None] - 1  # (B, T)
            weights = xp.astype(last, hs.dtype)[:, :, None]  # (B, T, 1)
        elif self.pooling == "mean":
            weights = (xp.astype(real, hs.dtype)
                       / xp.astype(lengths, hs.dtype)[:, None])[:, :, None]  # (B, T, 1)
        else:  # max: padding can never be the maximum
            masked = xp.where(real[:, :, None], hs, xp.full_like(hs, -2.0))  # tanh > -1
            top = xp.max(masked, axis=1, keepdims=True)  # (B, 1, H)
            weights = xp.astype(masked == top, hs.dtype)  # (B, T, H) 1 at each unit's max
        pooled = xp.sum(weights * hs, axis=1)  # (B, H)
        return pooled, (c_emb, c_cells, weights)
        ### END SOLUTION

    def backward(self, grad_output: Array, cache: tuple) -> tuple[None, None]:
        # grad_output: (B, H) = dL/ds; returns (None, None): ids and lengths have no gradient
        xp = self.xp
        ### BEGIN SOLUTION sentence_encoder
        c_emb, c_cells, weights = cache
        grad_hs = weights * grad_output[:, None, :]  # (B, T, H) the pooling's share
        grad_h = xp.zeros_like(grad_output)  # (B, H) from the step after the last: none
        grad_vectors = [None] * len(c_cells)
        for t in reversed(range(len(c_cells))):
            grad_vectors[t], grad_h = self.cell.backward(grad_hs[:, t, :] + grad_h,
                                                         c_cells[t])  # (B, D), (B, H)
        self.embedding.backward(xp.stack(grad_vectors, axis=1), c_emb)  # (B, T, D)
        return None, None
        ### END SOLUTION


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
        ### BEGIN SOLUTION sentence_classifier
        sentences, c_enc = self.encoder(ids, lengths)  # (B, H)
        scores, c_out = self.output(sentences)  # (B, C)
        return scores, (c_enc, c_out)
        ### END SOLUTION

    def backward(self, grad_output: Array, cache: tuple) -> tuple[None, None]:
        # grad_output: (B, C); returns (None, None)
        ### BEGIN SOLUTION sentence_classifier
        c_enc, c_out = cache
        return self.encoder.backward(self.output.backward(grad_output, c_out), c_enc)
        ### END SOLUTION
