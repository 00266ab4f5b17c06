"""The planted bugs of :mod:`nlpdojo_course.cnn_text.char_cnn`'s question (withheld from a
student's install: each quotes the reference it plants into)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import bug

BUGS = [
    bug("the highway's gate on the wrong side (its arguments swapped)",
        "w, c_highway = self.highway(«c, y → y, c»)", says="the highway's gate on the wrong side"),
    bug("no ReLU on the projection", "y, c_proj_relu = «self.relu(z)  # (N, F) → z, None  # (N, "
        "F)\n        c_proj_relu = (xp.ones_like(z),)»", says="no ReLU on the projection"),
    bug("the max over the first position only (every length 1)", "(a.shape[0],), «a.shape[1] → 1»"),
    bug("the projection's path left out of c's gradient (the highway's alone)",
        "«grad_c = grad_c +  → »self.projection.backward(grad_z, c_proj)  # c feeds both: add"),
    bug("the highway's own path left out of c's gradient (the projection's alone)",
        "grad_c = «grad_c +  → »self.projection.backward(grad_z, c_proj)  # c feeds both: add"),
    bug("the convolution's ReLU skipped in backward",
        "grad_e = self.conv.backward(«self.relu.backward(grad_a, c_relu) → grad_a», c_conv)"),
    bug("the embedding never given its gradient",
        "        «self.embedding.backward(grad_e, c_emb)\n         → »return None"),
    bug("the word vectors left flat, (N, F), not in the words' shape",
        "return «xp.reshape(w, (*lead, w.shape[-1])) → w», (lead, caches)"),
]
