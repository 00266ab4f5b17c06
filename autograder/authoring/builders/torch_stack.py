"""A deep convolutional network declared rather than written out: its torch forward a stack of
named steps, and its parameters' draws by block. The forward:
:class:`TorchStack` runs its steps in order on a padded batch, each step a function of the
parameters and of the features (B, T, C) with the sentences' lengths (B,), which a pooling
shortens. A known mistake's forward is the same stack with one step declared otherwise
(:meth:`TorchStack.but`), so the oracle and its mistakes are one declaration and a few
replaced steps, not a forward with a keyword per mistake.

The steps, built from :mod:`.torch_cnn`'s parts on the course library's channels-last layout:
the embedding of the ids with the padding zeroed (:func:`embedded`), a convolution
(:func:`convolved`), stages of blocks read from the parameters' names with a pooling
between them (:func:`stages`; :func:`stage_params` declares those parameters' draws), a
local max pooling that shortens the lengths (:func:`local_max`), a k-max pooling flattened
for the linear layers (:func:`kmax_flat`) and linear layers (:func:`linear`); a block the
stages run is a forward of its parameters' prefix, :func:`~.torch_cnn.torch_residual_block`.
The parameters: a convolution's or a linear layer's (:func:`fan_in_layer`), a residual
block's (:func:`residual_block_params`), the stages' (:func:`stage_params`). CS224n lecture
11 (deep CNNs for text); Conneau et al. 2017 (VD-CNN: stages of residual blocks, a pooling
halving the length between them, k-max at the top, two hidden layers).

torch is imported only when a forward runs (a NumPy-only grader never needs it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nlpdojo_autograder.authoring.builders.padded import torch_real
from nlpdojo_autograder.authoring.builders.torch_cnn import (
    torch_conv,
    torch_kmax,
    torch_local_max,
)
from nlpdojo_autograder.authoring.inputs import Draw, fan_in_normal, normal, uniform

#: a step: ``step(params, features, lengths) -> (features, lengths)``; the first step of a
#: stack is given the (B, T) ids as its features
Step = Callable[[dict, Any, Any], tuple[Any, Any]]


class TorchStack:
    """A torch forward ``stack(params, ids, lengths)`` that runs ``steps`` (keywords, in the
    order given; their names are what :meth:`but` replaces) and returns the last step's
    features. ``label`` names it in the torch check's messages ("the network in
    torch.nn.functional"), as a torch forward's ``label`` attribute does."""

    def __init__(self, label: str, **steps: Step) -> None:
        self.label = label
        self.steps = steps

    def __call__(self, params: dict, ids: Any, lengths: Any) -> Any:
        features = ids
        for step in self.steps.values():
            features, lengths = step(params, features, lengths)
        return features

    def but(self, **steps: Step | None) -> TorchStack:
        """The same stack with the steps named in ``steps`` declared otherwise (a known
        mistake's forward); a step given as None is left out."""
        unknown = set(steps) - set(self.steps)
        if unknown:
            raise ValueError(f"TorchStack.but: no step named {sorted(unknown)}; the steps are "
                             f"{list(self.steps)}")
        replaced = {name: steps.get(name, step) for name, step in self.steps.items()}
        return TorchStack(self.label, **{n: s for n, s in replaced.items() if s is not None})


def embedded(name: str, *, zero_padding: bool = True) -> Step:
    """The rows of the (V, D) table ``name`` for the (B, T) ids: (B, T, D), the padded
    positions' vectors zeroed (``zero_padding=False``: kept, a known mistake's forward)."""
    def step(p: dict, ids: Any, lengths: Any) -> tuple[Any, Any]:
        vectors = p[name][ids]  # (B, T, D)
        if zero_padding:
            vectors = vectors * torch_real(lengths, ids.shape[1])
        return vectors, lengths

    return step


def convolved(name: str, **options: Any) -> Step:
    """The convolution whose parameters are ``{name}.weight`` (K, C_in, C_out) and
    ``{name}.bias``: (B, T_out, C_out); ``options`` those of :func:`~.torch_cnn.torch_conv`
    (``padding=1``)."""
    def step(p: dict, h: Any, lengths: Any) -> tuple[Any, Any]:
        return torch_conv(h, p[f"{name}.weight"], p[f"{name}.bias"], **options), lengths

    return step


def _blocks(p: dict, prefix: str) -> list[tuple[int, int]]:
    """The (stage, block) pairs of the parameters named ``{prefix}.{stage}.{block}.…``, in
    order."""
    return sorted({tuple(map(int, name.split(".")[1:3])) for name in p
                   if name.startswith(f"{prefix}.")})


def stages(prefix: str, block: Callable[[dict, Any, str], Any], *, between: Step | None = None,
           after_last: bool = False) -> Step:
    """Stages of blocks, block j of stage s ``block(params, h, "{prefix}.{s}.{j}.")`` (a
    forward of (B, T, C) features whose parameters are named under that prefix), the stages
    and blocks read from the parameters' names; after each stage but the last, the step
    ``between`` (a pooling that shortens the features and their lengths). Known mistakes'
    forwards: ``between=None``, no step between the stages; ``after_last``, the step after
    the last stage too."""
    def step(p: dict, h: Any, lengths: Any) -> tuple[Any, Any]:
        blocks = _blocks(p, prefix)
        for s, j in blocks:  # (stage, block), in order
            h = block(p, h, f"{prefix}.{s}.{j}.")  # (B, T_s, C_s)
            last_of_stage = (s, j + 1) not in blocks
            if between and last_of_stage and ((s + 1, 0) in blocks or after_last):
                h, lengths = between(p, h, lengths)
        return h, lengths

    return step


