"""The course's recurrent sentence classifiers as their checks draw them. language_models' RNN
encoder and its ``SentenceClassifier`` (CS224n lecture 6, "RNNs for sentence classification")
and rnn_variants' ``SentenceLSTM`` (lecture 7, "Bidirectional RNNs"; the BiLSTM-max encoder of
Conneau et al. 2017) are one network: an embedding of each word, a recurrent cell run over each
sentence's real words (left to right, and right to left where it is bidirectional), its states
pooled over those words (the last one's, their max or their mean), and an affine output layer
over C classes. Stated once here: its parameters by the library's names
(:func:`sentence_shapes`), a layer check's case of it over padded sentences
(:func:`sentence_case`) and its torch forward, the checks' second oracle
(:func:`torch_sentence`: torch's own recurrent module over *packed* sequences, so that a pass
that reads the padding cannot match it); a layer check's variant of one pooling, its case, case
at scale and torch forward made from one statement of the network (:func:`sentence_variant`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from nlpdojo_autograder.authoring import Context, LayerCase, Variant
from nlpdojo_autograder.authoring.builders import (
    TORCH_DIRECTIONS,
    layer_case,
    torch_layout,
    torch_packed,
    torch_pooled,
)
from nlpdojo_autograder.authoring.inputs import normal, padded_sentences
from nlpdojo_autograder.training.lm_cases import _cell_shapes, _scale

#: the cell of a network reading left to right only (language_models' encoder)
ONE_WAY = ("cell",)
#: the cells of a bidirectional one (rnn_variants' SentenceLSTM), left to right and right to
#: left; its first alone, the same network reading one way
BOTH_WAYS = ("left.cell", "right.cell")


def sentence_shapes(cell: str, vocab: int, dim: int, hidden: int, classes: int | None = None,
                    *, cells: Sequence[str] = ONE_WAY, prefix: str = ""
                    ) -> dict[str, tuple[int, ...]]:
    """The parameters of the network over ``cell`` ("rnn", "lstm", "gru"), in the order the
    library's model holds them: the embedding, each direction's cell (``cells``: their dotted
    paths, ``("left.cell", "right.cell")`` for a bidirectional one), the output layer over
    ``classes`` reading every direction's pooled state (None: an encoder, no output layer).
    ``prefix``: where the encoder sits inside a classifier (``"encoder."``)."""
    shapes = {f"{prefix}embedding.weight": (vocab, dim)}
    for path in cells:
        shapes.update({f"{prefix}{path}.{name}": shape
                       for name, shape in _cell_shapes(cell, dim, hidden).items()})
    if classes is not None:
        shapes.update({"output.weight": (len(cells) * hidden, classes),
                       "output.bias": (classes,)})
    return shapes


def sentence_case(cell: str, vocab: int, dim: int, hidden: int, batch: int, steps: int, *,
                  classes: int | None = None, cells: Sequence[str] = ONE_WAY, prefix: str = "",
                  std: float = 0.7, low: int = 0, **fields: Any
                  ) -> Callable[[Context], LayerCase]:
    """A layer check's case of the network, built as ``cls(backend, vocab, dim, hidden[,
    classes])``: every parameter of :func:`sentence_shapes` drawn in order, normal (the
    cells' weights with standard deviation ``std``, their biases 0.5, the others 1); its
    inputs ``batch`` sentences of ids in ``[low, vocab)`` padded to ``steps``, a full one, a
    one-word one, a word repeated (:func:`~nlpdojo_autograder.authoring.inputs.
    padded_sentences`), not differentiated. ``fields``: the rest of the case (``kwargs={
    "pooling": ...}``, ``names``..., :func:`~nlpdojo_autograder.authoring.builders.
    layer_case`)."""
    sizes = (vocab, dim, hidden, *(() if classes is None else (classes,)))
    return layer_case(*sizes, params={
        name: normal(*shape, scale=_scale(name, std)) for name, shape in sentence_shapes(
            cell, vocab, dim, hidden, classes, cells=cells, prefix=prefix).items()},
        inputs=padded_sentences(vocab, batch, steps, low=low, repeated=True),
        differentiable=(), **fields)


def torch_sentence(cell: str, pooling: str, *, cells: Sequence[str] = ONE_WAY,
                   prefix: str = "") -> Callable[..., Any]:
    """The network's forward in torch (a layer check's ``torch=``), ``(params, ids, lengths)``:
    ``torch.nn.RNN`` (tanh), ``LSTM`` or ``GRU`` over the packed sentences (each row's real
    steps only; the second of ``cells`` its right-to-left direction), padded back with zeros,
    pooled over the real steps (``"final"``, ``"max"``, ``"mean"``), then the output layer
    where the case has one."""
    names = tuple(_cell_shapes(cell, 1, 1))  # weight_x (or weight_e), weight_h, the bias(es)

    def forward(p: dict[str, Any], ids: Any, lengths: Any) -> Any:
        weights: dict[str, Any] = {}
        for path, suffix in zip(cells, TORCH_DIRECTIONS[:len(cells)], strict=True):
            weights.update(torch_layout(*(p[f"{prefix}{path}.{n}"] for n in names),
                                        suffix=suffix))
        vectors = p[f"{prefix}embedding.weight"][ids]  # (B, T, D)
        hs = torch_packed(cell.upper(), weights, vectors, lengths)  # (B, T, directions · H)
        pooled = torch_pooled(hs, lengths, pooling)  # (B, directions · H)
        if "output.weight" not in p:  # an encoder
            return pooled
        return pooled @ p["output.weight"] + p["output.bias"]  # (B, C)

    forward.label = f"torch.nn.{cell.upper()} over packed sequences"  # type: ignore[attr-defined]
    return forward


def sentence_variant(cell: str, pooling: str, title: str, points: float, *,
                     sizes: tuple[int, int, int, int, int],
                     at_scale: tuple[int, int, int, int, int],
                     classes: tuple[int, int] | None = None, cells: Sequence[str] = ONE_WAY,
                     kwargs: dict[str, Any] | None = None, at_scale_std: float = 0.1,
                     **fields: Any) -> Variant:
    """A :class:`~nlpdojo_autograder.authoring.Variant` of a layer check of the network with
    ``pooling``, its three parts made from one statement of it (``cell``, ``cells``,
    ``fields``' ``prefix``), so they cannot disagree: its case (:func:`sentence_case`) at
    ``sizes`` (V, D, H, B, T), its case at scale at ``at_scale``, the cells' weights at
    ``at_scale_std``, and its torch forward (:func:`torch_sentence`). ``classes``: the classes
    of the case and of the case at scale (two numbers: a model with one written in fails one of
    them; None: an encoder, no output layer). ``kwargs``: the constructor's keyword arguments
    (default ``{"pooling": pooling}``); ``fields``: the rest of both cases (``low``,
    ``names``, ``prefix``...)."""
    small, large = classes or (None, None)
    built = {"cells": cells, "kwargs": {"pooling": pooling} if kwargs is None else kwargs,
             **fields}
    return Variant(sentence_case(cell, *sizes, classes=small, **built), title, points,
                   torch=torch_sentence(cell, pooling, cells=cells,
                                        prefix=fields.get("prefix", "")),
                   at_scale=sentence_case(cell, *at_scale, classes=large, std=at_scale_std,
                                          **built))
