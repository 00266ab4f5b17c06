"""Given code: part-of-speech tagging with character-aware word vectors (CS224n lecture 11,
§3.9-3.10; Santos and Zadrozny 2014, CharWNN: a word's vector and a CNN over its characters
side by side, in Collobert et al. (2011)'s window tagger).

:class:`CharWindowTagger` is ``neural_networks``' window classifier whose every word is its
word vector *and* your :class:`~.char_cnn.CharCNNEmbedding` of its characters, concatenated:
a word seen fewer than twice in training is ``<unk>`` to the word vector and keeps its
spelling in the characters. The grader prepares the windows (each word's id, then its
characters: ``{`` + the word + ``}``, cut at 20, padded), trains the tagger with
:func:`train_char_tagger` from its own initial parameters under a small fixed budget, and tags
held-out words it never sends with :func:`char_window_scores`, measuring the accuracy on
every word and on the words the word vectors do not know. Nothing here is a question:
``bench/char_tagger_results.py`` runs the same model against its word-level twin at full
size.
"""

from __future__ import annotations

import numpy as np

from nlpdojo import training
from nlpdojo.backend import Array, Backend
from nlpdojo.module import Module

from ..library import Adam, Dropout, Embedding, Linear, SoftmaxCrossEntropy, Tanh
from .char_cnn import CharCNNEmbedding

#: windows (and spellings) scored at a time
SCORING_BATCH = 4096
#: the model's sizes among the settings (the rest: the training's)
CHAR_TAGGER_SIZES = ("vocab_size", "n_chars", "n_tags", "window", "dim", "char_dim",
                     "char_filters", "hidden", "kernel", "padding", "dropout")


class CharWindowTagger(Module):
    """Tag scores (N, C) of N windows whose words come as their id and their characters,
    ``windows`` (N, W, 1 + L): column 0 the word id, the rest the character ids. Each word's
    vector is its embedding (D) beside its ``CharCNNEmbedding`` (F); the window's vectors
    concatenated, a tanh layer, dropout, the tag scores (the window classifier's)."""

    def __init__(self, backend: Backend, vocab_size: int, n_chars: int, n_tags: int, *,
                 window: int = 5, dim: int = 50, char_dim: int = 16, char_filters: int = 50,
                 hidden: int = 100, kernel: int = 3, padding: int = 1, dropout: float = 0.0,
                 seed: int = 0) -> None:
        super().__init__(backend)
        self.embedding = Embedding(backend, vocab_size, dim, seed=seed, std=0.1)
        self.chars = CharCNNEmbedding(backend, n_chars, char_dim, char_filters,
                                      kernel_size=kernel, padding=padding, seed=seed + 5)
        self.hidden = Linear(backend, window * (dim + char_filters), hidden, seed=seed + 1)
        self.activation = Tanh(backend)
        self.dropout = Dropout(backend, dropout, seed=seed + 3)
        self.output = Linear(backend, hidden, n_tags, seed=seed + 2)

    def forward(self, windows: Array) -> tuple[Array, tuple]:
        # windows: (N, W, 1 + L) word id, then character ids
        spelled, c_chars = self.chars(windows[:, :, 1:])  # (N, W, F)
        scores, cache = self.forward_spelled(windows[:, :, 0], spelled)  # (N, C)
        return scores, (c_chars, cache)

    def forward_spelled(self, ids: Array, spelled: Array) -> tuple[Array, tuple]:
        """The tag scores (N, C) of windows of word ``ids`` (N, W) whose words' character
        vectors are ``spelled`` (N, W, F) already: the rest of :meth:`forward`."""
        xp = self.xp
        words, c_emb = self.embedding(ids)  # (N, W, D)
        vectors = xp.concat([words, spelled], axis=-1)  # (N, W, D + F)
        x = xp.reshape(vectors, (vectors.shape[0], -1))  # (N, W·(D + F))
        z, c_hidden = self.hidden(x)
        a, c_act = self.activation(z)
        kept, c_drop = self.dropout(a)
        scores, c_out = self.output(kept)  # (N, C)
        return scores, (c_emb, c_hidden, c_act, c_drop, c_out, tuple(vectors.shape))

    def backward(self, grad_output: Array, cache: tuple) -> None:
        # grad_output: (N, C); the ids have no gradient
        xp = self.xp
        c_chars, (c_emb, c_hidden, c_act, c_drop, c_out, shape) = cache
        grad_kept = self.output.backward(grad_output, c_out)
        grad_z = self.activation.backward(self.dropout.backward(grad_kept, c_drop), c_act)
        grad_vectors = xp.reshape(self.hidden.backward(grad_z, c_hidden), shape)  # (N, W, D+F)
        d = self.embedding.weight.data.shape[1]
        self.embedding.backward(grad_vectors[:, :, :d], c_emb)
        self.chars.backward(grad_vectors[:, :, d:], c_chars)
        return None


