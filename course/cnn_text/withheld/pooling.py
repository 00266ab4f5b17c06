"""The planted bugs of :mod:`nlpdojo_course.cnn_text.pooling`'s questions (withheld
from a student's install: each quotes the reference it plants into)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import bug

BUGS = [
    bug("the backward's zeros made on the default device (no device=)",
        "return xp.where(won, grad_output[:, None, :], xp.«zeros_like(grad_output[:, None, :] → "
        "zeros(won.shape, dtype=grad_output.dtype»))", says="another device than the default one"),
    bug("the padded positions set to 0, not −inf", "masked = xp.where(real[:, :, None], h, "
        "xp.«full_like(h, -xp.inf → zeros_like(h»))", says="the padded positions set to 0"),
    bug("the padding may win (max over all T positions)",
        "masked = «xp.where(real[:, :, None], h, xp.full_like(h, -xp.inf)) → h»",
        says="Your outputs are exactly those of the padded positions ranked too"),
    bug("the gradient sent to every position (the max's derivative taken as 1)",
        "won = positions «== → >= 0 *» winner[:, None, :]"),
    bug("the padded positions ranked with the real ones",
        "masked = «xp.where(real, h, xp.full_like(h, -xp.inf)) → h»  # (B, T, F)",
        says="Your outputs are exactly those of the padded positions ranked too"),
    bug("the k values kept in rank order, not in the sentence's order", "kept = «xp.sort(order[:, "
        ":self.k, :], axis=1)  # (B, k, F): back in sentence order → order[:, :self.k, :]  # (B, "
        "k, F)»", says="Your outputs are exactly those of the k values kept in rank order"),
    bug("of equal values the later position ranks first", "order = «xp.argsort(-masked, axis=1, "
        "stable=True) → xp.flip(xp.argsort(masked, axis=1, stable=True), axis=1)»"),

    bug("k hard-coded (self.k ignored)", "kept = xp.sort(order[:, :«self.k → 2», :], axis=1)"),
    bug("local windows: the padded positions ranked too", "ranked = "
        "«xp.where(real, h, xp.full_like(h, -xp.inf))  # (B, T, F): padding never wins → h  # (B, "
        "T, F)»", says="Your outputs are exactly those of the padded positions ranked too"),
    bug("local windows: the padded positions set to 0, not −inf",
        "ranked = xp.where(real, h, xp.«full_like(h, -xp.inf))  # (B, T, F): padding never wins → "
        "zeros_like(h))  # (B, T, F)»", says="the padded positions set to 0"),
    bug("windows one position apart (the stride ignored)",
        "starts = xp.arange(t_out, device=device) «* self.stride  → » # (T_out,)"),
    bug("the width written in (3)", "starts[:, None] + xp.arange(«self.width → 3», device=device"),
    bug("the stride written in (2)",
        "starts = xp.arange(t_out, device=device) * «self.stride → 2»  # (T_out,)"),
    bug("a window of padding only keeps its −inf", "return «xp.where(valid, pooled, "
        "xp.zeros_like(pooled)) → pooled», (slot, valid, t_steps", says="a window of padding only"),
    bug("of equal values in a window the later position wins",
        "slot = «xp.argmax(windows, axis=2)  # (B, T_out, F): the first position of the max → "
        "self.width - 1 - xp.argmax(xp.flip(windows, axis=2), axis=2)  # (B, T_out, F)»"),
    bug("a window of padding only passes its gradient back",
        "grad = «xp.where(valid, grad_output, xp.zeros_like(grad_output))  # padding: none → "
        "grad_output  # (B, T_out, F)»\n        grad_h"),
    bug("local windows: a position's gradients from two windows overwritten, not added",
        "grad_h[:, k:k + last:self.stride, :] «+ → »= xp.where(slot == k, grad,"),
    bug("local windows: a loop over them in forward (a line per output position)",
        "windows = xp.«take(ranked, xp.reshape(taps, (-1,)), axis=1)  # (B, T_out·p, F)\n"
        "        windows = xp.reshape(windows, (b, t_out, self.width, f)) → stack([ranked[:, i * "
        "self.stride:i * self.stride + self.width, :]\n"
        "                            for i in range(t_out)], axis=1)»", says="lines of Python"),
    bug("local windows: the backward's zeros made on the default device",
        "grad_h = xp.zeros((b, t_steps, f), dtype=grad_output.dtype«, device=self.backend.device "
        "→ »)", says="another device than the default one"),
]
