"""The fixed-window network of the course as its checks draw it. Collobert et al. (2011)'s window
classifier (CS224n lecture 3, notes part III) and Bengio et al. (2003)'s fixed-window language
model (lecture 6) are one network: the embedding of each word of a window, concatenated, an
affine layer and tanh, then an affine output layer over C classes, or over the vocabulary.
Stated once here: its parameters by the library's names (:func:`window_shapes`, also a trained
LM's, :func:`~.sotu_lm.sotu_shapes`), a layer check's case of it (:func:`window_case`) and
its torch forward, the checks' second oracle (:func:`torch_window`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nlpdojo_autograder.authoring import Context, LayerCase
from nlpdojo_autograder.authoring.builders import layer_case
from nlpdojo_autograder.authoring.inputs import integers, normal

#: the parameters drawn at the case's ``std``: the two layers' weights (the rest at 1)
SCALED = ("hidden.weight", "output.weight")


def window_shapes(vocab: int, window: int, dim: int, hidden: int, classes: int | None = None
                  ) -> dict[str, tuple[int, ...]]:
    """The parameters of the network over windows of ``window`` words, in the order the
    library's model holds them; its output over ``classes`` (None: the vocabulary, an LM)."""
    out = vocab if classes is None else classes
    return {"embedding.weight": (vocab, dim), "hidden.weight": (window * dim, hidden),
            "hidden.bias": (hidden,), "output.weight": (hidden, out), "output.bias": (out,)}


def window_case(vocab: int, window: int, dim: int, hidden: int, n: int, *,
                classes: int | None = None, std: float = 1.0, **fields: Any
                ) -> Callable[[Context], LayerCase]:
    """A layer check's case of the network, built as ``cls(backend, vocab, window, dim,
    hidden[, classes])``: every parameter of :func:`window_shapes` drawn in order, normal
    (the two layers' weights with standard deviation ``std``, the others 1); its input ``n``
    windows of ids with a word repeated (its embedding row's gradient adds up), not
    differentiated. ``fields``: the rest of the case (``kwargs={"dropout": setting(...)}``,
    :func:`~nlpdojo_autograder.authoring.builders.layer_case`)."""
    sizes = (vocab, window, dim, hidden, *(() if classes is None else (classes,)))
    return layer_case(*sizes, params={
        name: normal(*shape, scale=std if name in SCALED else 1.0)
        for name, shape in window_shapes(vocab, window, dim, hidden, classes).items()},
        inputs=(integers(vocab, n, window, repeated=True),), differentiable=(), **fields)


def torch_window(p: dict[str, Any], ids: Any) -> Any:
    """The network's scores in torch (a layer check's ``torch=``): ``ids`` (N, window)."""
    # imported on use: torch is optional (a NumPy-only grader never loads it)
    import torch

    e = p["embedding.weight"][ids].reshape(ids.shape[0], -1)  # (N, window·D)
    a = torch.tanh(e @ p["hidden.weight"] + p["hidden.bias"])  # (N, H)
    return a @ p["output.weight"] + p["output.bias"]  # (N, C)