def build_char_tagger(backend: Backend, *, seed: int = 0, **sizes) -> CharWindowTagger:
    """A fresh character-aware tagger of ``sizes`` (:data:`CHAR_TAGGER_SIZES`)."""
    return CharWindowTagger(backend, sizes.pop("vocab_size"), sizes.pop("n_chars"),
                            sizes.pop("n_tags"), seed=seed, **sizes)


def train_char_tagger(backend: Backend, windows: np.ndarray, tags: np.ndarray, *,
                      init: dict | None = None, lr: float = 0.01, epochs: int = 1,
                      batch_size: int = 128, seed: int = 0, on_step=None, **sizes) -> dict:
    """A character-aware tagger of ``sizes`` (from ``init``'s parameters where given) trained
    on ``windows`` (N, W, 1 + L) and ``tags`` (N,) with your softmax cross-entropy and Adam
    (:func:`nlpdojo.training.train_on_examples`; ``on_step(step, loss)`` after each step, for
    ``dojo train tagger --model char``'s progress bar): ``{"parameters": {name: host array},
    "losses": (steps,)}``."""
    model = build_char_tagger(backend, seed=seed, **sizes)
    if init is not None:
        model.load_state_dict(init)
    losses = training.train_on_examples(
        backend, model, windows, tags, loss_fn=SoftmaxCrossEntropy(backend),
        optimizer=Adam(model.parameters(), lr=lr), batch_size=batch_size, epochs=epochs,
        seed=seed, on_step=on_step)
    return {"parameters": model.state_dict(), "losses": np.asarray(losses, np.float64)}


def char_window_scores(backend: Backend, parameters: dict, windows: np.ndarray,
                       **sizes) -> np.ndarray:
    """The tag scores (N, C) of ``windows`` (N, W, 1 + L) under a character-aware tagger
    with ``parameters``, in eval mode. A word stands in W windows (and "the" in thousands):
    each distinct spelling's character vector is computed once, then taken for every place
    it stands (the CNN reads one word at a time, so the scores are those of the whole
    forward)."""
    model = build_char_tagger(backend, **sizes)
    model.load_state_dict(parameters)
    model.eval()
    xp, (n, width), batch = backend.xp, windows.shape[:2], SCORING_BATCH
    if n == 0:
        return np.zeros((0, sizes["n_tags"]))
    spellings, where = np.unique(windows[:, :, 1:].reshape(n * width, -1), axis=0,
                                 return_inverse=True)  # (U, L), (N·W,)
    where = where.reshape(n, width)  # (N, W): each word's row of ``spellings``
    vectors = xp.concat([model.chars(backend.asarray(spellings[start:start + batch]))[0]
                         for start in range(0, len(spellings), batch)], axis=0)  # (U, F)
    out = []
    for start in range(0, n, batch):
        rows = backend.asarray(where[start:start + batch].reshape(-1))  # (b·W,)
        spelled = xp.reshape(xp.take(vectors, rows, axis=0), (-1, width, vectors.shape[1]))
        scores, _ = model.forward_spelled(backend.asarray(windows[start:start + batch, :, 0]),
                                          spelled)  # (b, C)
        out.append(np.asarray(backend.to_numpy(scores), np.float64))
    return np.concatenate(out)
