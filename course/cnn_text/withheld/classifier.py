"""The planted bugs of :mod:`nlpdojo_course.cnn_text.classifier`'s questions (withheld
from a student's install: each quotes the reference it plants into)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import bug

BUGS = [
    # the right mask, a Python loop over the positions: the time rule fails it
    bug("Kim's padding mask built a position at a time",
        "real = «xp.arange(ids.shape[1], device=self.backend.device)[None, :] < lengths[:, None]"
        " → xp.stack(\n            [lengths > t for t in range(ids.shape[1])], axis=1)»",
        says="a Python loop over the positions"),
    bug("the padded positions' vectors not zeroed (the wide convolution reads the pad token)",
        "vectors = vectors «* xp.astype(real, vectors.dtype)[:, :, None]  → » # padding: zeros"),
    bug("the max over every output, the padding's included",
        "p, c_pool = self.pool(a, «lengths + (k - 1) → 0 * lengths + a.shape[1]»)"),
    bug("the max over the first L outputs only (the wide convolution gives L + k − 1)",
        "p, c_pool = self.pool(a, lengths« + (k - 1) → »)"),
    bug("the embedding's gradient from the last width only",
        "grad_vectors = grad« if grad_vectors is None else grad_vectors + grad → »"),
    bug("the pooling lengths of widths (2, 3) written in, not the constructor's widths",
        "p, c_pool = self.pool(a, lengths + («k - → self.convs.index(conv) +» 1))"),
    bug("as many filters as embedding dimensions, not the constructor's filters",
        "self.convs = [Conv1d(backend, embedding_dim, «filters → embedding_dim», k, padding=k - 1"),
    bug("two classes written in, not the constructor's num_classes",
        "«num_classes → 2», seed=seed + 12)"),
    bug("the dropout rate written in, not the constructor's", "        « → self.dropout.p = 0.5\n"
        "        »features, c_drop = self.dropout(", by=("values_dropout",)),
    bug("dropout left on in eval mode", "        « → self.dropout.train(True)\n"
        "        »features, c_drop = self.dropout(", by=("values_dropout",)),
    # a student trial's (of the window classifier): one call per check drew the same mask
    bug("a Dropout built in forward: the first mask at every call",
        "features, c_drop = «self.dropout → Dropout(self.backend, self.dropout.p, "
        "seed=self.dropout.seed).train(self.training)»(", by=("values_dropout",),
        says="second call"),
]
