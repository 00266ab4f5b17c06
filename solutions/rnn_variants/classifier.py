"""A bidirectional LSTM sentence classifier (CS224n lecture 7, "Bidirectional RNNs": for
encoding a whole sentence, each word's vector should see its left *and* its right context;
Graves and Schmidhuber 2005). Pooled by the element-wise max over the words, as the BiLSTM-max
encoder of Conneau et al. 2017; trained on MR sentence polarity (Pang and Lee 2005).

A batch of sentences of different lengths is padded at the end: ``ids`` (B, T) with
``lengths`` (B,) real tokens per row. Left to right, padding comes after every real word and
changes none of their states. Right to left it would come *first*: a plain flip of the padded
rows feeds each short sentence its padding before its last word. So the right-to-left LSTM reads
each row reversed within its own length,

    reverse_in_length: position t ↦ length − 1 − t for t < length, t itself on padding,

and its outputs are put back in the sentence's order by the same index (it is its own inverse).
Backward: the gradient of a gather by a permutation is the gather by the inverse permutation,
here the same index.
"""

from __future__ import annotations

from nlpdojo.backend import Array, Backend
from nlpdojo.module import Module

from ..library import LSTM, Embedding, Linear

POOLINGS = ("max", "mean")


def reverse_in_length(xp, lengths: Array, t_steps: int) -> Array:
    """Index (B, T): ``index[b, t] = lengths[b] - 1 - t`` for t < lengths[b], ``t`` on
    padding, so ``take_along_axis(x, index, axis=1)`` reverses each row's real steps and
    leaves its padding where it is (and applied twice gives x back)."""
    ### BEGIN SOLUTION bilstm_classifier
    steps = xp.arange(t_steps, dtype=lengths.dtype, device=lengths.device)[None, :]  # (1, T)
    return xp.where(steps < lengths[:, None], lengths[:, None] - 1 - steps,
                    xp.broadcast_to(steps, (lengths.shape[0], t_steps)))  # (B, T)
    ### END SOLUTION


def _along_time(xp, x: Array, index: Array) -> Array:
    """``x`` (B, T, H) with each row's steps taken in the order of ``index`` (B, T)."""
    return xp.take_along_axis(x, xp.broadcast_to(index[:, :, None], x.shape), axis=1)


class SentenceLSTM(Module):
    """Class scores (B, C) of padded sentences: the library's Embedding, an LSTM left to right
    and (``bidirectional``) another right to left within each sentence's length, their states
    side by side (B, T, 2H), pooled over each row's real steps (``max`` or ``mean``), then a
    Linear layer. ``bidirectional=False`` is the unidirectional baseline (pooled (B, H)).

    ``forward(ids, lengths) -> (scores, cache)``; ``backward(dL/dscores, cache) -> (None,
    None)`` (token ids and lengths have no gradient). Both LSTMs start from zero states.
    """

    def __init__(self, backend: Backend, vocab_size: int, embedding_dim: int,
                 hidden_size: int, num_classes: int, *, bidirectional: bool = True,
                 pooling: str = "max", seed: int = 0) -> None:
        super().__init__(backend)
        if pooling not in POOLINGS:
            raise ValueError(f"unknown pooling {pooling!r}; choose one of {POOLINGS}")
        self.pooling, self.hidden_size, self.bidirectional = pooling, hidden_size, bidirectional
        self.embedding = Embedding(backend, vocab_size, embedding_dim, seed=seed, std=0.1)
        self.left = LSTM(backend, embedding_dim, hidden_size, seed=seed + 1)
        if bidirectional:
            self.right = LSTM(backend, embedding_dim, hidden_size, seed=seed + 3)
        directions = 2 if bidirectional else 1
        self.output = Linear(backend, directions * hidden_size, num_classes, seed=seed + 5)

    def forward(self, ids: Array, lengths: Array) -> tuple[Array, tuple]:
        # ids: (B, T) token ids, padded at the end; lengths: (B,), 1 <= length <= T
        xp = self.xp
        ### BEGIN SOLUTION bilstm_classifier
        b, t_steps = ids.shape
        vectors, c_emb = self.embedding(ids)  # (B, T, D)
        zeros = xp.zeros((b, self.hidden_size), dtype=vectors.dtype, device=self.backend.device)
        hs, c_left = self.left(vectors, (zeros, zeros))  # (B, T, H)
        c_right = index = None
        if self.bidirectional:
            index = reverse_in_length(xp, lengths, t_steps)  # (B, T)
            backwards, c_right = self.right(_along_time(xp, vectors, index), (zeros, zeros))
            hs = xp.concat([hs, _along_time(xp, backwards, index)], axis=-1)  # (B, T, 2H)
        real = xp.arange(t_steps, device=self.backend.device)[None, :] < lengths[:, None]
        if self.pooling == "mean":
            weights = (xp.astype(real, hs.dtype)
                       / xp.astype(lengths, hs.dtype)[:, None])[:, :, None]  # (B, T, 1)
        else:  # max: padding can never be the maximum of states in (-1, 1)
            masked = xp.where(real[:, :, None], hs, xp.full_like(hs, -2.0))
            weights = xp.astype(masked == xp.max(masked, axis=1, keepdims=True),
                                hs.dtype)  # (B, T, 2H) 1 at each unit's maximum
        scores, c_out = self.output(xp.sum(weights * hs, axis=1))  # (B, C)
        return scores, (c_emb, c_left, c_right, index, weights, c_out)
        ### END SOLUTION

    def backward(self, grad_output: Array, cache: tuple) -> tuple[None, None]:
        # grad_output: (B, C); returns (None, None); adds into every parameter's gradient
        xp = self.xp
        H = self.hidden_size
        ### BEGIN SOLUTION bilstm_classifier
        c_emb, c_left, c_right, index, weights, c_out = cache
        grad_hs = weights * self.output.backward(grad_output, c_out)[:, None, :]  # (B, T, ·)
        grad_vectors, _ = self.left.backward(grad_hs[..., :H], c_left)  # (B, T, D)
        if self.bidirectional:
            grad_backwards = _along_time(xp, grad_hs[..., H:], index)  # in reading order
            grad_read, _ = self.right.backward(grad_backwards, c_right)  # (B, T, D)
            grad_vectors = grad_vectors + _along_time(xp, grad_read, index)
        self.embedding.backward(grad_vectors, c_emb)
        return None, None
        ### END SOLUTION
