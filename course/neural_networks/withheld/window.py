"""The planted bugs of :mod:`nlpdojo_course.neural_networks.window`'s questions (withheld
from a student's install: each quotes the reference it plants into)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import bug

BUGS = [
    bug("a window of 3 written in, not the constructor's", "backend, «window → 3» * embedding_dim"),
    bug("4 classes written in, not the constructor's n_classes",
        "self.output = Linear(backend, hidden, «n_classes → 4», seed=seed + 2)"),
    bug("window classifier skips the activation's backward",
        "grad_z = «self.activation.backward(grad_a, c_act) → grad_a»"),
    bug("window classifier leaves dropout out",
        "kept, c_drop = «self.dropout(a)  # (N, H)  the identity in eval mode → a, (None,)»"),
    bug("window classifier's dropout rate written in, not the constructor's",
        "        « → self.dropout.p = 0.5\n"
        "        »kept, c_drop = self.dropout(a)  # (N, H)  the identity in eval mode"),
    # a student trial: 4 of 4 while every check with dropout on called forward once
    bug("window classifier builds its Dropout in forward: the first mask at every call",
        "kept, c_drop = «self.dropout → Dropout(self.backend, self.dropout.p, "
        "seed=self.dropout.seed)»(a)", says="second call"),
]
