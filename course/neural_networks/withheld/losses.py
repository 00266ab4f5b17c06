"""The planted bugs of :mod:`nlpdojo_course.neural_networks.losses`'s questions (withheld
from a student's install: each quotes the reference it plants into)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import bug
from nlpdojo_course.neural_networks.common import LIB

from ..losses import LOSSES

BUGS = [
    bug("softmax cross-entropy without max-subtraction", LOSSES,
        "shifted = block - xp.max(block, axis=1, keepdims=True)",
        "shifted = block", "softmax_ce"),
    bug("softmax cross-entropy backward ignores grad_output", LOSSES,
        "scale = grad_output / n", "scale = 1.0 / n", "softmax_ce"),
    # right values on NumPy; on a GPU the ones are made on the CPU: the gradient check's
    # points too, not only the values check's (issue 62: every returned value as returned)
    bug("softmax cross-entropy backward's ones made on the default device (no device=)",
        LOSSES, "ones = xp.ones((n, 1), dtype=probs.dtype, device=device(probs)) * scale",
        "ones = xp.ones((n, 1), dtype=probs.dtype) * scale", "softmax_ce",
        says="another device than the default one", by=("gradients",)),
    bug("max-margin hinge counts the true window", LOSSES,
        "hinge = (self.margin - true + prediction) * (1.0 - onehot)",
        "hinge = self.margin - true + prediction", "max_margin"),
    bug("max-margin gradient of the corrupted window dropped", LOSSES,
        "return (active - onehot * violated) * (grad_output / n)  # (N, K)",
        "return -(onehot * violated) * (grad_output / n)", "max_margin"),
    bug("max-margin true scores picked row by row in a Python loop", LOSSES,
        "        true = xp.sum(prediction * onehot, axis=1, keepdims=True)  # (N, 1)\n",
        "        true = xp.stack([prediction[i, int(target[i])] for i in range(n)])[:, None]\n",
        "max_margin"),
    bug("max-margin's margin written in, not its constructor's", LOSSES,
        "hinge = (self.margin - true + prediction) * (1.0 - onehot)",
        "hinge = (1.0 - true + prediction) * (1.0 - onehot)", "max_margin"),
    bug("max-margin margin sign flipped", LOSSES,
        "hinge = (self.margin - true + prediction) * (1.0 - onehot)",
        "hinge = (-self.margin - true + prediction) * (1.0 - onehot)", "max_margin"),
    bug("L2 applied to biases", f"{LIB}.regularization", "if w.ndim >= 2:",
        "if w.ndim >= 1:", "l2"),
    bug("L2's lambda written in, not the argument", f"{LIB}.regularization",
        "penalty = penalty + lam * xp.sum(w * w)", "penalty = penalty + 0.03 * xp.sum(w * w)",
        "l2"),
    bug("L2 penalty returned as a Python float", f"{LIB}.regularization",
        "    return penalty, grads\n", "    return float(penalty), grads\n", "l2"),
]
