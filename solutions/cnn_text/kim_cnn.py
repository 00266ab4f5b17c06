"""Kim (2014)'s CNN for sentence classification (CS224n lecture 11): word vectors, filters of
several widths sliding over the sentence, each filter's strongest response anywhere in the
sentence, dropout, and a linear layer over the concatenated features.

    e = Embedding(ids), zero at padded positions           (B, T, D)
    for each width k:  h_k = ReLU(Conv1d_k(e))             (B, T + k − 1, F), "wide": padding k − 1
                       p_k = max over each sentence's L + k − 1 positions   (B, F)
    scores = Linear(dropout([p_3; p_4; p_5]))              (B, C)

The convolutions are "wide" (Kalchbrenner et al. 2014): k − 1 zero vectors on each side, so
every word is seen by every tap of a filter and a sentence shorter than the widest filter still
has windows. Padded positions of a batch are zero vectors, so a sentence of length L gives the
same first L + k − 1 outputs as it would alone; the max runs over those only. Every piece is the
course library's: your ``Embedding``, ``Conv1d``, ``ReLU``, ``MaxOverTime``, ``Dropout`` and
``Linear``.
"""

from __future__ import annotations

from collections.abc import Sequence

from nlpdojo.backend import Array, Backend
from nlpdojo.module import Module

from ..library import Conv1d, Dropout, Embedding, Linear, MaxOverTime, ReLU


class SentenceCNN(Module):
    """Class scores (B, C) of padded sentences (``ids`` (B, T) padded at the end, ``lengths``
    (B,)): ``filters`` filters of each width of ``widths``, wide convolutions, ReLU, max over
    time within each sentence, dropout ``dropout`` on the pooled features, a Linear layer.

    ``forward(ids, lengths) -> (scores, cache)``; ``backward(dL/dscores, cache) -> (None,
    None)`` (token ids and lengths have no gradient)."""

    def __init__(self, backend: Backend, vocab_size: int, embedding_dim: int,
                 num_classes: int, *, widths: Sequence[int] = (3, 4, 5), filters: int = 100,
                 dropout: float = 0.5, seed: int = 0) -> None:
        super().__init__(backend)
        self.widths, self.filters = tuple(widths), filters
        self.embedding = Embedding(backend, vocab_size, embedding_dim, seed=seed, std=0.1)
        self.convs = [Conv1d(backend, embedding_dim, filters, k, padding=k - 1,
                             seed=seed + 1 + j) for j, k in enumerate(self.widths)]
        self.relu, self.pool = ReLU(backend), MaxOverTime(backend)
        self.dropout = Dropout(backend, dropout, seed=seed + 11)
        self.output = Linear(backend, filters * len(self.widths), num_classes, seed=seed + 12)

    def forward(self, ids: Array, lengths: Array) -> tuple[Array, tuple]:
        # ids: (B, T) token ids, padded at the end; lengths: (B,), 1 <= length <= T
        xp = self.xp
        ### BEGIN SOLUTION kim_cnn
        real = xp.arange(ids.shape[1], device=self.backend.device)[None, :] < lengths[:, None]
        vectors, c_emb = self.embedding(ids)  # (B, T, D)
        vectors = vectors * xp.astype(real, vectors.dtype)[:, :, None]  # padding: zeros
        pooled, caches = [], []
        for k, conv in zip(self.widths, self.convs, strict=True):  # the widths, not the data
            h, c_conv = conv(vectors)  # (B, T + k − 1, F)
            a, c_relu = self.relu(h)
            p, c_pool = self.pool(a, lengths + (k - 1))  # (B, F): each sentence's own outputs
            pooled.append(p)
            caches.append((c_conv, c_relu, c_pool))
        features, c_drop = self.dropout(xp.concat(pooled, axis=-1))  # (B, F·n)
        scores, c_out = self.output(features)  # (B, C)
        return scores, (c_emb, real, caches, c_drop, c_out)
        ### END SOLUTION

    def backward(self, grad_output: Array, cache: tuple) -> tuple[None, None]:
        # grad_output: (B, C); returns (None, None); adds into every parameter's gradient
        xp = self.xp
        ### BEGIN SOLUTION kim_cnn
        c_emb, real, caches, c_drop, c_out = cache
        grad_features = self.dropout.backward(self.output.backward(grad_output, c_out), c_drop)
        grad_vectors = None
        for j, (conv, (c_conv, c_relu, c_pool)) in enumerate(zip(self.convs, caches,
                                                                 strict=True)):
            share = grad_features[:, j * self.filters:(j + 1) * self.filters]  # (B, F)
            grad_a, _ = self.pool.backward(share, c_pool)  # (B, T + k − 1, F)
            grad = conv.backward(self.relu.backward(grad_a, c_relu), c_conv)  # (B, T, D)
            grad_vectors = grad if grad_vectors is None else grad_vectors + grad
        self.embedding.backward(grad_vectors * xp.astype(real, grad_vectors.dtype)[:, :, None],
                                c_emb)
        return None, None
        ### END SOLUTION
