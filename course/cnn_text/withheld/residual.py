"""The planted bugs of :mod:`nlpdojo_course.cnn_text.residual`'s questions (withheld
from a student's install: each quotes the reference it plants into)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import bug

BUGS = [
    bug("the shortcut added after the final ReLU",
        "y, r2 = self.relu2(«h + skip)  # (B, T, C_out) → h)\n        y = y + skip»"),
    bug("the shortcut's gradient dropped (dL/dx from the main branch only)",
        "return grad_main« + grad_skip → »"),
    bug("the shortcut fed the gradient from above the final ReLU", "grad_skip = «grad_sum → "
        "grad_output» if cs is None else self.shortcut.backward(«grad_sum → grad_output», cs)"),
    bug("the block's kernel width 3 written in, not the constructor's",
        "«pad = (kernel_size - 1) // 2 → kernel_size, pad = 3, 1»"),
    bug("a ReLU after the second batch norm too, before the sum",
        "h, n2 = self.norm2(h)« → \n        h = h * (h > 0)»"),
]
