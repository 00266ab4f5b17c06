"""Layers with parameters: affine, dropout and embedding look-up (CS224n notes part III).

Each layer follows the module contract (:mod:`nlpdojo.module`): ``forward`` returns the output
and the cache of *this call*; ``backward(grad_output, cache)`` returns the gradient of the input
and adds each parameter's gradient into ``p.grad`` (``p.grad = p.grad + g``; the reference
writes ``p.grad += g``, in place, which saves a new array per call), so a parameter used
several times (a shared layer, a word that occurs twice) receives the sum.
"""

from __future__ import annotations

import math

import numpy as np

from nlpdojo.backend import Array, Backend
from nlpdojo.module import Module, Parameter

from .init import xavier_uniform

__all__ = ["Linear", "Dropout", "Embedding"]


def _expect_rows(layer: str, x: Array, width: int) -> None:
    """Fail with what to do when ``x`` is not a float batch of rows of ``width`` features."""
    shape = tuple(x.shape)
    if "int" in str(x.dtype) or "bool" in str(x.dtype):
        raise TypeError(f"{layer} got an array of {x.dtype}, shape {shape}: it takes real-valued "
                        "features; token ids go through an Embedding first (a Linear layer "
                        "takes their vectors), other numbers need xp.astype(x, xp.float32)")
    if len(shape) != 2 or shape[1] != width:
        hint = (f"; concatenate each example's vectors into one row first: "
                f"xp.reshape(x, (x.shape[0], -1)) gives {(shape[0], math.prod(shape[1:]))}"
                if len(shape) > 2 and math.prod(shape[1:]) == width else
                "; is the layer built with the right in_features, or is the input transposed?"
                if len(shape) == 2 and shape[0] == width else "")
        raise ValueError(f"{layer} takes a batch of rows (N, {width}), one example per row; "
                         f"got shape {shape}{hint}")


class Linear(Module):
    """An affine layer z = xW + b over a batch of row vectors (the notes' z = Wx + b, one
    example per row). W is Xavier-initialised (:func:`~.init.xavier_uniform`), b is zero.

    Backpropagation (notes part III, vectorised): with δ = dL/dz (N, D_out),
    dL/dW = xᵀδ (D_in, D_out), dL/db = Σ_rows δ (D_out,), dL/dx = δWᵀ (N, D_in).
    """

    def __init__(self, backend: Backend, in_features: int, out_features: int, *,
                 seed: int = 0) -> None:
        super().__init__(backend)
        self.weight = Parameter(xavier_uniform(backend, in_features, out_features, seed=seed),
                                "weight")  # (D_in, D_out)
        self.bias = Parameter(self.xp.zeros((out_features,), dtype=backend.default_dtype,
                                            device=backend.device), "bias")  # (D_out,)

    def forward(self, x: Array) -> tuple[Array, tuple]:
        # x: (N, D_in)
        _expect_rows(f"Linear({self.weight.shape[0]}, {self.weight.shape[1]})", x,
                     self.weight.shape[0])
        raise NotImplementedError("neural_networks.affine: not implemented yet — replace this line with your code")

    def backward(self, grad_output: Array, cache: tuple) -> Array:
        # grad_output: (N, D_out)
        xp = self.xp
        raise NotImplementedError("neural_networks.affine: not implemented yet — replace this line with your code")


class Dropout(Module):
    """Inverted dropout (Srivastava et al. 2014; CS224n notes part III, "Dropout").

    In training each unit is kept with probability 1 − p and the kept ones are divided by
    1 − p, so the expected output equals the input and nothing changes at test time: in eval
    mode (``model.eval()``, ``self.training`` False) the layer is the identity. The mask of a
    call is drawn by :meth:`keep_mask` (given) and travels in that call's cache.
    """

    def __init__(self, backend: Backend, p: float = 0.5, *, seed: int = 0) -> None:
        super().__init__(backend)
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout probability must be in [0, 1), got {p}")
        self.p = float(p)
        self.seed, self.calls = int(seed), 0  # plain numbers: the layer's state crosses processes

    def keep_mask(self, shape: tuple[int, ...]) -> Array:
        """A float mask of ``shape``: 1.0 where a unit is kept (probability 1 − p), else 0.0.

        Drawn on the host by NumPy from (seed, number of calls so far), so every backend and
        device draws the same masks (the grader compares them), then sent to the device."""
        u = np.random.default_rng([self.seed, self.calls]).random(shape)  # (...)  U[0, 1)
        self.calls += 1
        return self.backend.asarray(u >= self.p, dtype=self.backend.default_dtype)

    def forward(self, x: Array) -> tuple[Array, tuple]:
        raise NotImplementedError("neural_networks.dropout: not implemented yet — replace this line with your code")

    def backward(self, grad_output: Array, cache: tuple) -> Array:
        raise NotImplementedError("neural_networks.dropout: not implemented yet — replace this line with your code")


class Embedding(Module):
    """A look-up table of word vectors (the notes' L ∈ R^{|V|×d}): token ids (any shape)
    to their rows, ``(...) -> (..., D)``.

    The look-up is x = L[ids], so dL/dL is zero except on the rows looked up, and a word that
    occurs k times receives the sum of its k gradients: ``backend.scatter_add(target, index,
    values)`` adds ``values[i]`` to ``target[index[i]]``, repeats summed, in place.
    """

    def __init__(self, backend: Backend, num_embeddings: int, embedding_dim: int, *,
                 seed: int = 0, std: float = 1.0) -> None:
        super().__init__(backend)
        self.weight = Parameter(backend.rng(seed).normal((num_embeddings, embedding_dim),
                                                         std=std), "weight")  # (V, D)

    def forward(self, ids: Array) -> tuple[Array, tuple]:
        # ids: (...) integers in [0, V)
        xp = self.xp
        if "int" not in str(ids.dtype):
            raise TypeError(f"Embedding looks rows up by token id and got an array of "
                            f"{ids.dtype}: pass the ids as integers (int64), e.g. "
                            "backend.asarray(windows) of an int64 NumPy array")
        raise NotImplementedError("neural_networks.embedding: not implemented yet — replace this line with your code")

    def backward(self, grad_output: Array, cache: tuple) -> None:
        # grad_output: (..., D); returns None: token ids have no gradient
        xp = self.xp
        raise NotImplementedError("neural_networks.embedding: not implemented yet — replace this line with your code")
