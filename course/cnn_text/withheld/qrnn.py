"""The planted bugs of :mod:`nlpdojo_course.cnn_text.qrnn`'s questions (withheld
from a student's install: each quotes the reference it plants into)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import bug

BUGS = [
    bug("the convolution not masked (each window reads the words to its right)",
        "gates = gates[:, «:t_steps → self.kernel_size - 1:», :]  # (B, T, 3H)"),
    bug("f and 1 − f swapped in fo-pooling",
        "c = «f[:, t, :] * c + (1.0 - f[:, t, :]) → (1.0 - f[:, t, :]) * c + f[:, t, :]»"),
    bug("the gradient carried from c_t back to c_{t−1} dropped",
        "carried = «grad_c * f[:, t, :] → 0.0 * grad_c»"),
    bug("the forget gate's gradient without c_{t−1} (taken as −z_t)", "grad_c * («c_prev → 0.0»"),
    bug("the forget gate's sigmoid as e^a / (1 + e^a): NaN past a = 709", "f = «_sigmoid(xp, "
        "gates → xp.exp(gates»[:, :, H:2 * H]«)  # (B, T, H) → ) / (1.0 + xp.exp(gates[:, :, H:2 "
        "* H]))»", says="your sigmoid returns NaN for pre-activations above 709"),
    bug("the width hard-coded (k − 1 = 2 outputs cut, right for width 3 only)",
        "cut = xp.zeros((b, «self.kernel_size - 1 → 2», width)", by=("values", "torch")),
]
