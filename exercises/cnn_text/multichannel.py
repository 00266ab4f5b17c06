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
        raise NotImplementedError("multichannel_cnn: not implemented yet — replace this line with your code")

    def backward(self, grad_output: Array, cache: tuple) -> tuple[None, None]:
        # grad_output: (B, C); returns (None, None); adds into every parameter's gradient
        xp = self.xp
        raise NotImplementedError("multichannel_cnn: not implemented yet — replace this line with your code")
