"""The planted bugs of :mod:`nlpdojo_course.cnn_text.multichannel`'s question (withheld from a
student's install: each quotes the reference it plants into)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import bug

BUGS = [
    bug("the static channel left out",
        "vectors = «(frozen + tuned) → tuned»", says="the static channel left out"),
    bug("the fine-tuned channel left out of the forward", "vectors = «(frozen + tuned) → frozen»",
        says="the fine-tuned channel left out of the forward"),
    bug("the static channel's padded positions not zeroed",
        "vectors = «(frozen + tuned) → frozen + tuned» * xp.astype(real, tuned.dtype)",
        says="the static channel's padded positions not zeroed"),
    bug("the bias added once per channel (each channel's convolution with its bias)",
        "            h, c_conv = conv(vectors)  # (B, T + k − 1, F)\n"
        "« →             h = h + conv(xp.zeros_like(vectors))[0]  # the bias a second time\n»",
        says="the bias added once per channel"),
    bug("the static channel an Embedding too (a Parameter: every optimizer steps it)",
        "        self.static = self.xp.asarray(vectors, copy=True)  # (V, D)\n"
        "« →         self.static_channel = Embedding(backend, vocab_size, dim, seed=seed)\n»",
        says="has parameters the released code does not"),
    bug("the static rows looked up in the wrong order (the ids transposed)",
        "frozen = xp.reshape(xp.take(self.static, xp.reshape(«ids → ids.T», (-1,)), axis=0),"),
    bug("the embedding's gradient not masked at padded positions",
        "self.embedding.backward(«grad_vectors * xp.astype(real, grad_vectors.dtype)[:, :, "
        "None],\n                                c_emb → grad_vectors, c_emb»)"),
    bug("the fine-tuned channel never given its gradient",
        "«self.embedding.backward(grad_vectors * xp.astype(real, grad_vectors.dtype)[:, :, "
        "None],\n                                c_emb)\n         → »return None, None"),
    bug("one width's gradient kept, the others dropped",
        "grad« if grad_vectors is None else grad_vectors + grad → »\n        # the sum's gradient"),
]
