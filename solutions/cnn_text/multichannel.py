"""Kim (2014)'s multichannel CNN (CS224n lecture 11, §2.4): two channels of word vectors, both
starting from the same pre-trained vectors; one is *static* (never trained), the other
*non-static* (fine-tuned by backpropagation). "Each filter is applied to both channels and the
results are added" (Kim 2014, §2), so a word the training set moves keeps its pre-trained
meaning in the static channel.

    s = static[ids], zero at padded positions             (B, T, D)   the frozen channel
    e = Embedding(ids), zero at padded positions          (B, T, D)   the fine-tuned channel
    for each width k:  h_k = ReLU(W_k ∗ s + W_k ∗ e + b_k) = ReLU(Conv1d_k(s + e))
                                                          (B, T + k − 1, F), wide
                       p_k = max over each sentence's L + k − 1 positions     (B, F)
    scores = Linear(dropout([p_3; p_4; p_5]))                                 (B, C)

A convolution is linear in its input, so one filter over both channels is one convolution of
their sum, with its bias added once: (W ∗ s + b) + (W ∗ e + b) counts the bias twice. The static
table is a plain array, not a ``Parameter``: no gradient reaches it and an optimizer stepping
``model.parameters()`` never sees it. The rest is :class:`~.kim_cnn.SentenceCNN`'s (wide
convolutions, the max within each sentence, dropout, the output layer), on your ``Embedding``,
``Conv1d``, ``ReLU``, ``MaxOverTime``, ``Dropout`` and ``Linear``.
"""

from __future__ import annotations

from collections.abc import Sequence

from nlpdojo.backend import Array, Backend
from nlpdojo.module import Module

from ..library import Conv1d, Dropout, Embedding, Linear, MaxOverTime, ReLU


class MultichannelCNN(Module):
    """Class scores (B, C) of padded sentences (``ids`` (B, T) padded at the end, ``lengths``
    (B,)) over two channels of the ``pretrained`` (V, D) vectors: ``static`` (a copy, never
    trained) and ``embedding`` (an Embedding that starts from them and is trained);
    ``filters`` filters of each width of ``widths``, each applied to both channels, then ReLU,
    max over time within each sentence, dropout ``dropout``, a Linear layer.

    ``forward(ids, lengths) -> (scores, cache)``; ``backward(dL/dscores, cache) -> (None,
    None)``: the embedding's gradient, never the static table's."""

    def __init__(self, backend: Backend, pretrained: Array, num_classes: int, *,
                 widths: Sequence[int] = (3, 4, 5), filters: int = 100, dropout: float = 0.5,
                 seed: int = 0) -> None:
        super().__init__(backend)
        vectors = backend.asarray(pretrained)  # (V, D), on this backend's device
        vocab_size, dim = vectors.shape
        self.widths, self.filters = tuple(widths), filters
        # the static channel: a copy (training the other channel in place must not reach it),
        # and a plain array, so no optimizer ever steps it
        self.static = self.xp.asarray(vectors, copy=True)  # (V, D)
        self.embedding = Embedding(backend, vocab_size, dim, seed=seed)
        self.embedding.weight.data = self.xp.asarray(vectors, copy=True)  # fine-tuned
        self.convs = [Conv1d(backend, dim, filters, k, padding=k - 1, seed=seed + 1 + j)
                      for j, k in enumerate(self.widths)]
        self.relu, self.pool = ReLU(backend), MaxOverTime(backend)
        self.dropout = Dropout(backend, dropout, seed=seed + 11)
        self.output = Linear(backend, filters * len(self.widths), num_classes, seed=seed + 12)

    def forward(self, ids: Array, lengths: Array) -> tuple[Array, tuple]:
        # ids: (B, T) token ids, padded at the end; lengths: (B,), 1 <= length <= T
        xp = self.xp
        ### BEGIN SOLUTION multichannel_cnn
        real = xp.arange(ids.shape[1], device=self.backend.device)[None, :] < lengths[:, None]
        tuned, c_emb = self.embedding(ids)  # (B, T, D)
        frozen = xp.reshape(xp.take(self.static, xp.reshape(ids, (-1,)), axis=0),
                            tuned.shape)  # (B, T, D)
        # one filter over both channels: a convolution of their sum, its bias once
        vectors = (frozen + tuned) * xp.astype(real, tuned.dtype)[:, :, None]  # padding: zeros
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
        ### BEGIN SOLUTION multichannel_cnn
        c_emb, real, caches, c_drop, c_out = cache
        grad_features = self.dropout.backward(self.output.backward(grad_output, c_out), c_drop)
        grad_vectors = None
        for j, (conv, (c_conv, c_relu, c_pool)) in enumerate(zip(self.convs, caches,
                                                                 strict=True)):
            share = grad_features[:, j * self.filters:(j + 1) * self.filters]  # (B, F)
            grad_a, _ = self.pool.backward(share, c_pool)  # (B, T + k − 1, F)
            grad = conv.backward(self.relu.backward(grad_a, c_relu), c_conv)  # (B, T, D)
            grad_vectors = grad if grad_vectors is None else grad_vectors + grad
        # the sum's gradient reaches both channels; only the non-static one is trained
        self.embedding.backward(grad_vectors * xp.astype(real, grad_vectors.dtype)[:, :, None],
                                c_emb)
        return None, None
        ### END SOLUTION
