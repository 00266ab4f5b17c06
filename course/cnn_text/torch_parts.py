"""The parts the topic's torch oracles are built from, each written once in
``torch.nn.functional`` on the course library's layout (channels last: (B, T, C) sequences,
(K, C_in, C_out) filter banks) and independent of the reference: a convolution, training
mode's batch norm, the mask of real positions, k-max and local max pooling over a padded
batch, and Kim's sentence CNN on each sentence alone over one channel or two. The convolution,
residual-block, QRNN, sentence CNNs', character CNN's and VD-CNN's forwards call them
(``torch`` of their questions' ``layer_checks``)."""

from __future__ import annotations

from typing import Any

# the mask of real positions is the engine's, shared with the padded-sentence oracles
from nlpdojo_autograder.authoring.builders.padded import torch_real as real


def conv(x: Any, weight: Any, bias: Any = None, **options: Any) -> Any:
    """``conv1d`` on (B, T, C_in) with the library's (K, C_in, C_out) weight (torch's is
    (C_out, C_in, K), its input channels first); ``options``: stride, padding, dilation."""
    # imported on use: torch is optional (a NumPy-only grader never loads it)
    from torch.nn import functional

    out = functional.conv1d(x.transpose(1, 2), weight.permute(2, 1, 0), bias,
                            **options)  # (B, C_out, T_out)
    return out.transpose(1, 2)  # (B, T_out, C_out)


def batch_norm(x: Any, weight: Any, bias: Any, eps: float) -> Any:
    """Training mode's batch norm of (N, C) vectors or (B, T, C) sequences (torch's (B, C, T)
    inside): each channel by its batch's statistics."""
    # imported on use: torch is optional (a NumPy-only grader never loads it)
    from torch.nn import functional

    if x.dim() == 2:
        return functional.batch_norm(x, None, None, weight, bias, training=True,
                                     eps=eps)  # (N, C)
    out = functional.batch_norm(x.transpose(1, 2), None, None, weight, bias, training=True,
                                eps=eps)  # (B, C, T)
    return out.transpose(1, 2)  # (B, T, C)


def kmax(h: Any, lengths: Any, k: int, *, mask: bool = True) -> Any:
    """The k largest of each feature over a sentence's real positions, in sentence order, a
    slot a sentence shorter than k cannot fill holding 0. The library ranks by a stable sort
    of the negated values, so that among equal values (a deep stack's ReLU zeros) the earlier
    position ranks first (``topk`` breaks those ties its own way). With ``mask=False`` the
    padded positions are ranked too (a known mistake's forward: one among the k largest takes
    a slot, holding 0, that a real value should have)."""
    # imported on use: torch is optional (a NumPy-only grader never loads it)
    import torch

    is_real = real(lengths, h.shape[1])  # (B, T, 1)
    ranked = h.masked_fill(~is_real, -float("inf")) if mask else h
    kept = torch.argsort(-ranked, dim=1, stable=True)[:, :k].sort(dim=1).values  # (B, k, F)
    valid = is_real.expand_as(h).gather(1, kept)
    return torch.where(valid, ranked.gather(1, kept), torch.zeros_like(kept, dtype=h.dtype))


def local_max(h: Any, lengths: Any, width: int, stride: int, *, mask: bool = True,
              fill: float = -float("inf")) -> Any:
    """``max_pool1d`` over the masked features (channels first, as torch pools), a window of
    padding only set to 0; with ``mask=False`` the padded positions ranked too, with
    ``fill=0.0`` the padding's zeros (known mistakes' forwards)."""
    # imported on use: torch is optional (a NumPy-only grader never loads it)
    import torch

    ranked = h.masked_fill(~real(lengths, h.shape[1]), fill) if mask else h
    out = torch.nn.functional.max_pool1d(ranked.transpose(1, 2), width, stride)
    out = out.transpose(1, 2)  # (B, T_out, F)
    starts = torch.arange(out.shape[1]) * stride  # (T_out,)
    # a window is real where it starts before the sentence's end: (B, T_out, 1)
    return torch.where(lengths[:, None, None] > starts[None, :, None], out, torch.zeros_like(out))


def sentence_cnn(p: dict, ids: Any, lengths: Any, widths: tuple[int, ...], channels: dict, *,
                 bias_twice: bool = False, pooled_apart: bool = False,
                 padded: tuple[str, ...] = ()) -> Any:
    """Kim's sentence CNN on each sentence alone, unpadded (a padded position cannot leak into
    its features): per width, the filter over each of ``channels`` (``{name: (V, D) table}``,
    tensors or arrays) with k − 1 zeros each side, added with the bias once, ReLU, max over
    its outputs; the features side by side, the linear layer (no dropout). Known mistakes'
    forwards: ``bias_twice`` (each channel's convolution with its bias), ``pooled_apart``
    (each channel through ReLU and max, the pooled features added), ``padded`` (the channels
    whose padded positions are not zeroed: reaching the sentence's last windows)."""
    # imported on use: torch is optional (a NumPy-only grader never loads it)
    import torch

    dtype = p["output.weight"].dtype
    channels = {name: torch.as_tensor(table, dtype=dtype) for name, table in channels.items()}
    rows = []
    for b in range(ids.shape[0]):  # the oracle's loop: each sentence on its own
        n = int(lengths[b])
        span = {name: table[ids[b, :n]] for name, table in channels.items()}  # (L, D) each
        if set(padded) & set(span):  # those channels' padded rows too, every span T long
            span.update({name: channels[name][ids[b]] for name in padded if name in span})
            span = {name: torch.nn.functional.pad(x, (0, 0, 0, ids.shape[1] - len(x)))
                    for name, x in span.items()}
        features = []
        for j, k in enumerate(widths):
            bias = p[f"convs.{j}.bias"]
            outs = [conv(x[None], p[f"convs.{j}.weight"], bias if bias_twice or i == 0 else None,
                         padding=k - 1)[0, :n + k - 1]
                    for i, x in enumerate(span.values())]  # (L + k − 1, F) each
            if pooled_apart:
                features.append(sum(torch.relu(o).amax(0) for o in outs))
            else:
                features.append(torch.relu(sum(outs)).amax(0))  # (F,)
        rows.append(torch.cat(features) @ p["output.weight"] + p["output.bias"])
    return torch.stack(rows)  # (B, C)
