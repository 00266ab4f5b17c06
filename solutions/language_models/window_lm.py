"""A fixed-window neural language model (CS224n lecture 6, "A fixed-window neural language
model"; Bengio et al. 2003, "A neural probabilistic language model").

The previous n − 1 words x⁽ᵗ⁻ⁿ⁺²⁾ … x⁽ᵗ⁾ are looked up in the embedding table and concatenated,
e = [e⁽ᵗ⁻ⁿ⁺²⁾; …; e⁽ᵗ⁾] ∈ R^{(n−1)·D}; a hidden layer computes h = tanh(e W + b₁) and the output
layer the scores of the next word, ŷ = softmax(h U + b₂). Unlike an n-gram model there is no
sparsity (similar words get similar vectors) and no table that grows with n, but the window is
fixed: nothing outside it is seen, and each position of the window has its own slice of W.
"""

from __future__ import annotations

from nlpdojo.backend import Array, Backend
from nlpdojo.module import Module

from ..library import Embedding, Linear, Tanh


class WindowLM(Module):
    """Next-word scores (N, V) of N contexts of n − 1 token ids (N, n − 1): embedding →
    concatenation → Linear → tanh → Linear.

    The backward pass of the concatenation is a reshape of the gradient back to
    (N, n − 1, D); the embedding's backward then adds each position's gradient into its word's
    row.
    """

    def __init__(self, backend: Backend, vocab_size: int, context: int, embedding_dim: int,
                 hidden_size: int, *, seed: int = 0) -> None:
        super().__init__(backend)
        self.context = context  # n − 1
        self.embedding = Embedding(backend, vocab_size, embedding_dim, seed=seed, std=0.1)
        self.hidden = Linear(backend, context * embedding_dim, hidden_size, seed=seed + 1)
        self.activation = Tanh(backend)
        self.output = Linear(backend, hidden_size, vocab_size, seed=seed + 2)

    def forward(self, contexts: Array) -> tuple[Array, tuple]:
        # contexts: (N, n − 1) token ids, oldest first
        xp = self.xp
        ### BEGIN SOLUTION window_lm
        vectors, c_emb = self.embedding(contexts)  # (N, n−1, D)
        e = xp.reshape(vectors, (vectors.shape[0], -1))  # (N, (n−1)·D)  the concatenation
        z, c_hidden = self.hidden(e)  # (N, H)
        h, c_act = self.activation(z)  # (N, H)
        scores, c_out = self.output(h)  # (N, V)
        return scores, (c_emb, c_hidden, c_act, c_out, tuple(vectors.shape))
        ### END SOLUTION

    def backward(self, grad_output: Array, cache: tuple) -> None:
        # grad_output: (N, V); returns None: token ids have no gradient
        xp = self.xp
        ### BEGIN SOLUTION window_lm
        c_emb, c_hidden, c_act, c_out, shape = cache
        grad_h = self.output.backward(grad_output, c_out)  # (N, H)
        grad_z = self.activation.backward(grad_h, c_act)  # (N, H)
        grad_e = self.hidden.backward(grad_z, c_hidden)  # (N, (n−1)·D)
        self.embedding.backward(xp.reshape(grad_e, shape), c_emb)  # (N, n−1, D)
        return None
        ### END SOLUTION
