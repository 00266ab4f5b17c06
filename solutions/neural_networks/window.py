"""The window classifier (CS224n notes part III, "Neural Networks": a window of words,
"museums in Paris are amazing"; Collobert et al. 2011, the window approach).

Each word of a window of W = 2m + 1 token ids is looked up in the embedding table, the W
vectors are concatenated into x ∈ R^{W·D}, a hidden layer computes a = f(xW₁ + b₁) and the
output layer the scores s = aW₂ + b₂ (C class scores; C = 1 gives the notes' single window
score s = Uᵀ f(Wx + b) for the max-margin objective). Every piece comes from the course
library: this module only wires them, forward in order and backward in reverse.
"""

from __future__ import annotations

from nlpdojo.backend import Array, Backend
from nlpdojo.module import Module

from ..library import Dropout, Embedding, Linear, Tanh


class WindowClassifier(Module):
    """Scores (N, C) of N windows of token ids (N, W): embedding → concatenation → Linear →
    tanh → dropout → Linear.

    Dropout (``dropout`` = p, 0 by default: then the layer is the identity) acts on the
    hidden activations a, between the tanh and the output layer (Srivastava et al. 2014):
    apply ``self.dropout`` exactly once per forward, there, and back through it in backward.

    The backward pass of the concatenation is a reshape of the gradient back to (N, W, D);
    the embedding's backward then adds each window position's gradient into its word's row
    (a word that occurs twice receives both).
    """

    def __init__(self, backend: Backend, vocab_size: int, window: int, embedding_dim: int,
                 hidden: int, n_classes: int, *, seed: int = 0, dropout: float = 0.0) -> None:
        super().__init__(backend)
        self.window, self.embedding_dim = window, embedding_dim
        self.embedding = Embedding(backend, vocab_size, embedding_dim, seed=seed, std=0.1)
        self.hidden = Linear(backend, window * embedding_dim, hidden, seed=seed + 1)
        self.activation = Tanh(backend)
        self.dropout = Dropout(backend, dropout, seed=seed + 3)
        self.output = Linear(backend, hidden, n_classes, seed=seed + 2)

    def forward(self, windows: Array) -> tuple[Array, tuple]:
        # windows: (N, W) token ids
        xp = self.xp
        ### BEGIN SOLUTION window_classifier
        vectors, c_emb = self.embedding(windows)  # (N, W, D)
        x = xp.reshape(vectors, (vectors.shape[0], -1))  # (N, W·D)  the concatenation
        z, c_hidden = self.hidden(x)  # (N, H)
        a, c_act = self.activation(z)  # (N, H)
        kept, c_drop = self.dropout(a)  # (N, H)  the identity in eval mode
        scores, c_out = self.output(kept)  # (N, C)
        return scores, (c_emb, c_hidden, c_act, c_drop, c_out, tuple(vectors.shape))
        ### END SOLUTION

    def backward(self, grad_output: Array, cache: tuple) -> None:
        # grad_output: (N, C); returns None: token ids have no gradient
        xp = self.xp
        ### BEGIN SOLUTION window_classifier
        c_emb, c_hidden, c_act, c_drop, c_out, shape = cache
        grad_kept = self.output.backward(grad_output, c_out)  # (N, H)
        grad_a = self.dropout.backward(grad_kept, c_drop)  # (N, H)
        grad_z = self.activation.backward(grad_a, c_act)  # (N, H)
        grad_x = self.hidden.backward(grad_z, c_hidden)  # (N, W·D)
        self.embedding.backward(xp.reshape(grad_x, shape), c_emb)  # (N, W, D)
        return None
        ### END SOLUTION
