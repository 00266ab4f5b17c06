"""Character-level word representations (CS224n lecture 11, §3.9-3.10; Santos and Zadrozny
2014; Kim et al. 2016, "Character-Aware Neural Language Models"; CS224n's character-aware
assignment): a word's vector built from its characters, so that a word never seen in
training still has one and words spelled alike start alike.

    e = Embedding(chars)                        (N, W, C)   the word's W characters, padded
    h = ReLU(Conv1d(e))                         (N, W_out, F)   W_out = W + 2P − K + 1
    c = max over the W_out positions of h       (N, F)      each filter's strongest n-gram
    y = ReLU(c W_proj + b_proj)                 (N, F)
    w = Highway(c, y) = t ⊙ y + (1 − t) ⊙ c,  t = σ(c W_gate + b_gate)      (N, F)

One filter per dimension of the word vector (F = the word's size, as in the assignment). A
word shorter than the others is padded with the pad character, an ordinary row of the
character table; the max runs over every position (as the assignment's model does). Every
piece is the course library's: your ``Embedding``, ``Conv1d``, ``ReLU``, ``MaxOverTime``,
``Linear`` and ``Highway`` (topic ``rnn_variants``).
"""

from __future__ import annotations

from nlpdojo.backend import Array, Backend
from nlpdojo.module import Module

from ..library import Conv1d, Embedding, Highway, Linear, MaxOverTime, ReLU


class CharCNNEmbedding(Module):
    """Word vectors (..., F) from the words' characters (``chars`` (..., W), integer ids of
    the character table, each word padded to W characters): the pipeline of the module's
    docstring, ``word_dim`` filters of width ``kernel_size`` with ``padding`` zero vectors
    on each side.

    ``forward(chars) -> (vectors, cache)``; ``backward(dL/dvectors, cache) -> None`` (the
    character ids have no gradient)."""

    def __init__(self, backend: Backend, num_chars: int, char_dim: int, word_dim: int, *,
                 kernel_size: int = 5, padding: int = 1, seed: int = 0) -> None:
        super().__init__(backend)
        self.embedding = Embedding(backend, num_chars, char_dim, seed=seed, std=0.1)
        self.conv = Conv1d(backend, char_dim, word_dim, kernel_size, padding=padding,
                           seed=seed + 1)
        self.relu, self.pool = ReLU(backend), MaxOverTime(backend)
        self.projection = Linear(backend, word_dim, word_dim, seed=seed + 2)
        self.highway = Highway(backend, word_dim, seed=seed + 3)

    def forward(self, chars: Array) -> tuple[Array, tuple]:
        # chars: (..., W) character ids
        xp = self.xp
        raise NotImplementedError("char_cnn: not implemented yet — replace this line with your code")

    def backward(self, grad_output: Array, cache: tuple) -> None:
        # grad_output: (..., F); returns None; adds into every parameter's gradient
        xp = self.xp
        raise NotImplementedError("char_cnn: not implemented yet — replace this line with your code")
