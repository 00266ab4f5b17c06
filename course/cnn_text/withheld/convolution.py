"""The planted bugs of :mod:`nlpdojo_course.cnn_text.convolution`'s questions (withheld
from a student's install: each quotes the reference it plants into)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import bug

BUGS = [
    bug("the kernel flipped (a textbook convolution, not the cross-correlation every library "
        "computes)", "xp.matmul(rows, xp.reshape(«self.weight.data → xp.flip(self.weight.data, "
        "axis=0)», (k_size * d, f)))", says="Your outputs are exactly those of the kernel flipped"),
    bug("each window flattened as (D, K), not (K, D)",
        "rows = xp.reshape(«windows → xp.permute_dims(xp.reshape(windows, (b, t_out, k_size, d)), "
        "(0, 1, 3, 2))», (b * t_out, k_size * d))«  # (B·T_out, K·D): a window a row → »",
        says="Your outputs are exactly those of each window flattened in the other order"),
    bug("overlapping windows' gradients overwritten, not added",
        "grad_padded[:, start:start + last:self.stride, :] «+ → »= grad_windows[:, :, k, :]"),
    bug("the stride forgotten in backward (gradients go to consecutive positions)",
        "grad_padded[:, start:start + «last:self.stride → t_out», :] += grad_windows[:, :, k, :]"),
    bug("the padding left in the input's gradient (shifted by the padding)",
        "return grad_padded[:, «self.padding:self.padding +  → :»t_steps, :]"),
    bug("the kernel width 3 written in, not the constructor's",
        "p, k_size, f = self.padding, «self.kernel_size → 3», self.weight.shape[-1]"),
    bug("a loop over the windows in forward (a line per output position)",
        "out = xp.«matmul(rows, xp.reshape(self.weight.data, (k_size * d, f)))  # (B·T_out, F) → "
        "concat([xp.matmul(rows[i:i + 1, :], xp.reshape(self.weight.data, (k_size * d, f))) for i "
        "in range(b * t_out)], axis=0)»", by=("values_plain", "values_strided", "values_dilated")),
    bug("the bias gradient averaged over positions instead of summed", "xp.«sum → mean»(grads"),
]
