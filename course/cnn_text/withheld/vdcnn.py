"""The planted bugs of :mod:`nlpdojo_course.cnn_text.vdcnn`'s question (withheld from a
student's install: each quotes the reference it plants into)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import bug

#: the reference's pooling between two stages, and the lengths it leaves
POOL = ("            if s < len(self.stages) - 1:  # between stages: halve the length\n"
        "                t_steps = h.shape[1]\n"
        "                h, c_pool = self.pool(h, lengths)  # (B, T_{s+1}, C_s)\n"
        "                lengths = self.pool.output_lengths(lengths, t_steps)  # (B,): ⌈L / 2⌉\n")
CARRY = "lengths = self.pool.output_lengths(lengths, t_steps)  # (B,): ⌈L / 2⌉"

BUGS = [
    bug("no pooling between the stages (the length never halved)", POOL, "",
        says="no pooling between the stages"),
    bug("a pooling after the last stage too, before the k-max",
        "if s < len(self.stages)« - 1 → »", says="a pooling after the last stage too"),
    bug("the sentences' own lengths kept after each pooling", CARRY,
        "pass  # the lengths stay the sentences' own",
        says="the sentences' own lengths kept after a pooling"),
    bug("the pooled lengths rounded down (L // 2, not ⌈L / 2⌉)", CARRY,
        "lengths = lengths // 2  # (B,)", says="the pooled lengths rounded down"),
    bug("the k-max pooling over every position, the padding's too", "p, c_kmax = self.kmax(h, "
        "«lengths → 0 * lengths + h.shape[1]»)", says="the k-max pooling over every position"),
    bug("the padded positions' vectors not zeroed (the first convolution reads the pad token)",
        "e = e «* xp.astype(real, e.dtype)[:, :, None]  → » # (B, T, D): the padding's vectors 0",
        says="the padded positions' vectors not zeroed"),
    bug("the k-max output flattened channel by channel in forward, position by position in "
        "backward", "xp.reshape(«p → xp.permute_dims(p, (0, 2, 1))», (p.shape[0], -1))  "
        "«# (B, k·C_last) → # (B, k·C)»", says="the k-max output flattened channel by channel"),
    # the gradient checks difference the parameters along random directions
    # (directions=True), not coordinate by coordinate: each must still see a wrong backward
    bug("the hidden layers' ReLU skipped in backward", "fc.backward(«self.relu.backward(grad, "
        "c_relu) → grad», c_lin)", by=("values", "gradients", "repeated")),
    bug("the embedding given the padded positions' gradients too",
        "self.embedding.backward(grad« * xp.astype(real, grad.dtype)[:, :, None] → », c_emb)"),
    bug("the stages walked last to first but their caches first to last",
        "for stage, (c_blocks, c_pool) in zip(reversed(self.stages), «reversed(stages) → stages»,"),
]
