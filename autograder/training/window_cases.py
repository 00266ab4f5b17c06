"""The fixed-window network of the course as its checks draw it. Collobert et al. (2011)'s window
classifier (CS224n lecture 3, notes part III) and Bengio et al. (2003)'s fixed-window language
model (lecture 6) are one network: the embedding of each word of a window, concatenated, an
affine layer and tanh, then an affine output layer over C classes, or over the vocabulary.
Stated once here: its parameters by the library's names (:func:`window_shapes`, also a trained
LM's, :func:`~.sotu_lm.sotu_shapes`), a layer check's case of it (:func:`window_case`), its
torch forward, the checks' second oracle (:func:`torch_window`), and both as the layer
checks' arguments for a model of it (:func:`window_network`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nlpdojo_autograder.authoring import Context, LayerCase
from nlpdojo_autograder.authoring.builders import layer_case
from nlpdojo_autograder.authoring.inputs import integers, normal, setting

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
                classes: int | None = None, std: float = 1.0,
                dropout: tuple[float, float] | None = None, **fields: Any
                ) -> Callable[[Context], LayerCase]:
    """A layer check's case of the network, built as ``cls(backend, vocab, window, dim,
    hidden[, classes])``: every parameter of :func:`window_shapes` drawn in order, normal
    (the two layers' weights with standard deviation ``std``, the others 1); its input ``n``
    windows of ids with a word repeated (its embedding row's gradient adds up), not
    differentiated. ``dropout``: (low, high), the model built with ``dropout=`` a rate drawn
    per grading between them (:func:`~nlpdojo_autograder.authoring.inputs.setting`: a rate
    written in, not the constructor's, fails). ``fields``: the rest of the case
    (:func:`~nlpdojo_autograder.authoring.builders.layer_case`)."""
    sizes = (vocab, window, dim, hidden, *(() if classes is None else (classes,)))
    if dropout is not None:
        fields["kwargs"] = {**fields.get("kwargs", {}), "dropout": setting(*dropout)}
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


def window_network(sizes: tuple[int, int, int, int, int],
                   at_scale: tuple[int, int, int, int, int], *, classes: int | None = None,
                   at_scale_classes: int | None = None) -> dict[str, Any]:
    """``layer_checks``' arguments for a model of the network (``layer_checks(cls, title=,
    points=, **window_network(...))``): ``make``, the case :func:`window_case` of ``sizes``
    (V, window, D, H, N) over ``classes`` (None: the vocabulary, an LM); ``torch``,
    :func:`torch_window`; ``at_scale``, the case of ``at_scale`` over ``at_scale_classes``,
    its weights at 0.1 (a backward that differentiates the forward numerically cannot finish
    there; sizes other than the case's catch a window or a class count written in)."""
    return {"make": window_case(*sizes, classes=classes), "torch": torch_window,
            "at_scale": window_case(*at_scale, classes=at_scale_classes, std=0.1)}
