"""A residual convolutional block with batch normalisation and a 1×1 projection shortcut (CS224n
lecture 11, "tools for deep CNNs": residual blocks, batch norm, 1×1 convolutions; He et al. 2016;
Conneau et al. 2017's very deep CNN for text stacks blocks like this one).

    main(x)     = BN₂(Conv₂(ReLU(BN₁(Conv₁(x)))))      Conv: width k, (k − 1)/2 zeros each side
    shortcut(x) = x                                    when the channels stay the same
                = Conv_1×1(x)                          when they change (a "projection")
    y           = ReLU(main(x) + shortcut(x))                              (B, T, C_out)

The shortcut carries x, and its gradient, past the two convolutions unchanged: the block only
has to learn what to add to its input, and a stack of blocks trains where a plain stack of as
many convolutions would not (the vanishing gradients of lecture 7, across depth). A 1×1
convolution is a Linear layer applied at every position: it mixes the channels of each word
alone, the cheap way to change their number. Backward: the gradient of the sum goes to both
branches whole, and dL/dx is the sum of what comes back from each.

Each convolution's bias is there but learns nothing in training: the batch norm after it
subtracts every channel's mean, bias included (its gradient is zero).
"""

from __future__ import annotations

from nlpdojo.backend import Array, Backend
from nlpdojo.module import Module

from ..library import BatchNorm1d, Conv1d, ReLU


class ResidualBlock(Module):
    """``forward(x) -> (y, cache)`` on (B, T, C_in) to (B, T, C_out), the same length T
    (``kernel_size`` odd); ``backward(dL/dy, cache) -> dL/dx``. ``shortcut`` is a 1×1
    ``Conv1d`` when ``in_channels != out_channels``, else None (the identity)."""

    def __init__(self, backend: Backend, in_channels: int, out_channels: int, *,
                 kernel_size: int = 3, seed: int = 0) -> None:
        super().__init__(backend)
        if kernel_size % 2 != 1:
            raise ValueError(f"ResidualBlock: an odd kernel_size keeps the length (got "
                             f"{kernel_size})")
        pad = (kernel_size - 1) // 2
        self.conv1 = Conv1d(backend, in_channels, out_channels, kernel_size, padding=pad,
                            seed=seed)
        self.norm1 = BatchNorm1d(backend, out_channels)
        self.conv2 = Conv1d(backend, out_channels, out_channels, kernel_size, padding=pad,
                            seed=seed + 1)
        self.norm2 = BatchNorm1d(backend, out_channels)
        self.relu1, self.relu2 = ReLU(backend), ReLU(backend)
        self.shortcut = (Conv1d(backend, in_channels, out_channels, 1, seed=seed + 2)
                         if in_channels != out_channels else None)

    def forward(self, x: Array) -> tuple[Array, tuple]:
        # x: (B, T, C_in)
        ### BEGIN SOLUTION residual_block
        h, c1 = self.conv1(x)  # (B, T, C_out)
        h, n1 = self.norm1(h)
        h, r1 = self.relu1(h)
        h, c2 = self.conv2(h)  # (B, T, C_out)
        h, n2 = self.norm2(h)
        if self.shortcut is None:
            skip, cs = x, None
        else:
            skip, cs = self.shortcut(x)  # (B, T, C_out): the 1×1 projection
        y, r2 = self.relu2(h + skip)  # (B, T, C_out)
        return y, (c1, n1, r1, c2, n2, cs, r2)
        ### END SOLUTION

    def backward(self, grad_output: Array, cache: tuple) -> Array:
        # grad_output: (B, T, C_out); returns dL/dx (B, T, C_in)
        ### BEGIN SOLUTION residual_block
        c1, n1, r1, c2, n2, cs, r2 = cache
        grad_sum = self.relu2.backward(grad_output, r2)  # (B, T, C_out): to both branches
        grad = self.norm2.backward(grad_sum, n2)
        grad = self.relu1.backward(self.conv2.backward(grad, c2), r1)
        grad_main = self.conv1.backward(self.norm1.backward(grad, n1), c1)  # (B, T, C_in)
        grad_skip = grad_sum if cs is None else self.shortcut.backward(grad_sum, cs)
        return grad_main + grad_skip
        ### END SOLUTION
