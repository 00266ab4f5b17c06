"""The planted bugs of :mod:`nlpdojo_course.neural_networks.losses`'s questions (withheld
from a student's install: each quotes the reference it plants into)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import bug

BUGS = [
    bug("softmax cross-entropy without max-subtraction",
        "shifted = block« - xp.max(block, axis=1, keepdims=True) → »"),
    bug("softmax cross-entropy backward ignores grad_output", "scale = «grad_output → 1.0» / n"),
    # the log of the softmax, not the log-sum-exp: log 0 where a true class is far below its
    # row's maximum (row 1 of the case), and nowhere else
    bug("softmax cross-entropy as the log of the softmax",
        "total_loss = total_loss + xp.sum(«xp.log(total) - true) → -xp.log(xp.take_along_axis("
        "e, index[start:stop, :], axis=1)))»", says="log(0)"),
    # right values on NumPy; on a GPU the ones are made on the CPU: the gradient check's
    # points too, not only the values check's (issue 62: every returned value as returned)
    bug("softmax cross-entropy backward's ones made on the default device (no device=)",
        "ones = xp.ones((n, 1), dtype=probs.dtype«, device=device(probs) → ») * scale",
        says="another device than the default one", by=("gradients",)),
    bug("max-margin hinge counts the true window",
        "hinge = «( → »self.margin - true + prediction«) * (1.0 - onehot) → »"),
    bug("max-margin gradient of the corrupted window dropped",
        "return «(active - onehot → -(onehot» * violated) * (grad_output / n)«  # (N, K) → »"),
    bug("max-margin true scores picked row by row in a Python loop",
        "        true = xp.«sum(prediction * onehot, axis=1, keepdims=True)  # (N, 1) → "
        "stack([prediction[i, int(target[i])] for i in range(n)])[:, None]»"),
    bug("max-margin's margin written in, not its constructor's", "hinge = («self.margin → 1.0»"),
    bug("max-margin margin sign flipped", "hinge = (« → -»self.margin - true + prediction) * (1.0"),
    bug("L2 applied to biases", "if w.ndim >= «2 → 1»:"),
    # a student trial: 1 of 1 while every 1-D parameter of the check was named a bias
    bug("L2's weights told by name, not by their dimensions",
        "if «w.ndim >= 2 → \"bias\" not in name»:"),
    bug("L2's lambda written in, not the argument", "penalty = penalty + «lam → 0.03» * xp.sum(w"),
    bug("L2 penalty returned as a Python float", "    return «penalty → float(penalty)», grads\n"),
    # a student trial: 2 of 2 while every check ran one forward before each backward
    bug("softmax cross-entropy fills one buffer kept on self: a later forward overwrites the "
        "cache of an earlier one",
        "probs = «xp.empty_like(prediction) → (getattr(self, 'buffer', None) if getattr("
        "self, 'buffer', None) is not None and self.buffer.shape == prediction.shape else "
        "setattr(self, 'buffer', xp.empty_like(prediction)) or self.buffer)»",
        says="kept on self"),
]
