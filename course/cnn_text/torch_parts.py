"""The part the topic's sentence CNNs' torch oracles share, written in ``torch.nn.functional``
and independent of the reference: Kim's sentence CNN on each sentence alone over one channel or
two (``torch`` of the ``kim_cnn`` and ``multichannel_cnn`` questions' ``layer_checks``). The
parts of every convolutional oracle (a channels-last convolution, training mode's batch norm,
k-max and local max pooling over a padded batch) are the engine's,
:mod:`nlpdojo_autograder.authoring.builders.torch_cnn`."""

from __future__ import annotations

from typing import Any

from nlpdojo_autograder.authoring.builders.torch_cnn import torch_conv


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