def fan_in_layer(name: str, *shape: int) -> dict[str, Draw]:
    """A convolution's (K, C_in, C_out) or a linear layer's (D_in, D_out) weight ``name``
    drawn at 1/√fan-in (a deep stack's outputs stay of its inputs' size) and its bias at 0.3
    (a bias left out shows)."""
    return {f"{name}.weight": fan_in_normal(*shape), f"{name}.bias": normal(shape[-1], scale=0.3)}


def residual_block_params(c_in: int, c_out: int, k: int, prefix: str = "",
                          shortcut: Callable[..., Draw] = normal) -> dict[str, Draw]:
    """The parameters' draws of :func:`~.torch_cnn.torch_residual_block` by name (under
    ``prefix``), in the order they are drawn: its convolutions of width ``k``
    (:func:`fan_in_layer`), its batch norms' scales in [0.5, 1.5] and shifts, and where the
    channels change a 1×1 projection whose weight ``shortcut`` draws."""
    params = {**fan_in_layer(f"{prefix}conv1", k, c_in, c_out),
              **fan_in_layer(f"{prefix}conv2", k, c_out, c_out)}
    for norm in ("norm1", "norm2"):
        params.update({f"{prefix}{norm}.weight": uniform(0.5, 1.5, c_out),
                       f"{prefix}{norm}.bias": normal(c_out, scale=0.3)})
    if c_in != c_out:
        params.update({f"{prefix}shortcut.weight": shortcut(1, c_in, c_out),
                       f"{prefix}shortcut.bias": normal(c_out, scale=0.3)})
    return params


def stage_params(prefix: str, channels: tuple[int, ...], blocks: int, k: int,
                 shortcut: Callable[..., Draw] = normal) -> dict[str, Draw]:
    """The parameters' draws of :func:`stages`' residual blocks of width ``k``
    (:func:`residual_block_params`, their projections' weights drawn by ``shortcut``), in the
    order they are drawn: for stage s of ``channels[s]`` channels, ``blocks`` blocks named
    under ``"{prefix}.{s}.{j}."``, where a stage's first block takes the last stage's
    channels (the first stage's, its own)."""
    params: dict[str, Draw] = {}
    for s, c in enumerate(channels):
        for j in range(blocks):
            c_in = channels[max(s - 1, 0)] if j == 0 else c
            params.update(residual_block_params(c_in, c, k, f"{prefix}.{s}.{j}.", shortcut))
    return params


def local_max(width: int, stride: int, *,
              shortened: Callable[[Any], Any] | None = None) -> Step:
    """Local max pooling over each sentence's real positions
    (:func:`~.torch_cnn.torch_local_max`): (B, ⌊(T − width) / stride⌋ + 1, C), each
    sentence's length now its count of windows that start inside it, ⌈L / stride⌉
    (``shortened``, a function of the (B,) lengths, says otherwise: a known mistake's
    forward), at most the windows there are."""
    def step(p: dict, h: Any, lengths: Any) -> tuple[Any, Any]:
        pooled = torch_local_max(h, lengths, width, stride)
        after = shortened(lengths) if shortened else (lengths + stride - 1) // stride
        return pooled, after.clamp(0, pooled.shape[1])

    return step


def kmax_flat(linear_name: str, *, real_only: bool = True, channel_first: bool = False) -> Step:
    """k-max pooling (:func:`~.torch_cnn.torch_kmax`, the k largest of each channel in
    sentence order) flattened for the linear layer ``linear_name`` that follows, whose input
    size (k·C) gives k: (B, k·C), position by position. Known mistakes' forwards:
    ``real_only=False``, every position ranked as real, the padding's too; ``channel_first``,
    flattened channel by channel as torch's (B, C, k) would be."""
    def step(p: dict, h: Any, lengths: Any) -> tuple[Any, Any]:
        # imported on use: torch is optional (a NumPy-only grader never loads it)
        import torch

        k = p[f"{linear_name}.weight"].shape[0] // h.shape[2]
        ranked = lengths if real_only else torch.full_like(lengths, h.shape[1])
        pooled = torch_kmax(h, ranked, k)  # (B, k, C)
        if channel_first:
            pooled = pooled.transpose(1, 2)  # (B, C, k)
        return pooled.reshape(len(pooled), -1), lengths  # (B, k·C)

    return step


def linear(*names: str, relu: bool = False) -> Step:
    """The linear layers ``names`` in turn (``{name}.weight`` (D_in, D_out), ``{name}.bias``),
    each followed by a ReLU where ``relu``: (B, D_out)."""
    def step(p: dict, f: Any, lengths: Any) -> tuple[Any, Any]:
        # imported on use: torch is optional (a NumPy-only grader never loads it)
        import torch
        from torch.nn import functional

        for name in names:
            f = functional.linear(f, p[f"{name}.weight"].T, p[f"{name}.bias"])
            f = torch.relu(f) if relu else f
        return f, lengths

    return step
