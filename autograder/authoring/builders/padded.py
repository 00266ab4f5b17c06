"""torch oracles of models over padded sentences (a layer check's ``torch`` forward, as
:func:`~.layer.layer_checks` takes it): torch's own recurrent modules over packed sequences,
so that each row's real steps alone are read, in both directions (:func:`torch_packed`),
the states pooled over those steps (:func:`torch_pooled`); a cell written ``x W_x + h W_h +
b`` gives them its weights with :func:`~.torch_oracle.torch_layout`. CS224n lecture 6 ("RNNs
for sentence classification") and 7 ("Bidirectional RNNs"); the BiLSTM-max encoder of
Conneau et al. 2017.

torch is imported only when a forward runs (a NumPy-only grader never needs it)."""

from __future__ import annotations

from typing import Any

#: the poolings of :func:`torch_pooled`: the last real step's state, the element-wise max
#: and the mean over the real steps
POOLINGS = ("final", "max", "mean")
#: the ends of torch's parameter names of the first layer's directions (left to right, right
#: to left), :func:`~.torch_oracle.torch_layout`'s ``suffix``
TORCH_DIRECTIONS = ("_l0", "_l0_reverse")
#: what :func:`torch_pooled` fills the padded steps with before a max: below any tanh, so a
#: padded step never wins
MAX_PADDING = -2.0


def torch_packed(kind: str, weights: dict[str, Any], vectors: Any, lengths: Any) -> Any:
    """The outputs (B, T, directions · H) of ``torch.nn.<kind>`` (``"RNN"`` (tanh),
    ``"LSTM"``, ``"GRU"``; one layer, batch first, float64) with ``weights`` (torch's names,
    :func:`~.torch_oracle.torch_layout`; a ``_reverse`` weight makes it bidirectional) over
    ``vectors`` (B, T, D) packed by ``lengths`` (B,): each row's real steps only, the
    right-to-left pass starting at its last real word; padded back with zeros to T steps."""
    # imported on use: torch is optional (a NumPy-only grader never loads it)
    import torch
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    d, h = weights["weight_ih_l0"].shape[1], weights["weight_hh_l0"].shape[1]
    module = getattr(torch.nn, kind)(d, h, batch_first=True, dtype=torch.float64,
                                     bidirectional="weight_ih_l0_reverse" in weights)
    packed = pack_padded_sequence(vectors, lengths.cpu(), batch_first=True,
                                  enforce_sorted=False)
    out, _ = torch.func.functional_call(module, weights, (packed,))
    return pad_packed_sequence(out, batch_first=True, total_length=vectors.shape[1])[0]


def torch_real(lengths: Any, t_steps: int) -> Any:
    """Which of ``t_steps`` positions are a sentence's own: (B, T, 1), position t of row b
    where t < lengths[b]."""
    import torch

    return (torch.arange(t_steps)[None, :] < lengths[:, None])[:, :, None]  # (B, T, 1)


def torch_pooled(states: Any, lengths: Any, pooling: str) -> Any:
    """``states`` (B, T, F) pooled over each row's real steps (``lengths`` (B,)): the last
    one's (``"final"``), their element-wise max, their mean (:data:`POOLINGS`): (B, F)."""
    import torch

    if pooling not in POOLINGS:
        raise ValueError(f"torch_pooled: pooling {pooling!r} is none of {POOLINGS}")
    if pooling == "final":
        return states[torch.arange(states.shape[0]), lengths - 1]
    real = torch_real(lengths, states.shape[1])  # (B, T, 1)
    if pooling == "mean":
        return (states * real).sum(1) / lengths[:, None]
    return states.masked_fill(~real, MAX_PADDING).amax(1)
