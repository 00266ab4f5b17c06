"""torch oracles' parts for convolutional layers on the course library's layout (channels
last: (B, T, C) sequences, (K, C_in, C_out) filter banks), written once in
``torch.nn.functional`` and independent of any reference: a convolution (:func:`torch_conv`),
training mode's batch norm (:func:`torch_batch_norm`), and over a padded batch the k-max
pooling (:func:`torch_kmax`) and local max pooling (:func:`torch_local_max`) that read each
row's real positions only (:func:`~.padded.torch_real`); and from them a residual block
(:func:`torch_residual_block`) and Kim's sentence CNN run on each sentence alone, over one
embedding channel or several (:func:`torch_sentence_cnn`). CS224n lecture 11 (CNNs for
text: wide convolutions, k-max pooling, deep CNNs with batch norm and residual blocks); He
et al. 2016 (residual blocks); Kim 2014 (the sentence CNN, its static and fine-tuned
channels); Kalchbrenner et al. 2014 (k-max in sentence order); Conneau et al. 2017 (VD-CNN's
poolings). The course's convolutional topic builds its forwards from them (the
convolution's, the residual block's, the QRNN's, the character CNN's, the sentence CNNs',
VD-CNN's, whose stack of steps is :mod:`.torch_stack`'s); any layer of the course library's
layout can.

torch is imported only when a forward runs (a NumPy-only grader never needs it)."""

from __future__ import annotations

from typing import Any

from nlpdojo_autograder.authoring.builders.padded import torch_real


def torch_conv(x: Any, weight: Any, bias: Any = None, **options: Any) -> Any:
    """``conv1d`` on (B, T, C_in) with the library's (K, C_in, C_out) weight (torch's is
    (C_out, C_in, K), its input channels first); ``options``: stride, padding, dilation."""
    # imported on use: torch is optional (a NumPy-only grader never loads it)
    from torch.nn import functional

    out = functional.conv1d(x.transpose(1, 2), weight.permute(2, 1, 0), bias,
                            **options)  # (B, C_out, T_out)
    return out.transpose(1, 2)  # (B, T_out, C_out)


def torch_batch_norm(x: Any, weight: Any, bias: Any, eps: float) -> Any:
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


def torch_kmax(h: Any, lengths: Any, k: int, *, mask: bool = True) -> Any:
    """The k largest of each feature of (B, T, F) over a sentence's real positions (``lengths``
    (B,)), in sentence order, a slot a sentence shorter than k cannot fill holding 0: (B, k,
    F). The library ranks by a stable sort of the negated values, so that among equal values
    (a deep stack's ReLU zeros) the earlier position ranks first (``topk`` breaks those ties
    its own way). With ``mask=False`` the padded positions are ranked too (a known mistake's
    forward: one among the k largest takes a slot, holding 0, that a real value should
    have)."""
    # imported on use: torch is optional (a NumPy-only grader never loads it)
    import torch

    is_real = torch_real(lengths, h.shape[1])  # (B, T, 1)
    ranked = h.masked_fill(~is_real, -float("inf")) if mask else h
    kept = torch.argsort(-ranked, dim=1, stable=True)[:, :k].sort(dim=1).values  # (B, k, F)
    valid = is_real.expand_as(h).gather(1, kept)
    return torch.where(valid, ranked.gather(1, kept), torch.zeros_like(kept, dtype=h.dtype))


def torch_local_max(h: Any, lengths: Any, width: int, stride: int, *, mask: bool = True,
                    fill: float = -float("inf")) -> Any:
    """``max_pool1d`` over the masked features of (B, T, F) (channels first, as torch pools),
    a window of padding only set to 0: (B, ⌊(T − width) / stride⌋ + 1, F); with ``mask=False``
    the padded positions ranked too, with ``fill=0.0`` the padding's zeros (known mistakes'
    forwards)."""
    # imported on use: torch is optional (a NumPy-only grader never loads it)
    import torch

    ranked = h.masked_fill(~torch_real(lengths, h.shape[1]), fill) if mask else h
    out = torch.nn.functional.max_pool1d(ranked.transpose(1, 2), width, stride)
    out = out.transpose(1, 2)  # (B, T_out, F)
    starts = torch.arange(out.shape[1]) * stride  # (T_out,)
    # a window is real where it starts before the sentence's end: (B, T_out, 1)
    return torch.where(lengths[:, None, None] > starts[None, :, None], out, torch.zeros_like(out))


def torch_residual_block(p: dict, x: Any, prefix: str = "", eps: float = 1e-5) -> Any:
    """A residual block (He et al. 2016; Conneau et al. 2017's convolutional block) on (B, T,
    C_in) features: ReLU(BN(conv2(ReLU(BN(conv1(x))))) + shortcut(x)), each convolution
    padded to keep the length (K // 2 each side), batch norm in training mode, the shortcut
    the identity or, where ``shortcut.weight`` is among the parameters, a 1×1 projection:
    (B, T, C_out). Its parameters (``conv1``, ``norm1``, ``conv2``, ``norm2``, ``shortcut``,
    each ``.weight`` and ``.bias``) are named under ``prefix`` (a deeper network's block:
    ``"stages.0.1."``)."""
    # imported on use: torch is optional (a NumPy-only grader never loads it)
    import torch

    w = {name[len(prefix):]: v for name, v in p.items() if name.startswith(prefix)}
    k = w["conv1.weight"].shape[0]  # (K, C_in, C_out)

    def conv_norm(j: int, h: Any) -> Any:  # convolution j, then its batch norm
        h = torch_conv(h, w[f"conv{j}.weight"], w[f"conv{j}.bias"], padding=k // 2)
        return torch_batch_norm(h, w[f"norm{j}.weight"], w[f"norm{j}.bias"], eps)

    h = conv_norm(2, torch.relu(conv_norm(1, x)))  # (B, T, C_out)
    skip = torch_conv(x, w["shortcut.weight"], w["shortcut.bias"]) if "shortcut.weight" in w else x
    return torch.relu(h + skip)


def torch_sentence_cnn(p: dict, ids: Any, lengths: Any, widths: tuple[int, ...], channels: dict,
                       *, bias_twice: bool = False, pooled_apart: bool = False,
                       padded: tuple[str, ...] = ()) -> Any:
    """Kim (2014)'s sentence CNN on each sentence alone, unpadded (a padded position cannot
    leak into its features), on the parameters of the course library's ``SentenceCNN``
    (``convs.{j}.weight`` (K_j, D, F) and ``convs.{j}.bias`` per width, ``output.weight`` and
    ``output.bias``): per width, the filter over each of ``channels`` (``{name: (V, D)
    table}``, tensors or arrays) with k − 1 zeros each side (the wide convolution), added with
    the bias once, ReLU, max over its outputs; the features side by side, the linear layer (no
    dropout): (B, C). Known mistakes' forwards: ``bias_twice`` (each channel's convolution
    with its bias), ``pooled_apart`` (each channel through ReLU and max, the pooled features
    added), ``padded`` (the channels whose padded positions are not zeroed: reaching the
    sentence's last windows)."""
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
            outs = [torch_conv(x[None], p[f"convs.{j}.weight"],
                               bias if bias_twice or i == 0 else None,
                               padding=k - 1)[0, :n + k - 1]
                    for i, x in enumerate(span.values())]  # (L + k − 1, F) each
            if pooled_apart:
                features.append(sum(torch.relu(o).amax(0) for o in outs))
            else:
                features.append(torch.relu(sum(outs)).amax(0))  # (F,)
        rows.append(torch.cat(features) @ p["output.weight"] + p["output.bias"])
    return torch.stack(rows)  # (B, C)
